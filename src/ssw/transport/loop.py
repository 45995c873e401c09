"""The event loop the switch runs on: uvloop when it is installed, asyncio's own otherwise.

The composition root calls `install_event_loop_policy()` once before it creates its loop (or uses
`run(main())`, which does both). Nothing else in the code base picks a loop.

`tune_garbage_collector()` is for the same place: a switch under load allocates a few hundred
thousand objects a second (messages, transactions, calls), and with CPython's default
thresholds (700, 10, 10) the cyclic collector runs hundreds of times a second, each run
stopping the loop while every request waiting behind it gets older. Raising the
first-generation threshold makes collections rare (reference counting frees almost
everything anyway); `gc.freeze()` after start-up takes the objects that live for the whole
run (modules, configuration, caches) out of every later full collection.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = [
    "SERVING_GC_THRESHOLDS",
    "install_event_loop_policy",
    "loop_implementation",
    "run",
    "tune_garbage_collector",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Collect the young generation every 10,000 net allocations instead of every 700, the middle
# one every 3 young collections and the oldest every 1,000 middle ones. Under load most young
# objects that survive belong to transactions waiting out Timer J/L (32 s): a middle
# generation that gathers 50 young collections' survivors held a million objects and stopped
# the loop for 0.6-1 s every 25 s at 500 calls/s; gathering three keeps each middle
# collection under ~40 ms (measured with bench/calls.py, 500 calls/s + 1500 REGISTER/s), and
# promotes the long-lived objects to the oldest generation, collected every few minutes.
SERVING_GC_THRESHOLDS = (10_000, 3, 1_000)


def _uvloop_policy() -> asyncio.AbstractEventLoopPolicy | None:
    try:
        import uvloop
    except ImportError:
        return None
    policy: asyncio.AbstractEventLoopPolicy = uvloop.EventLoopPolicy()
    return policy


def install_event_loop_policy(*, prefer_uvloop: bool = True) -> str:
    """Make new event loops uvloop loops when uvloop is available; return "uvloop" or "asyncio"."""
    policy = _uvloop_policy() if prefer_uvloop else None
    if policy is None:
        if prefer_uvloop:
            logger.info("uvloop is not installed; using the asyncio event loop")
        return "asyncio"
    asyncio.set_event_loop_policy(policy)
    return "uvloop"


def loop_implementation(loop: asyncio.AbstractEventLoop) -> str:
    """"uvloop" or "asyncio": which implementation `loop` is, for logs and status commands."""
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


def run(main: Coroutine[Any, Any, T], *, prefer_uvloop: bool = True) -> T:
    """Run `main` to completion on a fresh loop of the preferred implementation."""
    policy = _uvloop_policy() if prefer_uvloop else None
    if policy is None:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=policy.new_event_loop) as runner:
        return runner.run(main)


def tune_garbage_collector(
    thresholds: tuple[int, int, int] = SERVING_GC_THRESHOLDS, *, freeze: bool = True
) -> tuple[int, int, int]:
    """Set the collector's thresholds for serving and, with `freeze`, move every object alive
    now to the permanent generation (`gc.freeze`); returns the thresholds it replaced.

    Call it once start-up is done, before traffic. A threshold below 1 raises ValueError and
    changes nothing (0 would turn automatic collection off, which is not what is meant).
    """
    if len(thresholds) != 3 or any(
        isinstance(value, bool) or not isinstance(value, int) or value < 1 for value in thresholds
    ):
        raise ValueError(f"three positive integer thresholds expected, not {thresholds!r}")
    previous = gc.get_threshold()
    gc.set_threshold(*thresholds)
    if freeze:
        gc.freeze()
    return previous
