"""TCP and TLS seen from bare sockets: reuse, idle close, bounded input, limits, failures."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl

import pytest
from transport_support import Collector, StartEndpoint, branch, make_request, raw_request

from ssw.sip.address import Address
from ssw.sip.framer import Frame, StreamFramer
from ssw.sip.message import Response, make_response, parse_message
from ssw.sip.transaction import RequestReceived, ResponseReceived, TransportError
from ssw.transport import SipEndpoint, TlsConfig, client_context
from ssw.transport.echo_uas import EchoUas


class RawStream:
    """A bare TCP/TLS client: writes bytes, reads whole messages back."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.framer = StreamFramer()

    @classmethod
    async def open(cls, dest: Address, tls: TlsConfig | None = None) -> RawStream:
        context: ssl.SSLContext | None = client_context(tls) if tls is not None else None
        reader, writer = await asyncio.open_connection(dest.host, dest.port, ssl=context)
        return cls(reader, writer)

    @property
    def local_port(self) -> int:
        return int(self.writer.get_extra_info("sockname")[1])

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def message(self, timeout: float = 5.0) -> Response:
        async with asyncio.timeout(timeout):
            while True:
                event = self.framer.next_event()
                if isinstance(event, Frame):
                    message = parse_message(event.data)
                    assert isinstance(message, Response)
                    return message
                chunk = await self.reader.read(65536)
                assert chunk, "the connection closed before a message arrived"
                self.framer.receive_data(chunk)

    async def closed_within(self, seconds: float) -> bool:
        """True when the peer closes the connection within `seconds` (data read is dropped)."""
        try:
            async with asyncio.timeout(seconds):
                while await self.reader.read(65536):
                    pass
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
        return True

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionResetError, BrokenPipeError, ssl.SSLError):
            await self.writer.wait_closed()


def _options(via_port: int = 5999, transport: str = "TCP") -> bytes:
    return raw_request("OPTIONS", f"SIP/2.0/{transport} 127.0.0.1:{via_port};branch={branch()}")


async def _uas(start_endpoint: StartEndpoint, **overrides: object) -> SipEndpoint:
    server = await start_endpoint(**overrides)
    EchoUas(server)
    return server


@pytest.mark.parametrize("transport", ["tcp", "tls"])
async def test_response_returns_on_the_request_connection(
    start_endpoint: StartEndpoint, tls_config: TlsConfig, transport: str
) -> None:
    server = await _uas(start_endpoint)
    tls = tls_config if transport == "tls" else None
    peer = await RawStream.open(server.local_address(transport), tls)
    try:
        # The Via's sent-by port has nobody behind it: only the open connection reaches us.
        peer.send(_options(via_port=5999, transport=transport.upper()))
        first = await peer.message()
        peer.send(_options(via_port=5999, transport=transport.upper()))
        second = await peer.message()
    finally:
        await peer.close()
    assert first.status == second.status == 200
    assert server.stats.stream_messages_sent == 2


async def test_requests_to_a_peer_reuse_one_connection(start_endpoint: StartEndpoint) -> None:
    server = await _uas(start_endpoint)
    client = await start_endpoint()
    events = Collector()
    client.on_event = events
    dest = server.local_address("tcp")

    for _ in range(3):
        client.send_request(make_request("OPTIONS", client, dest), dest)
        assert (await events.next(ResponseReceived)).response.status == 200

    connection = client.connection_to(dest)
    assert connection is not None and not connection.inbound
    assert client.connection_count == 1
    assert server.connection_count == 1


async def test_idle_connection_is_closed(start_endpoint: StartEndpoint) -> None:
    server = await _uas(start_endpoint, idle_timeout=0.3)
    busy = await RawStream.open(server.local_address("tcp"))
    idle = await RawStream.open(server.local_address("tcp"))
    try:
        for _ in range(5):  # traffic keeps a connection alive: a ping every 0.1 s
            busy.send(b"\r\n\r\n")
            await asyncio.sleep(0.1)
        assert await idle.closed_within(0.5)
        assert not await busy.closed_within(0.05)
        assert await busy.closed_within(1.0)
    finally:
        await busy.close()
        await idle.close()
    assert server.connection_count == 0


async def test_keep_alive_ping_gets_a_pong(start_endpoint: StartEndpoint) -> None:
    server = await _uas(start_endpoint)
    peer = await RawStream.open(server.local_address("tcp"))
    try:
        peer.send(b"\r\n\r\n")  # RFC 5626 §3.5.1
        async with asyncio.timeout(2):
            assert await peer.reader.readexactly(2) == b"\r\n"
    finally:
        await peer.close()


async def test_oversized_header_block_closes_the_connection(
    start_endpoint: StartEndpoint,
) -> None:
    server = await _uas(start_endpoint, max_header_size=1024)
    peer = await RawStream.open(server.local_address("tcp"))
    try:
        peer.send(b"OPTIONS sip:echo@127.0.0.1 SIP/2.0\r\n" + b"X-Padding: " + b"a" * 4096)
        assert await peer.closed_within(2.0)
    finally:
        await peer.close()
    assert server.stats.malformed == 1
    assert server.connection_count == 0


