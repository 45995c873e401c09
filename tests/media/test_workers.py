"""Several worker processes behind one control socket: routing, relaying, events."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from media_peers import RtpPeer

from ssw.media.client import MediaClient, MediaError
from ssw.media.engine import EngineConfig
from ssw.media.process import MediaServerProcess
from ssw.media.server import MediaServer
from ssw.media.workers import split_ports

PeerFactory = Callable[[], Awaitable[RtpPeer]]


def test_split_ports_gives_disjoint_even_aligned_ranges() -> None:
    ranges = split_ports(20000, 20019, 2)
    assert ranges == [(20000, 20009), (20010, 20019)]
    assert all(low % 2 == 0 for low, _ in split_ports(20001, 29999, 3))
    with pytest.raises(ValueError, match="fewer than 4 workers"):
        split_ports(20000, 20005, 4)


async def test_two_workers_share_the_calls(media_config: EngineConfig,
                                           open_peer: PeerFactory) -> None:
    media_config.rtp_timeout = 1.0
    server = MediaServer(media_config, "tcp:127.0.0.1:0", workers=2)
    await server.start()
    events: list[dict[str, Any]] = []
    client = await MediaClient.connect(server.bound, on_event=events.append)
    try:
        ranges = split_ports(media_config.port_min, media_config.port_max, 2)
        relays = [await client.allocate(f"w{n}") for n in range(4)]
        used = {next(i for i, (low, high) in enumerate(ranges)
                     if low <= r.legs[0].rtp_port <= high) for r in relays}
        assert used == {0, 1}
        with pytest.raises(MediaError, match="exists"):
            await client.allocate("w0")
        a, b = await open_peer(), await open_peer()
        await client.update("w3", 0, "127.0.0.1", a.port)
        await client.update("w3", 1, "127.0.0.1", b.port)
        assert a.transport
        a.transport.sendto(a.packet(b"\xff" * 160), ("127.0.0.1", relays[3].legs[0].rtp_port))
        for _ in range(100):
            if b.raw:
                break
            await asyncio.sleep(0.01)
        assert len(b.raw) == 1
        stats = await client.request("stats")
        assert stats["workers"] == 2 and stats["relays"] == 4
        for name in ("w0", "w1", "w2"):
            await client.release(name)
        for _ in range(400):  # w3 times out: nobody sends any more
            if events:
                break
            await asyncio.sleep(0.01)
        assert events and events[0]["event"] == "timeout" and events[0]["relay"] == "w3"
        with pytest.raises(MediaError, match="no relay 'w3'"):
            await client.release("w3")
        await client.conference_create("room")
        member = await client.conference_join("room", "m1")
        assert member.rtp_port > 0
        assert (await client.conference_destroy("room"))["members"] == 1
    finally:
        await client.close()
        await server.stop()


async def test_media_server_process_start_and_stop(media_config: EngineConfig) -> None:
    server = await MediaServerProcess.start(media_config, extra=["--prompts", "skip"])
    try:
        client = await MediaClient.connect(server.control)
        try:
            assert (await client.request("ping"))["node"] == "msr1"
        finally:
            await client.close()
    finally:
        status = await server.stop()
    assert status == 0


async def test_media_server_process_that_cannot_start(media_config: EngineConfig) -> None:
    media_config.port_min, media_config.port_max = 100, 50  # refused by the child
    with pytest.raises(RuntimeError, match="did not start"):
        await MediaServerProcess.start(media_config, extra=["--prompts", "skip"])
