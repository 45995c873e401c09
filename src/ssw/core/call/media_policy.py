"""What the call core asks about media services: recording and meet-me rooms (docs/MEDIA.md).

`MediaPolicy` is a port (the composition root implements it over storage): whether a call is
recorded (the `call_recording` supplementary service of either party, or the domain's
`call_recording` media property), and whether a called number is the domain's meet-me
conference (`meet_me_number`, `meet_me_pin`). `recording_name` is where a recording goes,
relative to the RestFS directory: it is what the CDR carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["MediaPolicy", "MeetMeRoom", "recording_name"]


@dataclass(frozen=True, slots=True)
class MeetMeRoom:
    """A meet-me conference: dial `number` in `domain`, enter `pin` and `#` (RFC 4733)."""

    domain: str
    number: str
    pin: str | None

    @property
    def conference_id(self) -> str:
        return f"meetme:{self.number}@{self.domain}"


class MediaPolicy(Protocol):
    async def recording_wanted(self, domain: str, caller: str, callee: str) -> bool: ...

    async def meet_me(self, domain: str, number: str) -> MeetMeRoom | None: ...


def recording_name(connection_id: str, now: float) -> str:
    """`recordings/YYYYmmdd-HHMMSS-<connection id>.wav` for a call answered at `now` (UTC)."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d-%H%M%S")
    return f"recordings/{stamp}-{connection_id}.wav"
