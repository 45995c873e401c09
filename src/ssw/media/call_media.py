"""One call's relay as the call core sees it: SDP bodies passed through, without awaiting.

The call logic is sans-I/O, so only the allocation is awaited (where the B2BUA is async
anyway, before the call object exists); everything after is synchronous: the session knows
the relay's addresses, rewrites bodies at once and tells the media server about each
phone's address with `MediaClient.notify` (commands are carried out in order).

```python
session = await RelaySession.open(client, call_id)   # in the B2BUA, on a new INVITE
attempt = session.rewrite_event(0, attempt)          # the caller's offer, for the callee
event = session.rewrite_event(side_of(leg), event)   # any event with .sdp, from that side
session.play(0, "tone:ringback"); session.stop_play(0)
session.when_updated(send_the_answer)                # once the relay follows the new SDP
session.release()                                    # when the call ends
```

Side 0 is the caller's leg, side 1 the callee's. `through(side, body)` registers where
that side's phone receives and returns the body for the *other* side, pointing at the
switch's port of the other leg. Bad SDP raises `SdpError` (answer 488/400).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from ssw.media.client import MediaClient, RelayAllocation
from ssw.media.sdp_bridge import endpoint_of, relay_body
from ssw.sip.sdp import SessionDescription

__all__ = ["RelaySession"]

EventT = TypeVar("EventT")


class RelaySession:
    def __init__(self, client: MediaClient, allocation: RelayAllocation) -> None:
        self.client = client
        self.allocation = allocation
        self.relay_id = allocation.relay
        self.released = False
        self.updates_pending = 0  # address updates sent, not yet carried out
        self._when_updated: list[Callable[[], None]] = []

    @classmethod
    async def open(cls, client: MediaClient, relay_id: str) -> RelaySession:
        """Allocate the relay (the one awaited step); raises `MediaError` when refused."""
        return cls(client, await client.allocate(relay_id))

    def through(self, side: int, body: bytes) -> bytes:
        """Register side `side`'s SDP with the relay; the body for the other side."""
        if side not in (0, 1):
            raise ValueError(f"side must be 0 (caller) or 1 (callee), got {side}")
        sd = SessionDescription.parse(body)
        endpoint = endpoint_of(sd)
        if endpoint is None or self.released:
            return body  # no audio stream: nothing to relay
        self.updates_pending += 1
        self.client.notify("update", on_done=self._update_done, relay=self.relay_id, leg=side,
                           **endpoint.update_params())
        other = self.allocation.legs[1 - side]
        return relay_body(sd, other.address, other.rtp_port).serialize()

    def _update_done(self) -> None:
        self.updates_pending -= 1
        if self.updates_pending == 0:
            waiting, self._when_updated = self._when_updated, []
            for callback in waiting:
                callback()

    def when_updated(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the media server has carried out (or refused) every address
        update sent so far: at once when none is pending."""
        if self.updates_pending == 0:
            callback()
        else:
            self._when_updated.append(callback)

    def rewrite_event(self, side: int, event: EventT) -> EventT:
        """`event` (a frozen dataclass) with its `sdp` passed `through`, if it has one."""
        body = getattr(event, "sdp", None)
        if not isinstance(body, bytes) or not body:
            return event
        return dataclasses.replace(event, sdp=self.through(side, body))  # type: ignore[type-var]

    def play(self, side: int, source: str, *, loop: bool | None = None,
             on_error: Callable[[str], None] | None = None) -> None:
        """Play towards side `side`'s phone instead of the other side's audio; `on_error`
        gets the reason if the media server refuses (e.g. a prompt that is missing)."""
        self.client.notify("play", on_error=on_error, relay=self.relay_id, leg=side,
                           source=source, loop=loop)

    def stop_play(self, side: int) -> None:
        self.client.notify("stop_play", relay=self.relay_id, leg=side)

    def record_start(self, file: str | None = None) -> None:
        self.client.notify("record_start", relay=self.relay_id, file=file)

    def release(self) -> None:
        """Free the relay (once); the media server logs the counters."""
        if not self.released:
            self.released = True
            self.client.notify("release", relay=self.relay_id)

    async def release_with_counters(self) -> dict[str, Any]:
        """Free the relay and get its counters and `recording` path (for the CDR)."""
        if self.released:
            return {}
        self.released = True
        return await self.client.release(self.relay_id)
