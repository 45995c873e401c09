"""Mutated input over UDP and TCP: the endpoint answers or drops, and keeps serving.

Whatever the parser or the layer raises stays inside the endpoint: nothing reaches asyncio's
exception handler (which would mean a dropped connection or a lost datagram callback), and a
good request afterwards is answered. Exceptions other than SIP errors are defects of the stack
and are counted in `stats.internal_errors` and logged with their traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

import pytest
from transport_support import RawUdp, StartEndpoint, branch, raw_request

from ssw.sip.message import Response, parse_message
from ssw.transport.echo_uas import EchoUas

INPUTS = 3000


def _mutate(rng: random.Random, data: bytes) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        position = rng.randrange(len(buffer)) if buffer else 0
        operation = rng.randrange(5)
        if operation == 0 and buffer:
            buffer[position] = rng.randrange(256)
        elif operation == 1:
            buffer[position:position] = rng.choice(
                [b"\r\n", b":", b";", b" ", b"\x00", b"<", b">", b"SIP/2.0", b",", b"%"]
            )
        elif operation == 2:
            del buffer[position : position + rng.randint(1, 20)]
        elif operation == 3:
            buffer = buffer[: rng.randrange(len(buffer) + 1)]
        else:
            start = rng.randrange(len(buffer) + 1)
            buffer[position:position] = buffer[start : start + rng.randint(1, 40)]
    return bytes(buffer)


def _escaped(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Errors that left the endpoint: logged by asyncio itself, or by a failing TU."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.ERROR
        and (record.name == "asyncio" or "transaction user failed" in record.getMessage())
    ]


def _seed_messages(port: int) -> list[bytes]:
    via = f"SIP/2.0/UDP 127.0.0.1:{port};rport;branch={branch()}"
    offer = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    return [
        raw_request("OPTIONS", via),
        raw_request("INVITE", via, body=offer, extra="Content-Type: application/sdp\r\n"),
        raw_request("BYE", via, extra="Contact: <sip:raw@127.0.0.1>;expires=10\r\n"),
        b"SIP/2.0 200 OK\r\nVia: " + via.encode() + b"\r\nCSeq: 1 OPTIONS\r\n"
        b"Call-ID: x\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nContent-Length: 0\r\n\r\n",
    ]


async def test_mutated_datagrams_never_break_the_endpoint(
    start_endpoint: StartEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_endpoint()
    EchoUas(server)
    dest = server.local_address("udp")
    peer = await RawUdp.open()
    rng = random.Random(3261)
    try:
        seeds = _seed_messages(peer.port)
        with caplog.at_level(logging.ERROR):
            for index in range(INPUTS):
                peer.send(_mutate(rng, rng.choice(seeds)), dest)
                if index % 50 == 0:
                    await asyncio.sleep(0.005)
            await asyncio.sleep(0.2)
        while not peer.received.empty():
            peer.received.get_nowait()
        peer.send(seeds[0].replace(b"branch=", b"branch=z9hG4bKafter", 1), dest)
        answer = parse_message(await peer.receive())
        while not isinstance(answer, Response) or answer.status != 200:
            answer = parse_message(await peer.receive())
    finally:
        peer.close()

    assert not _escaped(caplog)
    assert server.stats.datagrams_received >= INPUTS // 2


async def test_mutated_streams_never_break_the_endpoint(
    start_endpoint: StartEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_endpoint()
    EchoUas(server)
    dest = server.local_address("tcp")
    rng = random.Random(5118)
    seeds = [m.replace(b"/UDP", b"/TCP") for m in _seed_messages(5999)]
    with caplog.at_level(logging.ERROR):
        for _ in range(60):
            reader, writer = await asyncio.open_connection(dest.host, dest.port)
            for _ in range(10):
                writer.write(_mutate(rng, rng.choice(seeds)))
            writer.close()
            with contextlib.suppress(ConnectionResetError):
                await writer.wait_closed()
    reader, writer = await asyncio.open_connection(dest.host, dest.port)
    try:
        writer.write(seeds[0])
        async with asyncio.timeout(5):
            head = await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()
        await writer.wait_closed()

    assert head.startswith(b"SIP/2.0 200 OK\r\n")
    assert not _escaped(caplog)
