"""A small reader of DER X.509 certificates (subject, issuer, validity, DNS and IP names) for the
TLS facts of http_probe. Only the standard library is used: this code runs where the module runs.
"""

from __future__ import annotations

import datetime
import ipaddress
import math


def _der_item(data: bytes, pos: int) -> tuple[int, int, int]:
    """Read one DER TLV at pos: (tag, content start, content end)."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise ValueError("truncated DER")
    return tag, pos, end


def _der_children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    children = []
    pos = start
    while pos < end:
        item = _der_item(data, pos)
        children.append(item)
        pos = item[2]
    return children


def _der_oid(raw: bytes) -> str:
    numbers = [raw[0] // 40, raw[0] % 40]
    value = 0
    for byte in raw[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            numbers.append(value)
            value = 0
    return ".".join(str(n) for n in numbers)


NAME_ATTRIBUTES = {
    "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O",
    "2.5.4.11": "OU", "2.5.4.5": "serialNumber", "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.25": "DC",
}


def _der_string(tag: int, raw: bytes) -> str:
    if tag == 0x1E:  # BMPString
        return raw.decode("utf-16-be", "replace")
    if tag == 0x1C:  # UniversalString
        return raw.decode("utf-32-be", "replace")
    return raw.decode("utf-8", "replace")


def _der_name(data: bytes, start: int, end: int) -> str:
    """A Name as 'C=US, O=Example, CN=host' in the certificate's order."""
    parts = []
    for _set_tag, set_start, set_end in _der_children(data, start, end):
        for _seq_tag, seq_start, seq_end in _der_children(data, set_start, set_end):
            (_, oid_start, oid_end), (value_tag, value_start, value_end) = \
                _der_children(data, seq_start, seq_end)[:2]
            oid = _der_oid(data[oid_start:oid_end])
            parts.append(f"{NAME_ATTRIBUTES.get(oid, oid)}={_der_string(value_tag, data[value_start:value_end])}")
    return ", ".join(parts)


def _der_time(tag: int, raw: bytes) -> datetime.datetime:
    text = raw.decode("ascii").rstrip("Z")
    if tag == 0x17:  # UTCTime: two-digit year, 50-99 meaning 19xx (RFC 5280)
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    return datetime.datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=datetime.timezone.utc)


def _der_alt_names(data: bytes, start: int, end: int) -> list[str]:
    names = []
    for tag, item_start, item_end in _der_children(data, start, end):
        raw = data[item_start:item_end]
        if tag == 0x82:  # dNSName
            names.append(f"DNS:{raw.decode('ascii', 'replace')}")
        elif tag == 0x87:  # iPAddress
            names.append(f"IP:{ipaddress.ip_address(raw)}")
    return names


def parse_certificate(der: bytes) -> dict:
    """Subject, issuer, validity and subject alternative names of a DER X.509 certificate.

    The handshake gives the peer's DER even when nothing was verified, whereas
    ``SSLSocket.getpeercert()`` is empty then; reading the DER here gives one code path for
    verified and unverified certificates without the private ``ssl._ssl._test_decode_cert``.
    """
    _, cert_start, cert_end = _der_item(der, 0)
    _, tbs_start, tbs_end = _der_children(der, cert_start, cert_end)[0]
    fields = _der_children(der, tbs_start, tbs_end)
    if fields[0][0] == 0xA0:  # explicit version
        fields = fields[1:]
    issuer, validity, subject = fields[2], fields[3], fields[4]
    not_before, not_after = (_der_time(tag, der[s:e]) for tag, s, e in _der_children(der, validity[1], validity[2]))
    alt_names: list[str] = []
    for tag, start, _end in fields[6:]:
        if tag != 0xA3:  # extensions
            continue
        _, seq_start, seq_end = _der_item(der, start)
        for _ext_tag, ext_start, ext_end in _der_children(der, seq_start, seq_end):
            parts = _der_children(der, ext_start, ext_end)
            if _der_oid(der[parts[0][1]:parts[0][2]]) == "2.5.29.17":
                _, value_start, _value_end = parts[-1]
                _, names_start, names_end = _der_item(der, value_start)
                alt_names = _der_alt_names(der, names_start, names_end)
    return {
        "subject": _der_name(der, subject[1], subject[2]),
        "issuer": _der_name(der, issuer[1], issuer[2]),
        "not_before": not_before,
        "not_after": not_after,
        "subject_alt_names": alt_names,
    }


def certificate_facts(der: bytes, now: datetime.datetime | None = None) -> dict:
    """What a report shows of a certificate: names, expiry (ISO 8601, UTC) and whole days left."""
    cert = parse_certificate(der)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return {
        "subject": cert["subject"],
        "issuer": cert["issuer"],
        "subject_alt_names": cert["subject_alt_names"],
        "not_before": cert["not_before"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": cert["not_after"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "days_left": math.floor((cert["not_after"] - now).total_seconds() / 86400),
    }
