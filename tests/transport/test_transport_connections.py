"""The connection table and a connection's own bounds, without sockets."""

from __future__ import annotations

import asyncio

import pytest

from ssw.sip.address import Address
from ssw.transport import EndpointConfig
from ssw.transport.connections import (
    ConnectionLimits,
    ConnectionState,
    ConnectionTable,
    StreamConnection,
)


class Handler:
    def __init__(self, accept: bool = True) -> None:
        self.accept = accept
        self.closed: list[str] = []
        self.data: list[bytes] = []

    def stream_opened(self, connection: StreamConnection) -> bool:
        return self.accept

    def stream_data_received(self, connection: StreamConnection, data: bytes) -> None:
        self.data.append(data)

    def stream_closed(self, connection: StreamConnection, reason: str) -> None:
        self.closed.append(reason)


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.aborted = False
        self.closing = False

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peername": ("127.0.0.1", 5070), "sockname": ("127.0.0.1", 40000)}.get(name)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.aborted = self.closing = True


PEER = Address("tcp", "127.0.0.1", 5070)


def _outbound(handler: Handler, bound: int = 1000) -> StreamConnection:
    loop = asyncio.get_running_loop()
    return StreamConnection(loop, "tcp", handler, ConnectionLimits(60, bound), remote=PEER)


async def test_table_finds_by_remote_and_caps_the_count() -> None:
    handler = Handler()
    table = ConnectionTable(max_connections=2)
    first = _outbound(handler)
    second = StreamConnection(
        asyncio.get_running_loop(), "tcp", handler, ConnectionLimits(60, 1000),
        remote=Address("tcp", "127.0.0.1", 5071),
    )

    assert table.add(first) and table.add(second)
    assert not table.add(_outbound(handler))
    assert table.find(Address("TCP", "127.0.0.1", 5070)) is first
    assert table.find(Address("tls", "127.0.0.1", 5070)) is None

    table.remove(first)
    assert table.find(PEER) is None and len(table) == 1 and not table.full


async def test_writes_wait_for_the_connection_then_flush_in_order() -> None:
    handler = Handler()
    connection = _outbound(handler)
    assert connection.send(b"one") and connection.send(b"two")
    assert connection.pending_bytes == 6

    transport = FakeTransport()
    connection.connection_made(transport)

    assert connection.state is ConnectionState.OPEN
    assert transport.written == [b"one", b"two"]
    assert connection.local == Address("tcp", "127.0.0.1", 40000)


async def test_too_many_bytes_waiting_closes_the_connection() -> None:
    handler = Handler()
    connection = _outbound(handler, bound=10)

    assert connection.send(b"12345678")
    assert not connection.send(b"90ab")

    assert connection.state is ConnectionState.CLOSED
    assert handler.closed == ["more than 10 bytes waiting for the connection to open"]
    assert not connection.send(b"x")


async def test_closed_while_connecting_aborts_the_late_socket() -> None:
    handler = Handler()
    connection = _outbound(handler)
    connection.close("not needed any more")
    transport = FakeTransport()

    connection.connection_made(transport)
    connection.connection_lost(None)

    assert transport.aborted
    assert handler.closed == ["not needed any more"]  # reported once


async def test_refused_inbound_connection_is_aborted() -> None:
    handler = Handler(accept=False)
    loop = asyncio.get_running_loop()
    connection = StreamConnection(loop, "tcp", handler, ConnectionLimits(60, 1000))
    transport = FakeTransport()

    connection.connection_made(transport)

    assert transport.aborted
    assert connection.remote == PEER and connection.inbound
    assert connection.close_reason == "connection limit reached"


async def test_connect_failure_is_reported_once() -> None:
    handler = Handler()
    connection = _outbound(handler)
    connection.send(b"lost")

    connection.connect_failed(ConnectionRefusedError(111, "Connection refused"))
    connection.connect_failed(ConnectionRefusedError(111, "Connection refused"))

    assert handler.closed == ["cannot connect: [Errno 111] Connection refused"]
    assert connection.pending_bytes == 0


@pytest.mark.parametrize(("idle", "buffer"), [(0, 10), (10, 0)])
def test_limits_must_be_positive(idle: float, buffer: int) -> None:
    with pytest.raises(ValueError):
        ConnectionLimits(idle, buffer)


@pytest.mark.parametrize(
    "settings",
    [
        {"hosts": ()},
        {"hosts": ("localhost",)},
        {"udp_port": 70000},
        {"tls_port": 5061, "tls": None},
        {"idle_timeout": 0},
        {"max_connections": 0},
        {"max_header_size": 10},
        {"udp_buffer_size": -1},
    ],
)
def test_bad_endpoint_config_is_refused(settings: dict[str, object]) -> None:
    values: dict[str, object] = {"tls_port": None, **settings}
    with pytest.raises(ValueError):
        EndpointConfig(**values)  # type: ignore[arg-type]
