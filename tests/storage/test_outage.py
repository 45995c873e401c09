"""The database goes away and comes back (a MariaDB restart, a moved virtual address):
calls in between fail with StorageUnavailable, later calls work again by themselves.

The outage is made with a TCP relay between the storage and MariaDB, so the shared server
itself is never stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import make_url
from storage_helpers import drop_databases, unique_prefix

from ssw.storage import Storage, StorageUnavailable


class Relay:
    """Forwards TCP connections from a loopback port to the server; can be cut and resumed."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Close the listening socket and every relayed connection."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, upstream_writer}

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer))
        self._writers -= {writer, upstream_writer}


@pytest.fixture
async def relay(mariadb_url: str) -> AsyncIterator[Relay]:
    url = make_url(mariadb_url)
    relay = Relay(url.host or "127.0.0.1", url.port or 3306)
    await relay.start()
    try:
        yield relay
    finally:
        if relay._server is not None:
            await relay.cut()


async def test_outage_gives_storage_unavailable_then_recovers(
    mariadb_url: str, relay: Relay
) -> None:
    url = make_url(mariadb_url).set(port=relay.port).render_as_string(hide_password=False)
    storage = await Storage.open(url, db_prefix=unique_prefix())
    try:
        await storage.domains.declare("before.example")
        await storage.ping()
        await relay.cut()
        with pytest.raises(StorageUnavailable, match="cannot be reached"):
            await storage.ping()
        with pytest.raises(StorageUnavailable, match="cannot be reached"):
            await storage.domains.list()
        with pytest.raises(StorageUnavailable, match="cannot be reached"):
            await storage.domains.declare("during.example")
        await relay.start()  # the same port again: the server is back
        await storage.ping()
        await storage.domains.declare("after.example")
        assert [d.name for d in await storage.domains.list()] == [
            "after.example",
            "before.example",
        ]
    finally:
        if relay._server is None:
            await relay.start()
        await drop_databases(storage)
        await storage.close()
