"""The caller's leg: the switch as UAS for an incoming INVITE (RFC 3261 §13.3).

It turns the caller's SIP into call events (CANCEL -> Disconnect, PRACK -> RingAck,
ACK -> Confirm) and the call's events into responses:

    Ring      -> 180/183, reliably (Require: 100rel, RSeq; RFC 3262 §3) when the caller
                 supports it, retransmitted at T1, 2*T1, ... until the PRACK; a reliable ring
                 the caller cannot take is sent plainly and acknowledged to the call at once
    Answer    -> 200 with Contact and the session timer (RFC 4028 §9), retransmitted until
                 the ACK (§13.3.1.4); no ACK within 64*T1 ends the call with a BYE
    Fail      -> the final status (486, 480, 404, 408, ...)
    Disconnect-> before the answer: a final response; after it: BYE (after the ACK, §15)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ssw.core.call.causes import CANCELLED, NO_RESPONSE, ReleaseCause
from ssw.core.call.dialog_state import LegDialog
from ssw.core.call.events import (
    Answer,
    CallEvent,
    Confirm,
    Disconnect,
    Fail,
    Ring,
    RingAck,
    Side,
)
from ssw.core.call.leg_base import SipLeg
from ssw.core.call.leg_context import LegContext, RequestHandler
from ssw.core.call.session_timer import Negotiated, SessionTimerSettings, response_headers
from ssw.core.ports import ReliableProvisional, SessionTimerMode
from ssw.sip.address import Address
from ssw.sip.message import Request, Response
from ssw.sip.uri import SipUri

__all__ = ["IncomingLeg"]


@dataclass(slots=True)
class _Reliable:
    """A reliable provisional response waiting for its PRACK (RFC 3262 §3)."""

    rseq: int
    response: Response
    interval: float
    elapsed: float = 0.0


class IncomingLeg(SipLeg):
    """The switch as UAS towards the caller."""

    side = Side.CALLER

    def __init__(
        self,
        ctx: LegContext,
        *,
        invite_txn: object,
        invite: Request,
        source: Address,
        session_timer: Negotiated | None,
        session_timer_mode: SessionTimerMode,
        reliable_provisional: ReliableProvisional,
        session_timers: SessionTimerSettings | None = None,
    ) -> None:
        super().__init__(
            ctx,
            session_timer_mode=session_timer_mode,
            reliable_provisional=reliable_provisional,
            session_timers=session_timers,
        )
        self.invite_txn = invite_txn
        self.invite = invite
        contacts = invite.contacts
        local_tag = self.ids.tag()
        called = invite.ruri.user if isinstance(invite.ruri, SipUri) else None
        local = self.settings.local
        self.dialog = LegDialog(
            call_id=invite.call_id,
            local_tag=local_tag,
            local_uri=str(invite.to.with_params(tag=local_tag)),
            remote_uri=invite.headers.get("from") or "",
            remote_target=contacts[0].uri if contacts else invite.from_.uri,
            local_seq=self.ids.sequence(),
            peer=source,
            local=self.settings.local,
            contact=f"<sip:{called or 'ssw'}@{local.host_for_uri}:{local.port}"
            f";transport={local.transport}>",
            remote_tag=invite.from_.tag,
            remote_seq=invite.cseq.seq,
            # §12.1.1: the UAS route set is the Record-Route list in order; requests still go
            # back to where the INVITE came from (the caller or its proxy, NAT-friendly).
            route_set=[str(r) for r in invite.record_routes],
            follow_routes=False,
        )
        # §12.1.1: responses that create the dialog carry the Record-Route values, in order.
        self._record_route = [("Record-Route", v) for v in invite.headers.get_all("record-route")]
        self.remote_sdp = invite.body or None
        self.peer_allow = tuple(method.upper() for method in invite.allow)
        self.peer_supports_100rel = "100rel" in invite.supported or "100rel" in invite.require
        self.peer_requires_100rel = "100rel" in invite.require
        self.negotiated_timer = session_timer
        self.final_sent = False
        self._answered = False
        self._answer_reliable = False  # a reliable 18x carried the answer to the INVITE's offer
        self._bye_after_ack: ReleaseCause | None = None
        self._rseq = self.ids.sequence()
        self._unacked: _Reliable | None = None
        self._queued_rings: deque[Ring] = deque()
        self.registry.watch_dialog(self.dialog.key, self)

    # -- call events --------------------------------------------------------------------------

    def deliver(self, event: CallEvent) -> None:
        if isinstance(event, Ring):
            self._ring(event)
        elif isinstance(event, Answer):
            self._send_answer(event)
        elif isinstance(event, Fail):
            self._send_final(event.cause)
        elif isinstance(event, Disconnect):
            self._disconnect(event)
        elif not self.deliver_dialog_event(event):
            return

    def will_send_reliably(self, ring: Ring) -> bool:
        """Whether `ring` would go out as a reliable provisional response (RFC 3262)."""
        return self._reliable_wanted(ring)

    def _reliable_wanted(self, ring: Ring) -> bool:
        if self.prack_mode is ReliableProvisional.OFF or not self.peer_supports_100rel:
            return False
        return ring.reliable or self.peer_requires_100rel

    def _ring(self, ring: Ring) -> None:
        if self.final_sent:
            return
        if not self._reliable_wanted(ring):
            self._send_provisional(ring, reliable=False)
            if ring.reliable:
                self.emit(RingAck())
            return
        if self._unacked is not None:
            # RFC 3262 §3: one unacknowledged reliable provisional response at a time.
            self._queued_rings.append(ring)
            return
        self._send_provisional(ring, reliable=True)

    def _send_provisional(self, ring: Ring, *, reliable: bool) -> None:
        headers = list(self._record_route)
        if reliable:
            self._rseq += 1
            headers += [("Require", "100rel"), ("RSeq", str(self._rseq))]
        if ring.sdp is not None:
            self.local_sdp = ring.sdp
            self._answer_reliable = self._answer_reliable or (reliable and bool(self.invite.body))
        response = self.respond(
            self.invite_txn, self.invite, ring.status, body=ring.sdp or b"", headers=headers
        )
        if reliable:
            self._unacked = _Reliable(self._rseq, response, self.settings.t1)
            self.arm("reliable_1xx", self.settings.t1, self._retransmit_provisional)

    def _retransmit_provisional(self) -> None:
        pending = self._unacked
        if pending is None or self.final_sent:
            return
        pending.elapsed += pending.interval
        if pending.elapsed >= 64 * self.settings.t1:
            # RFC 3262 §3: no PRACK after 64*T1: reject the INVITE with a 5xx.
            self._unacked = None
            self.emit(Disconnect(ReleaseCause(504, 102, "No PRACK"), Side.SWITCH))
            self._send_final(ReleaseCause(504, 102, "No PRACK"))
            return
        self.port.send_response(self.invite_txn, pending.response)
        pending.interval = min(pending.interval * 2, self.settings.t2)
        self.arm("reliable_1xx", pending.interval, self._retransmit_provisional)

    def _send_answer(self, answer: Answer) -> None:
        if self.final_sent:
            return
        self.final_sent = True
        self._unacked = None
        self._queued_rings.clear()
        self.disarm("reliable_1xx")
        body = answer.sdp
        if body is None and self.invite.body and not self._answer_reliable:
            # §13.2.1: the answer to the INVITE's offer is in the 2xx; an unreliable 18x
            # only previewed it (the callee answered early and sends its 2xx without SDP).
            body = self.local_sdp
        if body is not None:
            self.local_sdp = body
        timer = self.negotiated_timer
        headers = list(self._record_route)
        if timer is not None:
            headers += response_headers(timer)
        answer_response = self.respond(
            self.invite_txn, self.invite, 200, body=body or b"", headers=headers
        )
        self._answered = True
        if timer is not None:
            self.start_session_timer(timer)
        self.await_ack(self.invite_txn, answer_response)

    def no_ack(self, seq: int) -> None:
        """§13.3.1.4: no ACK within 64*T1: the dialog is confirmed and then ended with BYE."""
        if seq != self.invite.cseq.seq:
            super().no_ack(seq)
            return
        self.confirmed = True
        self.hang_up(NO_RESPONSE, tell_call=self._bye_after_ack is None)

    def _send_final(self, cause: ReleaseCause) -> None:
        if self.final_sent:
            return
        self.final_sent = True
        status = cause.status if cause.status >= 300 else 480
        self.respond(self.invite_txn, self.invite, status, cause.text)
        self.finish()

    def _disconnect(self, event: Disconnect) -> None:
        if not self.final_sent:
            self._send_final(event.cause)
        elif self._answered and not self.confirmed:
            self._bye_after_ack = event.cause  # §15: no BYE before the ACK has come
        else:
            self.hang_up(event.cause, tell_call=False)

    # -- SIP from the caller ------------------------------------------------------------------

    def on_cancel(self) -> None:
        """CANCEL for our INVITE (§9.2): the B2BUA answered the CANCEL; 487 the INVITE."""
        if self.final_sent:
            return
        self.final_sent = True
        self.respond(self.invite_txn, self.invite, 487)
        self.finish()
        self.emit(Disconnect(CANCELLED, Side.CALLER))

    def on_ack(self, ack: Request) -> None:
        if ack.cseq.seq != self.invite.cseq.seq or self.confirmed:
            super().on_ack(ack)
            return
        self.disarm(f"2xx {ack.cseq.seq}")
        self._unacked_2xx.pop(ack.cseq.seq, None)
        self.confirmed = True
        if ack.body:
            self.remote_sdp = ack.body
        self.emit(Confirm(ack.body or None))
        if self._bye_after_ack is not None:
            self.hang_up(self._bye_after_ack, tell_call=False)
        self.try_settle()

    def _request_handlers(self) -> dict[str, RequestHandler]:
        handlers = super()._request_handlers()
        handlers["PRACK"] = self._on_prack
        handlers["BYE"] = self._on_caller_bye
        return handlers

    def _on_caller_bye(self, txn: object, request: Request) -> None:
        """BYE on the early dialog (§15): the INVITE is answered 487, the call is cancelled."""
        if self.final_sent:
            self._on_bye(txn, request)
            return
        self.respond(txn, request, 200)
        self.on_cancel()

    def _on_prack(self, txn: object, request: Request) -> None:
        """PRACK (RFC 3262 §4): match the RAck to the unacknowledged reliable response."""
        rack = request.rack
        pending = self._unacked
        if (
            rack is None
            or pending is None
            or rack.rseq != pending.rseq
            or rack.cseq != self.invite.cseq.seq
            or rack.method != "INVITE"
        ):
            self.respond(txn, request, 481)
            return
        self._unacked = None
        self.disarm("reliable_1xx")
        self.respond(txn, request, 200)
        if request.body:
            self.remote_sdp = request.body
        self.emit(RingAck(request.body or None))
        if self._queued_rings and not self.final_sent:
            self._ring(self._queued_rings.popleft())
