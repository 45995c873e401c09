"""Fixtures for the licensing tests: issuer keys and a SoftHSM token."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from licence_support import SOFTHSM_MODULES, Issuer, SoftHsm

from ssw.licence.token import default_module_path


@pytest.fixture
def issuer() -> Issuer:
    return Issuer(Ed25519PrivateKey.generate())


@pytest.fixture
def other_issuer() -> Issuer:
    return Issuer(Ed25519PrivateKey.generate(), name="Someone else")


@pytest.fixture
def softhsm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SoftHsm]:
    module = default_module_path(SOFTHSM_MODULES)
    util = shutil.which("softhsm2-util")
    if module is None or util is None:
        pytest.skip("SoftHSM (Debian package softhsm2) is not installed")
    token_dir = tmp_path / "tokens"
    token_dir.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {token_dir}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    subprocess.run(
        [util, "--init-token", "--free", "--label", "ECSS 000001", "--so-pin", "12345678",
         "--pin", "1234"],
        check=True, capture_output=True, env={**os.environ, "SOFTHSM2_CONF": str(conf)},
    )
    shown = subprocess.run(
        [util, "--show-slots"], check=True, capture_output=True, text=True,
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
    ).stdout
    serials = [
        line.split(":", 1)[1].strip()
        for line in shown.splitlines()
        if line.strip().startswith("Serial number:") and line.split(":", 1)[1].strip()
    ]
    assert len(serials) == 1, shown
    yield SoftHsm(module, token_dir, serials[0])
