"""The console shared by every front end: registry, executor, services and logins."""

from __future__ import annotations

from dataclasses import dataclass, field

from .auth import Authenticator, LoginGuard
from .executor import Executor
from .registry import CommandContext, Registry, Role
from .services import CoconServices
from .session import ConsoleSession

__all__ = ["DEFAULT_PASSWORD_BANNER", "Console"]

DEFAULT_PASSWORD_BANNER = (
    "WARNING: the default password is in use. Change it now with:\n"
    "  /system/user/set-password <user> <new-password>\n"
)


@dataclass
class Console:
    registry: Registry
    services: CoconServices
    executor: Executor
    authenticator: Authenticator
    guard: LoginGuard = field(default_factory=LoginGuard)

    def context(self, user: str, role: Role, source: str, frontend: str) -> CommandContext:
        return CommandContext(user, role, source, frontend, self.services)

    def session(self, user: str, role: Role, source: str, frontend: str) -> ConsoleSession:
        return ConsoleSession(
            self.registry,
            self.executor,
            self.context(user, role, source, frontend),
            self.services.identity,
            values=self.completion_values,
        )

    async def login(
        self, user: str, password: str, source: str, frontend: str = "ssh"
    ) -> Role | None:
        """Check a password, counting failures per source address (rate limit); every
        attempt is audited as `login`."""
        now = self.services.clock()
        if not self.guard.allowed(source, now):
            await self.executor.record_login(user, source, frontend, "refused: too many failures")
            return None
        role = await self.authenticator.verify(user, password)
        if role is None:
            self.guard.failed(source, now)
            await self.executor.record_login(user, source, frontend, "refused: wrong password")
        else:
            self.guard.succeeded(source)
            await self.executor.record_login(user, source, frontend, "ok")
        return role

    async def completion_values(self) -> dict[str, list[str]]:
        """Values of placeholders for Tab completion: the domains, when storage is there."""
        storage = self.services.storage
        if storage is None:
            return {}
        try:
            return {"D": [domain.name for domain in await storage.domains.list()]}
        except Exception:
            return {}  # completion is a convenience; the command itself will report the fault

    async def banner(self) -> str:
        """What an interactive session shows after login."""
        if await self.authenticator.default_password_in_use():
            return DEFAULT_PASSWORD_BANNER
        return ""
