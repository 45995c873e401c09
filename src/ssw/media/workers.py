"""Several media worker processes behind one control socket, for machines with cores to spare.

With `--workers N` (N > 1) the media server process only serves the control protocol: it
starts N worker processes (`python -m ssw.media.server` each on its own Unix socket and its
own slice of the RTP port range) and forwards every command to the worker that owns the
relay or conference, choosing the least loaded worker at `allocate` and
`conference_create`. RTP never crosses processes: a relay's two legs live in one worker.
Workers' events come back through the front to the controller that created the object.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssw.media.client import MediaClient, MediaError
from ssw.media.config import EngineConfig
from ssw.media.control import ControlError
from ssw.media.process import MediaServerProcess

__all__ = ["WorkerPool", "split_ports"]

log = logging.getLogger("ssw.media.workers")

EventSink = Callable[[Any, str, dict[str, Any]], None]
_RELAY_COMMANDS = {"update", "release", "play", "send_dtmf", "stop_play", "record_start",
                   "record_stop"}
_CONFERENCE_COMMANDS = {"conference_join", "conference_update", "conference_leave",
                        "conference_destroy"}


def split_ports(low: int, high: int, parts: int) -> list[tuple[int, int]]:
    """`parts` disjoint ranges of whole even/odd pairs covering low..high."""
    low += low % 2
    pairs = (high - low + 1) // 2
    if pairs < parts:
        raise ValueError(f"ports {low}-{high} hold {pairs} pairs, fewer than {parts} workers")
    share = pairs // parts
    return [(low + 2 * share * i, low + 2 * share * (i + 1) - 1) for i in range(parts)]


@dataclass
class _Worker:
    index: int
    server: MediaServerProcess
    client: MediaClient | None = None
    relays: set[str] = field(default_factory=set)
    conferences: set[str] = field(default_factory=set)

    @property
    def load(self) -> int:
        return len(self.relays) + len(self.conferences)


class WorkerPool:
    """Has the `execute` interface of `MediaEngine`; forwards to worker processes."""

    def __init__(self, config: EngineConfig, workers: int, emit: EventSink) -> None:
        if workers < 2:
            raise ValueError("a worker pool needs at least two workers")
        self.config = config
        self.count = workers
        self._emit = emit
        self._workers: list[_Worker] = []
        self._owners: dict[tuple[str, str], Any] = {}  # (kind, id) -> controller
        self._scratch = tempfile.TemporaryDirectory(prefix="ssw-media-")

    async def start(self) -> None:
        ranges = split_ports(self.config.port_min, self.config.port_max, self.count)
        level = logging.getLevelName(log.getEffectiveLevel())
        for index, (low, high) in enumerate(ranges):
            socket_path = Path(self._scratch.name) / f"worker{index}.sock"
            config = dataclasses.replace(self.config, port_min=low, port_max=high,
                                         node=f"{self.config.node}.{index}")
            server = await MediaServerProcess.start(
                config, control=f"unix:{socket_path}",
                extra=["--prompts", "skip", "--log-level", level])
            worker = _Worker(index, server)
            self._workers.append(worker)
            worker.client = await MediaClient.connect(server.control,
                                                      on_event=self._event_handler(worker))
            log.info("media worker %d (pid %d): ports %d-%d", index, server.pid, low, high)

    async def stop(self) -> None:
        for worker in self._workers:
            if worker.client is not None:
                await worker.client.close()
            await worker.server.stop()
        self._workers.clear()
        self._scratch.cleanup()

    def _event_handler(self, worker: _Worker) -> Callable[[dict[str, Any]], None]:
        def handle(message: dict[str, Any]) -> None:
            name = str(message.pop("event"))
            key = (("relay", str(message["relay"])) if "relay" in message
                   else ("conference", str(message.get("conference"))))
            owner = self._owners.get(key)
            if name == "timeout" and key[0] == "relay":
                worker.relays.discard(key[1])
                self._owners.pop(key, None)
            self._emit(owner, name, message)
        return handle

    def _owner_of(self, kind: str, name: str) -> _Worker:
        for worker in self._workers:
            if name in (worker.relays if kind == "relay" else worker.conferences):
                return worker
        raise ControlError(f"no {kind} {name!r} (released, timed out or never created)")

    async def _forward(self, worker: _Worker, command: str, params: dict[str, Any]
                       ) -> dict[str, Any]:
        assert worker.client is not None
        try:
            return await worker.client.request(command, **params)
        except MediaError as exc:
            raise ControlError(str(exc).removeprefix(f"{command}: ")) from None

    async def execute(self, command: str, params: dict[str, Any], owner: Any
                      ) -> dict[str, Any]:
        if command in ("ping", "stats"):
            answers = [await self._forward(w, command, {}) for w in self._workers]
            total: dict[str, Any] = {"node": self.config.node, "workers": len(answers)}
            for answer in answers:
                for key, value in answer.items():
                    if isinstance(value, int) and not isinstance(value, bool):
                        total[key] = total.get(key, 0) + value
            return total
        if command in ("allocate", "conference_create"):
            kind = "relay" if command == "allocate" else "conference"
            name = str(params[kind])
            if any(name in (w.relays if kind == "relay" else w.conferences)
                   for w in self._workers):
                raise ControlError(f"{kind} {name!r} exists")
            worker = min(self._workers, key=lambda w: w.load)
            answer = await self._forward(worker, command, params)
            (worker.relays if kind == "relay" else worker.conferences).add(name)
            self._owners[(kind, name)] = owner
            return answer
        kind = "relay" if command in _RELAY_COMMANDS else "conference"
        if command not in _RELAY_COMMANDS | _CONFERENCE_COMMANDS:
            raise ControlError(f"unknown command {command!r}")
        name = str(params[kind])
        worker = self._owner_of(kind, name)
        answer = await self._forward(worker, command, params)
        if command in ("release", "conference_destroy"):
            (worker.relays if kind == "relay" else worker.conferences).discard(name)
            self._owners.pop((kind, name), None)
        return answer
