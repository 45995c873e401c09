"""TCP and TLS connections for SIP (RFC 3261 §18.3) and the table that reuses them.

A `StreamConnection` is one asyncio protocol per TCP or TLS connection, inbound or outbound. It
hands every chunk it reads to its handler (the endpoint, which frames and parses), keeps its
write buffer bounded (a peer that stops reading is disconnected rather than allowed to grow our
memory), and closes itself after `idle_timeout` seconds without traffic.

The `ConnectionTable` finds a connection by the remote address, so that a response goes back on
the connection its request came on and a request to a peer reuses a connection already open to
that address (RFC 3261 §18.1.1, §18.2.2). It also caps the number of connections.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import ssl
from collections.abc import Iterator
from typing import Protocol, cast

from ssw.sip.address import Address

__all__ = [
    "ConnectionLimits",
    "ConnectionState",
    "ConnectionTable",
    "StreamConnection",
    "StreamHandler",
    "connect_stream",
]

logger = logging.getLogger(__name__)


class ConnectionState(enum.Enum):
    CONNECTING = "connecting"  # outbound, handshake not done: writes wait in `_pending`
    OPEN = "open"
    CLOSED = "closed"


class StreamHandler(Protocol):
    """What a connection tells its owner."""

    def stream_opened(self, connection: StreamConnection) -> bool:
        """A connection is ready; False refuses it (the table is full)."""
        ...

    def stream_data_received(self, connection: StreamConnection, data: bytes) -> None: ...

    def stream_closed(self, connection: StreamConnection, reason: str) -> None: ...


class ConnectionLimits:
    """Bounds for one connection: idle time, unsent bytes."""

    __slots__ = ("idle_timeout", "max_write_buffer")

    def __init__(self, idle_timeout: float, max_write_buffer: int) -> None:
        if idle_timeout <= 0:
            raise ValueError(f"idle timeout must be positive, got {idle_timeout}")
        if max_write_buffer <= 0:
            raise ValueError(f"write buffer bound must be positive, got {max_write_buffer}")
        self.idle_timeout = idle_timeout
        self.max_write_buffer = max_write_buffer


class StreamConnection(asyncio.Protocol):
    """One TCP or TLS connection carrying SIP messages.

    `remote` is the peer's address as the table knows it (for an inbound connection, the
    source address and port of the connection). `inbound` tells who opened it.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        transport_name: str,
        handler: StreamHandler,
        limits: ConnectionLimits,
        *,
        remote: Address | None = None,
    ) -> None:
        self._loop = loop
        self.transport_name = transport_name
        self._handler = handler
        self._limits = limits
        self.remote = remote
        self.inbound = remote is None
        self.local: Address | None = None
        self.state = ConnectionState.CONNECTING
        self._transport: asyncio.Transport | None = None
        self._pending: list[bytes] = []
        self._pending_size = 0
        self.last_activity = loop.time()
        self._idle_handle: asyncio.TimerHandle | None = None
        self.close_reason = ""
        self._finished = False

    def __repr__(self) -> str:
        direction = "from" if self.inbound else "to"
        return f"<{self.transport_name} connection {direction} {self.remote} {self.state.value}>"

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)
        self._transport = transport
        if self.state is ConnectionState.CLOSED:
            # Closed while the outbound connection was still opening.
            transport.abort()
            return
        peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("sockname")
        if self.remote is None:
            self.remote = Address(self.transport_name, str(peer[0]), int(peer[1]))
        if sock is not None:
            self.local = Address(self.transport_name, str(sock[0]), int(sock[1]))
        if not self._handler.stream_opened(self):
            self.state = ConnectionState.CLOSED
            self.close_reason = "connection limit reached"
            transport.abort()
            return
        self.state = ConnectionState.OPEN
        self.last_activity = self._loop.time()
        self._arm_idle(self.last_activity + self._limits.idle_timeout)
        pending, self._pending, self._pending_size = self._pending, [], 0
        for data in pending:
            self.send(data)

    def data_received(self, data: bytes) -> None:
        if self.state is not ConnectionState.OPEN:
            return
        self.last_activity = self._loop.time()
        self._handler.stream_data_received(self, data)

    def eof_received(self) -> bool | None:
        # The peer finished sending; a half-open SIP connection is of no use (§18.3).
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and not self.close_reason:
            self.close_reason = f"connection lost: {exc}"
        self._finish(self.close_reason or "closed by peer")

    # -- sending ---------------------------------------------------------------------------

    def send(self, data: bytes) -> bool:
        """Queue `data` on the connection; False when it is closed or its buffer is full.

        A connection whose unsent bytes would exceed the bound is closed: the peer is not
        reading, and waiting longer would only grow our memory.
        """
        if self.state is ConnectionState.CLOSED:
            return False
        bound = self._limits.max_write_buffer
        if self.state is ConnectionState.CONNECTING or self._transport is None:
            if self._pending_size + len(data) > bound:
                self.close(f"more than {bound} bytes waiting for the connection to open")
                return False
            self._pending.append(data)
            self._pending_size += len(data)
            return True
        if self._transport.get_write_buffer_size() + len(data) > bound:
            # Aborted, not closed: a graceful close would wait for the very bytes it cannot
            # deliver, holding the slot in the table for as long as the peer keeps silent.
            self.abort(f"peer is not reading: more than {bound} bytes unsent")
            return False
        self._transport.write(data)
        self.last_activity = self._loop.time()
        return True

    def close(self, reason: str) -> None:
        """Close the connection (unsent bytes are flushed first when possible)."""
        self._shut(reason, abort=False)

    def abort(self, reason: str) -> None:
        """Drop the connection at once, discarding unsent bytes."""
        self._shut(reason, abort=True)

    def _shut(self, reason: str, *, abort: bool) -> None:
        if not self.close_reason:
            self.close_reason = reason
        already_closed = self.state is ConnectionState.CLOSED
        self.state = ConnectionState.CLOSED
        transport = self._transport
        if transport is None:
            # Nothing open yet (or any more): done now; connection_made aborts a late socket.
            self._finish(self.close_reason)
        elif abort:
            transport.abort()
        elif not already_closed:
            transport.close()

    def connect_failed(self, exc: BaseException) -> None:
        """The outbound connection could not be opened; nothing was ever sent."""
        if not self.close_reason:
            self.close_reason = f"cannot connect: {exc or type(exc).__name__}"
        self._finish(self.close_reason)

    @property
    def is_closing(self) -> bool:
        return self.state is ConnectionState.CLOSED or (
            self._transport is not None and self._transport.is_closing()
        )

    @property
    def pending_bytes(self) -> int:
        """Bytes written but not yet handed to the socket (waiting to connect or to drain)."""
        if self._transport is None:
            return self._pending_size
        return self._transport.get_write_buffer_size()

    # -- idle close ------------------------------------------------------------------------

    def _arm_idle(self, deadline: float) -> None:
        self._idle_handle = self._loop.call_at(deadline, self._check_idle)

    def _check_idle(self) -> None:
        """Close after `idle_timeout` s without traffic; one handle, re-armed lazily."""
        self._idle_handle = None
        if self.state is not ConnectionState.OPEN:
            return
        deadline = self.last_activity + self._limits.idle_timeout
        if self._loop.time() >= deadline:
            self.close(f"idle for {self._limits.idle_timeout:g} s")
        else:
            self._arm_idle(deadline)

    def _finish(self, reason: str) -> None:
        """The connection is gone for good: tell the handler, exactly once."""
        if self._finished:
            return
        self._finished = True
        self.state = ConnectionState.CLOSED
        if self._idle_handle is not None:
            self._idle_handle.cancel()
            self._idle_handle = None
        self._pending, self._pending_size = [], 0
        self._transport = None
        self._handler.stream_closed(self, reason)


