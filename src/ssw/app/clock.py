"""The event loop's clocks, handed to the cores as objects (they never read a clock)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["LoopClock"]


class LoopClock:
    """`now()` is wall-clock epoch seconds (CDRs, nonces, bindings); timers run on the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def now(self) -> float:
        return time.time()

    def call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        return self._loop.call_later(max(0.0, delay), callback)
