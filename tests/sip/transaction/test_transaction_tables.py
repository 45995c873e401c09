"""Every machine's table is total: each (state, input) pair is a transition, ignored or refused."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fakelink import answer, make_request
from hypothesis import given, settings
from hypothesis import strategies as st

from ssw.sip.address import Address
from ssw.sip.transaction import (
    InviteClientTransaction,
    InviteServerTransaction,
    NonInviteClientTransaction,
    NonInviteServerTransaction,
    TimerConfig,
)
from ssw.sip.transaction.client_invite import INVITE_CLIENT
from ssw.sip.transaction.client_non_invite import NON_INVITE_CLIENT
from ssw.sip.transaction.machine import (
    Backoff,
    Do,
    Input,
    RestartAtT2,
    Start,
    State,
    StateMachine,
    Stop,
    TransactionStateError,
    Transition,
    timer_input,
)
from ssw.sip.transaction.server_invite import INVITE_SERVER
from ssw.sip.transaction.server_non_invite import NON_INVITE_SERVER
from ssw.sip.transaction.timers import TimerName

MACHINES = [INVITE_CLIENT, NON_INVITE_CLIENT, INVITE_SERVER, NON_INVITE_SERVER]
TU_INPUTS = {Input.TU_1XX, Input.TU_2XX, Input.TU_3XX_6XX}


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_every_pair_is_a_transition_ignored_or_refused(machine: StateMachine) -> None:
    assert machine.missing_pairs() == set()
    for state, inp in itertools.product(machine.states, machine.inputs):
        pair = (state, inp)
        if pair in machine.refused:
            with pytest.raises(TransactionStateError):
                machine.step(state, inp)
            # Only the TU can be refused: the network and timers are never an error.
            assert inp in TU_INPUTS
        elif pair in machine.ignored:
            assert machine.step(state, inp) is None
        else:
            transition = machine.step(state, inp)
            assert isinstance(transition, Transition)
            assert transition.next_state in machine.states


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_terminated_is_absorbing_and_silent(machine: StateMachine) -> None:
    for inp in machine.inputs:
        assert (State.TERMINATED, inp) not in machine.transitions


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_every_state_is_reachable_and_can_end(machine: StateMachine) -> None:
    reachable = {machine.initial_state}
    frontier = [machine.initial_state]
    while frontier:
        state = frontier.pop()
        for (source, _), transition in machine.transitions.items():
            if source is state and transition.next_state not in reachable:
                reachable.add(transition.next_state)
                frontier.append(transition.next_state)
    assert reachable == machine.states
    # From every state some chain of inputs reaches Terminated (no transaction leaks).
    ends = {State.TERMINATED}
    changed = True
    while changed:
        changed = False
        for (source, _), transition in machine.transitions.items():
            if transition.next_state in ends and source not in ends:
                ends.add(source)
                changed = True
    assert ends == machine.states


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_timers_started_are_ones_the_machine_handles(machine: StateMachine) -> None:
    started: set[TimerName] = set()
    actions = list(machine.start_actions)
    for transition in machine.transitions.values():
        actions.extend(transition.actions)
    for action in actions:
        if isinstance(action, Start | Backoff | RestartAtT2 | Stop):
            started.add(action.timer)
    handled = {inp for inp in machine.inputs if inp.value.startswith("Timer ")}
    assert {Input(f"Timer {t.value}") for t in started} == handled


def test_retransmission_timers_back_off_only_where_the_rfc_says() -> None:
    # Timer A (INVITE client, Calling), E (non-INVITE client, Trying), G (INVITE server,
    # Completed) double; E is pinned to T2 in Proceeding (§17.1.2.2).
    assert Backoff(TimerName.A) in INVITE_CLIENT.transitions[(State.CALLING, Input.TIMER_A)].actions
    assert (
        Backoff(TimerName.E) in NON_INVITE_CLIENT.transitions[(State.TRYING, Input.TIMER_E)].actions
    )
    assert (
        RestartAtT2(TimerName.E)
        in NON_INVITE_CLIENT.transitions[(State.PROCEEDING, Input.TIMER_E)].actions
    )
    assert (
        Backoff(TimerName.G) in INVITE_SERVER.transitions[(State.COMPLETED, Input.TIMER_G)].actions
    )


def test_rfc6026_accepted_states() -> None:
    # INVITE client: 2xx -> Accepted with Timer M; 2xx retransmissions go to the TU.
    for state in (State.CALLING, State.PROCEEDING):
        transition = INVITE_CLIENT.transitions[(state, Input.RESPONSE_2XX)]
        assert transition.next_state is State.ACCEPTED
        assert Start(TimerName.M) in transition.actions
    assert INVITE_CLIENT.transitions[(State.ACCEPTED, Input.RESPONSE_2XX)].actions == (
        Do.PASS_RESPONSE,
    )
    # INVITE server: 2xx from TU -> Accepted with Timer L; INVITE copies absorbed.
    transition = INVITE_SERVER.transitions[(State.PROCEEDING, Input.TU_2XX)]
    assert transition.next_state is State.ACCEPTED
    assert Start(TimerName.L) in transition.actions
    assert (State.ACCEPTED, Input.REQUEST_RETRANSMISSION) in INVITE_SERVER.ignored


def test_a_table_with_overlapping_or_foreign_pairs_is_refused() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        StateMachine(
            "bad",
            initial_state=State.TRYING,
            start_actions=(),
            states=(State.TRYING, State.TERMINATED),
            inputs=(Input.TIMER_J,),
            transitions={(State.TRYING, Input.TIMER_J): Transition((), State.TERMINATED)},
            ignored=((State.TRYING, Input.TIMER_J),),
        )
    with pytest.raises(ValueError, match="outside the machine"):
        StateMachine(
            "bad",
            initial_state=State.TRYING,
            start_actions=(),
            states=(State.TRYING,),
            inputs=(Input.TIMER_J,),
            transitions={},
            ignored=((State.CALLING, Input.TIMER_J),),
        )


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_random_walks_stay_inside_the_machine(data: st.DataObject) -> None:
    machine = data.draw(st.sampled_from(MACHINES))
    inputs = sorted(machine.inputs)
    state = machine.initial_state
    for inp in data.draw(st.lists(st.sampled_from(inputs), max_size=40)):
        try:
            transition = machine.step(state, inp)
        except TransactionStateError:
            assert (state, inp) in machine.refused
            continue
        if transition is not None:
            state = transition.next_state
        assert state in machine.states


class _RecordingHost:
    """A stand-in layer that records what a transaction asks of it."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.events: list[object] = []
        self.retired = 0
        self._tokens = itertools.count()

    def transmit(self, transaction: object, data: bytes) -> None:
        self.sent.append(data)

    def emit(self, event: object) -> None:
        self.events.append(event)

    def arm_timer(self, transaction: object, timer: TimerName, deadline: float) -> int:
        return next(self._tokens)

    def retire(self, transaction: object) -> None:
        self.retired += 1


