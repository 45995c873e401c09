"""What the call core needs from the outside world, as protocols.

The core (`ssw.core.call`) never opens a socket, starts a task or reads a clock. The composition
root hands it objects that satisfy these protocols: the transaction layer behind `SipPort`, the
event loop behind `Clock`, the registrar's location service behind `Locations`, the subscriber
repository behind `Subscribers`, and the CDR repository and CSV files behind `CdrSink`. Tests hand
it a fake clock and an in-memory port that records what was sent.

Lookups that reach storage (`Locations`, `Subscribers`) are coroutines; everything the core does
after a call is set up is synchronous.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ssw.sip.address import Address
from ssw.sip.message import Request, Response

if TYPE_CHECKING:
    from ssw.core.call.cdr import CallRecord

__all__ = [
    "Binding",
    "CallAdmission",
    "Cancellable",
    "CdrSink",
    "Clock",
    "ForkMode",
    "Locations",
    "ReliableProvisional",
    "SessionTimerMode",
    "SipPort",
    "SubscriberProfile",
    "Subscribers",
]


class SipPort(Protocol):
    """The transaction layer as the core sees it (RFC 3261 §17).

    Responses to a request sent with `send_request` come back as transaction-layer events that the
    dispatcher hands to `B2bua.on_response` / `B2bua.on_timeout`; the core matches them by the
    branch of the top Via it put in the request, so the returned handle is not needed.
    """

    def send_request(self, request: Request, dest: Address) -> object: ...

    # Any: the transaction layer's ServerTransaction; tests pass their own stand-ins.
    def send_response(self, server_txn: Any, response: Response) -> None: ...

    def send_stateless(self, msg: Request | Response, dest: Address) -> None: ...


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """Wall-clock time (epoch seconds, for CDRs) and one-shot timers."""

    def now(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable: ...


@dataclass(frozen=True, slots=True)
class Binding:
    """One registered contact of a subscriber (RFC 3261 §10.3).

    `source` is where the REGISTER came from: requests go there (the contact may be a private
    address behind NAT); None means "resolve the contact URI's host and port".
    """

    contact: str
    q: float = 1.0
    source: Address | None = None


class Locations(Protocol):
    """The location service filled by the registrar."""

    async def lookup(self, domain: str, number: str) -> Sequence[Binding]: ...


class ForkMode(enum.StrEnum):
    """How a call reaches a subscriber with several contacts (`sip/user/set ... fork-mode`)."""

    ALL_CONTACTS = "all-contacts"  # every contact at once (the default)
    DISABLE = "disable"  # only the best contact (highest q, then most recent)
    ONE_BY_ONE_STOP = "find-me-one-by-one previous-stop"  # next contact replaces the previous
    ONE_BY_ONE_CONTINUE = "find-me-one-by-one previous-continue"  # next one rings in addition
    BY_Q = "find-me-with-q"  # groups of equal q in turn, the previous one stopped (RFC 3261 §16.6)
    BY_Q_CONTINUE = "find-me-with-q previous-continue"  # the same, earlier groups keep ringing


class SessionTimerMode(enum.StrEnum):
    """`rfc-4028-control`: whether session timers (RFC 4028) run towards a subscriber."""

    OFF = "false"  # never ask for them; a peer's Session-Expires is still honoured
    ON = "true"  # ask for them and honour them
    FORCE = "force"  # run them even when the peer does not support them (we refresh)


class ReliableProvisional(enum.StrEnum):
    """`req100rel`: reliable provisional responses (RFC 3262) towards a subscriber."""

    OFF = "false"  # never send or ask for reliable provisional responses
    SUPPORTED = "supported"  # use them when the peer supports them (the default)
    REQUIRED = "required"  # require them of the peer (Require: 100rel)


@dataclass(frozen=True, slots=True)
class SubscriberProfile:
    """A SIP subscriber and the settings of its own and its domain that the call core uses.

    `authenticate_invite` is False for subscribers declared without INVITE authentication;
    `qop` selects digest with `qop=auth` or without qop (`qop-authentication`).
    `no_answer_timeout` is the domain's core timer of the same name, in seconds;
    `conversation_timeout` (also a domain core timer) bounds an answered call, None for no bound.
    `session_expires` / `min_se` are the domain's RFC 4028 timers (`sip/timer/set rfc4028_use_se`,
    `rfc4028_min_se`); None means the switch-wide defaults.
    `fork_step_timeout` is how long one step of find-me rings before the next contact is tried.
    """

    domain: str
    number: str
    login: str
    password: str
    authenticate_invite: bool = True
    qop: bool = True
    fork_mode: ForkMode = ForkMode.ALL_CONTACTS
    reliable_provisional: ReliableProvisional = ReliableProvisional.SUPPORTED
    session_timer: SessionTimerMode = SessionTimerMode.ON
    no_answer_timeout: float = 60.0
    conversation_timeout: float | None = None
    session_expires: int | None = None
    min_se: int | None = None
    fork_step_timeout: float = 15.0
    display_name: str | None = None

    @property
    def aor(self) -> str:
        return f"sip:{self.number}@{self.domain}"


class Subscribers(Protocol):
    """The subscriber repository (`ecss_subscribers`), read-only for the call core."""

    async def find(self, domain: str, number: str) -> SubscriberProfile | None: ...


class CallAdmission(Protocol):
    """The licence's call limit (`ssw.licence.LicenceManager` has this shape)."""

    def admit_call(self, active_calls: int) -> bool: ...

    def note_usage(self, name: str, in_use: int) -> None: ...


class CdrSink(Protocol):
    """Takes finished call records (the `ecss_calls_db` repository, CSV files, ...)."""

    def write(self, record: CallRecord) -> None: ...
