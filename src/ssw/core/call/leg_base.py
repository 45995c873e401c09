"""What both kinds of leg share: the confirmed dialog, in-dialog requests, session timers.

A leg is a SIP user agent towards one peer. The caller's leg (`leg_uas.py`) and the callee's leg
(`leg_uac.py`) differ while the call is being set up; once a dialog exists they behave alike,
and that common half lives here:

- requests inside the dialog (RFC 3261 §12.2.2): BYE ends the call, re-INVITE and UPDATE
  (RFC 3311) become session offers for the other leg unless they are only session refreshes,
  INFO is relayed (RFC 6086), OPTIONS is answered, anything else gets 501;
- offers from the other leg are sent to the peer as re-INVITE or UPDATE, with glare (491,
  §14.1) reported back; the ACK for a 2xx is sent by the leg (§13.2.2.4), held back while the
  answer to an offer in that 2xx is still to come from the other side;
- session timers (RFC 4028) negotiated with this leg's peer: refresh or give up with a BYE;
- every Require the switch does not support is answered 420 (§8.2.2.3).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ssw.core.call.causes import (
    NO_RESPONSE,
    NORMAL_CLEARING,
    SESSION_EXPIRED,
    ReleaseCause,
    cause_for_status,
)
from ssw.core.call.dialog_state import LegDialog
from ssw.core.call.events import (
    CallEvent,
    Confirm,
    Disconnect,
    Hold,
    Info,
    SessionOffer,
    Side,
    UpdateAccepted,
    UpdateRejected,
    classify_offer,
)
from ssw.core.call.leg_context import (
    ALLOWED_METHODS,
    SUPPORTED_EXTENSIONS,
    EventSink,
    LegContext,
    Purpose,
    RequestHandler,
    Sent,
    Unacked2xx,
)
from ssw.core.call.leg_settle import CodecSettling
from ssw.core.call.session_timer import (
    Negotiated,
    SessionTimerSettings,
    TooSmall,
    expiry_delay,
    negotiate_as_uac,
    negotiate_as_uas,
    refresh_delay,
    request_headers,
    response_headers,
)
from ssw.core.ports import Cancellable, ReliableProvisional, SessionTimerMode
from ssw.sip.address import Address
from ssw.sip.message import Request, Response, make_response

__all__ = ["SipLeg"]

class SipLeg(CodecSettling):
    """The common half of a leg: a dialog with one peer once it exists."""

    side: Side = Side.CALLER  # who the peer is, for Disconnect events

    def __init__(
        self,
        ctx: LegContext,
        *,
        session_timer_mode: SessionTimerMode,
        reliable_provisional: ReliableProvisional,
        session_timers: SessionTimerSettings | None = None,
    ) -> None:
        self.port = ctx.port
        self.clock = ctx.clock
        self.settings = ctx.settings
        self.registry = ctx.registry
        self.ids = ctx.ids
        self.timer_mode = session_timer_mode
        self.timer_settings = session_timers or ctx.settings.session_timers
        self._session_started = 0.0
        self.prack_mode = reliable_provisional
        self.sink: EventSink | None = None
        self.dialog: LegDialog | None = None
        self.confirmed = False
        self.ended = False
        self.local_sdp: bytes | None = None
        self.remote_sdp: bytes | None = None
        self.peer_allow: tuple[str, ...] = ()
        self._allow_from_probe = False  # peer_allow came from our OPTIONS, not the dialog
        self.peer_min_se: int | None = None  # the largest Min-SE a 422 asked for (§7.4)
        self.peer_held = False
        self.session_timer: Negotiated | None = None
        self._sent: dict[tuple[str, str], Sent] = {}
        self._offer_in: tuple[object, Request] | None = None  # peer's offer awaiting the answer
        self._offer_out: str | None = None  # branch of our re-INVITE/UPDATE awaiting its answer
        self._pending_timer: Negotiated | TooSmall | None = None
        self._before_offer: tuple[bytes | None, bool] = (None, False)
        self._held_ack: Request | None = None  # ACK waiting for the other side's SDP answer
        self._last_ack: Request | None = None
        self._timers: dict[str, Cancellable] = {}
        self._unacked_2xx: dict[int, Unacked2xx] = {}

    # -- plumbing -----------------------------------------------------------------------------

    def emit(self, event: CallEvent) -> None:
        if self.sink is not None:
            self.sink(self, event)

    def _common_headers(self) -> list[tuple[str, str]]:
        supported = ["timer"] if self.timer_mode is not SessionTimerMode.OFF else []
        if self.prack_mode is not ReliableProvisional.OFF:
            supported.insert(0, "100rel")
        headers = [("Allow", ", ".join(ALLOWED_METHODS))]
        if supported:
            headers.append(("Supported", ", ".join(supported)))
        headers.append(("User-Agent", self.settings.user_agent))
        return headers

    def send(
        self,
        purpose: Purpose,
        request: Request,
        dest: Address | None = None,
    ) -> None:
        branch = request.top_via.branch or ""
        self._sent[(branch, request.method)] = Sent(purpose, request)
        self.registry.watch_request(branch, request.method, self)
        assert self.dialog is not None or dest is not None
        self.port.send_request(request, dest or self.dialog.next_hop())  # type: ignore[union-attr]

    def send_in_dialog(
        self,
        method: str,
        purpose: Purpose,
        *,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
        content_type: str = "application/sdp",
    ) -> Request:
        assert self.dialog is not None
        request = self.dialog.request(
            method,
            self.ids.branch(),
            headers=[*headers, *self._common_headers()],
            body=body,
            content_type=content_type,
        )
        self.send(purpose, request)
        return request

    def respond(
        self,
        txn: object,
        request: Request,
        status: int,
        reason: str | None = None,
        *,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
    ) -> Response:
        to_tag = self.dialog.local_tag if self.dialog is not None else None
        extra = list(headers)
        target_refresh = request.method in ("INVITE", "UPDATE") and 100 < status < 300
        if target_refresh and self.dialog is not None:
            extra.insert(0, ("Contact", self.dialog.contact))
        if 200 <= status < 300 or status in (405, 420, 501):
            extra.extend(self._common_headers())
        response = make_response(
            request,
            status,
            reason,
            to_tag=to_tag,
            headers=extra,
            body=body,
            content_type="application/sdp" if body else None,
        )
        self.port.send_response(txn, response)
        return response

    def arm(self, name: str, delay: float, action: Callable[[], None]) -> None:
        self.disarm(name)
        self._timers[name] = self.clock.call_later(delay, action)

    def disarm(self, name: str) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    def finish(self) -> None:
        """The leg is over: stop every timer and let the B2BUA forget it."""
        self.ended = True
        for name in list(self._timers):
            self.disarm(name)
        self.registry.leg_closed(self)

    # -- requests from the peer inside the dialog ---------------------------------------------

    def on_request(self, txn: object, request: Request) -> None:
        """An in-dialog request (not ACK, not CANCEL) from the peer."""
        unsupported = [tag for tag in request.require if tag not in SUPPORTED_EXTENSIONS]
        if unsupported:
            self.respond(txn, request, 420, headers=[("Unsupported", ", ".join(unsupported))])
            return
        assert self.dialog is not None
        if self.ended and request.method != "BYE":
            self.respond(txn, request, 481)  # the dialog is being torn down
            return
        if not self.dialog.check_remote_seq(request):
            self.respond(txn, request, 500, "CSeq Out Of Order")
            return
        handler = self._request_handlers().get(request.method)
        if handler is None:
            self.respond(txn, request, 501)
        else:
            handler(txn, request)

    def _request_handlers(self) -> dict[str, RequestHandler]:
        return {
            "BYE": self._on_bye,
            "INVITE": self._on_offer_request,
            "UPDATE": self._on_offer_request,
            "OPTIONS": self._accept,
            "INFO": self._on_info,
        }

    def _accept(self, txn: object, request: Request) -> None:
        self.respond(txn, request, 200)

    def _on_info(self, txn: object, request: Request) -> None:
        """INFO (RFC 6086): accepted here, its content relayed to the other side."""
        self.respond(txn, request, 200)
        content_type = request.headers.get("content-type")
        if request.body and content_type:
            self.emit(Info(content_type, request.body))

    def _on_bye(self, txn: object, request: Request) -> None:
        self.respond(txn, request, 200)
        if self._offer_in is not None:
            pending_txn, pending = self._offer_in
            self._offer_in = None
            self.respond(pending_txn, pending, 487)
        if not self.ended:
            self.finish()
            self.emit(Disconnect(NORMAL_CLEARING, self.side))

    def _on_offer_request(self, txn: object, request: Request) -> None:
        """re-INVITE or UPDATE (RFC 3261 §14.2, RFC 3311 §5.2)."""
        if self._offer_in is not None:
            # RFC 3261 §14.2, RFC 3311 §5.2: a re-INVITE or UPDATE while an offer of the peer
            # is still unanswered gets 500 with a random Retry-After of 0 to 10 s.
            self.respond(txn, request, 500,
                         headers=[("Retry-After", str(self.ids.retry_after()))])
            return
        if (self._offer_out is not None or self._settle_out is not None
                or (request.body and self.offer_outstanding())):
            # Glare (§14.2), or an offer of ours not answered yet (RFC 3311 §5.2).
            self.respond(txn, request, 491)
            return
        known = self.session_timer is not None and self.session_timer.peer_supports
        timer = negotiate_as_uas(
            request, self.timer_mode, self.timer_settings, peer_supports_timer=known
        )
        if isinstance(timer, TooSmall):
            self.respond(txn, request, 422, headers=[("Min-SE", str(timer.min_se))])
            return
        assert self.dialog is not None
        contacts = request.contacts
        self.dialog.refresh_target(contacts[0].uri if contacts else None)
        body = request.body or None
        if body is None or body == self.remote_sdp:
            # A session refresh (RFC 4028 §10) or an offerless re-INVITE: answered here with the
            # session as it is; the other side does not need to know.
            self._answer_offer(txn, request, self.local_sdp if request.method == "INVITE" else None,
                               timer)
            return
        self._offer_in = (txn, request)
        self._pending_timer = timer
        self._before_offer = (self.remote_sdp, self.peer_held)
        offer = classify_offer(body, self.peer_held, prefer_update=request.method == "UPDATE")
        self.peer_held = isinstance(offer, Hold)
        self.remote_sdp = body
        self.emit(offer)

    def offer_outstanding(self) -> bool:
        """Whether an offer we made in the INVITE still waits for its answer."""
        return False

    def _answer_offer(
        self, txn: object, request: Request, sdp: bytes | None, timer: Negotiated | TooSmall | None
    ) -> None:
        headers = response_headers(timer) if isinstance(timer, Negotiated) else []
        if sdp is not None:
            self.local_sdp = sdp
        response = self.respond(txn, request, 200, body=sdp or b"", headers=headers)
        if request.method == "INVITE":
            self.await_ack(txn, response)
        if isinstance(timer, Negotiated):
            self.start_session_timer(timer)
        elif self.session_timer is not None:
            self.start_session_timer(self.session_timer)

    # -- the ACK for our 2xx to an INVITE (RFC 3261 §13.3.1.4) ---------------------------------

    def await_ack(self, txn: object, response: Response) -> None:
        """Retransmit `response` at T1, 2*T1, ... T2 until its ACK (unreliable transports);
        give up after 64*T1 either way."""
        seq = response.cseq.seq
        unreliable = self.dialog is not None and not self.dialog.peer.reliable
        interval = self.settings.t1 if unreliable else 64 * self.settings.t1
        self._unacked_2xx[seq] = Unacked2xx(txn, response, interval)
        self.arm(f"2xx {seq}", interval, lambda: self._retransmit_2xx(seq))

    def _retransmit_2xx(self, seq: int) -> None:
        pending = self._unacked_2xx.get(seq)
        if pending is None:
            return
        self._timers.pop(f"2xx {seq}", None)
        pending.elapsed += pending.interval
        if pending.elapsed >= 64 * self.settings.t1:
            del self._unacked_2xx[seq]
            self.no_ack(seq)
            return
        self.port.send_response(pending.txn, pending.response)
        pending.interval = min(pending.interval * 2, self.settings.t2)
        self.arm(f"2xx {seq}", pending.interval, lambda: self._retransmit_2xx(seq))

    def on_ack(self, ack: Request) -> None:
        """The peer's ACK for one of our 2xx; its SDP is the answer to an offer we made."""
        seq = ack.cseq.seq
        if self._unacked_2xx.pop(seq, None) is None:
            return  # a retransmitted ACK
        self.disarm(f"2xx {seq}")
        if ack.body:
            self.remote_sdp = ack.body
            self.emit(Confirm(ack.body))
        self.try_settle()

    def no_ack(self, seq: int) -> None:
        """§13.3.1.4: no ACK within 64*T1: the session is ended with a BYE."""
        self.hang_up(NO_RESPONSE)

    # -- events from the other leg ------------------------------------------------------------

    def deliver(self, event: CallEvent) -> None:
        """An event from the other side of the call (the kinds of leg add their own)."""
        self.deliver_dialog_event(event)

    def deliver_dialog_event(self, event: CallEvent) -> bool:
        """Handle an event that only concerns the dialog; False if the caller must handle it."""
        if isinstance(event, SessionOffer):
            self._send_offer(event)
        elif isinstance(event, UpdateAccepted):
            if self._offer_in is not None:
                txn, request = self._offer_in
                self._offer_in = None
                self._answer_offer(txn, request, event.sdp, self._pending_timer)
        elif isinstance(event, UpdateRejected):
            if self._offer_in is not None:
                txn, request = self._offer_in
                self._offer_in = None
                # RFC 3261 §14.2: a refused offer leaves the session as it was.
                self.remote_sdp, self.peer_held = self._before_offer
                self.respond(txn, request, event.status, event.reason or None)
        elif isinstance(event, Info):
            if self.dialog is not None and self.confirmed and not self.ended:
                self.send_in_dialog("INFO", Purpose.OTHER, body=event.body,
                                    content_type=event.content_type)
        elif isinstance(event, Confirm):
            if self._held_ack is not None and self.dialog is not None:
                ack = self._held_ack
                self._held_ack = None
                if event.sdp is not None:
                    ack.set_body(event.sdp, "application/sdp")
                    self.local_sdp = event.sdp
                self._send_ack(ack)
        else:
            return False
        self.try_settle()  # an offer that stood in the way may be over
        return True

    def _send_offer(self, offer: SessionOffer) -> None:
        if self.ended or self.dialog is None:
            self.emit(UpdateRejected(481, "Call/Transaction Does Not Exist"))
            return
        if self._offer_out is not None or self._offer_in is not None or self._settle_out:
            self.emit(UpdateRejected(491, "Request Pending"))
            return
        use_update = "UPDATE" in self.peer_allow and (offer.prefer_update or not self.confirmed)
        if not use_update and not self.confirmed:
            # An early dialog whose peer takes no UPDATE cannot carry the offer: it is answered
            # on the peer's behalf with the session the peer already has (as ECSS-10 does).
            self.emit(UpdateAccepted(self.remote_sdp))
            return
        body = offer.sdp or b""
        if body:
            self.local_sdp = body
        request = self.send_in_dialog(
            "UPDATE" if use_update else "INVITE",
            Purpose.OFFER,
            body=body,
            headers=self._refresh_headers(),
        )
        self._offer_out = request.top_via.branch

    def _refresh_headers(self) -> list[tuple[str, str]]:
        timer = self.session_timer
        if timer is None:
            return []
        refresher = "uac" if timer.we_refresh else "uas"
        return request_headers(
            self.timer_mode, self.timer_settings, timer.interval, refresher=refresher,
            min_se=self.peer_min_se,
        )

    # -- responses to our in-dialog requests --------------------------------------------------

    def on_response(self, response: Response) -> None:
        branch = response.top_via.branch or ""
        sent = self._sent.get((branch, response.cseq.method))
        if sent is None:
            return
        if response.status >= 200:
            del self._sent[(branch, response.cseq.method)]
        self.on_sent_response(sent.purpose, sent.request, response)
        if response.status >= 200:
            self._closed_if_idle()
            self.try_settle()

    def on_sent_response(self, purpose: Purpose, request: Request, response: Response) -> None:
        if purpose is Purpose.OFFER:
            self._offer_answered(request, response)
        elif purpose is Purpose.PROBE:
            self._probe_answered(response)
        elif purpose is Purpose.REFRESH:
            self._refresh_answered(request, response)
        elif purpose is Purpose.SETTLE:
            self.settle_answered(request, response)
            if response.status in (408, 481):
                self.hang_up(cause_for_status(response.status))

    def _offer_answered(self, request: Request, response: Response) -> None:
        if response.status < 200:
            return
        if response.status < 300:
            if request.method == "INVITE":
                self._ack_2xx(request, response, hold=not request.body and bool(response.body))
            if response.body:
                self.remote_sdp = response.body
            self._timer_from_2xx(response)
        if self._offer_out == request.top_via.branch:
            self._offer_out = None
            if response.status < 300:
                self.emit(UpdateAccepted(response.body or None))
            else:
                self.emit(UpdateRejected(response.status, response.reason))
                if response.status in (408, 481):
                    self.hang_up(cause_for_status(response.status))

    def _ack_2xx(self, invite: Request, response: Response, *, hold: bool) -> None:
        """ACK for a 2xx (RFC 3261 §13.2.2.4): a new transaction-less request with the INVITE's
        CSeq number; held back when the 2xx carries an offer whose answer is not here yet."""
        assert self.dialog is not None
        ack = self.dialog.request("ACK", self.ids.branch(), cseq=invite.cseq.seq)
        if hold:
            self._held_ack = ack
        else:
            self._send_ack(ack)

    def _send_ack(self, ack: Request) -> None:
        assert self.dialog is not None
        self._last_ack = ack
        self.port.send_stateless(ack, self.dialog.next_hop())

    def resend_ack(self) -> None:
        """A 2xx was retransmitted: our ACK was lost, acknowledge it again (§13.2.2.4).

        The new ACK has a branch of its own: peers that spot retransmissions by comparing
        messages (SIPp) would otherwise answer an identical ACK with the 2xx again, forever.
        """
        last = self._last_ack
        if last is None or self.dialog is None:
            return
        ack = self.dialog.request("ACK", self.ids.branch(), cseq=last.cseq.seq, body=last.body)
        self._last_ack = ack
        self.port.send_stateless(ack, self.dialog.next_hop())

    def on_timeout(self, branch: str, method: str) -> None:
        sent = self._sent.pop((branch, method), None)
        if sent is None:
            return
        if sent.purpose is not Purpose.BYE:
            self.on_sent_timeout(sent.purpose, sent.request)
        self._closed_if_idle()

    def on_sent_timeout(self, purpose: Purpose, request: Request) -> None:
        if purpose is Purpose.PROBE:
            self._refresh_now()
            return
        if purpose in (Purpose.OFFER, Purpose.REFRESH, Purpose.SETTLE):
            if self._offer_out == request.top_via.branch:
                self._offer_out = None
                self.emit(UpdateRejected(408, "Request Timeout"))
            self.hang_up(cause_for_status(408))

    def _closed_if_idle(self) -> None:
        """An ended leg is forgotten once nothing it sent still waits for an answer."""
        if self.ended and not self._sent:
            self.registry.leg_closed(self)

    # -- ending -------------------------------------------------------------------------------

    def hang_up(self, cause: ReleaseCause, *, tell_call: bool = True) -> None:
        """End a confirmed dialog from our side: BYE to the peer (with RFC 3326 Reason)."""
        if self.ended:
            return
        self.ended = True
        for name in list(self._timers):
            self.disarm(name)
        if self.dialog is not None:
            self.send_in_dialog("BYE", Purpose.BYE, headers=[("Reason", cause.reason_header())])
        if tell_call:
            self.emit(Disconnect(cause, Side.SWITCH))

    # -- session timers (RFC 4028) ------------------------------------------------------------

    def start_session_timer(self, timer: Negotiated) -> None:
        """A session interval was (re)negotiated now: arm the refresh or the expiry."""
        self.session_timer = timer
        self._session_started = self.clock.now()
        if timer.we_refresh:
            self.disarm("session_expiry")
            self.arm("session_refresh", refresh_delay(timer), self._send_refresh)
        else:
            self.disarm("session_refresh")
            self.arm("session_expiry", expiry_delay(timer), self._session_expired)

    def _timer_from_2xx(self, response: Response) -> None:
        timer = negotiate_as_uac(response, self.timer_mode, self.timer_settings)
        if timer is not None:
            self.start_session_timer(timer)
        elif self.session_timer is not None:
            self.start_session_timer(self.session_timer)

    def _send_refresh(self) -> None:
        """Time to refresh our session (RFC 4028 §7.4). When the peer did not say in the dialog
        which methods it allows, ask it first (in-dialog OPTIONS) so UPDATE can be used; as
        ECSS-10 does, such a peer is asked again before every refresh."""
        self._timers.pop("session_refresh", None)
        if self.ended or self.dialog is None:
            return
        if self._offer_out is not None or self._offer_in is not None or self._settle_out:
            # An offer is in progress; its 2xx refreshes the session too.
            self.arm("session_refresh", self.settings.t1 * 4, self._send_refresh)
            return
        if not self.peer_allow or self._allow_from_probe:
            self.send_in_dialog("OPTIONS", Purpose.PROBE)
            return
        self._refresh_now()

    def _probe_answered(self, response: Response) -> None:
        if response.status < 200:
            return
        if response.status < 300 and response.allow:
            self.peer_allow = tuple(method.upper() for method in response.allow)
            self._allow_from_probe = True
        self._refresh_now()

    def _refresh_now(self, min_se: int | None = None) -> None:
        """UPDATE without a body when the peer allows it, otherwise a re-INVITE with the
        session description it already has; Session-Expires names us as refresher."""
        if self.ended or self.dialog is None:
            return
        if min_se is not None:
            self.peer_min_se = max(self.peer_min_se or 0, min_se)
        min_se = self.peer_min_se  # §7.4: later requests keep the Min-SE a 422 asked for
        timer = self.session_timer
        interval = timer.interval if timer is not None else None
        headers = request_headers(
            SessionTimerMode.ON, self.timer_settings, interval, min_se=min_se
        )
        if "UPDATE" in self.peer_allow:
            self.send_in_dialog("UPDATE", Purpose.REFRESH, headers=headers)
        else:
            self.send_in_dialog("INVITE", Purpose.REFRESH, body=self.local_sdp or b"",
                                headers=headers)
        if timer is not None:
            # §10: without a 2xx the session ends when its interval runs out.
            deadline = self._session_started + expiry_delay(timer)
            self.arm("session_expiry", max(0.0, deadline - self.clock.now()),
                     self._session_expired)

    def _refresh_answered(self, request: Request, response: Response) -> None:
        if response.status < 200:
            return
        if response.status < 300:
            if request.method == "INVITE":
                self._ack_2xx(request, response, hold=False)
            self.disarm("session_expiry")
            self._timer_from_2xx(response)
        elif response.status == 422 and response.min_se:
            self._refresh_now(response.min_se)  # RFC 4028 §7.3: retry with the larger interval
        elif response.status in (408, 481):
            self.hang_up(SESSION_EXPIRED)

    def _session_expired(self) -> None:
        """RFC 4028 §10: no refresh came in time; end the session with a BYE."""
        self._timers.pop("session_expiry", None)
        self.hang_up(SESSION_EXPIRED)
