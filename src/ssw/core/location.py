"""The location service (RFC 3261 §10): every AOR's bindings in memory, written through to
storage with group commit.

The registrar reads an AOR's bindings here (`bindings_of`), decides with
`ssw.core.bindings.apply_register`, and hands the outcome to `commit`. `commit` changes the
in-memory state at once, before it awaits anything, so the next REGISTER of the same AOR is
ordered (Call-ID/CSeq, RFC 3261 §10.3 step 7) against it even while the write is pending; it
returns only once the bindings are in storage, so a 200 OK sent after it can never be lost
to a crash.

Group commit: changes that arrive while a write is in flight gather in one open batch; the
first of them (the batch's leader) waits for the write in flight, then writes the whole
batch with one `replace_many` transaction, and every request of the batch is answered. At
low load a batch holds one change and costs one transaction, as before; at high load one
transaction carries as many REGISTERs as arrived during the previous one. A
`gather_window` (a few milliseconds) makes a batch that finds no write in flight wait that
long for company: each transaction costs the event loop about as much as the REGISTERs
around it, so fewer, larger ones leave it more time for SIP. No task is started here: the
leader is the request that opened the batch.

The B2BUA looks contacts up with `lookup(domain, number)`; expired bindings are never
returned, and `purge(now)` drops them from memory (the composition root runs it
periodically together with the storage purge). `load()` fills the memory from storage at
start, so bindings survive a restart. Changes made in storage behind the registrar's back
(CoCon's `stop-registration`, a subscriber removed) are announced with `forget(aors)`, which
re-reads those AORs from storage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

from ssw.core.ports import Binding as Contact
from ssw.sip.address import Address
from ssw.storage.records import Binding

__all__ = ["BindingStore", "Locations"]

logger = logging.getLogger(__name__)

Bindings = tuple[Binding, ...]


class BindingStore(Protocol):
    """What the location service needs of `storage.registrations`."""

    def replace_many(self, changes: Mapping[str, Sequence[Binding]]) -> Awaitable[list[str]]: ...

    def list_all(self) -> Awaitable[list[Binding]]: ...

    def list_for_aor(self, aor: str) -> Awaitable[list[Binding]]: ...


class _Batch:
    """Changes written together in one transaction; `done` holds the AORs left out."""

    __slots__ = ("changes", "done")

    def __init__(self, done: asyncio.Future[frozenset[str]]) -> None:
        self.changes: dict[str, Bindings] = {}
        self.done = done


class Locations:
    """Bindings by AOR (``number@domain``); `clock` gives epoch seconds for `lookup`."""

    def __init__(self, store: BindingStore, clock: Callable[[], float], *,
                 gather_window: float = 0.0) -> None:
        if gather_window < 0:
            raise ValueError("gather_window must be >= 0 seconds")
        self._store = store
        self._clock = clock
        self.gather_window = gather_window
        self._bindings: dict[str, Bindings] = {}
        self._loaded = False
        self._open: _Batch | None = None  # gathering changes
        self._in_flight: _Batch | None = None  # being written
        self.batches_written = 0  # transactions, for the statistics and the tests
        self.changes_written = 0

    # -- start ---------------------------------------------------------------------------

    async def load(self) -> int:
        """Read every binding from storage (once); returns how many AORs have bindings."""
        if self._loaded:
            return len(self._bindings)
        by_aor: dict[str, list[Binding]] = {}
        for binding in await self._store.list_all():
            by_aor.setdefault(binding.aor, []).append(binding)
        for aor, bindings in by_aor.items():
            # a REGISTER handled while loading is newer than what was read
            self._bindings.setdefault(aor, tuple(bindings))
        self._loaded = True
        return len(self._bindings)

    @property
    def loaded(self) -> bool:
        return self._loaded

    # -- reads ---------------------------------------------------------------------------

    def bindings_of(self, aor: str) -> Bindings:
        """The AOR's bindings as the registrar last decided them (expired ones included
        until purged: `apply_register` leaves them out of its outcome)."""
        return self._bindings.get(aor, ())

    async def lookup(self, domain: str, number: str) -> Sequence[Contact]:
        """The live contacts of `number@domain`, best q first (the call core's `Locations`)."""
        bindings = self._bindings.get(f"{number}@{domain}")
        if not bindings:
            return ()
        now = datetime.fromtimestamp(self._clock(), UTC)
        return [
            Contact(b.contact, b.q,
                    Address(b.transport, b.source_host, b.source_port) if b.source_host else None)
            for b in bindings
            if b.expires_at > now
        ]

    def __len__(self) -> int:
        return len(self._bindings)

    def aors(self) -> list[str]:
        """Every AOR that has bindings (expired ones included until purged)."""
        return list(self._bindings)

    # -- writes --------------------------------------------------------------------------

    async def commit(self, aor: str, bindings: Sequence[Binding]) -> bool:
        """Make `bindings` the AOR's whole set; True once stored, False when the subscriber
        no longer exists (nothing is kept then). Raises when storage fails."""
        value = tuple(bindings)
        if value:
            self._bindings[aor] = value
        else:
            self._bindings.pop(aor, None)
        batch = self._open
        leader = batch is None
        if batch is None:
            batch = self._open = _Batch(asyncio.get_running_loop().create_future())
        batch.changes[aor] = value
        if leader:
            await self._lead(batch)
        left_out = await asyncio.shield(batch.done)
        return aor not in left_out

    async def _lead(self, batch: _Batch) -> None:
        """Wait for the write in flight, then write `batch` (this request opened it)."""
        try:
            previous = self._in_flight
            if previous is not None:
                await asyncio.wait([previous.done])
            else:
                # let the requests already handed to the loop (and, with a window, those
                # of the next milliseconds) join this batch
                await asyncio.sleep(self.gather_window)
            self._open = None
            self._in_flight = batch
            left_out = frozenset(await self._store.replace_many(batch.changes))
        except BaseException as exc:
            if self._open is batch:
                self._open = None
            if not batch.done.done():
                batch.done.set_exception(exc if isinstance(exc, Exception)
                                         else RuntimeError("the write was cancelled"))
            await self._resync_after_failure(batch, exc)
            if not isinstance(exc, Exception):
                raise
        else:
            self.batches_written += 1
            self.changes_written += len(batch.changes)
            for aor in left_out:
                if self._bindings.get(aor) == batch.changes[aor]:
                    self._bindings.pop(aor, None)
            batch.done.set_result(left_out)
        finally:
            if self._in_flight is batch:
                self._in_flight = None

    async def _resync_after_failure(self, batch: _Batch, exc: BaseException) -> None:
        """A write failed: what memory says of its AORs was never stored; read them back."""
        if not isinstance(exc, Exception):
            logger.info("storing %d registration(s) cancelled; none was acknowledged",
                        len(batch.changes))
        else:
            logger.error("storing %d registration(s) failed: %s", len(batch.changes), exc)
            try:
                await self._reload(batch.changes)
            except Exception:
                logger.exception("cannot re-read registrations after a failed write")

    async def _reload(self, expected: Mapping[str, Bindings]) -> None:
        for aor, value in expected.items():
            stored = tuple(await self._store.list_for_aor(aor))
            if self._bindings.get(aor, ()) == value:  # unless a newer REGISTER changed it
                if stored:
                    self._bindings[aor] = stored
                else:
                    self._bindings.pop(aor, None)

    async def forget(self, aors: Iterable[str]) -> None:
        """Storage changed these AORs behind the registrar (a console command): read again
        those that have bindings here. AORs with a change still pending keep that state."""
        pending: set[str] = set()
        for batch in (self._open, self._in_flight):
            if batch is not None:
                pending.update(batch.changes)
        # an AOR without bindings here has none in storage either (this process writes them)
        current = {aor: bindings for aor in aors
                   if aor not in pending and (bindings := self._bindings.get(aor))}
        await self._reload(current)

    def aors_of_domain(self, domain: str) -> list[str]:
        suffix = f"@{domain}"
        return [aor for aor in self._bindings if aor.endswith(suffix)]

    # -- expiry --------------------------------------------------------------------------

    def purge(self, now: float) -> int:
        """Drop the bindings expired at `now` from memory; returns how many. The rows stay
        in storage until `registrations.purge_expired` (the same loop runs both); loaded
        again before that, they are never returned by `lookup` nor kept by a REGISTER."""
        moment = datetime.fromtimestamp(now, UTC)
        dropped = 0
        for aor, bindings in list(self._bindings.items()):
            live = tuple(b for b in bindings if b.expires_at > moment)
            if len(live) == len(bindings):
                continue
            dropped += len(bindings) - len(live)
            if live:
                self._bindings[aor] = live
            else:
                del self._bindings[aor]
        return dropped
