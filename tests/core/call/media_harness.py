"""A media server stand-in for the call core's logic tests: relays allocated at once on
fixed ports of `RELAY_HOST`, and every command the call sends recorded."""

from __future__ import annotations

from typing import Any

from call_harness import Bench

from ssw.media.client import LegAddress, MediaError, RelayAllocation

RELAY_HOST = "192.0.2.1"


class FakeMedia:
    """Answers allocate at once and records what the call tells the media server."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.refuse = refuse
        self.allocated: list[str] = []
        self.notes: list[tuple[str, dict[str, Any]]] = []

    async def allocate(self, relay: str) -> RelayAllocation:
        if self.refuse:
            raise MediaError("allocate: no free port pair in 20000-20003")
        self.allocated.append(relay)
        return RelayAllocation(relay, (LegAddress(RELAY_HOST, 20000, 20001),
                                       LegAddress(RELAY_HOST, 20002, 20003)))

    def notify(self, command: str, **params: Any) -> None:
        self.notes.append((command, params))

    def commands(self, name: str) -> list[dict[str, Any]]:
        return [params for command, params in self.notes if command == name]


def media_bench() -> tuple[Bench, FakeMedia]:
    """A call bench whose B2BUA relays every call through a `FakeMedia`."""
    bench = Bench()
    media = FakeMedia()
    bench.b2bua.media = media  # type: ignore[assignment]
    return bench, media
