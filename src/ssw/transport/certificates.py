"""TLS certificates for SIP over TLS (RFC 3261 §26.3.1, port 5061).

The switch keeps its certificate and key in one directory (SPEC §4: `/etc/ecss/ssl`, files
`ecss10.crt` and `ecss10.key`). This module finds them there, builds the server and client
`ssl.SSLContext` objects the TLS listener and connector use, and can generate a self-signed pair
for a first start or for tests (`generate_self_signed`).

Bad input gets a clear error: a missing file or a key that does not match its certificate raises
`CertificateError` naming the file and what to do, and nothing is written.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "DEFAULT_CERT_NAME",
    "DEFAULT_KEY_NAME",
    "CertificateError",
    "TlsConfig",
    "client_context",
    "ensure_certificate",
    "generate_self_signed",
    "server_context",
]

DEFAULT_CERT_NAME = "ecss10.crt"
DEFAULT_KEY_NAME = "ecss10.key"


class CertificateError(Exception):
    """The TLS certificate or key cannot be used; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """Where the TLS material lives and how peers are verified.

    `cert_dir` holds `cert_name` (PEM certificate chain, leaf first) and `key_name` (PEM private
    key, unencrypted). `ca_file` names the certificates trusted for outgoing connections; when it
    is None the system store is used. `verify_peer` turns verification of the servers we connect
    to off only for lab use; `require_client_cert` asks inbound peers for mutual TLS.
    """

    cert_dir: Path
    cert_name: str = DEFAULT_CERT_NAME
    key_name: str = DEFAULT_KEY_NAME
    ca_file: Path | None = None
    verify_peer: bool = True
    require_client_cert: bool = False

    @property
    def cert_path(self) -> Path:
        return self.cert_dir / self.cert_name

    @property
    def key_path(self) -> Path:
        return self.cert_dir / self.key_name


def _check_files(config: TlsConfig) -> None:
    for path, what in ((config.cert_path, "certificate"), (config.key_path, "private key")):
        if not path.is_file():
            raise CertificateError(
                f"TLS {what} {path} not found: put a PEM {what} there or generate a "
                f"self-signed pair with generate_self_signed({str(config.cert_dir)!r}, [hostname])"
            )


def server_context(config: TlsConfig) -> ssl.SSLContext:
    """The context for the TLS listener: our certificate, TLS 1.2 or newer."""
    _check_files(config)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(config.cert_path, config.key_path)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise CertificateError(
            f"cannot load TLS certificate {config.cert_path} with key {config.key_path}: {exc} "
            "(both must be PEM, the key unencrypted and matching the certificate)"
        ) from exc
    if config.require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        _load_trust(context, config)
    return context


def client_context(config: TlsConfig) -> ssl.SSLContext:
    """The context for outgoing TLS connections.

    RFC 3261 §26.3.1: the server's certificate is checked against the host we meant to reach.
    Our own certificate is offered too, so a peer that asks for mutual TLS gets it.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if config.verify_peer:
        _load_trust(context, config)
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if config.cert_path.is_file() and config.key_path.is_file():
        try:
            context.load_cert_chain(config.cert_path, config.key_path)
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise CertificateError(
                f"cannot load TLS certificate {config.cert_path} with key {config.key_path}: {exc}"
            ) from exc
    return context


def _load_trust(context: ssl.SSLContext, config: TlsConfig) -> None:
    if config.ca_file is None:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
        return
    try:
        context.load_verify_locations(cafile=config.ca_file)
    except (ssl.SSLError, OSError) as exc:
        raise CertificateError(f"cannot load trusted certificates {config.ca_file}: {exc}") from exc


def _subject_alternative_names(hostnames: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for name in hostnames:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            names.append(x509.DNSName(name))
    return names


def generate_self_signed(
    cert_dir: Path | str,
    hostnames: Sequence[str],
    *,
    cert_name: str = DEFAULT_CERT_NAME,
    key_name: str = DEFAULT_KEY_NAME,
    days: int = 3650,
    overwrite: bool = False,
) -> TlsConfig:
    """Write a self-signed certificate and its key into `cert_dir` and return their TlsConfig.

    `hostnames` go into subjectAltName (IP literals as IP addresses, the rest as DNS names, a
    wildcard allowed on the last level as SPEC §4 says); the first is also the common name. The
    key is ECDSA P-256, written with mode 0600. Existing files are kept unless `overwrite`.
    The returned config trusts the new certificate itself, so two endpoints built from it can
    talk TLS to each other.
    """
    if not hostnames:
        raise CertificateError("generate_self_signed needs at least one hostname or address")
    if days <= 0:
        raise CertificateError(f"certificate lifetime must be positive, got {days} days")
    directory = Path(cert_dir)
    config = TlsConfig(directory, cert_name, key_name, ca_file=directory / cert_name)
    if not overwrite and (config.cert_path.exists() or config.key_path.exists()):
        raise CertificateError(
            f"{config.cert_path} or {config.key_path} already exists; "
            "delete them or pass overwrite=True to generate a new pair"
        )
    directory.mkdir(parents=True, exist_ok=True)

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SSW"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(_subject_alternative_names(hostnames)), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(config.key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(key_pem)
    config.cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return config


def ensure_certificate(
    cert_dir: Path | str,
    hostnames: Sequence[str],
    *,
    cert_name: str = DEFAULT_CERT_NAME,
    key_name: str = DEFAULT_KEY_NAME,
) -> TlsConfig:
    """The TLS material in `cert_dir`; on a first start (neither file there) a self-signed pair.

    SPEC §4: deleting the files and starting again generates new ones. One file without the
    other is an operator's mistake, reported rather than papered over. The returned config
    verifies peers against the system's trusted certificates.
    """
    config = TlsConfig(Path(cert_dir), cert_name, key_name)
    has_cert, has_key = config.cert_path.exists(), config.key_path.exists()
    if has_cert and has_key:
        return config
    if has_cert or has_key:
        present, missing = (
            (config.cert_path, config.key_path) if has_cert else (config.key_path, config.cert_path)
        )
        raise CertificateError(
            f"{present} exists but {missing} does not: restore it, or delete {present} "
            "to have a new self-signed pair generated"
        )
    generate_self_signed(config.cert_dir, hostnames, cert_name=cert_name, key_name=key_name)
    return config
