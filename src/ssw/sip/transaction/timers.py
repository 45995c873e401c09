"""Transaction timers of RFC 3261 §17 (Table 4 of Appendix A) and RFC 6026 §8.

Every duration is derived from three base values, which a domain may tune
(`/domain/<D>/sip/timer/set T1 ...`): T1 (RTT estimate, default 500 ms), T2 (the largest
interval between retransmissions of a non-INVITE request or an INVITE response, default
4 s) and T4 (the longest a message stays in the network, default 5 s).

Nothing here reads a clock: a timer is a duration, the transaction adds it to the `now`
it was given.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["TimerConfig", "TimerName"]


class TimerName(enum.StrEnum):
    """The RFC's timer names, each with the machine and role it has (RFC 3261 Appendix A)."""

    A = "A"  # INVITE client: request retransmission interval, unreliable only (§17.1.1.2)
    B = "B"  # INVITE client: transaction timeout in Calling (§17.1.1.2)
    D = "D"  # INVITE client: wait for response retransmissions in Completed (§17.1.1.2)
    E = "E"  # non-INVITE client: request retransmission interval, unreliable only (§17.1.2.2)
    F = "F"  # non-INVITE client: transaction timeout (§17.1.2.2)
    G = "G"  # INVITE server: response retransmission interval, unreliable only (§17.2.1)
    H = "H"  # INVITE server: wait for ACK receipt (§17.2.1)
    I = "I"  # INVITE server: wait for ACK retransmissions in Confirmed (§17.2.1)  # noqa: E741
    J = "J"  # non-INVITE server: wait for request retransmissions (§17.2.2)
    K = "K"  # non-INVITE client: wait for response retransmissions (§17.1.2.2)
    L = "L"  # INVITE server: wait for INVITE retransmissions in Accepted (RFC 6026 §8.7)
    M = "M"  # INVITE client: wait for 2xx retransmissions in Accepted (RFC 6026 §8.4)


# Timers that only retransmit: never started over a reliable transport (§17.1.1.2,
# §17.1.2.2, §17.2.1).
RETRANSMIT_TIMERS = frozenset({TimerName.A, TimerName.E, TimerName.G})

# Timers that absorb stray retransmissions: zero over a reliable transport (Appendix A).
ABSORB_TIMERS = frozenset({TimerName.D, TimerName.I, TimerName.J, TimerName.K})


@dataclass(frozen=True, slots=True)
class TimerConfig:
    """T1/T2/T4 in seconds, and the durations of timers A..M derived from them.

    `timer_d` is the Completed wait of the INVITE client over an unreliable transport;
    RFC 3261 §17.1.1.2 requires at least 32 s, so a smaller value is raised to 32 s.
    """

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    timer_d: float = 32.0

    def __post_init__(self) -> None:
        for name in ("t1", "t2", "t4", "timer_d"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        if self.t2 < self.t1:
            raise ValueError(f"T2 ({self.t2} s) must not be smaller than T1 ({self.t1} s)")

    @property
    def transaction_timeout(self) -> float:
        """64*T1: Timers B, F, H, L, M and (unreliable) J."""
        return 64 * self.t1

    def initial(self, timer: TimerName, *, reliable: bool) -> float | None:
        """The first duration of `timer`, or None when it is not used on this transport.

        A reliable transport does not start the retransmission timers (A, E, G) and sets
        the absorption timers (D, I, J, K) to zero (RFC 3261 Appendix A).
        """
        if reliable and timer in RETRANSMIT_TIMERS:
            return None
        if reliable and timer in ABSORB_TIMERS:
            return 0.0
        match timer:
            case TimerName.A | TimerName.E | TimerName.G:
                return self.t1
            case TimerName.D:
                return max(self.timer_d, 32.0)
            case TimerName.I | TimerName.K:
                return self.t4
            case _:
                return self.transaction_timeout

    def backoff(self, timer: TimerName, previous: float) -> float:
        """The next interval of a retransmission timer after it fired with `previous`.

        Timer A doubles without bound (§17.1.1.2); Timers E and G double up to T2
        (§17.1.2.2, §17.2.1).
        """
        if timer is TimerName.A:
            return 2 * previous
        if timer in (TimerName.E, TimerName.G):
            return min(2 * previous, self.t2)
        raise ValueError(f"Timer {timer} is not a retransmission timer")
