"""The non-INVITE client transaction (RFC 3261 §17.1.2).

Trying retransmits on Timer E with intervals T1, 2*T1, ... capped at T2 (unreliable
transports only); once a provisional response arrives (Proceeding) every retransmission is
T2 apart. A final response is passed up and its retransmissions are absorbed in Completed
until Timer K (T4, or zero over a reliable transport). Timer F (64*T1) is the timeout.
"""

from __future__ import annotations

from ssw.sip.transaction.base import ClientTransaction
from ssw.sip.transaction.machine import (
    Backoff,
    Do,
    Input,
    RestartAtT2,
    Start,
    State,
    StateMachine,
    Stop,
    Transition,
)
from ssw.sip.transaction.timers import TimerName

__all__ = ["NON_INVITE_CLIENT", "NonInviteClientTransaction"]

# Non-INVITE client transaction: RFC 3261 §17.1.2.2 (Figure 6).
_T = Transition
_E, _F, _K = TimerName.E, TimerName.F, TimerName.K
_RESPONSES = (Input.RESPONSE_1XX, Input.RESPONSE_2XX, Input.RESPONSE_3XX_6XX)
_TIMERS = (Input.TIMER_E, Input.TIMER_F, Input.TIMER_K)
_FINAL = (Stop(_E), Stop(_F), Do.PASS_RESPONSE, Start(_K))

NON_INVITE_CLIENT = StateMachine(
    "non-INVITE client transaction",
    # "The Trying state is entered when the TU initiates a new client transaction ...
    # timer F MUST be set to fire in 64*T1 ... If an unreliable transport is in use, the
    # client transaction MUST set timer E to fire in T1 seconds" (§17.1.2.2).
    initial_state=State.TRYING,
    start_actions=(Do.SEND_REQUEST, Start(_E), Start(_F)),
    states=(State.TRYING, State.PROCEEDING, State.COMPLETED, State.TERMINATED),
    inputs=(*_RESPONSES, Input.TRANSPORT_ERROR, *_TIMERS),
    transitions={
        # Trying: retransmit with intervals MIN(2^n*T1, T2).
        (State.TRYING, Input.TIMER_E): _T((Do.SEND_REQUEST, Backoff(_E)), State.TRYING),
        (State.TRYING, Input.TIMER_F): _T((Stop(_E), Do.INFORM_TU_TIMEOUT), State.TERMINATED),
        (State.TRYING, Input.TRANSPORT_ERROR): _T(
            (Do.INFORM_TU_TRANSPORT_ERROR,), State.TERMINATED
        ),
        (State.TRYING, Input.RESPONSE_1XX): _T((Do.PASS_RESPONSE,), State.PROCEEDING),
        (State.TRYING, Input.RESPONSE_2XX): _T(_FINAL, State.COMPLETED),
        (State.TRYING, Input.RESPONSE_3XX_6XX): _T(_FINAL, State.COMPLETED),
        # Proceeding: "If Timer E fires while in the Proceeding state, the request MUST be
        # passed to the transport layer for retransmission, and Timer E MUST be reset with
        # a value of T2 seconds."
        (State.PROCEEDING, Input.TIMER_E): _T((Do.SEND_REQUEST, RestartAtT2(_E)), State.PROCEEDING),
        (State.PROCEEDING, Input.TIMER_F): _T((Stop(_E), Do.INFORM_TU_TIMEOUT), State.TERMINATED),
        (State.PROCEEDING, Input.TRANSPORT_ERROR): _T(
            (Stop(_E), Stop(_F), Do.INFORM_TU_TRANSPORT_ERROR), State.TERMINATED
        ),
        (State.PROCEEDING, Input.RESPONSE_1XX): _T((Do.PASS_RESPONSE,), State.PROCEEDING),
        (State.PROCEEDING, Input.RESPONSE_2XX): _T(_FINAL, State.COMPLETED),
        (State.PROCEEDING, Input.RESPONSE_3XX_6XX): _T(_FINAL, State.COMPLETED),
        # Completed: "buffer any additional response retransmissions" until Timer K.
        (State.COMPLETED, Input.TIMER_K): _T((), State.TERMINATED),
    },
    ignored=(
        (State.TRYING, Input.TIMER_K),
        (State.PROCEEDING, Input.TIMER_K),
        *((State.COMPLETED, inp) for inp in _RESPONSES),
        (State.COMPLETED, Input.TIMER_E),
        (State.COMPLETED, Input.TIMER_F),
        # Nothing is sent in Completed, so no transport error can concern it.
        (State.COMPLETED, Input.TRANSPORT_ERROR),
        *((State.TERMINATED, inp) for inp in (*_RESPONSES, Input.TRANSPORT_ERROR, *_TIMERS)),
    ),
)


class NonInviteClientTransaction(ClientTransaction):
    """Sends a request other than INVITE or ACK and relays its responses."""

    machine = NON_INVITE_CLIENT
    lingering = frozenset({State.COMPLETED})
