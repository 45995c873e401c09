"""Call-control events: the only language spoken between a call and its legs.

A leg (a SIP user agent towards one peer) turns what its peer does into these events and turns the
events it is given back into SIP. The call (`call.py`) only relays events from one leg to the other,
so a leg can be replaced — by a fork, a redirect target, later by a forwarding or transfer target —
without the other side noticing. Nothing here knows about SIP transactions or dialogs; SDP travels
as opaque bytes (the media relay, when it comes, rewrites it between legs).

The events, in the order a call usually sees them:

    Try        a new call attempt (incoming leg -> call -> each outgoing leg)
    Ring       the callee is alerting, possibly with early media (reliable: RFC 3262)
    RingAck    the caller acknowledged a reliable Ring (its PRACK), possibly with SDP
    Answer     the callee answered (SDP: answer, or an offer when the INVITE had none)
    Confirm    the caller confirmed the answer (its ACK), with the SDP answer when Answer offered
    Update / Hold / Resume      a session modification offer (re-INVITE or UPDATE)
    UpdateAccepted / UpdateRejected   the outcome of that offer, relayed back
    Settled    a leg's peer answered an offer the switch made on its own (`codec_settle.py`)
    Info       application data inside the call (SIP INFO: DTMF digits, ...), relayed as is
    Redirect   the callee asked to try other targets (3xx)
    Fail       the attempt failed before answer (a final non-2xx status)
    Disconnect the call ends (BYE, CANCEL, timer expiry)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ssw.core.call.causes import ReleaseCause
from ssw.core.call.routing import Target

__all__ = [
    "Answer",
    "CallEvent",
    "Confirm",
    "Disconnect",
    "Fail",
    "Hold",
    "Info",
    "Redirect",
    "Resume",
    "Ring",
    "RingAck",
    "SessionOffer",
    "Settled",
    "Side",
    "Try",
    "Update",
    "UpdateAccepted",
    "UpdateRejected",
    "classify_offer",
]


class Side(Enum):
    """Who ended a call: the caller, the callee or the switch itself (timers, errors)."""

    CALLER = "caller"
    CALLEE = "callee"
    SWITCH = "switch"


@dataclass(frozen=True, slots=True)
class Try:
    """A new call attempt from `calling` to `called` within `domain`.

    `sdp` is the caller's offer, or None for a delayed offer (the offer then comes in Answer).
    `reliable_ring` says whether the caller can take reliable provisional responses (100rel).
    `max_forwards` is what is left for the outgoing requests (RFC 3261 §16.6 step 3).
    """

    called: str
    calling: str
    domain: str
    sdp: bytes | None = None
    calling_display: str | None = None
    reliable_ring: bool = False
    max_forwards: int = 70


@dataclass(frozen=True, slots=True)
class Ring:
    """The callee alerts (180) or gives early media (183 with SDP)."""

    sdp: bytes | None = None
    reliable: bool = False
    status: int = 180


@dataclass(frozen=True, slots=True)
class RingAck:
    """The caller's PRACK for a reliable Ring (RFC 3262 §4); `sdp` when the PRACK carried a body."""

    sdp: bytes | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """The callee answered (2xx to the INVITE)."""

    sdp: bytes | None = None


@dataclass(frozen=True, slots=True)
class Confirm:
    """The caller's ACK for the answer; `sdp` is its SDP answer when Answer carried an offer."""

    sdp: bytes | None = None


@dataclass(frozen=True, slots=True)
class SessionOffer:
    """A session modification offer in an established (or early) call.

    `prefer_update` is set when the offer arrived as an UPDATE (RFC 3311): the other leg uses
    UPDATE too when its peer allows it, and re-INVITE otherwise. `sdp` is None for an offerless
    re-INVITE (the answering side then makes the offer).
    """

    sdp: bytes | None = None
    prefer_update: bool = False


@dataclass(frozen=True, slots=True)
class Update(SessionOffer):
    """Any other change of the session (codec change, new address)."""


@dataclass(frozen=True, slots=True)
class Hold(SessionOffer):
    """The offerer puts the other side on hold (a=sendonly / a=inactive, RFC 3264 §8.4)."""


@dataclass(frozen=True, slots=True)
class Resume(SessionOffer):
    """The offerer takes the other side off hold (a=sendrecv again)."""


@dataclass(frozen=True, slots=True)
class UpdateAccepted:
    """The answer to the last SessionOffer (2xx to the re-INVITE or UPDATE)."""

    sdp: bytes | None = None


@dataclass(frozen=True, slots=True)
class UpdateRejected:
    """The last SessionOffer was refused (e.g. 488, 491); the session stays as it was."""

    status: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Settled:
    """The peer's answer to an offer the switch made itself to settle on one codec
    (`codec_settle.py`); for the relay only, never relayed to the other side."""

    sdp: bytes | None = None


@dataclass(frozen=True, slots=True)
class Info:
    """Application data sent inside the dialog (RFC 6086 INFO), e.g. DTMF as
    `application/dtmf-relay`; relayed with its content type."""

    content_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Redirect:
    """Try these targets instead (best first): the callee answered 3xx, or a redirect target
    that named a subscriber was resolved to its contacts (`announce` False: the caller was
    already told with 181 Call Is Being Forwarded)."""

    targets: tuple[Target, ...]
    status: int = 302
    announce: bool = True


@dataclass(frozen=True, slots=True)
class Fail:
    """The attempt failed before answer; `cause` carries the SIP status and the Q.850 cause."""

    cause: ReleaseCause


@dataclass(frozen=True, slots=True)
class Disconnect:
    """The call ends; `side` says who ended it."""

    cause: ReleaseCause
    side: Side = field(default=Side.CALLER)


CallEvent = (
    Try
    | Ring
    | RingAck
    | Answer
    | Confirm
    | Update
    | Hold
    | Resume
    | UpdateAccepted
    | UpdateRejected
    | Settled
    | Info
    | Redirect
    | Fail
    | Disconnect
)


def classify_offer(
    sdp: bytes | None, was_held: bool, prefer_update: bool = False
) -> Update | Hold | Resume:
    """Name a session modification after what it does to the media (RFC 3264 §8.4).

    An offer whose media streams are all sendonly or inactive (or that uses the RFC 2543 hold
    address 0.0.0.0) is a Hold; the first offer after a Hold that is not one is a Resume; anything
    else, and an offerless re-INVITE, is an Update. The call relays the three alike; the names
    exist for the services (music on hold, CDR marks) that will listen to them.
    """
    if sdp is None:
        return Update(None, prefer_update)
    if _is_hold(sdp):
        return Hold(sdp, prefer_update)
    if was_held:
        return Resume(sdp, prefer_update)
    return Update(sdp, prefer_update)


def _is_hold(sdp: bytes) -> bool:
    held = False
    for raw in sdp.splitlines():
        line = raw.strip().lower()
        if line in (b"a=sendonly", b"a=inactive") or line.startswith(b"c=in ip4 0.0.0.0"):
            held = True
        elif line in (b"a=sendrecv", b"a=recvonly"):
            return False
    return held
