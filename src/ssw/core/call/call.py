"""The call: relays call events between the caller's leg and the callee's legs.

A call owns one incoming leg (the caller) and, while it is being set up, any number of outgoing
legs (forks), one per contact being rung. It speaks only call events (`events.py`); the legs
speak SIP. What the call decides is policy, and all of it is in this file:

- which forks ring, in which order (the `ForkPlan` of `routing.py`), and when to move on;
- which fork's early media and reliable provisional responses reach the caller (the first fork
  that sends SDP owns the caller's early session; the other forks' rings reach the caller without
  SDP, and their reliable rings are acknowledged at once so that they PRACK by themselves);
- that the first answer wins and the other forks are cancelled (RFC 3261 §16.7 step 10 for a
  proxy; a B2BUA does the same with CANCEL and RFC 3326's "Call completed elsewhere");
- following a redirect (3xx) by forking to the new targets;
- the no-answer timer (`no_answer_timeout`): 480 when the callee rang, 408 when nothing answered;
- the conversation timer (`conversation_timeout`): an answered call is released when it runs out;
- which failure the caller gets when every fork failed (`causes.best_failure`);
- the CDR: setup, answer and end instants, release cause and side.

What a (phase, role, event) triple does is the table `_RULES`; a triple missing from it is a
late or meaningless event and is dropped (e.g. a 487 from a fork already cancelled).
Events are processed one at a time: an event a leg raises while the call is busy is queued, so
every handler sees a consistent state.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from typing import Protocol

from ssw.core.call.causes import (
    ANSWERED_ELSEWHERE,
    CANCELLED,
    CONVERSATION_TIMEOUT,
    NO_ANSWER,
    NO_RESPONSE,
    NORMAL_CLEARING,
    ReleaseCause,
    best_failure,
)
from ssw.core.call.cdr import CdrBuilder
from ssw.core.call.events import (
    Answer,
    CallEvent,
    Confirm,
    Disconnect,
    Fail,
    Hold,
    Info,
    Redirect,
    Resume,
    Ring,
    RingAck,
    Side,
    Try,
    Update,
    UpdateAccepted,
    UpdateRejected,
)
from ssw.core.call.routing import ForkPlan, Target
from ssw.core.ports import Cancellable, CdrSink, Clock

__all__ = ["Call", "CallLeg", "LegStarter", "Phase"]


class CallLeg(Protocol):
    """What the call needs of a leg: a way to hand it the other side's events."""

    def deliver(self, event: CallEvent) -> None: ...


# Creates an outgoing leg towards `target` that reports to `call`, and sends its INVITE.
LegStarter = Callable[["Call", Target, Try], CallLeg]


class Phase(enum.Enum):
    SETUP = "setup"  # forks are ringing
    ANSWERED = "answered"  # one fork answered; the others are being cancelled
    ENDED = "ended"  # the call is over; legs may still be finishing their transactions


class _Role(enum.Enum):
    CALLER = "caller"
    CALLEE = "callee"  # the fork that answered
    FORK = "fork"  # any other outgoing leg (ringing, cancelled, failed)


_OFFERS = (Update, Hold, Resume)
_OUTCOMES = (UpdateAccepted, UpdateRejected)


