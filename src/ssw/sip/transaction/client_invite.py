"""The INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §7.2).

The table below is the whole behaviour: Calling retransmits on Timer A (intervals T1, 2*T1,
4*T1, ... over an unreliable transport) until a response or Timer B (64*T1); a 300-699
response is ACKed by the transaction itself (§17.1.1.3) and its retransmissions re-ACKed in
Completed until Timer D; a 2xx moves to Accepted, where every 2xx retransmission goes to the
TU (which ACKs each, §13.2.2.4) until Timer M.
"""

from __future__ import annotations

from ssw.sip.message import Request, Response
from ssw.sip.transaction.base import ClientTransaction
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

__all__ = ["INVITE_CLIENT", "InviteClientTransaction", "build_non2xx_ack"]

# INVITE client transaction: RFC 3261 §17.1.1.2 (Figure 5) as amended by RFC 6026 §7.2.
_T = Transition
_A, _B, _D, _M = TimerName.A, TimerName.B, TimerName.D, TimerName.M
_TIMERS = (Input.TIMER_A, Input.TIMER_B, Input.TIMER_D, Input.TIMER_M)

INVITE_CLIENT = StateMachine(
    "INVITE client transaction",
    # "The initial state, Calling, MUST be entered when the TU initiates a new client
    # transaction with an INVITE request ... start timer A ... start timer B" (§17.1.1.2).
    initial_state=State.CALLING,
    start_actions=(Do.SEND_REQUEST, Start(_A), Start(_B)),
    states=(State.CALLING, State.PROCEEDING, State.COMPLETED, State.ACCEPTED, State.TERMINATED),
    inputs=(
        Input.RESPONSE_1XX,
        Input.RESPONSE_2XX,
        Input.RESPONSE_3XX_6XX,
        Input.TRANSPORT_ERROR,
        *_TIMERS,
    ),
    transitions={
        # Calling: retransmit on Timer A with doubling intervals; give up on Timer B.
        (State.CALLING, Input.TIMER_A): _T((Do.SEND_REQUEST, Backoff(_A)), State.CALLING),
        (State.CALLING, Input.TIMER_B): _T((Do.INFORM_TU_TIMEOUT,), State.TERMINATED),
        (State.CALLING, Input.TRANSPORT_ERROR): _T(
            (Do.INFORM_TU_TRANSPORT_ERROR,), State.TERMINATED
        ),
        (State.CALLING, Input.RESPONSE_1XX): _T(
            (Stop(_A), Stop(_B), Do.PASS_RESPONSE), State.PROCEEDING
        ),
        # RFC 6026 §7.2: a 2xx moves to Accepted (not Terminated) and starts Timer M.
        (State.CALLING, Input.RESPONSE_2XX): _T(
            (Stop(_A), Stop(_B), Do.PASS_RESPONSE, Start(_M)), State.ACCEPTED
        ),
        (State.CALLING, Input.RESPONSE_3XX_6XX): _T(
            (Stop(_A), Stop(_B), Do.PASS_RESPONSE, Do.SEND_ACK, Start(_D)), State.COMPLETED
        ),
        # Proceeding: no more retransmissions; wait for the final response.
        (State.PROCEEDING, Input.RESPONSE_1XX): _T((Do.PASS_RESPONSE,), State.PROCEEDING),
        (State.PROCEEDING, Input.RESPONSE_2XX): _T((Do.PASS_RESPONSE, Start(_M)), State.ACCEPTED),
        (State.PROCEEDING, Input.RESPONSE_3XX_6XX): _T(
            (Do.PASS_RESPONSE, Do.SEND_ACK, Start(_D)), State.COMPLETED
        ),
        (State.PROCEEDING, Input.TRANSPORT_ERROR): _T(
            (Do.INFORM_TU_TRANSPORT_ERROR,), State.TERMINATED
        ),
        # Completed: "retransmissions of the final response ... MUST cause the ACK to be
        # re-passed to the transport layer ... MUST NOT be passed up to the TU".
        (State.COMPLETED, Input.RESPONSE_3XX_6XX): _T((Do.SEND_ACK,), State.COMPLETED),
        # A 2xx from another branch of a fork after a non-2xx final: the TU must still ACK
        # and end that session (§13.2.2.4), so it is passed up.
        (State.COMPLETED, Input.RESPONSE_2XX): _T((Do.PASS_RESPONSE,), State.COMPLETED),
        (State.COMPLETED, Input.TIMER_D): _T((), State.TERMINATED),
        (State.COMPLETED, Input.TRANSPORT_ERROR): _T(
            (Stop(_D), Do.INFORM_TU_TRANSPORT_ERROR), State.TERMINATED
        ),
        # Accepted (RFC 6026 §7.2): every 2xx retransmission goes to the TU, which ACKs it.
        (State.ACCEPTED, Input.RESPONSE_2XX): _T((Do.PASS_RESPONSE,), State.ACCEPTED),
        (State.ACCEPTED, Input.TIMER_M): _T((), State.TERMINATED),
    },
    ignored=(
        (State.CALLING, Input.TIMER_D),
        (State.CALLING, Input.TIMER_M),
        (State.PROCEEDING, Input.TIMER_A),
        (State.PROCEEDING, Input.TIMER_B),
        (State.PROCEEDING, Input.TIMER_D),
        (State.PROCEEDING, Input.TIMER_M),
        (State.COMPLETED, Input.RESPONSE_1XX),
        (State.COMPLETED, Input.TIMER_A),
        (State.COMPLETED, Input.TIMER_B),
        (State.COMPLETED, Input.TIMER_M),
        # RFC 6026 §7.2: in Accepted, other responses are discarded; nothing is sent, so
        # no transport error can concern it.
        (State.ACCEPTED, Input.RESPONSE_1XX),
        (State.ACCEPTED, Input.RESPONSE_3XX_6XX),
        (State.ACCEPTED, Input.TRANSPORT_ERROR),
        (State.ACCEPTED, Input.TIMER_A),
        (State.ACCEPTED, Input.TIMER_B),
        (State.ACCEPTED, Input.TIMER_D),
        *(
            (State.TERMINATED, inp)
            for inp in (
                Input.RESPONSE_1XX,
                Input.RESPONSE_2XX,
                Input.RESPONSE_3XX_6XX,
                Input.TRANSPORT_ERROR,
                *_TIMERS,
            )
        ),
    ),
)


