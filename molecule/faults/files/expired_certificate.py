#!/usr/bin/env python3
"""A certificate authority and a certificate it signed for NAME that has expired.

    expired_certificate.py DIR NAME

Writes DIR/ca.pem, DIR/NAME.pem and DIR/NAME.key. The certificate was valid for one day a year
ago (the target's OpenSSL 3.0 cannot date a certificate in the past without a CA setup, and no
faketime is installed); the authority is valid now, so that a client trusting it fails on the
expiry alone.
"""

import datetime
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def main() -> None:
    folder, host = Path(sys.argv[1]), sys.argv[2]
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    authority = name("deploy-baseline faults CA")
    ca = (x509.CertificateBuilder().subject_name(authority).issuer_name(authority)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=400)).not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    expired = (x509.CertificateBuilder().subject_name(name(host)).issuer_name(ca.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=366)).not_valid_after(now - datetime.timedelta(days=365))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
               .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / f"{host}.pem").write_bytes(expired.public_bytes(serialization.Encoding.PEM))
    (folder / f"{host}.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))


if __name__ == "__main__":
    main()
