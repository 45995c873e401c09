"""Session timers (RFC 4028), as pure negotiation rules and the instants they lead to.

The switch is a user agent on each leg, so each leg negotiates its own session timer with its own
peer: the caller's leg as UAS (§9), the callee's leg as UAC (§7). The functions here decide; the
legs (`leg_base.py`) arm the timers on the clock and send the refreshes or the BYE.

When the leg is the refresher it refreshes once half the interval has elapsed (§7.4); when the
peer is, the leg gives up (BYE) once the whole interval has passed without a refresh. §10 lets
the side that is not the refresher end the session earlier (expiry minus min(32 s, interval/3));
ECSS-10 waits for the full Session-Expires, and its peers time their refreshes to that.
"""

from __future__ import annotations

from dataclasses import dataclass

from ssw.core.ports import SessionTimerMode
from ssw.sip.headers import SessionExpires
from ssw.sip.message import Request, Response

__all__ = [
    "TIMER_TAG",
    "Negotiated",
    "SessionTimerSettings",
    "TooSmall",
    "expiry_delay",
    "negotiate_as_uac",
    "negotiate_as_uas",
    "refresh_delay",
    "request_headers",
    "response_headers",
]

TIMER_TAG = "timer"  # the option tag of RFC 4028 §3


@dataclass(frozen=True, slots=True)
class SessionTimerSettings:
    """The switch's own preferences: the interval it asks for and the smallest it accepts.

    RFC 4028 §4: Min-SE is at least 90 s; 1800 s is the recommended interval.
    """

    interval: int = 1800
    min_se: int = 90

    def __post_init__(self) -> None:
        if self.min_se < 90:
            raise ValueError("Min-SE below 90 s is not allowed (RFC 4028 §4)")
        if self.interval < self.min_se:
            raise ValueError("the session interval cannot be below Min-SE")


@dataclass(frozen=True, slots=True)
class Negotiated:
    """A running session timer: its interval and whether this leg sends the refreshes."""

    interval: int
    we_refresh: bool
    peer_supports: bool = True


@dataclass(frozen=True, slots=True)
class TooSmall:
    """The request's Session-Expires is below our Min-SE: answer 422 with this Min-SE (§8.1)."""

    min_se: int


def refresh_delay(timer: Negotiated) -> float:
    """When the refresher sends its refresh: half the interval (§7.4)."""
    return timer.interval / 2


def expiry_delay(timer: Negotiated) -> float:
    """When an unrefreshed session ends: the whole interval, as ECSS-10 does (§10 allows a BYE
    up to min(32 s, interval/3) earlier, which cuts off peers that refresh late)."""
    return float(timer.interval)


def request_headers(
    mode: SessionTimerMode,
    settings: SessionTimerSettings,
    interval: int | None = None,
    *,
    refresher: str | None = "uac",
    min_se: int | None = None,
) -> list[tuple[str, str]]:
    """Session-Expires and Min-SE of an INVITE, re-INVITE or UPDATE the switch sends (§7.1).

    The switch offers to refresh itself (`refresher=uac`) unless told otherwise; `min_se` is
    raised to what a 422 asked for (§7.4: the retry carries the peer's Min-SE).
    """
    if mode is SessionTimerMode.OFF:
        return []
    floor = max(settings.min_se, min_se or 0)
    asked = max(interval or settings.interval, floor)
    value = f"{asked};refresher={refresher}" if refresher else str(asked)
    return [("Session-Expires", value), ("Min-SE", str(floor))]


def negotiate_as_uas(
    request: Request,
    mode: SessionTimerMode,
    settings: SessionTimerSettings,
    *,
    peer_supports_timer: bool = False,
) -> Negotiated | TooSmall | None:
    """The UAS decision for an INVITE, re-INVITE or UPDATE (§9).

    Returns None when no session timer runs. A peer that supports "timer" keeps the refresher it
    asked for; when it names none, or does not support the extension, the switch refreshes
    ("uas", as ECSS-10 does). `peer_supports_timer` carries what the dialog already learned
    (a refresh need not repeat Supported: timer).
    """
    asked = request.session_expires
    peer_supports = (
        peer_supports_timer or TIMER_TAG in request.supported or TIMER_TAG in request.require
    )
    if asked is not None and asked.delta < settings.min_se:
        return TooSmall(max(settings.min_se, request.min_se or 0))
    if asked is None:
        if mode is not SessionTimerMode.FORCE:
            return None
        return Negotiated(settings.interval, we_refresh=True, peer_supports=peer_supports)
    if mode is SessionTimerMode.OFF and not peer_supports:
        return None
    if not peer_supports:
        return Negotiated(asked.delta, we_refresh=True, peer_supports=False)
    we_refresh = asked.refresher != "uac"
    return Negotiated(asked.delta, we_refresh=we_refresh, peer_supports=True)


def response_headers(timer: Negotiated) -> list[tuple[str, str]]:
    """Headers of our 2xx as UAS (§9): Session-Expires with the refresher, Require: timer when
    the peer supports it (it must then refresh or expect refreshes as told)."""
    refresher = "uas" if timer.we_refresh else "uac"
    headers = [("Session-Expires", str(SessionExpires(timer.interval, {"refresher": refresher})))]
    if timer.peer_supports:
        headers.append(("Require", TIMER_TAG))
    return headers


def negotiate_as_uac(
    response: Response, mode: SessionTimerMode, settings: SessionTimerSettings
) -> Negotiated | None:
    """The UAC's reading of a 2xx to its INVITE or refresh (§7.2).

    With Session-Expires in the 2xx the refresher it names refreshes ("uac" is us). Without it,
    the peer does not do session timers; in FORCE mode the switch refreshes on its own.
    """
    granted = response.session_expires
    if granted is None:
        if mode is SessionTimerMode.FORCE:
            return Negotiated(settings.interval, we_refresh=True, peer_supports=False)
        return None
    we_refresh = granted.refresher != "uas"
    return Negotiated(granted.delta, we_refresh=we_refresh, peer_supports=True)
