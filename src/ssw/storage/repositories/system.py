"""Active alarms and the licence material, both in ``ecss_system``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, insert, select

from ssw.storage.errors import InvalidValue, NotFound
from ssw.storage.names import check_identifier
from ssw.storage.records import Alarm, LicenceBlob
from ssw.storage.repositories.common import (
    Repository,
    from_db_time,
    inserted_id,
    retry_on_conflict,
    to_db_time,
)
from ssw.storage.tables import AlarmRow, LicenceBlobRow, table_of

__all__ = ["SEVERITIES", "AlarmRepository", "LicenceRepository"]

_alarms = table_of(AlarmRow)
_blobs = table_of(LicenceBlobRow)
#: alarm severities (ITU-T X.733 perceived severity)
SEVERITIES = ("critical", "major", "minor", "warning", "indeterminate")
_PASSPORT = "passport"
_LICENCE = "licence"
_BLOB_LIMIT = 1_000_000


def _alarm(row: Row[Any]) -> Alarm:
    return Alarm(row.name, row.source, row.severity, row.text, from_db_time(row.raised_at))


class AlarmRepository(Repository):
    """The active alarm list (``/cluster/mediator/md1/alarms/list``)."""

    @retry_on_conflict
    async def raise_alarm(self, alarm: Alarm) -> None:
        """Make `alarm` active; raising an active one again updates its text and severity
        and keeps the time it was first raised."""
        check_identifier("alarm", alarm.name)
        if alarm.severity not in SEVERITIES:
            raise InvalidValue(f"severity {alarm.severity!r} is not one of {', '.join(SEVERITIES)}")
        if len(alarm.source) > 128:
            raise InvalidValue("an alarm source is up to 128 characters")
        values = {
            "name": alarm.name,
            "source": alarm.source,
            "severity": alarm.severity,
            "text": alarm.text,
            "raised_at": to_db_time(alarm.raised_at, "raised_at"),
        }
        refreshed = {"severity": alarm.severity, "text": alarm.text}
        async with self._db.write() as conn:
            await self._upsert(conn, _alarms, values, keys=["name", "source"], refreshed=refreshed)

    @retry_on_conflict
    async def clear(self, name: str, source: str | None = None) -> int:
        """Clear alarm `name` (from one source, or from all with None); returns how many."""
        query = delete(_alarms).where(_alarms.c.name == name)
        if source is not None:
            query = query.where(_alarms.c.source == source)
        async with self._db.write() as conn:
            return (await conn.execute(query)).rowcount

    async def list(self) -> list[Alarm]:
        """Active alarms, oldest first."""
        async with self._db.read() as conn:
            rows = await conn.execute(select(_alarms).order_by(_alarms.c.raised_at, _alarms.c.id))
            return [_alarm(r) for r in rows]

    async def is_active(self, name: str, source: str | None = None) -> bool:
        return any(a.name == name and source in (None, a.source) for a in await self.list())


def _blob(row: Row[Any]) -> LicenceBlob:
    return LicenceBlob(row.id, row.kind, row.content, from_db_time(row.added_at))


def _check_content(content: str) -> None:
    if not isinstance(content, str) or not content.strip() or len(content) > _BLOB_LIMIT:
        raise InvalidValue("licence material must be non-empty text of up to 1 MB")


class LicenceRepository(Repository):
    """The passport (one) and the licence keys (any number), as pasted (SPEC §9).
    Checking them is ssw.licence's business; this only keeps them."""

    @retry_on_conflict
    async def set_passport(self, content: str) -> LicenceBlob:
        """Replace the passport."""
        _check_content(content)
        added_at = self._now()
        async with self._db.write() as conn:
            await conn.execute(delete(_blobs).where(_blobs.c.kind == _PASSPORT))
            result = await conn.execute(
                insert(_blobs).values(kind=_PASSPORT, content=content, added_at=added_at)
            )
            ident = inserted_id(result)
        return LicenceBlob(ident, _PASSPORT, content, from_db_time(added_at))

    async def passport(self) -> LicenceBlob | None:
        async with self._db.read() as conn:
            row = (await conn.execute(select(_blobs).where(_blobs.c.kind == _PASSPORT))).first()
        return None if row is None else _blob(row)

    @retry_on_conflict
    async def add(self, content: str) -> LicenceBlob:
        """Keep one more licence key."""
        _check_content(content)
        added_at = self._now()
        async with self._db.write() as conn:
            result = await conn.execute(
                insert(_blobs).values(kind=_LICENCE, content=content, added_at=added_at)
            )
            ident = inserted_id(result)
        return LicenceBlob(ident, _LICENCE, content, from_db_time(added_at))

    async def list(self) -> list[LicenceBlob]:
        """The licence keys, oldest first."""
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(_blobs).where(_blobs.c.kind == _LICENCE).order_by(_blobs.c.id)
            )
            return [_blob(r) for r in rows]

    @retry_on_conflict
    async def remove(self, ident: int) -> None:
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(_blobs).where(_blobs.c.id == ident, _blobs.c.kind == _LICENCE)
            )
            if result.rowcount == 0:
                raise NotFound(f"licence {ident} does not exist")
