"""What every repository shares: time and JSON conversion, domain lookup, duplicate errors."""

from __future__ import annotations

import asyncio
import functools
import json
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import CursorResult, Row, Table, delete, select, update
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ssw.storage.engine import Database
from ssw.storage.errors import InvalidValue, NotFound
from ssw.storage.records import PropertyValue
from ssw.storage.tables import DomainRow, table_of

__all__ = [
    "Clock",
    "Repository",
    "domain_id",
    "dump_json",
    "existing",
    "from_db_time",
    "inserted_id",
    "is_duplicate",
    "load_json",
    "retry_on_conflict",
    "system_clock",
    "to_db_time",
]

Clock = Callable[[], datetime]

_domains = table_of(DomainRow)


def system_clock() -> datetime:
    return datetime.now(UTC)


class Repository:
    """Base of the repositories: the database and the clock for bookkeeping times."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def _now(self) -> datetime:
        return to_db_time(self._clock(), "the clock")

    async def _find_in_domain(
        self, table: Table, domain: str, column: str, value: object
    ) -> Row[Any] | None:
        """The row of `table` in `domain` whose `column` is `value` (NotFound without the
        domain)."""
        async with self._db.read() as conn:
            ident = await domain_id(conn, domain)
            query = select(table).where(table.c.domain_id == ident, table.c[column] == value)
            return (await conn.execute(query)).first()

    async def _list_in_domain(self, table: Table, domain: str, order_by: str) -> list[Row[Any]]:
        """The rows of `table` in `domain`, ordered by `order_by` (NotFound without the domain)."""
        async with self._db.read() as conn:
            ident = await domain_id(conn, domain)
            query = select(table).where(table.c.domain_id == ident).order_by(table.c[order_by])
            return list(await conn.execute(query))

    async def _remove_in_domain(
        self, table: Table, domain: str, column: str, value: object, missing: str
    ) -> None:
        """Delete the row of `table` in `domain` whose `column` is `value`; NotFound with the
        message `missing` when there is none."""
        async with self._db.write() as conn:
            ident = await domain_id(conn, domain)
            result = await conn.execute(
                delete(table).where(table.c.domain_id == ident, table.c[column] == value)
            )
            if result.rowcount == 0:
                raise NotFound(missing)

    async def _change_json_in_domain(
        self,
        table: Table,
        domain: str,
        key: tuple[str, object],
        document: str,
        change: Callable[[Any], Any],
        missing: str,
    ) -> None:
        """Rewrite the JSON column `document` of the row of `table` in `domain` whose column
        `key[0]` is `key[1]`, as `change` makes it from the stored value, with the row locked
        in between; NotFound with the message `missing` when there is no such row."""
        async with self._db.write() as conn:
            ident = await domain_id(conn, domain)
            where = (table.c.domain_id == ident, table.c[key[0]] == key[1])
            current = await conn.scalar(select(table.c[document]).where(*where).with_for_update())
            if current is None:
                raise NotFound(missing)
            changed = change(load_json(current))
            await conn.execute(update(table).where(*where).values({document: dump_json(changed)}))

    async def _upsert(
        self,
        conn: AsyncConnection,
        table: Table,
        values: Mapping[str, Any],
        *,
        keys: list[str],
        refreshed: Mapping[str, Any],
    ) -> None:
        """Insert the row `values`, or where one with the same unique `keys` is there
        already, set its `refreshed` columns (each back end in its own words)."""
        if self._db.dialect == "sqlite":
            await conn.execute(
                sqlite.insert(table)
                .values(**values)
                .on_conflict_do_update(index_elements=keys, set_=dict(refreshed))
            )
        else:
            await conn.execute(
                mysql.insert(table).values(**values).on_duplicate_key_update(**refreshed)
            )


#: MariaDB/MySQL errors after which the whole transaction may simply be run again:
#: 1213 deadlock (InnoDB chose this transaction as the victim), 1205 lock wait timeout
_RETRYABLE_MYSQL_ERRORS = frozenset({1213, 1205})
#: attempts of one write before the error is passed on
WRITE_ATTEMPTS = 8

_P = ParamSpec("_P")
_R = TypeVar("_R")
_T = TypeVar("_T")


def _is_conflict(error: DBAPIError) -> bool:
    code = error.orig.args[0] if error.orig is not None and error.orig.args else None
    return isinstance(code, int) and code in _RETRYABLE_MYSQL_ERRORS


def retry_on_conflict(
    method: Callable[_P, Awaitable[_R]],
) -> Callable[_P, Awaitable[_R]]:
    """Run a repository write again when the database aborted its transaction because of a
    conflict with another one (a deadlock). The aborted attempt was rolled back whole, so
    running it again is safe; one-pass iterators among the arguments are kept in lists
    first so that every attempt sees the same input."""

    @functools.wraps(method)
    async def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        args = tuple(list(a) if isinstance(a, Iterator) else a for a in args)  # type: ignore[assignment]
        for name, value in kwargs.items():
            if isinstance(value, Iterator):
                kwargs[name] = list(value)
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return await method(*args, **kwargs)
            except DBAPIError as error:
                if attempt == WRITE_ATTEMPTS or not _is_conflict(error):
                    raise
            # Back off a little, at random, so the transactions that collided part ways.
            await asyncio.sleep(random.uniform(0.001, 0.01) * attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    return run


def to_db_time(value: datetime, what: str) -> datetime:
    """Aware time -> naive UTC truncated to milliseconds, as both back ends store it."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(f"{what} must be a timezone-aware datetime, not {value!r}")
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def from_db_time(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


#: longest JSON document kept in one TEXT column (MySQL TEXT holds 65,535 bytes)
JSON_LIMIT = 16_000


def dump_json(value: PropertyValue | Mapping[str, Any] | list[Any] | tuple[Any, ...]) -> str:
    """Canonical JSON of a setting, parameter set or list; InvalidValue when the value is
    not plain data (text, numbers, booleans, lists, mappings) or is too large to keep."""
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as error:
        raise InvalidValue(f"cannot store {value!r}: {error}") from None
    if len(text) > JSON_LIMIT:
        raise InvalidValue(f"the value is too large to store ({len(text)} > {JSON_LIMIT} chars)")
    return text


def load_json(text: str) -> Any:
    return json.loads(text)


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row an INSERT just wrote."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise RuntimeError("the database did not report the id of the inserted row")
    return int(key[0])


def is_duplicate(error: IntegrityError) -> bool:
    """True when `error` is a unique-key violation (SQLite and MariaDB wordings)."""
    message = str(error.orig).lower()
    return "unique" in message or "duplicate" in message


async def domain_id(conn: AsyncConnection, name: str, *, lock: bool = False) -> int:
    """The id of domain `name`; NotFound when there is none."""
    query = select(_domains.c.id).where(_domains.c.name == name)
    if lock:
        query = query.with_for_update(read=True)
    found = await conn.scalar(query)
    if found is None:
        raise NotFound(f"domain {name!r} does not exist")
    return int(found)


def existing(found: _T | None, missing: str) -> _T:
    """What a `find` returned; NotFound with the message `missing` when it found nothing."""
    if found is None:
        raise NotFound(missing)
    return found
