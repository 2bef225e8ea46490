"""The emulator's TLS material: a private CA and a server certificate it signs.

Azure SDKs refuse bearer tokens over plain HTTP and azure-identity refuses `http://` authorities,
so the emulator must speak TLS. Clients trust it through `REQUESTS_CA_BUNDLE=<ca.pem>` (honoured
by requests and azure-core's transport) or `connection_verify=<ca.pem>`.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS: Final = 3650
SERVER_DAYS: Final = 397
RENEW_BEFORE: Final = datetime.timedelta(days=30)
SERVER_NAMES: Final = ("localhost",)
SERVER_ADDRESSES: Final = ("127.0.0.1", "::1")


@dataclass(frozen=True, kw_only=True)
class TlsFiles:
    """PEM files in the data dir; `ca_cert` is the bundle clients trust."""

    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path


def tls_files(directory: Path) -> TlsFiles:
    """Where the TLS files live inside `directory`."""
    return TlsFiles(
        ca_cert=directory / "ca.pem",
        ca_key=directory / "ca-key.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server-key.pem",
    )


def ensure_tls(directory: Path) -> TlsFiles:
    """Create the CA once and (re)issue the server certificate when missing or expiring."""
    files = tls_files(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if not (files.ca_cert.is_file() and files.ca_key.is_file()):
        _write_ca(files)
    if not _still_valid(files.server_cert):
        _write_server(files)
    return files


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """A server-side context presenting the emulator's certificate chain."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.server_cert, files.server_key)
    return context


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _still_valid(path: Path) -> bool:
    if not path.is_file():
        return False
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return cert.not_valid_after_utc - _now() > RENEW_BEFORE


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "funcpub emulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_ca(files: TlsFiles) -> None:
    key = _new_key()
    name = _name("funcpub emulator local CA")
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(_now() + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_pem(files.ca_key, _key_pem(key), private=True)
    _write_pem(files.ca_cert, cert.public_bytes(serialization.Encoding.PEM), private=False)


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _write_server(files: TlsFiles) -> None:
    ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        msg = f"{files.ca_key} is not the emulator's EC key"
        raise TypeError(msg)
    key = _new_key()
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in SERVER_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in SERVER_ADDRESSES]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(minutes=5))
        .not_valid_after(_now() + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_pem(files.server_key, _key_pem(key), private=True)
    _write_pem(files.server_cert, cert.public_bytes(serialization.Encoding.PEM), private=False)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_pem(path: Path, data: bytes, *, private: bool) -> None:
    """Write atomically; private keys readable by the owner only."""
    temporary = path.with_name(f".{path.name}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    descriptor = os.open(temporary, flags, 0o600 if private else 0o644)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)
    temporary.replace(path)
