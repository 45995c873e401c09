"""A media server stand-in for the call core's logic tests: relays allocated at once on
fixed ports of `RELAY_HOST`, and every command the call sends recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from call_harness import Bench

from ssw.media.client import LegAddress, MediaError, RelayAllocation

RELAY_HOST = "192.0.2.1"


class FakeMedia:
    """Answers allocate at once and records what the call tells the media server.

    Commands are carried out at once, unless `hold` is set: then they wait for `carry_out`,
    as over a real control connection (a round trip to the media server process)."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.refuse = refuse
        self.allocated: list[str] = []
        self.notes: list[tuple[str, dict[str, Any]]] = []
        self.hold = False
        self.in_progress: list[Callable[[], None]] = []

    async def allocate(self, relay: str) -> RelayAllocation:
        if self.refuse:
            raise MediaError("allocate: no free port pair in 20000-20003")
        self.allocated.append(relay)
        return RelayAllocation(relay, (LegAddress(RELAY_HOST, 20000, 20001),
                                       LegAddress(RELAY_HOST, 20002, 20003)))

    def notify(self, command: str, *, on_done: Callable[[], None] | None = None,
               **params: Any) -> None:
        self.notes.append((command, params))
        if on_done is not None:
            if self.hold:
                self.in_progress.append(on_done)
            else:
                on_done()

    def carry_out(self) -> None:
        """The media server answers every command sent so far."""
        self.hold = False
        done, self.in_progress = self.in_progress, []
        for on_done in done:
            on_done()

    def commands(self, name: str) -> list[dict[str, Any]]:
        return [params for command, params in self.notes if command == name]


def media_bench() -> tuple[Bench, FakeMedia]:
    """A call bench whose B2BUA relays every call through a `FakeMedia`."""
    bench = Bench()
    media = FakeMedia()
    bench.b2bua.media = media  # type: ignore[assignment]
    return bench, media