@settings(max_examples=300, deadline=None)
@given(data=st.data(), reliable=st.booleans())
def test_live_transactions_follow_their_table(data: st.DataObject, reliable: bool) -> None:
    kind = data.draw(
        st.sampled_from(
            [
                InviteClientTransaction,
                NonInviteClientTransaction,
                InviteServerTransaction,
                NonInviteServerTransaction,
            ]
        )
    )
    is_invite = kind in (InviteClientTransaction, InviteServerTransaction)
    request = make_request("INVITE" if is_invite else "OPTIONS")
    peer = Address("tcp" if reliable else "udp", "192.0.2.20", 5060)
    host = _RecordingHost()
    config = TimerConfig()
    transaction: Any
    if kind in (InviteServerTransaction, NonInviteServerTransaction):
        transaction = kind(("k",), request, peer, source=peer, timers=config, host=host)
    else:
        transaction = kind(("k",), request, peer, timers=config, host=host)
    transaction.start(0.0)
    messages = {
        Input.RESPONSE_1XX: answer(request, 180),
        Input.RESPONSE_2XX: answer(request, 200),
        Input.RESPONSE_3XX_6XX: answer(request, 486),
        Input.TU_1XX: answer(request, 183),
        Input.TU_2XX: answer(request, 200),
        Input.TU_3XX_6XX: answer(request, 500),
        Input.ACK: make_request("ACK", to_tag="bob-tag"),
        Input.REQUEST_RETRANSMISSION: request,
    }
    machine = transaction.machine
    now = 0.0
    for inp in data.draw(st.lists(st.sampled_from(sorted(machine.inputs)), max_size=30)):
        now += 1.0
        before = transaction.state
        if inp.value.startswith("Timer "):
            timer = TimerName(inp.value[-1])
            if timer not in transaction.armed_timers():
                continue  # the layer only fires armed timers
            transaction.fire(timer, now)
        else:
            try:
                transaction.feed(inp, now, messages.get(inp))
            except TransactionStateError:
                assert transaction.state is before  # refused: nothing changed
                continue
        if reliable:
            # No retransmission timer over a reliable transport; zero timers already fired.
            assert not set(transaction.armed_timers()) & {"A", "E", "G", "D", "I", "J", "K"}
        if transaction.state is State.TERMINATED:
            assert transaction.armed_timers() == {}
            assert host.retired == 1
        else:
            assert host.retired == 0
        assert all(timer_input(t) in machine.inputs for t in transaction.armed_timers())
