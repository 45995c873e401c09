"""`ssw media-server` options and the event fallback between controllers."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

import pytest

from ssw.media.cli import register
from ssw.media.client import MediaClient
from ssw.media.server import MediaServer, config_from_args


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ssw")
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["media-server", *argv])


def test_register_adds_media_server_with_its_options() -> None:
    args = _parse("--ports", "40000-40999", "--rtp-timeout", "12", "--data-dir", "d",
                  "--workers", "2")
    config = config_from_args(args)
    assert (config.port_min, config.port_max, config.rtp_timeout) == (40000, 40999, 12.0)
    assert config.recordings == Path("d") / "restfs" / "recordings"
    assert args.workers == 2 and callable(args.func)


@pytest.mark.parametrize("ports", ["abc", "30000", "100-200", "40000-30000"])
def test_bad_port_ranges_are_refused(ports: str) -> None:
    with pytest.raises(SystemExit, match="--ports"):
        config_from_args(_parse("--ports", ports))


async def test_events_go_to_another_controller_when_the_owner_left(
        media_server: MediaServer) -> None:
    media_server.engine.config.rtp_timeout = 1.0
    first = await MediaClient.connect(media_server.bound)
    await first.allocate("orphan")
    await first.update("orphan", 0, "127.0.0.1", 4000)
    await first.update("orphan", 1, "127.0.0.1", 4002)
    await first.close()
    received: list[dict[str, Any]] = []
    second = await MediaClient.connect(media_server.bound, on_event=received.append)
    try:
        for _ in range(400):
            if received:
                break
            await asyncio.sleep(0.01)
        assert received and received[0]["event"] == "timeout"
        assert received[0]["relay"] == "orphan"
    finally:
        await second.close()
