"""The controller's side of the media server protocol (asyncio), for the call core.

```python
media = await MediaClient.connect("tcp:127.0.0.1:7070", on_event=handle)
relay = await media.allocate(call_id)            # relay.legs[0] faces the caller (A)
await media.update(call_id, 0, "192.0.2.10", 4000, payload_type=0)
await media.play(call_id, 0, "tone:ringback")     # early media towards A
await media.release(call_id)
```

Events (`timeout`, `dtmf`, `play_done`, `pin`) arrive as dicts in `on_event`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ssw.media.control import MAX_LINE

__all__ = ["LegAddress", "MediaClient", "MediaError", "RelayAllocation"]

log = logging.getLogger("ssw.media.client")

EventHandler = Callable[[dict[str, Any]], None]


class MediaError(RuntimeError):
    """The media server refused a request or is unreachable; the text says why."""


@dataclass(frozen=True, slots=True)
class LegAddress:
    """Where a leg's peer must send: the switch's side of the SDP."""

    address: str
    rtp_port: int
    rtcp_port: int


@dataclass(frozen=True, slots=True)
class RelayAllocation:
    relay: str
    legs: tuple[LegAddress, LegAddress]


def _leg(data: dict[str, Any]) -> LegAddress:
    return LegAddress(str(data["address"]), int(data["rtp_port"]), int(data["rtcp_port"]))


class MediaClient:
    """One control connection; requests may be issued concurrently."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 on_event: EventHandler | None = None, timeout: float = 5.0) -> None:
        self._reader = reader
        self._writer = writer
        self._on_event = on_event
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def connect(cls, control: str, *, on_event: EventHandler | None = None,
                      timeout: float = 5.0) -> MediaClient:
        kind, _, where = control.partition(":")
        try:
            if kind == "unix":
                reader, writer = await asyncio.open_unix_connection(where, limit=MAX_LINE + 2)
            else:
                host, _, port = where.rpartition(":")
                reader, writer = await asyncio.open_connection(host.strip("[]"), int(port),
                                                               limit=MAX_LINE + 2)
        except (OSError, ValueError) as exc:
            raise MediaError(f"media server at {control} unreachable: {exc}") from exc
        return cls(reader, writer, on_event, timeout)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()

    async def _read_loop(self) -> None:
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                message = json.loads(line)
                if "event" in message:
                    if self._on_event is not None:
                        self._on_event(message)
                    continue
                future = self._pending.pop(message.get("id"), None)
                if future is not None and not future.done():
                    future.set_result(message)
        except (ConnectionError, json.JSONDecodeError) as exc:
            log.warning("media control connection failed: %s", exc)
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(MediaError("media server connection closed"))
            self._pending.clear()

    def notify(self, command: str, *, on_error: Callable[[str], None] | None = None,
               on_done: Callable[[], None] | None = None, **params: Any) -> None:
        """Send a command without waiting (for sans-I/O callers); a refusal is logged and
        handed to `on_error` (the reason) when given; `on_done` is called once the command
        is over either way (answered, refused, or the connection is gone).

        Commands on one connection are carried out in the order sent, so a `notify` is done
        before any request sent after it.
        """
        if self._task.done():  # the connection is gone: nothing would ever answer
            log.warning("media server: %s not sent: connection closed", command)
            if on_error is not None:
                on_error("not sent: connection closed")
            if on_done is not None:
                on_done()
            return
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future

        def check(done: asyncio.Future[dict[str, Any]]) -> None:
            if not done.cancelled():
                error = done.exception()
                answer = done.result() if error is None else {"error": str(error)}
                if not answer.get("ok", False):
                    reason = str(answer.get("error", "refused"))
                    log.warning("media server: %s %s: %s", command, params.get("relay", ""),
                                reason)
                    if on_error is not None:
                        on_error(reason)
            if on_done is not None:
                on_done()

        future.add_done_callback(check)
        body = {"id": request_id, "cmd": command,
                **{k: v for k, v in params.items() if v is not None}}
        try:
            self._writer.write(json.dumps(body, separators=(",", ":")).encode() + b"\n")
        except ConnectionError as exc:
            self._pending.pop(request_id, None)
            log.warning("media server: %s not sent: %s", command, exc)
            if on_error is not None:
                on_error(f"not sent: {exc}")
            if on_done is not None:
                on_done()

    async def request(self, command: str, **params: Any) -> dict[str, Any]:
        """Send one command; its answer without id/ok, or MediaError."""
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        body = {"id": request_id, "cmd": command,
                **{k: v for k, v in params.items() if v is not None}}
        try:
            self._writer.write(json.dumps(body, separators=(",", ":")).encode() + b"\n")
            answer = await asyncio.wait_for(future, self._timeout)
        except (ConnectionError, TimeoutError) as exc:
            self._pending.pop(request_id, None)
            raise MediaError(f"{command}: no answer from the media server ({exc!r})") from exc
        if not answer.pop("ok", False):
            raise MediaError(f"{command}: {answer.get('error', 'refused')}")
        answer.pop("id", None)
        return answer

    # typed helpers -------------------------------------------------------------------
    async def allocate(self, relay: str, *, strict_source: bool | None = None
                       ) -> RelayAllocation:
        answer = await self.request("allocate", relay=relay, strict_source=strict_source)
        first, second = answer["legs"]
        return RelayAllocation(relay, (_leg(first), _leg(second)))

    async def update(self, relay: str, leg: int, address: str, port: int, *,
                     rtcp_port: int | None = None, payload_type: int | None = None,
                     event_payload_type: int | None = None, sends: bool | None = None
                     ) -> LegAddress:
        return _leg(await self.request("update", relay=relay, leg=leg, address=address,
                                       port=port, rtcp_port=rtcp_port,
                                       payload_type=payload_type,
                                       event_payload_type=event_payload_type, sends=sends))

    async def release(self, relay: str) -> dict[str, Any]:
        return await self.request("release", relay=relay)

    async def play(self, relay: str, leg: int, source: str, *, loop: bool | None = None
                   ) -> dict[str, Any]:
        return await self.request("play", relay=relay, leg=leg, source=source, loop=loop)

    async def stop_play(self, relay: str, leg: int) -> dict[str, Any]:
        return await self.request("stop_play", relay=relay, leg=leg)

    async def record_start(self, relay: str, file: str | None = None) -> str:
        return str((await self.request("record_start", relay=relay, file=file))["path"])

    async def record_stop(self, relay: str) -> dict[str, Any]:
        return await self.request("record_stop", relay=relay)

    async def conference_create(self, conference: str, pin: str | None = None) -> None:
        await self.request("conference_create", conference=conference, pin=pin)

    async def conference_join(self, conference: str, member: str) -> LegAddress:
        return _leg(await self.request("conference_join", conference=conference,
                                       member=member))

    async def conference_update(self, conference: str, member: str, address: str, port: int,
                                **options: Any) -> LegAddress:
        return _leg(await self.request("conference_update", conference=conference,
                                       member=member, address=address, port=port, **options))

    async def conference_leave(self, conference: str, member: str) -> dict[str, Any]:
        return await self.request("conference_leave", conference=conference, member=member)

    async def conference_destroy(self, conference: str) -> dict[str, Any]:
        return await self.request("conference_destroy", conference=conference)
