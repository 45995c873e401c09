"""A callee's leg: the switch as UAC towards one contact (RFC 3261 §13.2).

It sends the INVITE of a `Try` and turns the callee's responses into call events:

    1xx          -> Ring (reliable ones, RFC 3262 §4, are PRACKed when the call says RingAck)
    2xx          -> Answer; ACK at once, or once the caller's answer comes (Confirm) when the
                    2xx carries the offer; a 2xx after we gave up is ACKed and BYEd (§15)
    3xx          -> Redirect to the Contact URIs, best q first (§8.1.3.4)
    422          -> the INVITE again with the larger Session-Expires (RFC 4028 §7.3)
    other final  -> Fail with the status and its Q.850 cause
    Timer B      -> Fail 408

and the call's Disconnect before the answer into CANCEL (§9.1, not before a provisional response
arrived), after it into BYE.
"""

from __future__ import annotations

from ssw.core.call.causes import NO_RESPONSE, ReleaseCause, cause_for_status
from ssw.core.call.dialog_state import LegDialog, address_of_uri, cancel_for
from ssw.core.call.events import (
    Answer,
    CallEvent,
    Disconnect,
    Fail,
    Redirect,
    Ring,
    RingAck,
    Side,
    Try,
)
from ssw.core.call.leg_base import SipLeg
from ssw.core.call.leg_context import EventSink, LegContext, Purpose
from ssw.core.call.routing import Target
from ssw.core.call.session_timer import SessionTimerSettings, request_headers
from ssw.core.ports import ReliableProvisional, SessionTimerMode
from ssw.sip.address import Address, build_via
from ssw.sip.headers import NameAddr, Via
from ssw.sip.message import Request, Response, new_request

__all__ = ["OutgoingLeg"]

_MAX_422_RETRIES = 2


