"""The declared SIP trunks seen through `ssw.core.call.trunks.Trunks`.

All trunks of all domains are read once into a `TrunkTable` and kept until the console
changes a trunk or a domain (`on_change`, a `ChangeHub` listener), so an INVITE costs no
storage query. The table is only read for INVITEs whose caller or callee is not a subscriber.
"""

from __future__ import annotations

import asyncio

from ssw.cocon.services import Change
from ssw.core.call.trunks import TrunkPeer, TrunkTable
from ssw.sip.address import Address
from ssw.storage import Storage

__all__ = ["StorageTrunks"]


class StorageTrunks:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._table: TrunkTable | None = None
        self._loading: asyncio.Lock | None = None
        self._generation = 0

    def on_change(self, change: Change) -> None:
        if change.kind in ("trunk", "domain"):
            self._table = None
            self._generation += 1

    async def _current(self) -> TrunkTable:
        if self._table is not None:
            return self._table
        if self._loading is None:
            self._loading = asyncio.Lock()
        async with self._loading:
            while self._table is None:
                generation = self._generation
                peers = [
                    TrunkPeer(t.domain, t.name, t.routing_context, t.host, t.port,
                              static=t.mode == "static", blocked=t.blocked)
                    for domain in await self.storage.domains.list()
                    for t in await self.storage.trunks.list(domain.name)
                ]
                if generation == self._generation:  # no change while reading
                    self._table = TrunkTable(peers)
            return self._table

    async def from_peer(self, source: Address) -> TrunkPeer | None:
        return (await self._current()).from_peer(source)

    async def of_domain(self, domain: str) -> TrunkPeer | None:
        return (await self._current()).of_domain(domain)