def build_non2xx_ack(invite: Request, response: Response) -> Request:
    """The ACK a client transaction sends for a 300-699 response (RFC 3261 §17.1.1.3).

    Request-URI, Call-ID, From and the CSeq number are the INVITE's; To is the response's
    (with its tag); the single Via is the INVITE's top Via (same branch); Route header
    fields are copied from the INVITE; the CSeq method is ACK.
    """
    headers = invite.headers
    pairs: list[tuple[str, str]] = [("Via", str(invite.top_via))]
    pairs.extend(("Max-Forwards", value) for value in headers.get_lines("max-forwards"))
    pairs.extend(("From", value) for value in headers.get_lines("from"))
    pairs.extend(("To", value) for value in response.headers.get_lines("to"))
    pairs.extend(("Call-ID", value) for value in headers.get_lines("call-id"))
    pairs.append(("CSeq", f"{invite.cseq.seq} ACK"))
    pairs.extend(("Route", value) for value in headers.get_lines("route"))
    pairs.append(("Content-Length", "0"))
    return Request("ACK", invite.uri, pairs)


class InviteClientTransaction(ClientTransaction):
    """Sends an INVITE and relays its responses; ACKs 300-699 responses itself."""

    machine = INVITE_CLIENT
    lingering = frozenset({State.COMPLETED, State.ACCEPTED})

    _ack: Request | None = None

    @property
    def ack(self) -> Request | None:
        """The ACK sent for a 300-699 response, once there is one."""
        return self._ack

    def _forget_decoded(self) -> None:
        super()._forget_decoded()
        if self._ack is not None:
            self._ack.forget_decoded()

    def _perform(self, action: Do, message: Request | Response | None) -> None:
        if action is Do.SEND_ACK:
            assert isinstance(message, Response)
            if self._ack is None:
                self._ack = build_non2xx_ack(self.request, message)
            self._send(self._ack)
        else:
            super()._perform(action, message)
