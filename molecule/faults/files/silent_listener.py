#!/usr/bin/env python3
"""Listen on a loopback port and never answer: a host that takes the connection and then hangs.

    silent_listener.py PORT

The kernel completes TCP handshakes into the backlog; nothing is ever read or written, so an SSH
client waits for the server's banner until its own timeout, as with a host that hangs.
"""

import socket
import sys
import time


def main() -> None:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", int(sys.argv[1])))
    server.listen(16)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
