"""Helpers for the licensing tests: an issuer that signs blobs, a SoftHSM token."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ssw.licence.formats import (
    IssuerKey,
    Licence,
    Passport,
    TrustedIssuers,
    sign_licence,
    sign_passport,
)

SOFTHSM_MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
)
HOST = "ecss1"
SSW_ID = "ECSS 000001"


@dataclass
class Issuer:
    private_key: Ed25519PrivateKey
    name: str = "Eltex"

    @property
    def trusted(self) -> TrustedIssuers:
        return TrustedIssuers.of([IssuerKey.from_public_key(self.private_key.public_key())])

    def passport(self, token_serial: str, ssw_id: str = SSW_ID, max_ds: int = 2) -> str:
        passport = Passport(ssw_id, token_serial, max_ds, self.name, dt.date(2026, 1, 10))
        return sign_passport(passport, self.private_key)

    def licence(
        self,
        limits: Mapping[str, int] | None = None,
        *,
        ssw_id: str = SSW_ID,
        hostname: str = HOST,
        issued: dt.date = dt.date(2026, 1, 10),
        expires: dt.date | None = dt.date(2027, 1, 31),
        **named: int,
    ) -> str:
        values = {**(limits or {}), **named} or {"subscribers": 100, "calls": 10}
        licence = Licence(ssw_id, hostname, issued, expires, values, self.name)
        return sign_licence(licence, self.private_key)


@dataclass
class SoftHsm:
    """A real PKCS#11 token: SoftHSM with its own configuration and token directory."""

    module: str
    token_dir: Path
    serial: str

    def unplug(self) -> None:
        """Take the token away, as pulling the USB key does: its directory goes."""
        shutil.rmtree(self.token_dir)
        self.token_dir.mkdir()
