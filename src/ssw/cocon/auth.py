"""Console logins: who may log in with what role, and a limit on failed attempts per address.

`LoginGuard` is sans-I/O: the caller passes `now`. After `max_failures` failed logins from one
source address within `window` seconds, that address is refused for `lockout` seconds, even
with the right password, so that a password cannot be guessed at line speed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from .registry import Role

__all__ = ["DEFAULT_PASSWORD", "DEFAULT_USER", "Authenticator", "LoginGuard"]

DEFAULT_USER = "admin"
DEFAULT_PASSWORD = "password"  # SPEC §2: out of the box, with an alarm until it is changed


class Authenticator(Protocol):
    async def verify(self, user: str, password: str) -> Role | None:
        """The user's role when the password is right, else None."""

    async def default_password_in_use(self) -> bool:
        """True while the default user still has the default password."""


@dataclass
class LoginGuard:
    max_failures: int = 5
    window: float = 60.0
    lockout: float = 60.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)

    def allowed(self, source: str, now: float) -> bool:
        until = self._locked_until.get(source)
        if until is None:
            return True
        if now >= until:
            del self._locked_until[source]
            self._failures.pop(source, None)
            return True
        return False

    def failed(self, source: str, now: float) -> None:
        failures = self._failures.setdefault(source, deque())
        failures.append(now)
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if len(failures) >= self.max_failures:
            self._locked_until[source] = now + self.lockout
        self._forget_old(now)

    def succeeded(self, source: str) -> None:
        self._failures.pop(source, None)

    def _forget_old(self, now: float) -> None:
        # Bound memory: drop addresses whose failures and lockouts are over.
        if len(self._failures) + len(self._locked_until) < 10_000:
            return
        for source in [s for s, f in self._failures.items() if not f or f[-1] <= now - self.window]:
            del self._failures[source]
        for source in [s for s, until in self._locked_until.items() if until <= now]:
            del self._locked_until[source]