class OutgoingLeg(SipLeg):
    """The switch as UAC towards one of the callee's contacts."""

    side = Side.CALLEE

    def __init__(
        self,
        ctx: LegContext,
        *,
        target: Target,
        attempt: Try,
        session_timer_mode: SessionTimerMode,
        reliable_provisional: ReliableProvisional,
        session_timers: SessionTimerSettings | None = None,
        sink: EventSink | None = None,
    ) -> None:
        super().__init__(
            ctx,
            session_timer_mode=session_timer_mode,
            reliable_provisional=reliable_provisional,
            session_timers=session_timers,
        )
        # Set before the INVITE leaves: a transport error may be reported while sending it.
        self.sink = sink
        self.target = target
        self.attempt = attempt
        local = self.settings.local
        peer = target.dest or address_of_uri(target.uri, local.transport)
        display = f'"{attempt.calling_display}" ' if attempt.calling_display else ""
        tag = self.ids.tag()
        self.dialog = LegDialog(
            call_id=self.ids.call_id(local.host_for_uri),
            local_tag=tag,
            local_uri=f"{display}<sip:{attempt.calling}@{attempt.domain}>;tag={tag}",
            remote_uri=f"<sip:{attempt.called}@{attempt.domain}>",
            remote_target=target.uri,
            local_seq=self.ids.sequence(),
            peer=peer,
            local=local,
            contact=f"<sip:{attempt.calling}@{local.host_for_uri}:{local.port}"
            f";transport={local.transport}>",
        )
        self.invite: Request | None = None
        self.provisional_seen = False
        self.final_seen = False
        self.answered = False
        self.cancel_cause: ReleaseCause | None = None
        self._last_rseq: int | None = None
        self._pracks: list[tuple[int, int]] = []  # (rseq, INVITE CSeq) waiting for RingAck
        self._retries_422 = 0
        self._100rel_refused = False
        self._cancel_sent = False
        self._prack_timed_out = False  # RFC 3262 §7.1: our PRACK got no answer (Timer F)
        # The answer to the INVITE's offer: the SDP of the first reliable 18x or of the 2xx.
        self.invite_answer: bytes | None = None
        self._reliable_answer = False  # that answer came in a reliable 18x (RFC 3262 §5)
        self._prack_answered = False  # and a PRACK of ours got its 2xx since
        self.registry.watch_dialog(self.dialog.key, self)
        self._send_invite()

    # -- the INVITE ---------------------------------------------------------------------------

    def _send_invite(self, min_se: int | None = None) -> None:
        """The INVITE (again after a 422 with the peer's Min-SE, RFC 4028 §7.4, or without
        Require: 100rel after a 420 that refused it, RFC 3262 §4)."""
        assert self.dialog is not None
        headers: list[tuple[str, str]] = []
        if self.prack_mode is ReliableProvisional.REQUIRED and not self._100rel_refused:
            headers.append(("Require", "100rel"))
        headers.extend(
            request_headers(self.timer_mode, self.timer_settings, None, min_se=min_se)
        )
        headers.extend(self._common_headers())
        self.dialog.local_seq += 1
        body = self.attempt.sdp or b""
        if body:
            self.local_sdp = body
        invite = new_request(
            "INVITE",
            self.target.uri,
            via=str(self._via()),
            from_=self.dialog.local_uri,
            to=self.dialog.remote_uri,
            call_id=self.dialog.call_id,
            cseq=self.dialog.local_seq,
            max_forwards=self.attempt.max_forwards,
            contact=self.dialog.contact,
            headers=headers,
            body=body,
            content_type="application/sdp" if body else None,
        )
        self.invite = invite
        self.send(Purpose.INVITE, invite, self.dialog.peer)

    def _via(self) -> Via:
        return build_via(self.settings.local, self.ids.branch())

    # -- call events --------------------------------------------------------------------------

    def deliver(self, event: CallEvent) -> None:
        if isinstance(event, Disconnect):
            self._disconnect(event.cause)
        elif isinstance(event, RingAck):
            self._send_prack(event.sdp)
        else:
            self.deliver_dialog_event(event)

    def _disconnect(self, cause: ReleaseCause) -> None:
        if self.answered:
            self.hang_up(cause, tell_call=False)
            return
        if self.cancel_cause is not None or self.final_seen:
            return
        self.cancel_cause = cause
        if self.provisional_seen:
            self._send_cancel()

    def _send_cancel(self) -> None:
        """CANCEL (§9.1), with the reason for the callee's display (RFC 3326)."""
        assert self.invite is not None and self.cancel_cause is not None
        self._cancel_sent = True
        cause = self.cancel_cause
        if cause.q850 == 26:
            reason = 'SIP;cause=200;text="Call completed elsewhere"'
        else:
            reason = cause.reason_header()
        self.send(Purpose.CANCEL, cancel_for(self.invite, reason), self.dialog_peer())

    def dialog_peer(self) -> Address:
        assert self.dialog is not None
        return self.dialog.peer

    def _send_prack(self, sdp: bytes | None) -> None:
        """PRACK for the oldest reliable provisional response (RFC 3262 §7.1, RAck)."""
        if not self._pracks or self.dialog is None or self.final_seen:
            return
        rseq, cseq = self._pracks.pop(0)
        self.send_in_dialog("PRACK", Purpose.PRACK, body=sdp or b"",
                            headers=[("RAck", f"{rseq} {cseq} INVITE")])

    # -- responses ----------------------------------------------------------------------------

    def on_response(self, response: Response) -> None:
        if response.cseq.method == "INVITE" and self._is_initial(response):
            self._invite_response(response)
            return
        super().on_response(response)

    def _is_initial(self, response: Response) -> bool:
        return self.invite is not None and response.cseq.seq == self.invite.cseq.seq

    def _invite_response(self, response: Response) -> None:
        status = response.status
        if status == 100:
            self.provisional_seen = True
            self._cancel_if_asked()
            return
        if self.final_seen:
            if 200 <= status < 300:
                self._late_2xx(response)
            return
        if status < 200:
            self._provisional(response)
        elif status < 300:
            self._sent.pop((response.top_via.branch or "", "INVITE"), None)
            self._answered(response)
        else:
            self.final_seen = True
            self._sent.pop((response.top_via.branch or "", "INVITE"), None)
            self._failed(response)

    def _cancel_if_asked(self) -> None:
        if self.cancel_cause is not None and not self.final_seen and not self._cancel_sent:
            self._send_cancel()

    def _learn_dialog(self, response: Response, *, final: bool = False) -> None:
        """§12.1.2: remote tag, remote target and the route set (Record-Route reversed). A 2xx
        fixes the dialog: its tag wins over an early dialog's and the route set is recomputed
        from it (§13.2.2.4)."""
        assert self.dialog is not None
        tag = response.to.tag
        if tag and (self.dialog.remote_tag is None or (final and tag != self.dialog.remote_tag)):
            self.dialog.set_remote_tag(tag, replace=True)
            self.dialog.route_set = [str(r) for r in reversed(response.record_routes)]
        elif final:
            self.dialog.route_set = [str(r) for r in reversed(response.record_routes)]
        contacts = response.contacts
        if contacts:
            self.dialog.refresh_target(contacts[0].uri)
        if response.allow:
            self.peer_allow = tuple(method.upper() for method in response.allow)

    def _provisional(self, response: Response) -> None:
        self.provisional_seen = True
        if response.to.tag:
            self._learn_dialog(response)
        body = response.body or None
        reliable = "100rel" in response.require and response.rseq is not None
        if reliable:
            rseq = response.rseq
            assert rseq is not None
            if self._last_rseq is not None and rseq <= self._last_rseq:
                return  # RFC 3262 §4: a retransmission, already handled
            self._last_rseq = rseq
            assert self.invite is not None
            self._pracks.append((rseq, self.invite.cseq.seq))
        if body is not None:
            if reliable and self.invite_answer is None and self.offer_outstanding():
                self.invite_answer = body
                self._reliable_answer = True
            self.remote_sdp = body
        self._cancel_if_asked()
        if self.cancel_cause is None:
            self.emit(Ring(body, reliable, response.status))
        elif reliable:
            self._send_prack(None)

    def _answered(self, response: Response) -> None:
        self.final_seen = True
        self.provisional_seen = True
        self._learn_dialog(response, final=True)
        assert self.invite is not None
        offer_in_2xx = not self.invite.body and bool(response.body)
        self._ack_2xx(self.invite, response, hold=offer_in_2xx and self.cancel_cause is None)
        if self.cancel_cause is not None:
            # The 2xx crossed our CANCEL: the dialog exists now, end it (§15).
            self.answered = True
            self.confirmed = True
            self.hang_up(self.cancel_cause, tell_call=False)
            return
        self.answered = True
        self.confirmed = True
        if response.body:
            if self.invite.body and self.invite_answer is None:
                self.invite_answer = response.body
            self.remote_sdp = response.body
        self._timer_from_2xx(response)
        self.emit(Answer(response.body or None))
        self.try_settle()

    def _late_2xx(self, response: Response) -> None:
        assert self.dialog is not None
        if response.to.tag == self.dialog.remote_tag:
            self.resend_ack()
            return
        # A 2xx from another fork downstream (§13.2.2.4): ACK it, then BYE that dialog.
        forked = LegDialog(
            call_id=self.dialog.call_id,
            local_tag=self.dialog.local_tag,
            local_uri=self.dialog.local_uri,
            remote_uri=str(NameAddr.parse(self.dialog.remote_uri)),
            remote_target=response.contacts[0].uri if response.contacts else self.target.uri,
            local_seq=self.dialog.local_seq + 1,
            peer=self.dialog.peer,
            local=self.dialog.local,
            contact=self.dialog.contact,
        )
        forked.set_remote_tag(response.to.tag)
        assert self.invite is not None
        ack = forked.request("ACK", self.ids.branch(), cseq=self.invite.cseq.seq)
        self.port.send_stateless(ack, forked.next_hop())
        bye = forked.request("BYE", self.ids.branch())
        self.port.send_request(bye, forked.next_hop())

    def _failed(self, response: Response) -> None:
        status = response.status
        if status == 422 and response.min_se and self._retries_422 < _MAX_422_RETRIES:
            self._retries_422 += 1
            self.peer_min_se = max(self.peer_min_se or 0, response.min_se)
            self._retry(min_se=response.min_se)
            return
        if (
            status == 420
            and "100rel" in response.unsupported
            and self.prack_mode is ReliableProvisional.REQUIRED
            and not self._100rel_refused
        ):
            self._100rel_refused = True
            self._retry()
            return
        if 300 <= status < 400 and self.cancel_cause is None:
            contacts = sorted(response.contacts, key=lambda c: -(c.q if c.q is not None else 1.0))
            targets = tuple(Target(c.uri) for c in contacts if not c.star)
            if targets:
                self.finish()
                self.emit(Redirect(targets, status))
                return
        self.finish()
        if self._prack_timed_out:
            # The 487 answers our own CANCEL; the caller learns why it was sent.
            self.emit(Fail(cause_for_status(408)))
            return
        self.emit(Fail(cause_for_status(status, response.reason)))

    def on_sent_response(self, purpose: Purpose, request: Request, response: Response) -> None:
        if purpose is Purpose.PRACK and 200 <= response.status < 300 and self._reliable_answer:
            self._prack_answered = True
        super().on_sent_response(purpose, request, response)

    def early_update_allowed(self) -> bool:
        """The answer to the INVITE's offer came in a reliable 18x we PRACKed (RFC 3311
        §5.1), and the peer allows UPDATE: its Allow says so, or, without Allow, its use of
        100rel is taken for it (as ECSS-10 does)."""
        if not (self._prack_answered and not self.final_seen):
            return False
        return "UPDATE" in self.peer_allow if self.peer_allow else self._reliable_answer

    def offer_outstanding(self) -> bool:
        # The INVITE's offer is answered by the first provisional or final SDP.
        return bool(self.invite and self.invite.body) and self.remote_sdp is None

    def _retry(self, min_se: int | None = None) -> None:
        """The same INVITE again in this leg's dialog (new CSeq and branch), unless the call
        gave up on this leg meanwhile."""
        if self.cancel_cause is not None:
            self.finish()
            self.emit(Fail(cause_for_status(487)))
            return
        self.final_seen = False
        self.provisional_seen = False
        self._send_invite(min_se)

    def on_sent_timeout(self, purpose: Purpose, request: Request) -> None:
        if purpose is Purpose.INVITE and not self.final_seen:
            self.final_seen = True
            self.finish()
            self.emit(Fail(NO_RESPONSE))
            return
        if purpose is Purpose.CANCEL:
            return
        if purpose is Purpose.PRACK and not self.final_seen and not self.answered:
            # The callee never answered our PRACK (RFC 3261 §17.1.2.2 Timer F): as ECSS-10
            # does, give up on the call attempt, CANCEL the INVITE and fail the call with 408.
            self._prack_timed_out = True
            if self.cancel_cause is None:
                self.cancel_cause = cause_for_status(408)
            self._cancel_if_asked()
            return
        super().on_sent_timeout(purpose, request)
