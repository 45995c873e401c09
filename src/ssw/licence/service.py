"""The licence driver: storage, the token poller and the clock around a `LicenceManager`.

This is the only licensing code that reads the clock or calls the token module. The manager stays
sans-I/O; the service feeds it and persists what the console changes, through `LicenceStore`, a
small protocol that ``ssw.storage``'s licence repository satisfies as it is.
Changes are verified first, stored second and applied last, so a refused or failed command
leaves both the stored data and the limits in force as they were.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .formats import IssuerKey, Licence, Passport, TrustedIssuers
from .manager import LicenceManager, LicensingConfig
from .token import Pkcs11Token, TokenError, default_module_path

__all__ = [
    "LicenceService",
    "LicenceStore",
    "MemoryLicenceStore",
    "StoredBlob",
    "TokenReader",
    "load_licensing_config",
    "make_licence_service",
]


class StoredBlob(Protocol):
    """One kept passport or licence: its row id and the text as pasted."""

    @property
    def id(self) -> int: ...

    @property
    def content(self) -> str: ...


class LicenceStore(Protocol):
    """Where the passport (one) and the licences (any number) are kept, as pasted.

    ``ssw.storage``'s ``storage.licences`` (in ``ecss_system``) has exactly this shape.
    """

    def set_passport(self, content: str) -> Awaitable[object]: ...

    def passport(self) -> Awaitable[StoredBlob | None]: ...

    def add(self, content: str) -> Awaitable[object]: ...

    def list(self) -> Awaitable[Sequence[StoredBlob]]: ...

    def remove(self, ident: int) -> Awaitable[None]: ...


class TokenReader(Protocol):
    """Anything that lists the serials of the tokens present (`Pkcs11Token` in production)."""

    def serials(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class MemoryBlob:
    id: int
    content: str


class MemoryLicenceStore:
    """A `LicenceStore` in memory, for tests and for a switch without a database."""

    def __init__(self) -> None:
        self.kept_passport: MemoryBlob | None = None
        self.licences: list[MemoryBlob] = []
        self._next_id = 1

    def _blob(self, content: str) -> MemoryBlob:
        self._next_id += 1
        return MemoryBlob(self._next_id - 1, content)

    @property
    def blobs(self) -> list[str]:
        """Everything kept, the passport first."""
        first = [self.kept_passport.content] if self.kept_passport is not None else []
        return first + [blob.content for blob in self.licences]

    async def set_passport(self, content: str) -> MemoryBlob:
        self.kept_passport = self._blob(content)
        return self.kept_passport

    async def passport(self) -> MemoryBlob | None:
        return self.kept_passport

    async def add(self, content: str) -> MemoryBlob:
        blob = self._blob(content)
        self.licences.append(blob)
        return blob

    async def list(self) -> list[MemoryBlob]:
        return list(self.licences)

    async def remove(self, ident: int) -> None:
        kept = [blob for blob in self.licences if blob.id != ident]
        if len(kept) == len(self.licences):
            raise KeyError(f"licence {ident} does not exist")
        self.licences = kept


def load_licensing_config(
    issuer_key_files: Iterable[str | Path],
    hostname: str | None = None,
    *,
    token_grace: float | None = None,
) -> LicensingConfig:
    """A `LicensingConfig` from issuer public key files (PEM); no files means the open edition."""
    keys = []
    for path in issuer_key_files:
        try:
            keys.append(IssuerKey.from_pem(Path(path).read_bytes()))
        except (OSError, ValueError) as exc:
            raise ValueError(f"licence issuer key {path}: {exc}") from None
    config = LicensingConfig(
        trusted=TrustedIssuers.of(keys), hostname=hostname or socket.gethostname()
    )
    if token_grace is not None:
        config = dataclasses.replace(config, token_grace=token_grace)
    return config


def make_licence_service(
    store: LicenceStore,
    issuer_key_files: Iterable[str | Path] = (),
    *,
    hostname: str | None = None,
    module_path: str | None = None,
    token_grace: float | None = None,
    clock: Callable[[], float] = time.time,
    on_update: Callable[[LicenceManager, float], None] | None = None,
) -> LicenceService:
    """What a composition root needs: config from key files, the token module, the manager.

    ``module_path`` defaults to the first PKCS#11 module found (`token.KNOWN_MODULES`); with
    none found the switch has no token, which matters only when licensing is enabled.
    """
    config = load_licensing_config(issuer_key_files, hostname, token_grace=token_grace)
    module = module_path or default_module_path()
    token = Pkcs11Token(module) if module is not None else None
    manager = LicenceManager(config, clock())
    return LicenceService(manager, store, token, clock=clock, on_update=on_update)


class LicenceService:
    """Runs a `LicenceManager`: loads the stored blobs, polls the token, persists changes."""

    def __init__(
        self,
        manager: LicenceManager,
        store: LicenceStore,
        token: TokenReader | None,
        *,
        clock: Callable[[], float] = time.time,
        poll_interval: float = 10.0,
        on_update: Callable[[LicenceManager, float], None] | None = None,
    ) -> None:
        self.manager = manager
        self.store = store
        self.token = token
        self.clock = clock
        self.poll_interval = poll_interval
        self.on_update = on_update  # e.g. publish the alarms on the mediator's board
        self.token_problem = ""  # why the last token read failed, for current-limits

    async def start(self) -> None:
        """Load what storage holds and look at the token once."""
        passport = await self.store.passport()
        blobs = [passport.content] if passport is not None else []
        blobs += [blob.content for blob in await self.store.list()]
        self.manager.load(blobs, self.clock())
        await self.poll_token()

    async def poll_token(self) -> frozenset[str]:
        serials: frozenset[str] = frozenset()
        if self.token is not None:
            try:
                serials = await asyncio.to_thread(self.token.serials)
                self.token_problem = ""
            except TokenError as exc:
                self.token_problem = str(exc)
        else:
            self.token_problem = "no PKCS#11 module is configured"
        now = self.clock()
        self.manager.observe_token(serials, now)
        self._updated(now)
        return serials

    def _updated(self, now: float) -> None:
        if self.on_update is not None:
            self.on_update(self.manager, now)

    async def run(self) -> None:
        """Poll the token and fire the manager's timers until cancelled."""
        while True:
            await self.poll_token()
            now = self.clock()
            deadline = self.manager.get_timer()
            delay = self.poll_interval
            if deadline is not None:
                delay = max(0.0, min(delay, deadline - now))
            await asyncio.sleep(delay)
            now = self.clock()
            self.manager.handle_timer(now)
            self._updated(now)

    async def set_passport(self, blob: str) -> Passport:
        """Verify (against the token plugged in now), store, then apply a passport."""
        if self.manager.enabled:
            await self.poll_token()
        passport = self.manager.verify_passport(blob)
        await self.store.set_passport(passport.blob)
        self.manager.set_passport(blob, self.clock())
        return passport

    def verify_licence(self, blob: str) -> Licence:
        return self.manager.verify_licence(blob, self.clock())

    async def add_licence(self, blob: str) -> Licence:
        licence = self.manager.verify_licence(blob, self.clock())
        await self.store.add(licence.blob)
        return self.manager.add_licence(blob, self.clock())

    async def remove_licence(self, licence_id: str) -> Licence:
        found = next((lic for lic in self.manager.licences if lic.licence_id == licence_id), None)
        if found is not None:
            for stored in await self.store.list():
                if stored.content == found.blob:
                    await self.store.remove(stored.id)
        return self.manager.remove(licence_id, self.clock())
