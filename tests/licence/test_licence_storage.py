"""The licence service on the switch's real storage (SQLite files in a data directory)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from licence_support import HOST, Issuer, SoftHsm

from ssw.licence.manager import LicenceManager, LicensingConfig
from ssw.licence.service import LicenceService, LicenceStore, MemoryLicenceStore
from ssw.storage import Storage

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC).timestamp()
SERIAL = "0e25d9b17ab7a54b"


class FixedToken:
    def serials(self) -> frozenset[str]:
        return frozenset({SERIAL})


def service_on(store: LicenceStore, issuer: Issuer) -> LicenceService:
    config = LicensingConfig(trusted=issuer.trusted, hostname=HOST)
    return LicenceService(LicenceManager(config, NOW), store, FixedToken(), clock=lambda: NOW)


async def test_passport_and_licences_survive_a_restart(tmp_path: Path, issuer: Issuer) -> None:
    storage = await Storage.open(tmp_path)
    try:
        service = service_on(storage.licences, issuer)
        await service.start()
        await service.set_passport(issuer.passport(SERIAL, ssw_id="ECSS 000009"))
        await service.set_passport(issuer.passport(SERIAL))  # replaces the first one
        first = await service.add_licence(issuer.licence(calls=10))
        await service.add_licence(issuer.licence(issued=dt.date(2026, 5, 1), calls=20))
        await service.remove_licence(first.licence_id)
    finally:
        await storage.close()

    storage = await Storage.open(tmp_path)
    try:
        kept = await storage.licences.list()
        assert len(kept) == 1
        again = service_on(storage.licences, issuer)
        await again.start()
        assert again.manager.passport is not None
        assert again.manager.passport.ssw_id == "ECSS 000001"
        assert again.manager.current().edition == "licensed"
        assert again.manager.current().get("calls") == 20
    finally:
        await storage.close()


class SwitchableToken:
    def __init__(self) -> None:
        self.present = True
        self.reads = 0

    def serials(self) -> frozenset[str]:
        self.reads += 1
        return frozenset({SERIAL}) if self.present else frozenset()


async def until(condition: Callable[[], bool]) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), timeout=5)


async def test_run_polls_the_token_and_reports_updates(issuer: Issuer) -> None:
    now = [NOW]
    updates: list[tuple[str, ...]] = []
    token = SwitchableToken()
    config = LicensingConfig(trusted=issuer.trusted, hostname=HOST, token_grace=5.0)
    service = LicenceService(
        LicenceManager(config, NOW), MemoryLicenceStore(), token, clock=lambda: now[0],
        poll_interval=0.01,
        on_update=lambda manager, _: updates.append(tuple(a.code for a in manager.alarms())),
    )
    await service.start()
    await service.set_passport(issuer.passport(SERIAL))
    await service.add_licence(issuer.licence(calls=10))
    task = asyncio.create_task(service.run())
    try:
        token.present = False
        now[0] += 1
        await until(lambda: ("licence_token_missing",) in updates)
        now[0] += 5
        await until(lambda: ("licence_token_missing", "licence_defaults") in updates)
        assert service.manager.current().edition == "defaults"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert token.reads >= 3


async def test_make_licence_service_from_key_files(
    tmp_path: Path, issuer: Issuer, softhsm: SoftHsm
) -> None:
    from cryptography.hazmat.primitives import serialization

    from ssw.licence.service import make_licence_service

    key_file = tmp_path / "issuer.pub"
    key_file.write_bytes(issuer.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ))
    service = make_licence_service(
        MemoryLicenceStore(), [key_file], hostname=HOST, module_path=softhsm.module,
        token_grace=60.0, clock=lambda: NOW,
    )
    await service.start()
    assert service.manager.enabled
    assert service.manager.config.token_grace == 60.0
    await service.set_passport(issuer.passport(softhsm.serial))
    assert service.manager.current().reason == "no valid licence is installed"

    open_edition = make_licence_service(MemoryLicenceStore(), hostname=HOST, clock=lambda: NOW)
    await open_edition.start()
    assert open_edition.manager.current().edition == "open"
    bad = tmp_path / "bad.pub"
    bad.write_text("nonsense")
    with pytest.raises(ValueError, match="licence issuer key"):
        make_licence_service(MemoryLicenceStore(), [bad])
