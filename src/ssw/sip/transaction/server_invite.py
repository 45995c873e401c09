"""The INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1).

Proceeding sends 100 (Trying) at once and the TU's provisional responses; a request
retransmission gets the latest one again. A 300-699 final is retransmitted on Timer G
(T1 doubling up to T2, unreliable only) and on each INVITE retransmission until the ACK
arrives (Confirmed, absorbing ACK copies until Timer I) or Timer H (64*T1) gives up. A 2xx
moves to Accepted: the TU retransmits it (§13.3.1.4), INVITE copies are absorbed and a
matching ACK goes to the TU, until Timer L (64*T1).
"""

from __future__ import annotations

from ssw.sip.message import Request, Response, make_response
from ssw.sip.transaction.base import ServerTransaction
from ssw.sip.transaction.events import AckReceived
from ssw.sip.transaction.machine import (
    Backoff,
    Do,
    Input,
    Start,
    State,
    StateMachine,
    Stop,
    Transition,
)
from ssw.sip.transaction.timers import TimerName

__all__ = ["INVITE_SERVER", "InviteServerTransaction"]

# INVITE server transaction: RFC 3261 §17.2.1 (Figure 7) as amended by RFC 6026 §7.1.
_T = Transition
_G, _H, _I, _L = TimerName.G, TimerName.H, TimerName.I, TimerName.L
_TU = (Input.TU_1XX, Input.TU_2XX, Input.TU_3XX_6XX)
_TIMERS = (Input.TIMER_G, Input.TIMER_H, Input.TIMER_I, Input.TIMER_L)
_NETWORK = (Input.REQUEST_RETRANSMISSION, Input.ACK, Input.TRANSPORT_ERROR)

