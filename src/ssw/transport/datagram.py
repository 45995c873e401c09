"""UDP for SIP (RFC 3261 §18.1.1, §18.2.1): one socket per listening address.

A datagram is one whole message; the protocol hands it, with the address it came from, to the
endpoint. Sending picks the socket whose address family matches the destination, so an endpoint
listening on 127.0.0.1 and ::1 answers each peer from the right one.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any, cast

__all__ = ["DatagramReceiver", "UdpSocket", "open_udp_socket"]

logger = logging.getLogger(__name__)

# (data, host, port) of a datagram that arrived.
DatagramReceiver = Callable[[bytes, str, int], None]


class UdpSocket(asyncio.DatagramProtocol):
    """One bound UDP socket: passes datagrams to `receiver`, sends what it is given."""

    def __init__(self, receiver: DatagramReceiver) -> None:
        self._receiver = receiver
        self._transport: asyncio.DatagramTransport | None = None
        self.family = socket.AF_INET
        self.local_host = ""
        self.local_port = 0

    # asyncio.DatagramProtocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's selector loop hands a Transport that is not a DatagramTransport subclass.
        self._transport = cast(asyncio.DatagramTransport, transport)
        sock = transport.get_extra_info("socket")
        self.family = sock.family if sock is not None else socket.AF_INET
        sockname = transport.get_extra_info("sockname")
        self.local_host, self.local_port = str(sockname[0]), int(sockname[1])

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self._receiver(data, str(addr[0]), int(addr[1]))

    def error_received(self, exc: Exception) -> None:
        # ICMP errors (port unreachable, ...) surface here; UDP has no connection to lose and
        # the transaction layer's timers deal with the missing answer (RFC 3261 §17.1.1.2).
        logger.debug("UDP %s:%s: %s", self.local_host, self.local_port, exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    # sending

    @property
    def is_open(self) -> bool:
        return self._transport is not None

    def send(self, data: bytes, host: str, port: int) -> bool:
        """Send one datagram; False when the socket is closed."""
        if self._transport is None:
            return False
        self._transport.sendto(data, (host, port))
        return True

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def open_udp_socket(
    loop: asyncio.AbstractEventLoop,
    host: str,
    port: int,
    receiver: DatagramReceiver,
    *,
    buffer_size: int | None = None,
) -> UdpSocket:
    """Bind a UDP socket on host:port (port 0 picks a free one).

    An IPv6 socket is IPv6-only, so "::" and "0.0.0.0" can both be bound on one port (as the
    TCP listeners are by asyncio). `buffer_size` asks the kernel for larger receive and send
    buffers, so a burst of requests is queued rather than dropped and retransmitted 500 ms
    later (the kernel caps it at net.core.rmem_max / wmem_max).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if buffer_size is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_size)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, buffer_size)
        sock.bind((host, port))
        sock.setblocking(False)
        _, protocol = await loop.create_datagram_endpoint(lambda: UdpSocket(receiver), sock=sock)
    except BaseException:
        sock.close()
        raise
    return protocol