async def connect_stream(
    loop: asyncio.AbstractEventLoop,
    connection: StreamConnection,
    ssl_context: ssl.SSLContext | None,
    *,
    local_host: str | None = None,
    timeout: float = 10.0,
) -> None:
    """Open the outbound `connection` to its remote address (TLS when `ssl_context` is set).

    The server name checked in the peer's certificate is the host we meant to reach
    (RFC 3261 §26.3.1). Failure is reported to the connection, never raised.
    """
    remote = connection.remote
    assert remote is not None
    try:
        async with asyncio.timeout(timeout):
            await loop.create_connection(
                lambda: connection,
                remote.host,
                remote.port,
                ssl=ssl_context,
                server_hostname=remote.host if ssl_context is not None else None,
                local_addr=(local_host, 0) if local_host is not None else None,
            )
    except (OSError, ssl.SSLError, TimeoutError) as exc:
        connection.connect_failed(exc)


class ConnectionTable:
    """Open connections by remote address, with a cap on how many may exist at once."""

    def __init__(self, max_connections: int) -> None:
        if max_connections <= 0:
            raise ValueError(f"max connections must be positive, got {max_connections}")
        self.max_connections = max_connections
        self._by_remote: dict[Address, StreamConnection] = {}
        self._all: set[StreamConnection] = set()

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self) -> Iterator[StreamConnection]:
        return iter(list(self._all))

    @property
    def full(self) -> bool:
        return len(self._all) >= self.max_connections

    def find(self, remote: Address) -> StreamConnection | None:
        """A usable (open or opening) connection to `remote`, if there is one."""
        connection = self._by_remote.get(remote)
        if connection is None or connection.is_closing:
            return None
        return connection

    def add(self, connection: StreamConnection) -> bool:
        """Register `connection`; False when the table is full."""
        if connection in self._all:
            return True
        if self.full:
            return False
        self._all.add(connection)
        if connection.remote is not None:
            self._by_remote[connection.remote] = connection
        return True

    def remove(self, connection: StreamConnection) -> None:
        self._all.discard(connection)
        remote = connection.remote
        if remote is not None and self._by_remote.get(remote) is connection:
            del self._by_remote[remote]

    def close_all(self, reason: str) -> None:
        for connection in list(self._all):
            connection.close(reason)