INVITE_SERVER = StateMachine(
    "INVITE server transaction",
    # "When a server transaction is constructed for a request, it enters the Proceeding
    # state. The server transaction MUST generate a 100 (Trying) response unless it knows
    # that the TU will generate a provisional or final response within 200 ms ... The
    # request MUST be passed to the TU." (§17.2.1)
    initial_state=State.PROCEEDING,
    start_actions=(Do.SEND_TRYING, Do.PASS_REQUEST),
    states=(
        State.PROCEEDING,
        State.COMPLETED,
        State.CONFIRMED,
        State.ACCEPTED,
        State.TERMINATED,
    ),
    inputs=(*_NETWORK, *_TU, *_TIMERS),
    transitions={
        # Proceeding: provisional responses are sent but not retransmitted; a request
        # retransmission gets the most recent provisional response again.
        (State.PROCEEDING, Input.REQUEST_RETRANSMISSION): _T(
            (Do.RESEND_RESPONSE,), State.PROCEEDING
        ),
        (State.PROCEEDING, Input.TU_1XX): _T((Do.SEND_RESPONSE,), State.PROCEEDING),
        # RFC 6026 §7.1: a 2xx moves to Accepted and starts Timer L; the TU retransmits it.
        (State.PROCEEDING, Input.TU_2XX): _T((Do.SEND_RESPONSE, Start(_L)), State.ACCEPTED),
        (State.PROCEEDING, Input.TU_3XX_6XX): _T(
            (Do.SEND_RESPONSE, Start(_G), Start(_H)), State.COMPLETED
        ),
        (State.PROCEEDING, Input.TRANSPORT_ERROR): _T(
            (Do.INFORM_TU_TRANSPORT_ERROR,), State.TERMINATED
        ),
        # Completed: retransmit the final response on Timer G (MIN(2*G, T2)) and on every
        # request retransmission; the ACK confirms; Timer H gives up.
        (State.COMPLETED, Input.REQUEST_RETRANSMISSION): _T((Do.RESEND_RESPONSE,), State.COMPLETED),
        (State.COMPLETED, Input.TIMER_G): _T((Do.RESEND_RESPONSE, Backoff(_G)), State.COMPLETED),
        (State.COMPLETED, Input.TIMER_H): _T((Stop(_G), Do.INFORM_TU_TIMEOUT), State.TERMINATED),
        (State.COMPLETED, Input.TRANSPORT_ERROR): _T(
            (Stop(_G), Stop(_H), Do.INFORM_TU_TRANSPORT_ERROR), State.TERMINATED
        ),
        (State.COMPLETED, Input.ACK): _T((Stop(_G), Stop(_H), Start(_I)), State.CONFIRMED),
        # Confirmed: absorb ACK retransmissions until Timer I.
        (State.CONFIRMED, Input.TIMER_I): _T((), State.TERMINATED),
        # Accepted (RFC 6026 §7.1): the TU's 2xx retransmissions are sent; an ACK that
        # matches goes to the TU; INVITE retransmissions are absorbed until Timer L.
        (State.ACCEPTED, Input.TU_2XX): _T((Do.SEND_RESPONSE,), State.ACCEPTED),
        (State.ACCEPTED, Input.ACK): _T((Do.PASS_ACK,), State.ACCEPTED),
        (State.ACCEPTED, Input.TRANSPORT_ERROR): _T(
            (Do.INFORM_TU_TRANSPORT_ERROR,), State.ACCEPTED
        ),
        (State.ACCEPTED, Input.TIMER_L): _T((), State.TERMINATED),
    },
    ignored=(
        # An ACK cannot confirm a transaction that has not sent a final response.
        (State.PROCEEDING, Input.ACK),
        *((State.PROCEEDING, t) for t in _TIMERS),
        (State.COMPLETED, Input.TIMER_I),
        (State.COMPLETED, Input.TIMER_L),
        (State.CONFIRMED, Input.REQUEST_RETRANSMISSION),
        (State.CONFIRMED, Input.ACK),
        (State.CONFIRMED, Input.TRANSPORT_ERROR),
        (State.CONFIRMED, Input.TIMER_G),
        (State.CONFIRMED, Input.TIMER_H),
        (State.CONFIRMED, Input.TIMER_L),
        (State.ACCEPTED, Input.REQUEST_RETRANSMISSION),
        (State.ACCEPTED, Input.TIMER_G),
        (State.ACCEPTED, Input.TIMER_H),
        (State.ACCEPTED, Input.TIMER_I),
        *((State.TERMINATED, inp) for inp in (*_NETWORK, *_TIMERS)),
    ),
    # Once a final response is sent the TU may not send another (§17.2.1); in Accepted only
    # retransmissions of the 2xx are allowed.
    refused=(
        *((State.COMPLETED, inp) for inp in _TU),
        *((State.CONFIRMED, inp) for inp in _TU),
        (State.ACCEPTED, Input.TU_1XX),
        (State.ACCEPTED, Input.TU_3XX_6XX),
        *((State.TERMINATED, inp) for inp in _TU),
    ),
)


class InviteServerTransaction(ServerTransaction):
    """Answers an INVITE; absorbs retransmissions and the ACK for a 300-699 final."""

    machine = INVITE_SERVER
    lingering = frozenset({State.CONFIRMED, State.ACCEPTED})

    #: Send 100 (Trying) on creation (§17.2.1). A TU that always answers within 200 ms
    #: may turn it off through `TransactionLayer(send_trying=False)`.
    send_trying = True

    #: Call-ID, From tag and CSeq number, set by the layer for its lenient ACK/CANCEL match
    dialog_key: tuple[str, ...] | None = None

    @property
    def final_to_tag(self) -> str | None:
        """The To tag of the final response sent, which an RFC 2543 ACK must carry."""
        if self.last_response is None or self.last_response.status < 200:
            return None
        return self.last_response.to.tag

    def _perform(self, action: Do, message: Request | Response | None) -> None:
        if action is Do.SEND_TRYING:
            if self.send_trying:
                trying = make_response(self.request, 100)
                self.last_response = trying
                self._send(trying)
        elif action is Do.PASS_ACK:
            assert isinstance(message, Request)
            self._host.emit(AckReceived(message, self.source, self))
        else:
            super()._perform(action, message)
