"""The SIP endpoint: asyncio sockets around the sans-I/O transaction layer.

In the manner of aioquic's asyncio adapter, this is the only code that reads the loop's clock
for SIP. It

* listens on UDP, TCP and TLS (RFC 3261 §18; 5060/5061 by default) on each configured address,
  IPv4 and IPv6 alike;
* parses what arrives (a datagram is one message; a stream goes through `StreamFramer`) and
  hands it to the `TransactionLayer` with `now = loop.time()`; the layer stamps `received` and
  `rport` into the top Via of requests (RFC 3261 §18.2.1, RFC 3581 §4);
* sends what `data_to_send()` returns: UDP from the socket of the destination's family; TCP and
  TLS on the connection already open to the destination (responses therefore go back on the
  connection their request came on, §18.2.2), opening one when there is none;
* keeps one `asyncio.TimerHandle` armed at `get_timer()` and calls `handle_timer` from it;
* passes the layer's events to the transaction user's callback.

Malformed input never stops it: a message that does not parse is answered with
`rejection_for(...)` when it is a request whose Via can be read and is dropped (with a log line)
otherwise; a stream that loses framing is answered the same way and closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import socket
import ssl
from collections.abc import Callable

from ssw.sip.address import Address, response_destination
from ssw.sip.errors import SipError
from ssw.sip.framer import PONG, Frame, Ping, StreamFramer
from ssw.sip.message import Request, Response, make_response, parse_message
from ssw.sip.rejection import rejection_for
from ssw.sip.transaction import (
    ClientTransaction,
    Event,
    InvalidMessage,
    Outgoing,
    ServerTransaction,
    TransactionLayer,
)
from ssw.sip.transaction.timers import TimerConfig
from ssw.transport.certificates import client_context, server_context
from ssw.transport.config import EndpointConfig, TransportStats
from ssw.transport.connections import (
    ConnectionLimits,
    ConnectionState,
    ConnectionTable,
    StreamConnection,
    connect_stream,
)
from ssw.transport.datagram import UdpSocket, open_udp_socket

__all__ = ["EventHandler", "SipEndpoint"]

logger = logging.getLogger(__name__)

EventHandler = Callable[[Event], None]

STREAM_TRANSPORTS = ("tcp", "tls")
MAX_DATAGRAM = 65507  # the largest UDP payload over IPv4
# The Address of each UDP peer is built once (checking it costs more than a lookup); the
# memo is emptied when it holds this many, so a scan from many ports cannot grow it.
_MAX_REMEMBERED_SOURCES = 4096


class SipEndpoint:
    """UDP/TCP/TLS listeners and clients driving one `TransactionLayer`.

    `on_event` receives every event of the layer (RequestReceived, ResponseReceived,
    TransactionTimeout, ...) except `InvalidMessage` for requests, which the endpoint answers
    itself. It may be set after construction; it runs inside the loop and must not block.
    """

    def __init__(
        self,
        config: EndpointConfig,
        on_event: EventHandler | None = None,
        *,
        layer: TransactionLayer | None = None,
    ) -> None:
        self.config = config
        self.on_event = on_event
        self.layer = layer if layer is not None else TransactionLayer(timers=config.timers)
        self.stats = TransportStats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._udp: list[UdpSocket] = []
        self._servers: list[tuple[asyncio.Server, str]] = []
        self._listening: list[Address] = []
        self._connections = ConnectionTable(config.max_connections)
        self._limits = ConnectionLimits(config.idle_timeout, config.max_write_buffer)
        self._framers: dict[StreamConnection, StreamFramer] = {}
        self._awaiting_connect: dict[StreamConnection, list[Outgoing]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._server_ssl: ssl.SSLContext | None = None
        self._client_ssl: ssl.SSLContext | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_deadline: float | None = None
        self._pumping = False
        self._udp_sources: dict[tuple[str, int], Address] = {}
        self._running = False

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind every listener; on any failure close what was opened and raise OSError."""
        if self._running:
            raise RuntimeError("the SIP endpoint is already started")
        loop = asyncio.get_running_loop()
        self._loop = loop
        config = self.config
        if config.tls is not None:
            self._client_ssl = client_context(config.tls)
            if config.tls_port is not None:
                self._server_ssl = server_context(config.tls)
        self._running = True
        try:
            for host in config.hosts:
                await self._listen(loop, host)
        except BaseException:
            await self.stop()
            raise
        logger.info("SIP listening on %s", ", ".join(str(a) for a in self._listening))

    async def _listen(self, loop: asyncio.AbstractEventLoop, host: str) -> None:
        config = self.config
        if config.udp_port is not None:
            udp = await open_udp_socket(
                loop,
                host,
                config.udp_port,
                self._datagram_received,
                buffer_size=config.udp_buffer_size,
            )
            self._udp.append(udp)
            self._listening.append(Address("udp", udp.local_host, udp.local_port))
        for transport in STREAM_TRANSPORTS:
            port = config.port_for(transport)
            if port is None:
                continue
            server = await loop.create_server(
                self._inbound_factory(loop, transport),
                host,
                port,
                ssl=self._server_ssl if transport == "tls" else None,
                # A peer that never finishes the handshake holds no slot for long (it is not
                # in the connection table, and not counted, until the handshake is done).
                ssl_handshake_timeout=config.connect_timeout if transport == "tls" else None,
            )
            self._servers.append((server, transport))
            bound = server.sockets[0].getsockname()
            self._listening.append(Address(transport, str(bound[0]), int(bound[1])))

    def _inbound_factory(
        self, loop: asyncio.AbstractEventLoop, transport: str
    ) -> Callable[[], StreamConnection]:
        return lambda: StreamConnection(loop, transport, self, self._limits)

    async def stop(self) -> None:
        """Close listeners and connections, stop the timer; safe to call twice."""
        self._running = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._timer_deadline = None, None
        for server, _ in self._servers:
            server.close()  # no new connections
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._connections.close_all("endpoint stopping")
        for udp in self._udp:
            udp.close()
        await self._drain_connections()
        for server, _ in self._servers:
            abort_clients = getattr(server, "abort_clients", None)
            if abort_clients is not None:  # Python 3.13+: also sockets still in a handshake
                abort_clients()
            await server.wait_closed()
        self._servers.clear()
        self._udp.clear()
        self._listening.clear()

    async def _drain_connections(self, grace: float = 2.0) -> None:
        """Give closing connections `grace` seconds to finish (TLS close_notify), then abort."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while len(self._connections) and loop.time() < deadline:
            await asyncio.sleep(0.01)
        for connection in self._connections:
            connection.abort("endpoint stopped")
        await asyncio.sleep(0)

    @property
    def running(self) -> bool:
        return self._running

    # -- what the transaction user calls -----------------------------------------------------

    def local_address(self, transport: str = "udp", *, ipv6: bool = False) -> Address:
        """The address of a listener to name in a Via sent-by or a Contact.

        A wildcard bind (0.0.0.0, ::) is replaced by `config.advertise` when that is set.
        """
        for address in self._listening:
            if address.transport == transport and (":" in address.host) == ipv6:
                advertise = self.config.advertise
                if advertise and ipaddress.ip_address(address.host).is_unspecified:
                    return Address(transport, advertise, address.port)
                return address
        family = "IPv6" if ipv6 else "IPv4"
        raise LookupError(f"no {transport.upper()} listener on an {family} address")

    def local_address_for(self, dest: Address) -> Address:
        """The listener to name in the Via and Contact of a request to `dest`: same transport,
        same address family (IPv4 unless `dest` is an IPv6 literal)."""
        return self.local_address(dest.transport, ipv6=_family_of(dest.host) == socket.AF_INET6)

    @property
    def listening(self) -> tuple[Address, ...]:
        return tuple(self._listening)

    def send_request(self, request: Request, dest: Address, *,
                     timers: TimerConfig | None = None) -> ClientTransaction:
        """Start a client transaction for `request` to `dest` (§17.1); events follow.
        `timers` overrides T1/T2/T4 for this transaction."""
        transaction = self.layer.send_request(request, dest, self._now(), timers=timers)
        self._pump()
        return transaction

    def send_response(self, transaction: ServerTransaction, response: Response) -> None:
        """Answer through `transaction` (§17.2)."""
        self.layer.send_response(transaction, response, self._now())
        self._pump()

    def reject(
        self, transaction: ServerTransaction, error: SipError, *, to_tag: str | None = None
    ) -> None:
        """Answer `transaction` with the status `error` carries (e.g. from `check_request`).

        The response is built with `make_response`; when the request's own header fields are
        too broken for that, with `rejection_for`, which copies them as they were written.
        """
        request = transaction.request
        response: Response | None
        try:
            response = make_response(
                request, error.status, error.reason, to_tag=to_tag, headers=error.headers
            )
        except (SipError, ValueError):
            response = self._rejection_response(request, error, to_tag)
            if response is None:
                logger.info("cannot answer %s: %s", transaction, error.detail)
                return
        self.send_response(transaction, response)

    @staticmethod
    def _rejection_response(
        request: Request, error: SipError, to_tag: str | None
    ) -> Response | None:
        raw = rejection_for(bytes(request), error, to_tag=to_tag)
        if raw is None:
            return None
        try:
            answer = parse_message(raw)
        except SipError:
            return None
        return answer if isinstance(answer, Response) else None

    def send_stateless(self, message: Request | Response, dest: Address) -> None:
        """Send outside any transaction: the ACK for a 2xx, stateless answers."""
        self.layer.send_stateless(message, dest)
        self._pump()

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    def connection_to(self, remote: Address) -> StreamConnection | None:
        """The open TCP/TLS connection to `remote`, if any (for status output and tests)."""
        return self._connections.find(remote)

    # -- the loop between the layer and the sockets ------------------------------------------

    def _now(self) -> float:
        loop = self._loop
        if loop is None:
            raise RuntimeError("the SIP endpoint is not started")
        return loop.time()

    def _pump(self) -> None:
        """Send what the layer queued, deliver its events, re-arm its timer.

        A callback that sends (the TU answering a request) re-enters here; the outer call keeps
        draining until the layer has nothing left, so order is preserved and nothing recurses.
        """
        if self._pumping:
            return
        self._pumping = True
        layer = self.layer
        try:
            while True:
                outgoing = layer.data_to_send()
                for item in outgoing:
                    self._transmit(item)
                event = layer.next_event()
                if event is None and not outgoing:
                    break
                if event is not None:
                    self._deliver(event)
        finally:
            self._pumping = False
        self._arm_timer()

    def _deliver(self, event: Event) -> None:
        if isinstance(event, InvalidMessage):
            self.stats.invalid += 1
            self._answer_invalid(event)
            return
        handler = self.on_event
        if handler is None:
            logger.debug("no transaction user; dropped %s", type(event).__name__)
            return
        try:
            handler(event)
        except Exception:
            logger.exception("transaction user failed on %s", type(event).__name__)

    def _answer_invalid(self, event: InvalidMessage) -> None:
        message = event.message
        if isinstance(message, Response):
            logger.info("dropped response from %s: %s", event.source, event.error.detail)
            return
        self._reject(bytes(message), event.error, event.source)

    def _arm_timer(self) -> None:
        """One TimerHandle at the layer's next deadline (not one per transaction)."""
        if not self._running or self._loop is None:
            return
        deadline = self.layer.get_timer()
        if deadline == self._timer_deadline:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_deadline = deadline
        if deadline is not None:
            self._timer = self._loop.call_at(deadline, self._timer_fired)

    def _timer_fired(self) -> None:
        deadline = self._timer_deadline
        self._timer, self._timer_deadline = None, None
        # The loop may run a handle a clock tick early; never hand the layer a time before
        # the deadline it asked for, or it would ask again at once.
        now = self._now()
        if deadline is not None and now < deadline:
            now = deadline
        self.layer.handle_timer(now)
        self._pump()

    # -- receiving ---------------------------------------------------------------------------

    def _datagram_received(self, data: bytes, host: str, port: int) -> None:
        self.stats.datagrams_received += 1
        sources = self._udp_sources
        source = sources.get((host, port))
        if source is None:
            if len(sources) >= _MAX_REMEMBERED_SOURCES:
                sources.clear()
            source = sources[(host, port)] = Address("udp", host, port)
        if not data.strip(b"\r\n\t "):
            return  # keep-alive (RFC 5626 §4.4.1 CRLF, or a NAT ping): nothing to answer
        self._message_received(data, source)

    def _message_received(
        self, data: bytes, source: Address, connection: StreamConnection | None = None
    ) -> None:
        # The parser and the layer answer protocol errors (SipError, events); anything else
        # they raise is a defect, and one bad message must not take the endpoint down with it
        # (ARCHITECTURE rule 8): it is logged with its traceback and the message dropped.
        try:
            message = parse_message(data)
        except SipError as error:
            self.stats.malformed += 1
            self._reject(data, error, source)
            if connection is not None and error.close_connection:
                connection.close(f"framing lost: {error.detail}")  # RFC 3261 §18.3
            return
        except Exception:
            self._internal_error(data, source)
            return
        try:
            self.layer.receive(message, source, self._now())
        except Exception:
            self._internal_error(data, source)
        self._pump()

    def _internal_error(self, data: bytes, source: Address) -> None:
        self.stats.internal_errors += 1
        logger.exception(
            "dropped a message from %s that the stack could not handle: %r", source, data[:200]
        )

    def _reject(self, data: bytes, error: SipError, source: Address) -> None:
        """Answer unparseable input with `rejection_for`, or drop it with a log line."""
        try:
            answer = rejection_for(data, error)
        except Exception:
            self.stats.internal_errors += 1
            logger.exception("could not build the rejection of a message from %s", source)
            return
        if answer is None:
            logger.info("dropped malformed message from %s: %s", source, error.detail)
            return
        logger.info("answered %d to malformed request from %s: %s", error.status, source,
                    error.detail)
        dest = source  # when the Via is not enough to route by: where it came from
        with contextlib.suppress(SipError, ValueError):
            dest = response_destination(parse_message(answer).top_via, source)
        self._transmit(Outgoing(answer, dest))
        self.stats.rejected += 1

    # -- StreamHandler (called by StreamConnection) ------------------------------------------

    def stream_opened(self, connection: StreamConnection) -> bool:
        if not self._running or not self._connections.add(connection):
            logger.warning("refused %s: %d connections open", connection, len(self._connections))
            return False
        self._awaiting_connect.pop(connection, None)
        self._framers[connection] = StreamFramer(
            max_header_size=self.config.max_header_size, max_body_size=self.config.max_body_size
        )
        logger.debug("opened %s", connection)
        return True

    def stream_data_received(self, connection: StreamConnection, data: bytes) -> None:
        framer = self._framers.get(connection)
        remote = connection.remote
        if framer is None or remote is None:
            return
        self.stats.stream_bytes_received += len(data)
        try:
            framer.receive_data(data)
            while (event := framer.next_event()) is not None:
                if isinstance(event, Frame):
                    self._message_received(event.data, remote, connection)
                elif isinstance(event, Ping):
                    connection.send(PONG)  # RFC 5626 §3.5.1
                if connection.is_closing:
                    return
        except SipError as error:
            # Framing is lost (RFC 3261 §18.3): answer if the head was readable, then close.
            self.stats.malformed += 1
            if framer.failed_head:
                self._reject(framer.failed_head, error, remote)
            connection.close(f"framing lost: {error.detail}")

    def stream_closed(self, connection: StreamConnection, reason: str) -> None:
        self._connections.remove(connection)
        self._framers.pop(connection, None)
        unsent = self._awaiting_connect.pop(connection, [])
        logger.debug("closed %s: %s", connection, reason)
        if unsent and self._loop is not None:
            logger.info("cannot reach %s: %s", connection.remote, reason)
            for item in unsent:
                self._transport_error(item)
            self._pump()

    # -- sending -----------------------------------------------------------------------------

    def _transmit(self, item: Outgoing) -> None:
        dest = item.dest
        try:
            if dest.transport == "udp":
                sent = self._send_datagram(item)
            elif dest.transport in STREAM_TRANSPORTS:
                sent = self._send_stream(item)
            else:
                logger.warning("cannot send to %s: transport %s is not served", dest,
                               dest.transport)
                sent = False
        except (OSError, ValueError, SipError) as exc:
            logger.warning("cannot send to %s: %s", dest, exc)
            sent = False
        if not sent:
            self._transport_error(item)

    def _send_datagram(self, item: Outgoing) -> bool:
        dest = item.dest
        if len(item.data) > MAX_DATAGRAM:
            # RFC 3261 §18.1.1: a message this large must go over a stream transport.
            logger.warning("cannot send %d bytes to %s in one datagram", len(item.data), dest)
            return False
        family = _family_of(dest.host)
        if family is None:
            # A host name (a Via sent-by, a Contact): look up its address first. Choosing among
            # SRV/NAPTR records (RFC 3263) is the locator's job; this is the A/AAAA step.
            return self._resolve_then_send(item)
        for udp in self._udp:
            if udp.family == family and udp.send(item.data, dest.host, dest.port):
                self.stats.datagrams_sent += 1
                return True
        logger.warning("cannot send to %s: no UDP socket of that address family", dest)
        return False

    def _resolve_then_send(self, item: Outgoing) -> bool:
        loop = self._loop
        if loop is None or not self._running:
            return False
        task = loop.create_task(self._resolve_and_send(item))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _resolve_and_send(self, item: Outgoing) -> None:
        dest = item.dest
        loop = asyncio.get_running_loop()
        families = {udp.family for udp in self._udp}
        try:
            async with asyncio.timeout(self.config.connect_timeout):
                infos = await loop.getaddrinfo(dest.host, dest.port, type=socket.SOCK_DGRAM)
        except (OSError, TimeoutError) as exc:
            infos = []
            logger.warning("cannot resolve %s: %s", dest, exc)
        for family, _, _, _, sockaddr in infos:
            if family in families:
                host = str(sockaddr[0])
                self._transmit(Outgoing(item.data, Address("udp", host, dest.port),
                                        item.transaction))
                self._pump()
                return
        if infos:
            logger.warning("cannot send to %s: no UDP socket for its addresses", dest)
        self._transport_error(item)
        self._pump()

    def _send_stream(self, item: Outgoing) -> bool:
        dest = item.dest
        connection = self._connections.find(dest)
        if connection is None and isinstance(item.transaction, ServerTransaction):
            # §18.2.2: the request's connection is gone; answer at the received address and
            # the sent-by port, on a new connection.
            top_via = item.transaction.request.top_via
            dest = response_destination(top_via, dest, connection_open=False)
            connection = self._connections.find(dest)
        if connection is None:
            connection = self._open_connection(dest)
            if connection is None:
                return False
        if not connection.send(item.data):
            return False
        if connection.state is ConnectionState.CONNECTING:
            # Report it to its transaction if the connection never opens (§17.1.4).
            self._awaiting_connect.setdefault(connection, []).append(item)
        self.stats.stream_messages_sent += 1
        return True

    def _open_connection(self, dest: Address) -> StreamConnection | None:
        loop = self._loop
        if loop is None or not self._running:
            return None
        ssl_context: ssl.SSLContext | None = None
        if dest.transport == "tls":
            ssl_context = self._client_ssl
            if ssl_context is None:
                logger.warning("cannot open TLS to %s: no TLS configuration", dest)
                return None
        connection = StreamConnection(loop, dest.transport, self, self._limits, remote=dest)
        if not self._connections.add(connection):
            logger.warning("cannot open %s: %d connections open", connection,
                           len(self._connections))
            return None
        self._awaiting_connect[connection] = []
        task = loop.create_task(
            connect_stream(loop, connection, ssl_context, timeout=self.config.connect_timeout)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return connection

    def _transport_error(self, item: Outgoing) -> None:
        """§17.1.4 / §17.2.4: tell the transaction its message could not be sent."""
        self.stats.send_failures += 1
        if item.transaction is not None and self._loop is not None:
            self.layer.report_transport_error(item, self._now())


@functools.lru_cache(maxsize=4096)
def _family_of(host: str) -> socket.AddressFamily | None:
    with contextlib.suppress(ValueError):
        return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    return None
