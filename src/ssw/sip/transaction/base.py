"""The executor shared by the four transactions: it performs what a table says.

A transaction holds its request, its peer, its state and its armed timers. `feed(input)`
looks the pair up in the machine's table (`ssw.sip.transaction.machine`) and performs the
actions in order; it decides nothing on its own. Timers are deadlines on the injected
clock: the layer keeps them in one heap and calls `fire(timer, now)` when one is due.
A timer of zero duration (D, I, J, K over a reliable transport) fires at once, within
the same call, so a reliable transaction never lingers for a timer of nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from ssw.sip.address import Address
from ssw.sip.message import Request, Response
from ssw.sip.transaction.events import (
    CancelReceived,
    Event,
    RequestReceived,
    ResponseReceived,
    TransactionTimeout,
    TransportError,
)
from ssw.sip.transaction.machine import (
    Action,
    Backoff,
    Do,
    Input,
    RestartAtT2,
    Start,
    State,
    StateMachine,
    Stop,
    timer_input,
)
from ssw.sip.transaction.timers import TimerConfig, TimerName

if TYPE_CHECKING:
    from ssw.sip.transaction.server_invite import InviteServerTransaction

__all__ = ["ClientTransaction", "ServerTransaction", "Transaction", "TransactionHost"]


class TransactionHost(Protocol):
    """What a transaction needs from its layer: a way out for messages, events and timers."""

    def transmit(self, transaction: Transaction, data: bytes) -> None: ...

    def emit(self, event: Event) -> None: ...

    def arm_timer(self, transaction: Transaction, timer: TimerName, deadline: float) -> int: ...

    def retire(self, transaction: Transaction) -> None: ...


@dataclass(frozen=True, slots=True)
class _Armed:
    deadline: float
    interval: float
    token: int


class Transaction:
    """One transaction: a request, a peer, a state of `machine`, and armed timers."""

    machine: ClassVar[StateMachine]
    #: States in which the transaction only waits out a timer, absorbing retransmissions
    #: (Timers D, I, J, K, L, M). On entering one, the messages it keeps forget their decoded
    #: values: tens of thousands of such transactions live at a few hundred calls a second,
    #: and their parsed headers made most of what the garbage collector walked.
    lingering: ClassVar[frozenset[State]] = frozenset()

    def __init__(
        self,
        key: tuple[str, ...],
        request: Request,
        peer: Address,
        *,
        timers: TimerConfig,
        host: TransactionHost,
    ) -> None:
        self.key = key
        self.request = request
        self.peer = peer
        self.reliable = peer.reliable
        self.timer_config = timers
        self.state: State = self.machine.initial_state
        self.last_response: Response | None = None
        self._host = host
        self._armed: dict[TimerName, _Armed] = {}
        self._intervals: dict[TimerName, float] = {}
        self._cause: Input | None = None
        self._wire_message: Request | Response | None = None
        self._wire_data = b""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.request.method} {self.key[1]} {self.state}>"

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def terminated(self) -> bool:
        return self.state is State.TERMINATED

    def armed_timers(self) -> dict[TimerName, float]:
        """The running timers and their deadlines (for inspection and tests)."""
        return {timer: armed.deadline for timer, armed in self._armed.items()}

    def is_current(self, timer: TimerName, token: int) -> bool:
        """True when the heap entry `token` of `timer` is still the armed one (not stale)."""
        armed = self._armed.get(timer)
        return armed is not None and armed.token == token

    # -- driving the machine -------------------------------------------------------------

    def start(self, now: float) -> None:
        """Enter the initial state and perform its entry actions."""
        self._run(self.machine.start_actions, now, None)

    def feed(self, inp: Input, now: float, message: Request | Response | None = None) -> bool:
        """Apply `inp`; False when the table ignores it. Refused pairs raise, changing nothing."""
        transition = self.machine.step(self.state, inp)
        if transition is None:
            return False
        previous, self.state = self.state, transition.next_state
        self._cause = inp
        self._run(transition.actions, now, message)
        if self.state in self.lingering and self.state is not previous:
            self._forget_decoded()
        return True

    def _forget_decoded(self) -> None:
        self.request.forget_decoded()
        if self.last_response is not None:
            self.last_response.forget_decoded()

    def fire(self, timer: TimerName, now: float) -> None:
        """Timer `timer` is due: disarm it and feed "Timer X fires"."""
        self._armed.pop(timer, None)
        self.feed(timer_input(timer), now)

    def _run(
        self, actions: tuple[Action, ...], now: float, message: Request | Response | None
    ) -> None:
        due_now: list[TimerName] = []
        for action in actions:
            if isinstance(action, Do):
                self._perform(action, message)
            elif isinstance(action, Stop):
                self._armed.pop(action.timer, None)
            elif isinstance(action, Start):
                duration = self.timer_config.initial(action.timer, reliable=self.reliable)
                if duration == 0:
                    due_now.append(action.timer)
                elif duration is not None:
                    self._arm(action.timer, now, duration)
            elif isinstance(action, Backoff):
                previous = self._intervals.get(action.timer, self.timer_config.t1)
                self._arm(action.timer, now, self.timer_config.backoff(action.timer, previous))
            elif isinstance(action, RestartAtT2):
                self._arm(action.timer, now, self.timer_config.t2)
        if self.state is State.TERMINATED:
            self._armed.clear()
            self._host.retire(self)
            return
        for timer in due_now:
            self.feed(timer_input(timer), now)

    def _arm(self, timer: TimerName, now: float, duration: float) -> None:
        deadline = now + duration
        token = self._host.arm_timer(self, timer, deadline)
        self._armed[timer] = _Armed(deadline, duration, token)
        self._intervals[timer] = duration

    def _send(self, message: Request | Response, *, fresh: bool = False) -> None:
        """Pass `message` to the transport; a retransmission reuses the bytes already made."""
        if fresh or message is not self._wire_message:
            self._wire_message = message
            self._wire_data = bytes(message)
        self._host.transmit(self, self._wire_data)

    def _perform(self, action: Do, message: Request | Response | None) -> None:
        """The actions common to every machine; subclasses add their own."""
        if action is Do.SEND_REQUEST:
            self._send(self.request)
        elif action is Do.INFORM_TU_TIMEOUT:
            self._host.emit(TransactionTimeout(self, str(self._cause)))
        elif action is Do.INFORM_TU_TRANSPORT_ERROR:
            self._host.emit(TransportError(self))
        else:
            raise AssertionError(f"{self.machine.name} cannot perform {action}")


class ClientTransaction(Transaction):
    """A client transaction (§17.1): sends `request` to `peer` and relays the responses."""

    def _perform(self, action: Do, message: Request | Response | None) -> None:
        if action is Do.PASS_RESPONSE:
            assert isinstance(message, Response)
            self._host.emit(ResponseReceived(self, message))
        else:
            super()._perform(action, message)


class ServerTransaction(Transaction):
    """A server transaction (§17.2): answers `request`, received from `source`.

    `peer` is where responses go (§18.2.2). For a CANCEL, `cancels` is the INVITE server
    transaction it targets (§9.2), if any.
    """

    def __init__(
        self,
        key: tuple[str, ...],
        request: Request,
        peer: Address,
        *,
        source: Address,
        timers: TimerConfig,
        host: TransactionHost,
    ) -> None:
        super().__init__(key, request, peer, timers=timers, host=host)
        self.source = source
        self.cancels: InviteServerTransaction | None = None

    def respond_input(self, response: Response) -> Input:
        """The TU input for sending `response` (1xx, 2xx, or 300-699)."""
        if response.status < 200:
            return Input.TU_1XX
        if response.status < 300:
            return Input.TU_2XX
        return Input.TU_3XX_6XX

    def _perform(self, action: Do, message: Request | Response | None) -> None:
        if action is Do.PASS_REQUEST:
            self._host.emit(self._request_event())
        elif action is Do.SEND_RESPONSE:
            assert isinstance(message, Response)
            self.last_response = message
            self._send(message, fresh=True)
        elif action is Do.RESEND_RESPONSE:
            if self.last_response is not None:
                self._send(self.last_response)
        else:
            super()._perform(action, message)

    def _request_event(self) -> Event:
        if self.request.method == "CANCEL":
            return CancelReceived(self, self.request, self.source, self.cancels)
        return RequestReceived(self, self.request, self.source)
