"""The B2BUA: where transaction-layer events enter call processing.

The dispatcher hands every call-related event here. An initial INVITE is checked, authenticated
(401 with a Digest challenge, SPEC §6), routed, and becomes a `Call` with an incoming leg and one
outgoing leg per contact; everything after that is found by lookup and handed to its leg:

    responses            by (top Via branch, CSeq method) of the request a leg sent
    in-dialog requests   by (Call-ID, To tag) = the leg's (Call-ID, local tag)
    ACK for a 2xx        the same way
    CANCEL               by the INVITE server transaction it cancels
    timeouts             by the branch and method of the timed-out request

Policy of the initial INVITE, top to bottom (`on_invite`): 420 for an unsupported Require
(RFC 3261 §8.2.2.3), 483 when Max-Forwards is exhausted (§16.3), 403 for an unknown caller,
401 until the Digest credentials verify (403 for wrong ones), 422 for a too small
Session-Expires (RFC 4028 §8.1), then routing: 404 unknown number, 480 not registered.
Every attempt that got past authentication leaves exactly one CDR.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from ssw.core.call.b2bua_media import CallMedia
from ssw.core.call.call import Call, Phase
from ssw.core.call.causes import (
    LICENCE_LIMIT,
    NO_COMMON_CODEC,
    ReleaseCause,
)
from ssw.core.call.cdr import CdrBuilder, to_millis
from ssw.core.call.dialog_state import IdSource
from ssw.core.call.early_media import CallerMedia
from ssw.core.call.events import (
    Disconnect,
    Fail,
    Redirect,
    Side,
    Try,
)
from ssw.core.call.leg_base import SipLeg
from ssw.core.call.leg_context import (
    SUPPORTED_EXTENSIONS,
    LegContext,
    LegRegistry,
    LegSettings,
)
from ssw.core.call.leg_uac import OutgoingLeg
from ssw.core.call.leg_uas import IncomingLeg
from ssw.core.call.media_anchor import MediaAnchor
from ssw.core.call.media_policy import MediaPolicy, offer_refused
from ssw.core.call.meet_me import MeetMeRooms
from ssw.core.call.routing import Routed, Target, Unroutable, normalize_number, route_call
from ssw.core.call.session_timer import SessionTimerSettings, TooSmall, negotiate_as_uas
from ssw.core.call.trunks import Trunks, trunk_caller
from ssw.core.ports import (
    CallAdmission,
    CdrSink,
    Clock,
    Locations,
    SessionTimerMode,
    SipPort,
    SubscriberProfile,
    Subscribers,
)
from ssw.media.call_media import RelaySession
from ssw.media.client import MediaClient
from ssw.sip.address import Address
from ssw.sip.auth import AuthFailure, AuthOutcome, DigestRealms, DigestServer
from ssw.sip.errors import SipError
from ssw.sip.message import Request, Response, make_response
from ssw.sip.transaction.events import (
    AckReceived,
    CancelReceived,
    Event,
    RequestReceived,
    ResponseReceived,
    StrayResponse,
    TransactionTimeout,
    TransportError,
)
from ssw.sip.uri import SipUri, parse_uri

__all__ = ["B2bua", "B2buaConfig"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class B2buaConfig:
    """Switch-wide settings of call processing.

    `local` is the switch's own SIP address (Via and Contact of what it sends); `auth_secret`
    keys the stateless Digest nonces; `digest_algorithms` is the order of the challenges
    (MD5 first: SIPp and many phones read only the first one). `send_trying`: the B2BUA answers
    100 Trying itself once an INVITE is authenticated; use it with a transaction layer built
    with `send_trying=False`, so that an INVITE to be challenged gets its 401 with no 100 before
    it (as ECSS-10 does; the QA suite's rfc4028 `uac_recv_422` scenario depends on it).
    """

    local: Address
    auth_secret: bytes
    user_agent: str = "SSW"
    session_timers: SessionTimerSettings = field(default_factory=SessionTimerSettings)
    t1: float = 0.5
    t2: float = 4.0
    digest_algorithms: tuple[str, ...] = ("MD5", "SHA-256")
    nonce_ttl: float = 300.0
    max_redirects: int = 3
    send_trying: bool = False

    def __post_init__(self) -> None:
        if len(self.auth_secret) < 16:
            raise ValueError("auth_secret must be at least 16 bytes (it keys the Digest nonces)")
        if self.max_redirects < 0:
            raise ValueError("max_redirects cannot be negative")


class _UnreachableLeg:
    """Stands for a fork whose contact cannot even be addressed; it has already failed."""

    def deliver(self, event: object) -> None:
        return None


class _LookupLeg:
    """Stands for a redirect target that names a subscriber of the domain while its contacts
    are looked up; it turns into a Redirect to them (or a Fail) when the lookup ends."""

    def __init__(self) -> None:
        self.released = False

    def deliver(self, event: object) -> None:
        if isinstance(event, Disconnect):
            self.released = True


Spawn = Callable[[Coroutine[Any, Any, None]], None]


def _callee_timer_mode(callee: SubscriberProfile, caller: SubscriberProfile) -> SessionTimerMode:
    """Session timers towards the callee: its own setting, or offered (not forced) when only
    the caller's setting enables them (what the ECSS QA suite's rfc4028 tests expect)."""
    if callee.session_timer is not SessionTimerMode.OFF:
        return callee.session_timer
    if caller.session_timer is not SessionTimerMode.OFF:
        return SessionTimerMode.ON
    return SessionTimerMode.OFF


class B2bua(CallMedia, LegRegistry):
    """Call processing for the switch's subscribers."""

    def __init__(
        self,
        port: SipPort,
        clock: Clock,
        locations: Locations,
        subscribers: Subscribers,
        cdrs: CdrSink,
        config: B2buaConfig,
        ids: IdSource | None = None,
        spawn: Spawn | None = None,
        admission: CallAdmission | None = None,
        media: MediaClient | None = None,
        media_policy: MediaPolicy | None = None,
        trunks: Trunks | None = None,
    ) -> None:
        self.port = port
        self.trunks = trunks  # static SIP trunks (trunks.py); None: subscribers only
        self.clock = clock
        self.locations = locations
        self.subscribers = subscribers
        self.cdrs = cdrs
        self.config = config
        self.ids = ids or IdSource()
        # Runs the lookups a redirect to a subscriber needs; without it such a target is
        # called at the address its URI names.
        self.spawn = spawn
        # The licence's simultaneous-call limit (SPEC §9); None admits every call.
        self.admission = admission
        # The media server (docs/MEDIA.md): with it every call's RTP goes through a relay and
        # SDP bodies are rewritten to point at it; without it SDP passes end to end.
        self.media = media
        # Recording and meet-me rooms (docs/MEDIA.md); None: neither.
        self.media_policy = media_policy
        self.meet_me = MeetMeRooms(media, cdrs, clock) if media is not None else None
        self._relays: dict[str, RelaySession] = {}
        self._caller_media: dict[str, CallerMedia] = {}  # by connection id (= relay id)
        self._anchors: dict[str, MediaAnchor] = {}  # by connection id
        self._refused_codecs: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self.ctx = LegContext(
            port,
            clock,
            LegSettings(config.local, config.user_agent, config.session_timers, config.t1,
                        config.t2),
            self,
            self.ids,
        )
        self.calls: dict[str, Call] = {}
        self._by_branch: dict[tuple[str, str], SipLeg] = {}
        self._by_dialog: dict[tuple[str, str], SipLeg] = {}
        self._by_invite: dict[object, IncomingLeg] = {}
        self._keys: dict[SipLeg, list[tuple[str, tuple[str, str] | object]]] = {}
        self._pending_cancel: dict[object, bool] = {}
        self._realms = DigestRealms(config.auth_secret, nonce_ttl=config.nonce_ttl,
                                    algorithms=config.digest_algorithms)

    # -- LegRegistry --------------------------------------------------------------------------

    def watch_request(self, branch: str, method: str, leg: SipLeg) -> None:
        self._by_branch[(branch, method)] = leg
        self._keys.setdefault(leg, []).append(("branch", (branch, method)))

    def watch_dialog(self, key: tuple[str, str], leg: SipLeg) -> None:
        self._by_dialog[key] = leg
        self._keys.setdefault(leg, []).append(("dialog", key))

    def leg_closed(self, leg: SipLeg) -> None:
        for kind, key in self._keys.pop(leg, []):
            table: dict[object, object] = self._by_branch if kind == "branch" else self._by_dialog  # type: ignore[assignment]
            if table.get(key) is leg:
                del table[key]
        if isinstance(leg, IncomingLeg):
            self._by_invite.pop(leg.invite_txn, None)

    @property
    def leg_count(self) -> int:
        return len(self._keys)

    # -- one entry point for every transaction-layer event ------------------------------------

    async def handle(self, event: Event) -> bool:
        """Feed any call-related transaction-layer event; False when it is not ours."""
        if isinstance(event, RequestReceived):
            if event.request.method == "INVITE" and event.request.to.tag is None:
                await self.on_invite(event.transaction, event.request, event.source)
                return True
            return self.on_request(event.transaction, event.request)
        if isinstance(event, AckReceived):
            return self.on_ack(event.request)
        if isinstance(event, CancelReceived):
            return self.on_cancel(event.transaction, event.request, event.invite_transaction)
        if isinstance(event, ResponseReceived | StrayResponse):
            return self.on_response(event.response)
        if isinstance(event, TransactionTimeout | TransportError):
            return self.on_timeout(event.transaction.request)
        return False

    # -- the initial INVITE -------------------------------------------------------------------

    def _reject(self, txn: object, request: Request, status: int, reason: str | None = None,
                headers: Sequence[tuple[str, str]] = ()) -> None:
        self.port.send_response(
            txn, make_response(request, status, reason, to_tag=self.ids.tag(), headers=headers)
        )

    def _reject_for(self, txn: object, request: Request, error: Exception) -> None:
        if isinstance(error, SipError):
            self._reject(txn, request, error.status, error.reason, error.headers)
        else:
            detail = " ".join(str(error).split())[:60]
            self._reject(txn, request, 400, f"Bad Request ({detail})")

    async def on_invite(self, txn: object, request: Request, source: Address) -> None:
        """A new INVITE (no To tag) from `source`, received on server transaction `txn`.

        A header that does not parse is answered with the status its error carries (400).
        """
        try:
            await self._invite(txn, request, source)
        except SipError as error:
            _log.warning("INVITE %s refused: %s", request.headers.get("call-id"), error.detail)
            self._reject_for(txn, request, error)
        except Exception:
            # Storage unreachable or a bug: the caller gets an answer, the log gets the trace.
            _log.exception("INVITE %s failed", request.headers.get("call-id"))
            self._reject(txn, request, 500, "Server Internal Error")

    async def _invite(self, txn: object, request: Request, source: Address) -> None:
        unsupported = [tag for tag in request.require if tag not in SUPPORTED_EXTENSIONS]
        if unsupported:
            self._reject(txn, request, 420, headers=[("Unsupported", ", ".join(unsupported))])
            return
        max_forwards = request.max_forwards
        if max_forwards is not None and max_forwards <= 0:
            self._reject(txn, request, 483)
            return
        caller_uri = request.from_.address
        called_uri = request.ruri
        if not isinstance(caller_uri, SipUri) or not caller_uri.user:
            self._reject(txn, request, 403, "Caller Is Not A Subscriber")
            return
        domain = caller_uri.host.lower()
        self._pending_cancel[txn] = False
        try:
            caller = await self.subscribers.find(domain, caller_uri.user)
            trunk = None if caller or not self.trunks else await self.trunks.from_peer(source)
            if trunk is not None:  # a call in from a trunk: identified by its address
                domain, caller = trunk.domain, trunk_caller(trunk, caller_uri.user)
            if caller is None:
                self._reject(txn, request, 403, "Caller Is Not A Subscriber")
                return
            if caller.authenticate_invite and not self._authorized(txn, request, caller):
                return
            if self.config.send_trying:
                # §17.2.1: the routing lookups may take longer than 200 ms.
                self.port.send_response(txn, make_response(request, 100))
            caller_timers = self._timer_settings(caller)
            timer = negotiate_as_uas(request, caller.session_timer, caller_timers)
            if isinstance(timer, TooSmall):
                self._reject(txn, request, 422, headers=[("Min-SE", str(timer.min_se))])
                return
            called = called_uri.user if isinstance(called_uri, SipUri) else None
            attempt = Try(
                called=normalize_number(called or "") or (called or ""),
                calling=caller.number,
                domain=domain,
                sdp=request.body or None,
                calling_display=request.from_.display_name or caller.display_name,
                reliable_ring="100rel" in request.supported or "100rel" in request.require,
                max_forwards=(max_forwards if max_forwards is not None else 70) - 1,
            )
            setup = self.clock.now()
            room = await self._meet_me_room(domain, called or "")
            route = None if room is not None else await route_call(
                domain, called or "", self.subscribers, self.locations, self.trunks)
            if self._pending_cancel.get(txn):
                self._reject(txn, request, 487)
                return
        finally:
            self._pending_cancel.pop(txn, None)
        connection_id = self.ids.token()
        cdr = CdrBuilder(connection_id, domain, attempt.calling, attempt.called, to_millis(setup))
        if room is not None:
            invite = (txn, request, source)
            await self._join_meet_me(room, connection_id, invite, caller, timer, cdr)
            return
        assert route is not None
        if not isinstance(route, Routed):
            self.cdrs.write(cdr.finish(self.clock.now(), route.cause, Side.SWITCH))
            if not await self._announce_unroutable(connection_id, attempt, route.cause,
                                                   (txn, request, source), caller, timer):
                self._reject(txn, request, route.cause.status, route.cause.text)
            return
        if self.admission is not None and not self.admission.admit_call(len(self.calls)):
            self._reject(txn, request, LICENCE_LIMIT.status, LICENCE_LIMIT.text)
            self.cdrs.write(cdr.finish(self.clock.now(), LICENCE_LIMIT, Side.SWITCH))
            return
        refused = (await self._refused_codecs_of(domain, caller.number),
                   await self._refused_codecs_of(domain, route.callee.number))
        if attempt.sdp and offer_refused(attempt.sdp, refused[0]):
            self._reject(txn, request, NO_COMMON_CODEC.status, NO_COMMON_CODEC.text)
            self.cdrs.write(cdr.finish(self.clock.now(), NO_COMMON_CODEC, Side.SWITCH))
            return
        if self.media is not None:
            refusal = await self._open_relay(connection_id, attempt)
            if isinstance(refusal, ReleaseCause):
                self._reject(txn, request, refusal.status, refusal.text)
                self.cdrs.write(cdr.finish(self.clock.now(), refusal, Side.SWITCH))
                return
            attempt = refusal
        incoming = self._incoming_leg((txn, request, source), caller, timer, caller_timers)
        callee = route.callee
        caller_leg: IncomingLeg | CallerMedia = incoming
        relay = self._relays.get(connection_id)
        if relay is not None:
            recorded = await self._recording_wanted(domain, caller.number, callee.number)
            anchor = self._anchors[connection_id] = MediaAnchor(relay, self.clock)
            caller_leg = CallerMedia(incoming, relay, request.body or None, self.clock,
                                     self._caller_media_finished,
                                     record_into=cdr if recorded else None, anchor=anchor)
            self._caller_media[connection_id] = caller_leg
        call = Call(
            connection_id=connection_id,
            caller=caller_leg,
            attempt=attempt,
            plan=route.plan,
            start_leg=lambda c, target, a: self._start_leg(c, target, a, callee, caller),
            clock=self.clock,
            cdr=cdr,
            cdrs=self.cdrs,
            no_answer_timeout=callee.no_answer_timeout,
            conversation_timeout=callee.conversation_timeout,
            max_redirects=self.config.max_redirects,
            on_ended=self._call_ended,
        )
        if any(refused):
            self._refused_codecs[connection_id] = refused
        incoming.sink = self._sink(call, 0, caller_leg)
        self.calls[connection_id] = call
        self._note_calls()
        call.start()

    def _timer_settings(self, profile: SubscriberProfile) -> SessionTimerSettings:
        """The RFC 4028 intervals of the subscriber's domain, or the switch-wide ones."""
        default = self.config.session_timers
        if profile.session_expires is None and profile.min_se is None:
            return default
        min_se = max(90, profile.min_se or default.min_se)  # §4: never below 90 s
        interval = max(profile.session_expires or default.interval, min_se)
        return SessionTimerSettings(interval, min_se)

    def _call_ended(self, call: Call) -> None:
        self.calls.pop(call.connection_id, None)
        self._refused_codecs.pop(call.connection_id, None)
        relay = self._relays.pop(call.connection_id, None)
        self._anchors.pop(call.connection_id, None)
        announcing = self._caller_media.get(call.connection_id)
        if announcing is None or announcing.announcing is None:
            # an announcement still playing releases the relay when it is over
            self._caller_media.pop(call.connection_id, None)
            if relay is not None:
                relay.release()
        self._note_calls()

    def _note_calls(self) -> None:
        if self.admission is not None:
            self.admission.note_usage("calls", len(self.calls))

    def _digest_server(self, realm: str) -> DigestServer:
        return self._realms.server(realm)

    def _authorized(self, txn: object, request: Request, caller: SubscriberProfile) -> bool:
        """Digest authentication of the INVITE (RFC 3261 §22.4), answered with 401 (SPEC §6)."""
        server = self._digest_server(caller.domain)
        now = self.clock.now()
        stale = False
        for value in request.authorization:
            result = server.verify(
                value,
                method="INVITE",
                now=now,
                password=caller.password,
                username=caller.login,
                body=request.body,
                require_qop=caller.qop,
            )
            if result.ok:
                return True
            if result.failure is AuthFailure.REALM_MISMATCH:
                continue
            if result.failure in (AuthFailure.WRONG_RESPONSE, AuthFailure.USERNAME_MISMATCH):
                self._reject(txn, request, 403, "Wrong Credentials")
                return False
            stale = result.outcome is AuthOutcome.STALE
            break
        challenges = server.challenge(now, qop=caller.qop, stale=stale)
        self._reject(txn, request, 401, headers=[("WWW-Authenticate", c) for c in challenges])
        return False

    def _start_leg(
        self,
        call: Call,
        target: Target,
        attempt: Try,
        callee: SubscriberProfile,
        caller: SubscriberProfile,
    ) -> OutgoingLeg | _UnreachableLeg | _LookupLeg:
        number = self._subscriber_named(target, attempt.domain)
        if number is not None and self.spawn is not None:
            lookup = _LookupLeg()
            self.spawn(self._look_up(call, lookup, attempt.domain, number))
            return lookup
        try:
            leg = OutgoingLeg(
                self.ctx,
                target=target,
                attempt=attempt,
                session_timer_mode=_callee_timer_mode(callee, caller),
                reliable_provisional=callee.reliable_provisional,
                session_timers=self._timer_settings(callee),
                sink=self._sink(call, 1),
            )
        except ValueError as exc:
            dead = _UnreachableLeg()
            call.handle(dead, Fail(ReleaseCause(480, 20, f"Unusable contact: {exc}"[:80])))
            return dead
        return leg

    @staticmethod
    def _subscriber_named(target: Target, domain: str) -> str | None:
        """The number when `target` is an address of record of `domain` (a 302 to a number),
        not a device contact."""
        if target.dest is not None:
            return None
        try:
            uri = parse_uri(target.uri)
        except SipError:
            return None
        if not isinstance(uri, SipUri) or uri.host.lower() != domain or not uri.user:
            return None
        return normalize_number(uri.user)

    async def _look_up(self, call: Call, lookup: _LookupLeg, domain: str, number: str) -> None:
        try:
            route = await route_call(domain, number, self.subscribers, self.locations)
        except Exception:
            _log.exception("lookup of redirect target %s@%s failed", number, domain)
            route = Unroutable(ReleaseCause(500, 41, "Lookup failed"))
        if lookup.released or call.phase is not Phase.SETUP:
            return
        if isinstance(route, Routed):
            targets = tuple(t for group in route.plan.groups for t in group)
            call.handle(lookup, Redirect(targets, 302, announce=False))
        else:
            call.handle(lookup, Fail(route.cause))

    # -- everything after the INVITE ----------------------------------------------------------

    def on_request(self, txn: object, request: Request) -> bool:
        """An in-dialog request; answered 481 when no leg owns the dialog (§12.2.2)."""
        try:
            return self._request(txn, request)
        except (SipError, ValueError) as error:
            _log.warning("%s refused: %s", request.method, error)
            self._reject_for(txn, request, error)
            return False

    def _request(self, txn: object, request: Request) -> bool:
        leg = self._by_dialog.get((request.call_id, request.to.tag or ""))
        if leg is None:
            self._reject(txn, request, 481)
            return False
        leg.on_request(txn, request)
        return True

    def on_ack(self, ack: Request) -> bool:
        """The ACK for a 2xx (§13.2.2.4), found by its dialog; a malformed one is dropped."""
        try:
            return self._ack(ack)
        except (SipError, ValueError) as error:
            _log.warning("ACK dropped: %s", error)
            return False

    def _ack(self, ack: Request) -> bool:
        leg = self._by_dialog.get((ack.call_id, ack.to.tag or ""))
        if leg is None:
            return False
        leg.on_ack(ack)
        return True

    def on_cancel(self, cancel_txn: object, cancel: Request, invite_txn: object | None) -> bool:
        """CANCEL (§9.2): 200 for the CANCEL, then the leg answers the INVITE 487."""
        if invite_txn is None:
            self.port.send_response(cancel_txn, make_response(cancel, 481))
            return False
        self.port.send_response(cancel_txn, make_response(cancel, 200))
        if invite_txn in self._pending_cancel:
            self._pending_cancel[invite_txn] = True
            return True
        leg = self._by_invite.get(invite_txn)
        if leg is None:
            return False
        leg.on_cancel()
        return True

    def on_response(self, response: Response) -> bool:
        """A response to a request a leg sent; a malformed one is dropped (§8.1.3.3)."""
        try:
            return self._response(response)
        except (SipError, ValueError) as error:
            _log.warning("response %s dropped: %s", response.status, error)
            return False

    def _response(self, response: Response) -> bool:
        branch = response.top_via.branch or ""
        leg = self._by_branch.get((branch, response.cseq.method))
        if leg is None:
            leg = self._by_dialog.get((response.call_id, response.from_.tag or ""))
            if leg is None or response.cseq.method != "INVITE":
                return False
        leg.on_response(response)
        return True

    def on_timeout(self, request: Request) -> bool:
        """Timer B/F (or a transport error) for a request a leg sent."""
        branch = request.top_via.branch or ""
        leg = self._by_branch.get((branch, request.method))
        if leg is None:
            return False
        leg.on_timeout(branch, request.method)
        return True