class Call:
    """One call between a caller's leg and the legs that try to reach the callee."""

    def __init__(
        self,
        *,
        connection_id: str,
        caller: CallLeg,
        attempt: Try,
        plan: ForkPlan,
        start_leg: LegStarter,
        clock: Clock,
        cdr: CdrBuilder,
        cdrs: CdrSink,
        no_answer_timeout: float,
        conversation_timeout: float | None = None,
        max_redirects: int = 3,
        on_ended: Callable[[Call], None] | None = None,
    ) -> None:
        self.connection_id = connection_id
        self.caller = caller
        self.attempt = attempt
        self.phase = Phase.SETUP
        self.callee: CallLeg | None = None
        self.release: tuple[ReleaseCause, Side] | None = None
        self._plan = plan
        self._next_group = 0
        self._start_leg = start_leg
        self._clock = clock
        self._cdr = cdr
        self._cdrs = cdrs
        self._on_ended = on_ended
        self._max_redirects = max_redirects
        self._redirects = 0
        self._no_answer_timeout = no_answer_timeout
        self._conversation_timeout = conversation_timeout
        self._forks: dict[CallLeg, Target] = {}  # outgoing legs still in play
        self._cancelled: set[CallLeg] = set()  # forks we released: their failures do not count
        self._tried: set[str] = set()
        self._failures: list[ReleaseCause] = []
        self._rang = False
        self._early_leg: CallLeg | None = None  # the fork whose early session the caller sees
        self._ring_ack_waiters: deque[CallLeg] = deque()
        self._timers: dict[str, Cancellable] = {}
        self._queue: deque[Callable[[], None]] = deque()
        self._busy = False

    # -- entry points -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the first group of forks and the no-answer timer."""
        self._run(self._start)

    def handle(self, leg: CallLeg, event: CallEvent) -> None:
        """An event raised by one of this call's legs."""
        self._run(lambda: self._dispatch(leg, event))

    @property
    def forks(self) -> list[CallLeg]:
        return list(self._forks)

    @property
    def early_leg(self) -> CallLeg | None:
        """The fork whose early session the caller sees, if any."""
        return self._early_leg

    def terminate(self, cause: ReleaseCause) -> None:
        """The switch ends the call (e.g. the media server saw no RTP): a BYE to both sides
        once answered, else every fork is cancelled and the caller gets `cause`."""
        self._run(lambda: self._terminate(cause))

    # -- serialization of work ----------------------------------------------------------------

    def _run(self, work: Callable[[], None]) -> None:
        self._queue.append(work)
        if self._busy:
            return
        self._busy = True
        try:
            while self._queue:
                self._queue.popleft()()
        finally:
            self._busy = False

    def _dispatch(self, leg: CallLeg, event: CallEvent) -> None:
        if leg is self.caller:
            role = _Role.CALLER
        elif leg is self.callee:
            role = _Role.CALLEE
        else:
            role = _Role.FORK
        rule = _RULES.get((self.phase, role, type(event)))
        if rule is not None:
            rule(self, leg, event)

    # -- forks --------------------------------------------------------------------------------

    def _start(self) -> None:
        self._arm("no_answer", self._no_answer_timeout, self._on_no_answer)
        self._start_next_group()

    def _start_next_group(self) -> bool:
        if self._next_group >= len(self._plan.groups):
            return False
        group = self._plan.groups[self._next_group]
        self._next_group += 1
        if self._plan.step_timeout is not None and self._next_group < len(self._plan.groups):
            self._arm("step", self._plan.step_timeout, self._on_step)
        for target in group:
            self._fork(target)
        return True

    def _fork(self, target: Target) -> None:
        self._tried.add(target.uri)
        leg = self._start_leg(self, target, self.attempt)
        self._forks[leg] = target

    def _release_fork(self, leg: CallLeg, cause: ReleaseCause) -> None:
        if leg in self._forks and leg not in self._cancelled:
            self._cancelled.add(leg)
            leg.deliver(Disconnect(cause, Side.SWITCH))

    def _drop_fork(self, leg: CallLeg) -> None:
        self._forks.pop(leg, None)
        if leg is self._early_leg:
            self._early_leg = None

    def _live_forks(self) -> list[CallLeg]:
        return [leg for leg in self._forks if leg not in self._cancelled]

    def _after_fork_gone(self) -> None:
        """A fork failed or was redirected: move on when nothing rings any more."""
        if self._live_forks():
            return
        self._cancel_timer("step")
        while self._start_next_group():
            if self._live_forks():
                return
        cause = best_failure(self._failures) if self._failures else NO_ANSWER
        self._fail_caller(cause, Side.CALLEE)

    # -- timers -------------------------------------------------------------------------------

    def _arm(self, name: str, delay: float, action: Callable[[], None]) -> None:
        self._cancel_timer(name)
        self._timers[name] = self._clock.call_later(delay, lambda: self._run(action))

    def _cancel_timer(self, name: str) -> None:
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    def _on_no_answer(self) -> None:
        self._timers.pop("no_answer", None)
        if self.phase is not Phase.SETUP:
            return
        cause = NO_ANSWER if self._rang else NO_RESPONSE
        for leg in list(self._forks):
            self._release_fork(leg, cause)
        self._fail_caller(cause, Side.SWITCH)

    def _on_conversation_timeout(self) -> None:
        """The domain's `conversation_timeout` ran out: both sides get a BYE."""
        self._timers.pop("conversation", None)
        if self.phase is not Phase.ANSWERED:
            return
        release = Disconnect(CONVERSATION_TIMEOUT, Side.SWITCH)
        self.caller.deliver(release)
        if self.callee is not None:
            self.callee.deliver(release)
        self._end(CONVERSATION_TIMEOUT, Side.SWITCH)

    def _on_step(self) -> None:
        """Find-me: this step rang long enough, ring the next contact(s)."""
        self._timers.pop("step", None)
        if self.phase is not Phase.SETUP:
            return
        if not self._plan.keep_previous:
            for leg in list(self._forks):
                self._release_fork(leg, NO_ANSWER)
        if not self._start_next_group() and not self._live_forks():
            self._after_fork_gone()

    # -- ending -------------------------------------------------------------------------------

    def _terminate(self, cause: ReleaseCause) -> None:
        if self.phase is Phase.ENDED:
            return
        if self.phase is Phase.ANSWERED:
            release = Disconnect(cause, Side.SWITCH)
            self.caller.deliver(release)
            if self.callee is not None:
                self.callee.deliver(release)
            self._end(cause, Side.SWITCH)
            return
        for leg in list(self._forks):
            self._release_fork(leg, cause)
        self._fail_caller(cause, Side.SWITCH)

    def _fail_caller(self, cause: ReleaseCause, side: Side) -> None:
        self.caller.deliver(Fail(cause))
        self._end(cause, side)

    def _end(self, cause: ReleaseCause, side: Side) -> None:
        if self.phase is Phase.ENDED:
            return
        self.phase = Phase.ENDED
        self.release = (cause, side)
        for name in list(self._timers):
            self._cancel_timer(name)
        self._cdrs.write(self._cdr.finish(self._clock.now(), cause, side))
        if self._on_ended is not None:
            self._on_ended(self)

    # -- rules: events from the caller --------------------------------------------------------

    def _caller_cancelled(self, leg: CallLeg, event: CallEvent) -> None:
        assert isinstance(event, Disconnect)
        for fork in list(self._forks):
            self._release_fork(fork, CANCELLED)
        self._end(CANCELLED, Side.CALLER)

    def _caller_ring_ack(self, leg: CallLeg, event: CallEvent) -> None:
        while self._ring_ack_waiters:
            fork = self._ring_ack_waiters.popleft()
            if fork in self._forks and fork not in self._cancelled:
                fork.deliver(event)
                return

    def _caller_early_offer(self, leg: CallLeg, event: CallEvent) -> None:
        if self._early_leg is not None:
            self._early_leg.deliver(event)
        else:
            # RFC 3311 §5.2: no session to modify yet on the far side; the caller may retry.
            leg.deliver(UpdateRejected(491, "Request Pending"))

    def _caller_early_outcome(self, leg: CallLeg, event: CallEvent) -> None:
        if self._early_leg is not None:
            self._early_leg.deliver(event)

    def _caller_hangup(self, leg: CallLeg, event: CallEvent) -> None:
        assert isinstance(event, Disconnect)
        if self.callee is not None:
            self.callee.deliver(event)
        self._end(NORMAL_CLEARING if event.cause.status < 300 else event.cause, event.side)

    def _to_callee(self, leg: CallLeg, event: CallEvent) -> None:
        if self.callee is not None:
            self.callee.deliver(event)

    # -- rules: events from the forks and the callee ------------------------------------------

    def _fork_ring(self, leg: CallLeg, event: CallEvent) -> None:
        assert isinstance(event, Ring)
        if leg in self._cancelled:
            return
        self._rang = True
        if self._early_leg is None and event.sdp is not None:
            self._early_leg = leg
        if self._early_leg is None or self._early_leg is leg:
            if event.reliable:
                self._ring_ack_waiters.append(leg)
            self.caller.deliver(event)
            return
        # Another fork owns the caller's early session: ring without its media, and let this
        # fork acknowledge its reliable ring itself (RFC 3262 §4 needs the PRACK).
        if event.reliable:
            leg.deliver(RingAck())
        self.caller.deliver(Ring(None, False, event.status))

    def _fork_answer(self, leg: CallLeg, event: CallEvent) -> None:
        assert isinstance(event, Answer)
        if leg in self._cancelled:
            # It answered before our CANCEL reached it: take it down again.
            leg.deliver(Disconnect(ANSWERED_ELSEWHERE, Side.SWITCH))
            return
        self.phase = Phase.ANSWERED
        self.callee = leg
        self._cancel_timer("no_answer")
        self._cancel_timer("step")
        self._cdr.answered(self._clock.now(), self._forks[leg].uri)
        if self._conversation_timeout is not None:
            self._arm("conversation", self._conversation_timeout, self._on_conversation_timeout)
        for fork in list(self._forks):
            if fork is not leg:
                self._release_fork(fork, ANSWERED_ELSEWHERE)
        self.caller.deliver(event)

    def _fork_failed(self, leg: CallLeg, event: CallEvent) -> None:
        assert isinstance(event, Fail | Disconnect)
        if leg not in self._forks:
            return
        if leg not in self._cancelled:
            self._failures.append(event.cause)
        self._drop_fork(leg)
        self._after_fork_gone()

    def _fork_redirect(self, leg: CallLeg, event: CallEvent) -> None:
        assert isinstance(event, Redirect)
        if leg not in self._forks:
            return
        cancelled = leg in self._cancelled
        self._drop_fork(leg)
        if not cancelled:
            fresh = [t for t in event.targets if t.uri not in self._tried]
            if fresh and self._redirects < self._max_redirects:
                self._redirects += 1
                if event.announce:
                    # RFC 3261 §21.1.3: tell the caller the call is being forwarded.
                    self.caller.deliver(Ring(None, False, 181))
                for target in fresh:
                    self._fork(target)
            else:
                # RFC 3261 §16.7: a 3xx not followed counts as a failure of that branch.
                self._failures.append(ReleaseCause(480, 20, "Redirection not followed"))
        self._after_fork_gone()

    def _fork_early_offer(self, leg: CallLeg, event: CallEvent) -> None:
        if leg is self._early_leg:
            self.caller.deliver(event)
        else:
            leg.deliver(UpdateRejected(488, "Not Acceptable Here"))

    def _fork_early_outcome(self, leg: CallLeg, event: CallEvent) -> None:
        if leg is self._early_leg:
            self.caller.deliver(event)

    def _late_answer(self, leg: CallLeg, event: CallEvent) -> None:
        # A second 2xx (another fork, RFC 3261 §13.2.2.4) or one after the call ended:
        # the leg acknowledges it and sends BYE.
        leg.deliver(Disconnect(ANSWERED_ELSEWHERE, Side.SWITCH))

    def _callee_hangup(self, leg: CallLeg, event: CallEvent) -> None:
        assert isinstance(event, Disconnect)
        self.caller.deliver(event)
        cause = NORMAL_CLEARING if event.cause.status < 300 else event.cause
        self._end(cause, event.side)

    def _to_caller(self, leg: CallLeg, event: CallEvent) -> None:
        self.caller.deliver(event)


