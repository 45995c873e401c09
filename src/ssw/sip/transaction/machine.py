"""The vocabulary shared by the four transaction state machines (RFC 3261 §17, RFC 6026).

Everything that affects a transaction's state lives in one table per machine:
`(state, input) -> Transition(actions, next_state)`. A pair that is not a transition is
listed either as *ignored* (a late timer, a response absorbed by design) or as *refused*
(the transaction user asked for something the state forbids: a second final response).
`StateMachine` checks at import time that the three sets do not overlap, and a property
test walks every pair of every machine to prove the table is total.

The executor (`ssw.sip.transaction.base.Transaction`) performs the actions in order; it
holds no protocol decisions of its own.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ssw.sip.transaction.timers import TimerName

__all__ = [
    "Action",
    "Backoff",
    "Do",
    "Input",
    "RestartAtT2",
    "Start",
    "State",
    "StateMachine",
    "Stop",
    "TransactionStateError",
    "Transition",
    "timer_input",
]


class State(enum.StrEnum):
    """Transaction states, with the RFC's names (RFC 3261 Figures 5-8, RFC 6026 §7)."""

    CALLING = "Calling"
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    CONFIRMED = "Confirmed"
    ACCEPTED = "Accepted"
    TERMINATED = "Terminated"


class Input(enum.StrEnum):
    """What can happen to a transaction: a message from the network, the TU, or a timer."""

    # From the transport layer (network).
    REQUEST_RETRANSMISSION = "request retransmission"
    ACK = "ACK"
    RESPONSE_1XX = "1xx response"
    RESPONSE_2XX = "2xx response"
    RESPONSE_3XX_6XX = "300-699 response"
    TRANSPORT_ERROR = "transport error"
    # From the transaction user.
    TU_1XX = "1xx from TU"
    TU_2XX = "2xx from TU"
    TU_3XX_6XX = "300-699 from TU"
    # Timers.
    TIMER_A = "Timer A"
    TIMER_B = "Timer B"
    TIMER_D = "Timer D"
    TIMER_E = "Timer E"
    TIMER_F = "Timer F"
    TIMER_G = "Timer G"
    TIMER_H = "Timer H"
    TIMER_I = "Timer I"
    TIMER_J = "Timer J"
    TIMER_K = "Timer K"
    TIMER_L = "Timer L"
    TIMER_M = "Timer M"


def timer_input(timer: TimerName) -> Input:
    """The input a firing timer feeds to its transaction ("Timer A fires")."""
    return Input(f"Timer {timer.value}")


class Do(enum.Enum):
    """Actions that touch messages or the transaction user."""

    SEND_REQUEST = "pass the request to the transport layer"
    SEND_ACK = "send the ACK for a non-2xx final response (§17.1.1.3)"
    SEND_TRYING = "send 100 (Trying) (§17.2.1)"
    SEND_RESPONSE = "send the response from the TU; it becomes the last response"
    RESEND_RESPONSE = "retransmit the last response sent"
    PASS_REQUEST = "pass the request to the TU"
    PASS_RESPONSE = "pass the response to the TU"
    PASS_ACK = "pass the ACK to the TU (RFC 6026 §7.1)"
    INFORM_TU_TIMEOUT = "inform the TU of a timeout"
    INFORM_TU_TRANSPORT_ERROR = "inform the TU of a transport error"


@dataclass(frozen=True, slots=True)
class Start:
    """Start a timer with its first duration (nothing for A/E/G over a reliable transport)."""

    timer: TimerName


@dataclass(frozen=True, slots=True)
class Backoff:
    """Restart a retransmission timer with its next, longer interval (§17.1.1.2, §17.2.1)."""

    timer: TimerName


@dataclass(frozen=True, slots=True)
class RestartAtT2:
    """Restart Timer E with T2 in Proceeding (§17.1.2.2)."""

    timer: TimerName


@dataclass(frozen=True, slots=True)
class Stop:
    """Cancel a timer (a later firing of it would be stale)."""

    timer: TimerName


Action = Do | Start | Backoff | RestartAtT2 | Stop


@dataclass(frozen=True, slots=True)
class Transition:
    actions: tuple[Action, ...]
    next_state: State


class TransactionStateError(ValueError):
    """The transaction user asked for something the transaction's state forbids.

    Raised before anything changes: the transaction and the layer are as they were.
    """


class StateMachine:
    """One transaction machine: its states, inputs, start actions and table.

    `step` answers a Transition, None for an ignored pair, and raises TransactionStateError
    for a refused one. The constructor refuses a table whose pairs overlap or name a
    state or input the machine does not have.
    """

    def __init__(
        self,
        name: str,
        *,
        initial_state: State,
        start_actions: tuple[Action, ...],
        states: Iterable[State],
        inputs: Iterable[Input],
        transitions: Mapping[tuple[State, Input], Transition],
        ignored: Iterable[tuple[State, Input]],
        refused: Iterable[tuple[State, Input]] = (),
    ) -> None:
        self.name = name
        self.initial_state = initial_state
        self.start_actions = start_actions
        self.states = frozenset(states)
        self.inputs = frozenset(inputs)
        self.transitions = dict(transitions)
        self.ignored = frozenset(ignored)
        self.refused = frozenset(refused)
        groups = (set(self.transitions), set(self.ignored), set(self.refused))
        for first in range(3):
            for second in range(first + 1, 3):
                overlap = groups[first] & groups[second]
                if overlap:
                    raise ValueError(f"{name}: pairs listed twice: {sorted(overlap)}")
        for state, inp in set().union(*groups):
            if state not in self.states or inp not in self.inputs:
                raise ValueError(f"{name}: pair ({state}, {inp}) is outside the machine")
        for transition in self.transitions.values():
            if transition.next_state not in self.states:
                raise ValueError(f"{name}: unknown next state {transition.next_state}")

    def step(self, state: State, inp: Input) -> Transition | None:
        transition = self.transitions.get((state, inp))
        if transition is not None:
            return transition
        if (state, inp) in self.refused:
            raise TransactionStateError(f"{self.name}: {inp} is not allowed in state {state}")
        if (state, inp) in self.ignored:
            return None
        raise TransactionStateError(f"{self.name}: no rule for {inp} in state {state}")

    def missing_pairs(self) -> set[tuple[State, Input]]:
        """Pairs that are neither a transition, ignored nor refused (empty when total)."""
        listed = set(self.transitions) | self.ignored | self.refused
        return {(s, i) for s in self.states for i in self.inputs} - listed
