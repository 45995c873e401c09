"""Running a parsed command: role check, the handler, error mapping, and the audit record.

Every front end goes through `Executor.run`, so every command from every front end is audited
(SPEC §5: user, source, front end, command, result) and every failure has the same shape.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ssw.storage.errors import StorageError

from .errors import CoconError, CommandError
from .parser import Invocation
from .registry import CommandContext, CommandResult

__all__ = ["AuditEntry", "AuditSink", "Executor"]

log = logging.getLogger(__name__)

#: longest command text kept in the audit log (a pasted routing XML can be large)
MAX_AUDITED_COMMAND = 4000


@dataclass(frozen=True)
class AuditEntry:
    time: float  # seconds since the epoch
    user: str
    source: str
    frontend: str
    command: str
    result: str  # "ok" or the error as the operator saw it


class AuditSink(Protocol):
    async def record(self, entry: AuditEntry) -> None: ...


class Executor:
    """Runs invocations for every front end; `audit` receives one entry per command."""

    def __init__(self, audit: AuditSink | None, clock: Callable[[], float] = time.time) -> None:
        self._audit = audit
        self._clock = clock

    async def run(self, context: CommandContext, invocation: Invocation) -> CommandResult:
        command = invocation.command
        try:
            if context.role < command.role:
                raise CommandError(
                    f"permission denied: {command.path} needs the {command.role.name.lower()} role",
                    cause="permission_denied",
                )
            try:
                result = await command.handler(context, invocation.arguments)
            except StorageError as exc:
                raise CommandError(str(exc), cause=exc.cause) from exc
        except CoconError as exc:
            await self._record(context, invocation, exc.render().replace("\n", " "), command.audit)
            raise
        except Exception as exc:
            log.exception("command %s failed", command.path)
            error = CommandError(f"internal error ({type(exc).__name__}); see the log")
            await self._record(context, invocation, error.render(), command.audit)
            raise error from exc
        await self._record(context, invocation, "ok", command.audit)
        return result

    async def record_login(self, user: str, source: str, frontend: str, result: str) -> None:
        """Audit a login attempt (result "ok" or why it was refused)."""
        if self._audit is None:
            return
        entry = AuditEntry(self._clock(), user[:64], f"{frontend}:{source}", frontend, "login",
                           result)
        try:
            await self._audit.record(entry)
        except Exception:
            log.exception("could not write the audit record of a login")

    async def reject(self, context: CommandContext, line: str, error: CoconError) -> None:
        """Audit a line that did not parse (unknown command, bad arguments)."""
        if self._audit is None or not line.strip():
            return
        entry = AuditEntry(
            self._clock(),
            context.user,
            context.source,
            context.frontend,
            line.strip()[:MAX_AUDITED_COMMAND],
            error.render().replace("\n", " ")[:MAX_AUDITED_COMMAND],
        )
        try:
            await self._audit.record(entry)
        except Exception:
            log.exception("could not write the audit record for %r", line[:80])

    async def _record(
        self, context: CommandContext, invocation: Invocation, result: str, wanted: bool
    ) -> None:
        if self._audit is None or not wanted:
            return
        entry = AuditEntry(
            self._clock(),
            context.user,
            context.source,
            context.frontend,
            invocation.line.strip()[:MAX_AUDITED_COMMAND],
            result[:MAX_AUDITED_COMMAND],
        )
        try:
            await self._audit.record(entry)
        except Exception:
            # The command has already run; losing its audit line must be loud, not fatal.
            log.exception("could not write the audit record for %s", invocation.command.path)
