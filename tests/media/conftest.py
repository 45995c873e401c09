"""Loopback fixtures: a media server on the test's event loop and its control client."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from media_peers import RtpPeer, new_peer

from ssw.media.client import MediaClient
from ssw.media.engine import EngineConfig
from ssw.media.server import MediaServer


@pytest.fixture
def media_config(tmp_path: Path) -> EngineConfig:
    base = random.randrange(30000, 60000, 1000)
    return EngineConfig(data_dir=tmp_path, port_min=base, port_max=base + 999, rtp_timeout=30.0)


@pytest.fixture
async def media_server(media_config: EngineConfig) -> AsyncIterator[MediaServer]:
    server = MediaServer(media_config, "tcp:127.0.0.1:0")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def events() -> list[dict[str, Any]]:
    return []


@pytest.fixture
async def media(media_server: MediaServer, events: list[dict[str, Any]]
                ) -> AsyncIterator[MediaClient]:
    client = await MediaClient.connect(media_server.bound, on_event=events.append)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def open_peer() -> AsyncIterator[Callable[[], Awaitable[RtpPeer]]]:
    """Factory of RTP peers on loopback; every one is closed at teardown."""
    made: list[RtpPeer] = []

    async def factory() -> RtpPeer:
        made.append(await new_peer())
        return made[-1]

    try:
        yield factory
    finally:
        for peer in made:
            if peer.transport is not None:
                peer.transport.close()
