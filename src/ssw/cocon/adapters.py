"""The console's logins and audit log over `ssw.storage` (users in ecss_system, ecss_audit)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .executor import AuditEntry
from .registry import Role

__all__ = ["StorageAudit", "StorageUsers", "role_of"]


def role_of(role_name: str, privileges: frozenset[str]) -> Role:
    """The console role of a stored user: `*` or the admin role is ADMIN."""
    if "*" in privileges or role_name == "admin":
        return Role.ADMIN
    try:
        return Role.parse(role_name)
    except ValueError:
        return Role.VIEWER


class StorageUsers:
    """Authenticator over `storage.users`."""

    def __init__(self, storage: Any) -> None:
        self._users = storage.users

    async def verify(self, user: str, password: str) -> Role | None:
        found = await self._users.verify(user, password)
        return None if found is None else role_of(found.role, found.privileges)

    async def default_password_in_use(self) -> bool:
        return bool(await self._users.is_default_password())


class StorageAudit:
    """AuditSink over `storage.audit` (the ecss_audit database)."""

    def __init__(self, storage: Any) -> None:
        self._audit = storage.audit

    async def record(self, entry: AuditEntry) -> None:
        from ssw.storage.records import AuditEntry as StoredEntry

        await self._audit.add(
            StoredEntry(
                at=dt.datetime.fromtimestamp(entry.time, dt.UTC),
                user=entry.user[:64],
                source=entry.source[:128],
                front_end=entry.frontend[:32],
                command=entry.command,
                result=entry.result,
                success=entry.result == "ok",
            )
        )
