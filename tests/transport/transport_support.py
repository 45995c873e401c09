"""Helpers for the transport tests: an event collector and a request builder."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ssw.sip.address import Address, build_via
from ssw.sip.message import Request, new_request
from ssw.sip.transaction import Event, new_branch
from ssw.transport import SipEndpoint

E = TypeVar("E")

StartEndpoint = Callable[..., Awaitable[SipEndpoint]]


class Collector:
    """A transaction user that queues every event, for tests to await."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.seen: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.seen.append(event)
        self.queue.put_nowait(event)

    async def next(self, kind: type[E], timeout: float = 5.0) -> E:
        """The next event of `kind`, skipping others; fails the test after `timeout`."""
        async with asyncio.timeout(timeout):
            while True:
                event = await self.queue.get()
                if isinstance(event, kind):
                    return event


def make_request(
    method: str,
    client: SipEndpoint,
    dest: Address,
    *,
    call_id: str | None = None,
    cseq: int = 1,
    to_tag: str | None = None,
    body: bytes = b"",
) -> Request:
    """A request from `client` to the UAS at `dest`, with a Via for the client's listener."""
    local = client.local_address(dest.transport, ipv6=":" in dest.host)
    to = f"<sip:echo@{dest.host_for_uri}>" + (f";tag={to_tag}" if to_tag else "")
    return new_request(
        method,
        f"sip:echo@{dest.host_for_uri}:{dest.port};transport={dest.transport}",
        via=build_via(local, new_branch()),
        from_=f"<sip:tester@{local.host_for_uri}>;tag=t{secrets.token_hex(4)}",
        to=to,
        call_id=call_id or secrets.token_hex(8),
        cseq=cseq,
        contact=f"<sip:tester@{local.host_for_uri}:{local.port};transport={local.transport}>",
        body=body,
        content_type="application/sdp" if body else None,
    )


class RawUdp(asyncio.DatagramProtocol):
    """A bare UDP socket that queues what it receives: a peer outside our stack."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[bytes, float]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def open(cls, host: str = "127.0.0.1") -> RawUdp:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_datagram_endpoint(cls, local_addr=(host, 0))
        return protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.put_nowait((data, asyncio.get_running_loop().time()))

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def send(self, data: bytes, dest: Address) -> None:
        assert self.transport is not None
        self.transport.sendto(data, (dest.host, dest.port))

    async def receive(self, timeout: float = 5.0) -> bytes:
        async with asyncio.timeout(timeout):
            data, _ = await self.received.get()
            return data

    async def nothing_within(self, seconds: float) -> bool:
        try:
            await self.receive(seconds)
        except TimeoutError:
            return True
        return False

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def raw_request(
    method: str,
    via: str,
    *,
    uri: str = "sip:echo@127.0.0.1",
    extra: str = "",
    body: bytes = b"",
) -> bytes:
    """A request as a peer would write it, with a Via line given verbatim."""
    head = (
        f"{method} {uri} SIP/2.0\r\n"
        f"Via: {via}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:raw@127.0.0.1>;tag={secrets.token_hex(4)}\r\n"
        "To: <sip:echo@127.0.0.1>\r\n"
        f"Call-ID: {secrets.token_hex(8)}\r\n"
        f"CSeq: 1 {method}\r\n"
        f"{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def branch() -> str:
    return new_branch()
