"""What a leg is built with and the small types legs share.

`LegContext` bundles the switch-wide objects every leg needs (the SIP port, the clock, the
settings, the registry through which the B2BUA finds legs again, the identifier source);
`Purpose` records why a leg sent a request, which decides what its final response means.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ssw.core.call.call import CallLeg
from ssw.core.call.dialog_state import IdSource
from ssw.core.call.events import CallEvent
from ssw.core.call.session_timer import SessionTimerSettings
from ssw.core.ports import Clock, SipPort
from ssw.sip.address import Address
from ssw.sip.message import Request, Response

if TYPE_CHECKING:
    from ssw.core.call.leg_base import SipLeg

__all__ = [
    "ALLOWED_METHODS",
    "SUPPORTED_EXTENSIONS",
    "EventSink",
    "LegContext",
    "LegRegistry",
    "LegSettings",
    "Purpose",
    "RequestHandler",
    "Sent",
    "Unacked2xx",
]

SUPPORTED_EXTENSIONS = frozenset({"100rel", "timer"})
ALLOWED_METHODS = ("INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "PRACK", "UPDATE", "INFO")


@dataclass(frozen=True, slots=True)
class LegSettings:
    """Switch-wide settings of every leg. `local` is the switch's SIP address (Via, Contact)."""

    local: Address
    user_agent: str = "SSW"
    session_timers: SessionTimerSettings = field(default_factory=SessionTimerSettings)
    t1: float = 0.5
    t2: float = 4.0


class LegRegistry:
    """Where a leg announces how its messages are recognised; the B2BUA implements it."""

    def watch_request(self, branch: str, method: str, leg: SipLeg) -> None:
        """Responses with this top-Via branch and CSeq method belong to `leg`."""

    def watch_dialog(self, key: tuple[str, str], leg: SipLeg) -> None:
        """In-dialog requests with this (Call-ID, local tag) belong to `leg`."""

    def leg_closed(self, leg: SipLeg) -> None:
        """`leg` has nothing more to do; forget it."""


@dataclass(frozen=True, slots=True)
class LegContext:
    """What every leg of the switch is built with."""

    port: SipPort
    clock: Clock
    settings: LegSettings
    registry: LegRegistry
    ids: IdSource


class Purpose(enum.Enum):
    """Why a leg sent a request: decides what its final response means."""

    INVITE = "initial INVITE"
    CANCEL = "CANCEL"
    BYE = "BYE"
    PRACK = "PRACK"
    OFFER = "relayed offer"  # re-INVITE or UPDATE carrying the other side's offer
    REFRESH = "session refresh"  # re-INVITE or UPDATE of our own session timer
    SETTLE = "codec settling"  # the switch's own offer of one codec (codec_settle.py)
    PROBE = "capability probe"  # in-dialog OPTIONS asking which methods the peer allows
    OTHER = "other"


@dataclass(slots=True)
class Sent:
    purpose: Purpose
    request: Request


@dataclass(slots=True)
class Unacked2xx:
    """A 2xx to an INVITE waiting for its ACK (RFC 3261 §13.3.1.4)."""

    txn: object
    response: Response
    interval: float
    elapsed: float = 0.0


EventSink = Callable[[CallLeg, CallEvent], None]
RequestHandler = Callable[[object, Request], None]
