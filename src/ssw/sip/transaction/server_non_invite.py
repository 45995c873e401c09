"""The non-INVITE server transaction (RFC 3261 §17.2.2).

Trying passes the request up and discards its retransmissions until the TU answers.
Provisional responses move to Proceeding (a retransmission gets the latest again); a final
response moves to Completed, where retransmissions get the final response again until
Timer J (64*T1 unreliable, zero reliable).
"""

from __future__ import annotations

from ssw.sip.transaction.base import ServerTransaction
from ssw.sip.transaction.machine import Do, Input, Start, State, StateMachine, Stop, Transition
from ssw.sip.transaction.timers import TimerName

__all__ = ["NON_INVITE_SERVER", "NonInviteServerTransaction"]

# Non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8).
_T = Transition
_J = TimerName.J
_TU = (Input.TU_1XX, Input.TU_2XX, Input.TU_3XX_6XX)
_NETWORK = (Input.REQUEST_RETRANSMISSION, Input.TRANSPORT_ERROR)

NON_INVITE_SERVER = StateMachine(
    "non-INVITE server transaction",
    # "The state machine is initialized in the Trying state and is passed a request other
    # than INVITE or ACK when initialized. This request is passed up to the TU." (§17.2.2)
    initial_state=State.TRYING,
    start_actions=(Do.PASS_REQUEST,),
    states=(State.TRYING, State.PROCEEDING, State.COMPLETED, State.TERMINATED),
    inputs=(*_NETWORK, *_TU, Input.TIMER_J),
    transitions={
        (State.TRYING, Input.TU_1XX): _T((Do.SEND_RESPONSE,), State.PROCEEDING),
        (State.TRYING, Input.TU_2XX): _T((Do.SEND_RESPONSE, Start(_J)), State.COMPLETED),
        (State.TRYING, Input.TU_3XX_6XX): _T((Do.SEND_RESPONSE, Start(_J)), State.COMPLETED),
        # Proceeding: a request retransmission gets the most recent provisional response.
        (State.PROCEEDING, Input.REQUEST_RETRANSMISSION): _T(
            (Do.RESEND_RESPONSE,), State.PROCEEDING
        ),
        (State.PROCEEDING, Input.TU_1XX): _T((Do.SEND_RESPONSE,), State.PROCEEDING),
        (State.PROCEEDING, Input.TU_2XX): _T((Do.SEND_RESPONSE, Start(_J)), State.COMPLETED),
        (State.PROCEEDING, Input.TU_3XX_6XX): _T((Do.SEND_RESPONSE, Start(_J)), State.COMPLETED),
        (State.PROCEEDING, Input.TRANSPORT_ERROR): _T(
            (Do.INFORM_TU_TRANSPORT_ERROR,), State.TERMINATED
        ),
        # Completed: retransmissions get the final response again until Timer J.
        (State.COMPLETED, Input.REQUEST_RETRANSMISSION): _T((Do.RESEND_RESPONSE,), State.COMPLETED),
        (State.COMPLETED, Input.TIMER_J): _T((), State.TERMINATED),
        (State.COMPLETED, Input.TRANSPORT_ERROR): _T(
            (Stop(_J), Do.INFORM_TU_TRANSPORT_ERROR), State.TERMINATED
        ),
    },
    ignored=(
        # "any retransmissions of the request received while in the Trying state MUST be
        # discarded" (§17.2.2); nothing has been sent, so no transport error concerns it.
        (State.TRYING, Input.REQUEST_RETRANSMISSION),
        (State.TRYING, Input.TRANSPORT_ERROR),
        (State.TRYING, Input.TIMER_J),
        (State.PROCEEDING, Input.TIMER_J),
        *((State.TERMINATED, inp) for inp in (*_NETWORK, Input.TIMER_J)),
    ),
    refused=(
        *((State.COMPLETED, inp) for inp in _TU),
        *((State.TERMINATED, inp) for inp in _TU),
    ),
)


class NonInviteServerTransaction(ServerTransaction):
    """Answers a request other than INVITE or ACK (a CANCEL too: §9.2)."""

    machine = NON_INVITE_SERVER
    lingering = frozenset({State.COMPLETED})
