"""TLS material: generation, loading, and the errors an operator sees."""

from __future__ import annotations

import ipaddress
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509

from ssw.transport import (
    CertificateError,
    TlsConfig,
    client_context,
    ensure_certificate,
    generate_self_signed,
    server_context,
)


def test_generated_pair_names_every_host(tmp_path: Path) -> None:
    config = generate_self_signed(tmp_path, ["ecss1", "*.ssw.example", "127.0.0.1", "::1"])

    certificate = x509.load_pem_x509_certificate(config.cert_path.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["ecss1", "*.ssw.example"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    assert config.cert_path.name == "ecss10.crt" and config.key_path.name == "ecss10.key"
    assert stat.S_IMODE(config.key_path.stat().st_mode) == 0o600


def test_generated_pair_loads_into_both_contexts(tmp_path: Path) -> None:
    config = generate_self_signed(tmp_path, ["localhost"])

    server = server_context(config)
    client = client_context(config)

    assert server.minimum_version == ssl.TLSVersion.TLSv1_2
    assert client.verify_mode == ssl.CERT_REQUIRED and client.check_hostname


def test_generation_keeps_existing_files(tmp_path: Path) -> None:
    first = generate_self_signed(tmp_path, ["localhost"])
    before = first.cert_path.read_bytes()

    with pytest.raises(CertificateError, match="already exists"):
        generate_self_signed(tmp_path, ["localhost"])
    assert first.cert_path.read_bytes() == before

    generate_self_signed(tmp_path, ["localhost"], overwrite=True)
    assert first.cert_path.read_bytes() != before


@pytest.mark.parametrize(("hostnames", "days"), [([], 10), (["localhost"], 0)])
def test_generation_refuses_bad_arguments(tmp_path: Path, hostnames: list[str], days: int) -> None:
    with pytest.raises(CertificateError):
        generate_self_signed(tmp_path / "ssl", hostnames, days=days)
    assert not (tmp_path / "ssl").exists()


def test_custom_file_names(tmp_path: Path) -> None:
    config = generate_self_signed(tmp_path, ["localhost"], cert_name="s.pem", key_name="s.key")
    assert config.cert_path == tmp_path / "s.pem"
    server_context(TlsConfig(tmp_path, cert_name="s.pem", key_name="s.key"))


def test_missing_files_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match=r"ecss10.crt not found.*generate_self_signed"):
        server_context(TlsConfig(tmp_path))


def test_key_that_does_not_match_is_refused(tmp_path: Path) -> None:
    one = generate_self_signed(tmp_path / "one", ["localhost"])
    two = generate_self_signed(tmp_path / "two", ["localhost"])
    two.key_path.write_bytes(one.key_path.read_bytes())

    with pytest.raises(CertificateError, match="cannot load TLS certificate"):
        server_context(two)


def test_ensure_certificate_generates_once(tmp_path: Path) -> None:
    first = ensure_certificate(tmp_path / "ssl", ["ecss1"])
    created = first.cert_path.read_bytes()

    again = ensure_certificate(tmp_path / "ssl", ["ecss1"])

    assert again.cert_path.read_bytes() == created
    server_context(again)


def test_ensure_certificate_reports_a_lone_file(tmp_path: Path) -> None:
    config = generate_self_signed(tmp_path, ["ecss1"])
    config.key_path.unlink()

    with pytest.raises(CertificateError, match=r"exists but .*ecss10.key does not"):
        ensure_certificate(tmp_path, ["ecss1"])
    assert not config.key_path.exists()
