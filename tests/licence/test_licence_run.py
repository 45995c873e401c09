"""`ssw run`'s licensing settings reach the running switch: issuer key, PKCS#11 module, grace."""

from __future__ import annotations

import socket
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from licence_support import Issuer, SoftHsm

from ssw.app import Switch, SwitchConfig
from ssw.app.media import MediaSettings
from ssw.cli import build_parser
from ssw.licence.token import Pkcs11Token


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_run_flags_name_the_token_module_and_grace() -> None:
    args = build_parser().parse_args(
        ["run", "--pkcs11-module", "/opt/token/lib.so", "--token-grace", "600"])
    assert (args.pkcs11_module, args.token_grace) == ("/opt/token/lib.so", 600.0)


def _licensed_config(tmp_path: Path, issuer: Issuer, module: str) -> SwitchConfig:
    key_file = tmp_path / "issuer.pub"
    key_file.write_bytes(issuer.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return SwitchConfig(
        data_dir=data_dir, sip_port=_free_udp_port(), sip_tls_port=None, ready_port=None,
        cocon_port=None, http_terminal_port=None, media=MediaSettings(enabled=False),
        licence_issuer_keys=(key_file,), pkcs11_module=module, token_grace=42.0)


async def test_switch_uses_the_configured_module_and_grace(tmp_path: Path,
                                                           issuer: Issuer) -> None:
    missing = str(tmp_path / "no-such-pkcs11.so")
    switch = Switch(_licensed_config(tmp_path, issuer, missing))
    await switch.start()
    try:
        assert switch.licence is not None
        manager = switch.licence.manager
        assert manager.enabled and manager.config.token_grace == 42.0
        assert missing in switch.licence.token_problem
    finally:
        await switch.stop()


async def test_switch_reads_the_token_through_the_configured_module(
        tmp_path: Path, softhsm: SoftHsm, issuer: Issuer) -> None:
    switch = Switch(_licensed_config(tmp_path, issuer, softhsm.module))
    await switch.start()
    try:
        assert switch.licence is not None
        assert isinstance(switch.licence.token, Pkcs11Token)
        assert await switch.licence.poll_token() == frozenset({softhsm.serial})
    finally:
        await switch.stop()
