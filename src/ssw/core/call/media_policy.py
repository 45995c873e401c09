"""What the call core asks about media services: recording and meet-me rooms (docs/MEDIA.md).

`MediaPolicy` is a port (the composition root implements it over storage): whether a call is
recorded (the `call_recording` supplementary service of either party, or the domain's
`call_recording` media property), and whether a called number is the domain's meet-me
conference (`meet_me_number`, `meet_me_pin`). `recording_name` is where a recording goes,
relative to the RestFS directory: it is what the CDR carries. `refused_codecs` are the audio
codecs the media profile of a number's alias refuses (`codecs-add ... G729 * false`): an offer
from that party none of whose codecs is left is answered 488 (RFC 3261 §21.4.26).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from ssw.media.sdp_bridge import RELAYED_CODECS, audio_codec_names, audio_index
from ssw.sip.sdp import SdpError, SessionDescription

__all__ = ["MediaPolicy", "MeetMeRoom", "offer_refused", "recording_name"]


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

    async def refused_codecs(self, domain: str, number: str) -> frozenset[str]: ...


def offer_refused(sdp: bytes, refused: frozenset[str]) -> bool:
    """True when the audio stream of the offer `sdp` has relayed codecs, all of them in
    `refused` (lower-case names): nothing the party's media profile allows is left.
    Bodies without audio, and unparsable ones (the relay judges those), pass."""
    if not refused:
        return False
    try:
        sd = SessionDescription.parse(sdp)
    except SdpError:
        return False
    names = audio_codec_names(sd)
    index = audio_index(sd)
    if names is None or index is None or sd.media[index].port == 0:
        return False
    offered = set(names) & RELAYED_CODECS
    return bool(offered) and offered <= refused


def recording_name(connection_id: str, now: float) -> str:
    """`recordings/YYYYmmdd-HHMMSS-<connection id>.wav` for a call answered at `now` (UTC)."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d-%H%M%S")
    return f"recordings/{stamp}-{connection_id}.wav"