async def test_oversized_body_is_answered_513_then_closed(start_endpoint: StartEndpoint) -> None:
    server = await _uas(start_endpoint, max_body_size=1000)
    peer = await RawStream.open(server.local_address("tcp"))
    try:
        request = _options().replace(b"Content-Length: 0", b"Content-Length: 5000")
        peer.send(request + b"x" * 5000)
        answer = await peer.message()
        assert await peer.closed_within(2.0)
    finally:
        await peer.close()
    assert answer.status == 513


async def test_unparseable_message_on_a_stream_is_answered_and_the_stream_kept(
    start_endpoint: StartEndpoint,
) -> None:
    server = await _uas(start_endpoint)
    peer = await RawStream.open(server.local_address("tcp"))
    try:
        peer.send(_options().replace(b" SIP/2.0\r\n", b" SIP/2.O\r\n", 1))
        rejection = await peer.message()
        peer.send(_options())
        answer = await peer.message()
    finally:
        await peer.close()
    assert (rejection.status, answer.status) == (400, 200)


async def test_connection_limit_refuses_extra_connections(start_endpoint: StartEndpoint) -> None:
    server = await _uas(start_endpoint, max_connections=2)
    dest = server.local_address("tcp")
    peers = [await RawStream.open(dest) for _ in range(3)]
    try:
        for peer in peers[:2]:
            peer.send(_options())
            assert (await peer.message()).status == 200
        assert await peers[2].closed_within(2.0)
        assert server.connection_count == 2
    finally:
        for peer in peers:
            await peer.close()


async def test_unreachable_peer_is_a_transport_error(start_endpoint: StartEndpoint) -> None:
    client = await start_endpoint()
    events = Collector()
    client.on_event = events
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    dest = Address("tcp", "127.0.0.1", port)

    transaction = client.send_request(make_request("OPTIONS", client, dest), dest)
    error = await events.next(TransportError, timeout=2.0)  # not Timer F, 32 s later

    assert error.transaction is transaction
    assert client.connection_count == 0


async def test_tls_peer_with_untrusted_certificate_fails(
    start_endpoint: StartEndpoint, tmp_path: object
) -> None:
    from pathlib import Path

    from ssw.transport import generate_self_signed

    assert isinstance(tmp_path, Path)
    server = await _uas(start_endpoint)
    stranger = generate_self_signed(tmp_path / "other", ["127.0.0.1"])
    client = await start_endpoint(tls=stranger)
    events = Collector()
    client.on_event = events
    dest = server.local_address("tls")

    client.send_request(make_request("OPTIONS", client, dest), dest)

    await events.next(TransportError, timeout=5.0)


async def test_write_buffer_is_bounded(start_endpoint: StartEndpoint) -> None:
    """A peer that stops reading is disconnected instead of growing our memory."""
    client = await start_endpoint(max_write_buffer=256 * 1024)
    accepted: list[asyncio.StreamWriter] = []

    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    sink = await asyncio.start_server(never_read, "127.0.0.1", 0)
    try:
        port = sink.sockets[0].getsockname()[1]
        dest = Address("tcp", "127.0.0.1", port)
        events = Collector()
        client.on_event = events
        padding = "x" * 30000
        for _ in range(2000):
            request = make_request("OPTIONS", client, dest)
            request.headers.add("X-Padding", padding)
            client.send_request(request, dest)
            await asyncio.sleep(0)
            if any(isinstance(event, TransportError) for event in events.seen):
                break
        assert any(isinstance(event, TransportError) for event in events.seen)
        # The connection is dropped at once, not left flushing to a peer that never reads.
        await asyncio.sleep(0.05)
        assert client.connection_count == 0
    finally:
        for writer in accepted:
            writer.close()
        sink.close()
        await sink.wait_closed()


async def test_response_after_the_connection_closed_goes_to_sent_by(
    start_endpoint: StartEndpoint,
) -> None:
    """RFC 3261 §18.2.2: the request's connection is gone, so the response opens a new one
    to the received address and the sent-by port."""
    server = await start_endpoint()
    requests = Collector()
    server.on_event = requests
    delivered: asyncio.Queue[bytes] = asyncio.Queue()

    async def sent_by_listener(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        delivered.put_nowait(await reader.readuntil(b"\r\n\r\n"))
        writer.close()

    listener = await asyncio.start_server(sent_by_listener, "127.0.0.1", 0)
    try:
        sent_by_port = listener.sockets[0].getsockname()[1]
        peer = await RawStream.open(server.local_address("tcp"))
        peer.send(_options(via_port=sent_by_port))
        received = await requests.next(RequestReceived)
        await peer.close()
        async with asyncio.timeout(2):
            while server.connection_count:
                await asyncio.sleep(0.01)

        response = make_response(received.request, 200, to_tag="late")
        server.send_response(received.transaction, response)

        async with asyncio.timeout(5):
            head = await delivered.get()
    finally:
        listener.close()
        await listener.wait_closed()
    assert head.startswith(b"SIP/2.0 200 OK\r\n")