_Rule = Callable[[Call, CallLeg, CallEvent], None]
_S, _A, _E = Phase.SETUP, Phase.ANSWERED, Phase.ENDED
_CALLER, _CALLEE, _FORK = _Role.CALLER, _Role.CALLEE, _Role.FORK

_RULES: dict[tuple[Phase, _Role, type], _Rule] = {
    # Setting up: the caller waits, the forks ring.
    (_S, _CALLER, Disconnect): Call._caller_cancelled,
    (_S, _CALLER, RingAck): Call._caller_ring_ack,
    **{(_S, _CALLER, offer): Call._caller_early_offer for offer in _OFFERS},
    **{(_S, _CALLER, outcome): Call._caller_early_outcome for outcome in _OUTCOMES},
    (_S, _FORK, Ring): Call._fork_ring,
    (_S, _FORK, Answer): Call._fork_answer,
    (_S, _FORK, Fail): Call._fork_failed,
    (_S, _FORK, Disconnect): Call._fork_failed,
    (_S, _FORK, Redirect): Call._fork_redirect,
    **{(_S, _FORK, offer): Call._fork_early_offer for offer in _OFFERS},
    **{(_S, _FORK, outcome): Call._fork_early_outcome for outcome in _OUTCOMES},
    # Answered: events are relayed end to end; late answers from other forks are released.
    (_A, _CALLER, Disconnect): Call._caller_hangup,
    (_A, _CALLER, Confirm): Call._to_callee,
    (_A, _CALLER, Info): Call._to_callee,
    (_A, _CALLEE, Info): Call._to_caller,
    **{(_A, _CALLER, offer): Call._to_callee for offer in _OFFERS},
    **{(_A, _CALLER, outcome): Call._to_callee for outcome in _OUTCOMES},
    (_A, _CALLEE, Disconnect): Call._callee_hangup,
    (_A, _CALLEE, Confirm): Call._to_caller,
    **{(_A, _CALLEE, offer): Call._to_caller for offer in _OFFERS},
    **{(_A, _CALLEE, outcome): Call._to_caller for outcome in _OUTCOMES},
    (_A, _FORK, Answer): Call._late_answer,
    # Ended: only an answer that crossed our CANCEL still needs work.
    (_E, _FORK, Answer): Call._late_answer,
}
