#!/usr/bin/env python3
"""A DNS server on a loopback address that answers every query: no such name (NXDOMAIN).

    nxdomain.py ADDRESS

The faults scenario's DNS case points the controller's resolver here (a private mount of
/etc/resolv.conf), so a name that does not resolve fails as a real resolver fails it, with the
real resolver library, and no query leaves the machine.
"""

import socket
import sys

NXDOMAIN = 3


def answer(query: bytes) -> bytes:
    """The query's header and question sent back as a response with RCODE NXDOMAIN, no records."""
    end = 12
    while query[end]:  # the question's name: labels, each its length then its bytes, then 0
        end += query[end] + 1
    end += 5  # the terminating 0, QTYPE, QCLASS
    flags = (int.from_bytes(query[2:4], "big") | 0x8000 | 0x0080) & ~0x000F | NXDOMAIN  # QR, RA
    return query[:2] + flags.to_bytes(2, "big") + b"\0\1\0\0\0\0\0\0" + query[12:end]


def main() -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind((sys.argv[1], 53))
    while True:
        query, client = server.recvfrom(4096)
        try:
            server.sendto(answer(query), client)
        except IndexError:  # not a query: no answer
            continue


if __name__ == "__main__":
    main()
