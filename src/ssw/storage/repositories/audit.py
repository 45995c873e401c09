"""The audit log in ``ecss_audit``: every command from every front end (SPEC §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select

from ssw.storage.errors import InvalidValue
from ssw.storage.records import AuditEntry
from ssw.storage.repositories.common import (
    Repository,
    from_db_time,
    inserted_id,
    retry_on_conflict,
    to_db_time,
)
from ssw.storage.tables import AuditRow, table_of

__all__ = ["AuditRepository"]

_audit = table_of(AuditRow)
#: longest command or result text kept; longer text is cut with a marker
_TEXT_LIMIT = 60_000


def _clip(text: str) -> str:
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 3] + "..."


def _record(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=from_db_time(row.at),
        user=row.user,
        source=row.source,
        front_end=row.front_end,
        command=row.command,
        result=row.result,
        success=bool(row.success),
    )


class AuditRepository(Repository):
    @retry_on_conflict
    async def add(self, entry: AuditEntry) -> int:
        """Write one entry; returns its id."""
        for name, value, limit in (
            ("user", entry.user, 64),
            ("source", entry.source, 128),
            ("front end", entry.front_end, 32),
        ):
            if not isinstance(value, str) or len(value) > limit:
                raise InvalidValue(f"audit {name} must be text of up to {limit} characters")
        values = {
            "at": to_db_time(entry.at, "audit time"),
            "user": entry.user,
            "source": entry.source,
            "front_end": entry.front_end,
            "command": _clip(entry.command),
            "result": _clip(entry.result),
            "success": bool(entry.success),
        }
        async with self._db.write() as conn:
            result = await conn.execute(insert(_audit).values(**values))
            return inserted_id(result)

    async def list(
        self,
        *,
        limit: int = 100,
        user: str | None = None,
        front_end: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditEntry]:
        """The newest `limit` entries matching the filters, oldest first."""
        query = select(_audit)
        if user is not None:
            query = query.where(_audit.c.user == user)
        if front_end is not None:
            query = query.where(_audit.c.front_end == front_end)
        if since is not None:
            query = query.where(_audit.c.at >= to_db_time(since, "since"))
        if until is not None:
            query = query.where(_audit.c.at < to_db_time(until, "until"))
        async with self._db.read() as conn:
            rows = await conn.execute(query.order_by(_audit.c.id.desc()).limit(limit))
            return [_record(r) for r in reversed(rows.all())]

    async def count(self) -> int:
        async with self._db.read() as conn:
            return int(await conn.scalar(select(func.count()).select_from(_audit)) or 0)
