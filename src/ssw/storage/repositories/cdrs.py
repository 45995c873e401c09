"""Call detail records in ``ecss_calls_db`` (SPEC §6): one row per call attempt.

Answer delay and duration are computed here from the times, to the millisecond, so a
stored record can never contradict itself; ECSS-10 is certified as a call-duration
measuring system, and so the times are checked for order before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select

from ssw.storage.errors import InvalidValue, NotFound
from ssw.storage.records import Cdr
from ssw.storage.repositories.common import (
    Repository,
    from_db_time,
    inserted_id,
    retry_on_conflict,
    to_db_time,
)
from ssw.storage.tables import CdrRow, table_of

__all__ = ["RELEASE_SIDES", "CdrRepository"]

_cdrs = table_of(CdrRow)
#: who ended the call
RELEASE_SIDES = ("caller", "callee", "system")


def _text(name: str, value: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidValue(f"CDR {name} must be text of up to {limit} characters")
    return value


def _values(cdr: Cdr) -> dict[str, Any]:
    setup_at = to_db_time(cdr.setup_at, "CDR setup time")
    end_at = to_db_time(cdr.end_at, "CDR end time")
    answer_at = None if cdr.answer_at is None else to_db_time(cdr.answer_at, "CDR answer time")
    if end_at < setup_at:
        raise InvalidValue("a CDR cannot end before its setup")
    if answer_at is not None and not setup_at <= answer_at <= end_at:
        raise InvalidValue("a CDR's answer time must lie between its setup and its end")
    if not isinstance(cdr.release_cause, int) or not 0 <= cdr.release_cause <= 127:
        raise InvalidValue(f"release cause {cdr.release_cause!r} is not a Q.850 cause (0-127)")
    if cdr.release_side not in RELEASE_SIDES:
        raise InvalidValue(f"release side {cdr.release_side!r} is not one of {RELEASE_SIDES}")
    stored = Cdr(
        domain=cdr.domain,
        connection_id=cdr.connection_id,
        caller=cdr.caller,
        callee=cdr.callee,
        setup_at=setup_at,
        answer_at=answer_at,
        end_at=end_at,
        release_cause=cdr.release_cause,
        release_side=cdr.release_side,
    )
    return {
        "domain": _text("domain", cdr.domain, 128),
        "connection_id": _text("connection id", cdr.connection_id, 64),
        "caller": _text("caller", cdr.caller, 64),
        "callee": _text("callee", cdr.callee, 64),
        "setup_at": setup_at,
        "answer_at": answer_at,
        "end_at": end_at,
        "answer_delay_ms": stored.answer_delay_ms,
        "duration_ms": stored.duration_ms,
        "release_cause": cdr.release_cause,
        "release_side": cdr.release_side,
        "cdr_group": _text("CDR group", cdr.cdr_group, 64),
        "recording_file": _text("recording file", cdr.recording_file, 255),
        "incoming_call_id": _text("incoming Call-ID", cdr.incoming_call_id, 255),
        "outgoing_call_id": _text("outgoing Call-ID", cdr.outgoing_call_id, 255),
    }


def _record(row: Row[Any]) -> Cdr:
    return Cdr(
        id=row.id,
        domain=row.domain,
        connection_id=row.connection_id,
        caller=row.caller,
        callee=row.callee,
        setup_at=from_db_time(row.setup_at),
        answer_at=None if row.answer_at is None else from_db_time(row.answer_at),
        end_at=from_db_time(row.end_at),
        release_cause=row.release_cause,
        release_side=row.release_side,
        cdr_group=row.cdr_group,
        recording_file=row.recording_file,
        incoming_call_id=row.incoming_call_id,
        outgoing_call_id=row.outgoing_call_id,
    )


class CdrRepository(Repository):
    @retry_on_conflict
    async def add(self, cdr: Cdr) -> int:
        """Store one call attempt; returns its id. Nothing is written if a field is bad."""
        values = _values(cdr)
        async with self._db.write() as conn:
            result = await conn.execute(insert(_cdrs).values(**values))
            return inserted_id(result)

    @retry_on_conflict
    async def add_many(self, cdrs: Iterable[Cdr]) -> int:
        """Store several records in one transaction (all or none); returns how many."""
        rows = [_values(cdr) for cdr in cdrs]
        if rows:
            async with self._db.write() as conn:
                await conn.execute(insert(_cdrs), rows)
        return len(rows)

    async def get(self, ident: int) -> Cdr:
        async with self._db.read() as conn:
            row = (await conn.execute(select(_cdrs).where(_cdrs.c.id == ident))).first()
        if row is None:
            raise NotFound(f"CDR {ident} does not exist")
        return _record(row)

    async def list(
        self,
        *,
        domain: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        connection_id: str | None = None,
        cdr_group: str | None = None,
        after_id: int = 0,
        limit: int = 1000,
    ) -> list[Cdr]:
        """Records in the order they were written, filtered by domain, setup time
        (``since <= setup < until``), connection id or CDR group; page on with `after_id`."""
        query = select(_cdrs).where(_cdrs.c.id > after_id)
        if domain is not None:
            query = query.where(_cdrs.c.domain == domain)
        if since is not None:
            query = query.where(_cdrs.c.setup_at >= to_db_time(since, "since"))
        if until is not None:
            query = query.where(_cdrs.c.setup_at < to_db_time(until, "until"))
        if connection_id is not None:
            query = query.where(_cdrs.c.connection_id == connection_id)
        if cdr_group is not None:
            query = query.where(_cdrs.c.cdr_group == cdr_group)
        async with self._db.read() as conn:
            rows = await conn.execute(query.order_by(_cdrs.c.id).limit(limit))
            return [_record(r) for r in rows]

    async def count(self, domain: str | None = None) -> int:
        query = select(func.count()).select_from(_cdrs)
        if domain is not None:
            query = query.where(_cdrs.c.domain == domain)
        async with self._db.read() as conn:
            return int(await conn.scalar(query) or 0)
