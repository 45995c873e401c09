"""Registrations: the location service's contact bindings (RFC 3261 §10.3), kept so that
they survive a restart. The registrar decides; this stores and lists. Time is passed in.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect, Row, bindparam, delete, func, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ssw.storage.errors import InvalidValue, NotFound
from ssw.storage.names import split_address
from ssw.storage.records import Binding
from ssw.storage.repositories.common import (
    Repository,
    dump_json,
    from_db_time,
    load_json,
    retry_on_conflict,
    to_db_time,
)
from ssw.storage.tables import DomainRow, RegistrationRow, SubscriberRow, table_of

__all__ = ["RegistrationRepository"]

_domains = table_of(DomainRow)
_subscribers = table_of(SubscriberRow)
_registrations = table_of(RegistrationRow)
_TRANSPORTS = ("udp", "tcp", "tls", "ws", "wss")
_BATCH = 500


def _check(binding: Binding, *, aor_checked: bool = False) -> dict[str, Any]:
    if not aor_checked:
        split_address(binding.aor)
    if not binding.contact or len(binding.contact) > 500:
        raise InvalidValue("a contact URI must be 1-500 characters")
    q = binding.q
    if not (isinstance(q, int | float) and math.isfinite(q) and 0 <= q <= 1):
        raise InvalidValue(f"q must be between 0 and 1 (RFC 3261 §20.10), not {binding.q!r}")
    if binding.transport not in _TRANSPORTS:
        raise InvalidValue(
            f"transport {binding.transport!r} is not one of {', '.join(_TRANSPORTS)}"
        )
    if not 0 <= binding.source_port <= 65535:
        raise InvalidValue(f"source port {binding.source_port} is out of range")
    if not 0 <= binding.cseq < 2**31:
        raise InvalidValue(f"CSeq {binding.cseq} is out of range (RFC 3261 §8.1.1.5)")
    return {
        "aor": binding.aor,
        "contact": binding.contact,
        "q": float(binding.q),
        "expires_at": to_db_time(binding.expires_at, "expires_at"),
        "call_id": binding.call_id[:255],
        "cseq": binding.cseq,
        "source_host": binding.source_host[:64],
        "source_port": binding.source_port,
        "transport": binding.transport,
        "user_agent": binding.user_agent[:255],
        "path": dump_json(list(binding.path)) if binding.path else "[]",
        "instance": binding.instance[:255],
        "reg_id": binding.reg_id,
    }


def _record(row: Row[Any]) -> Binding:
    return Binding(
        aor=row.aor,
        contact=row.contact,
        expires_at=from_db_time(row.expires_at),
        q=row.q,
        call_id=row.call_id,
        cseq=row.cseq,
        source_host=row.source_host,
        source_port=row.source_port,
        transport=row.transport,
        user_agent=row.user_agent,
        path=tuple(load_json(row.path)),
        instance=row.instance,
        reg_id=row.reg_id,
    )


#: the columns `_check` fills, in the order the SQLite statements take them
_VALUE_COLUMNS = ("aor", "contact", "q", "expires_at", "call_id", "cseq", "source_host",
                  "source_port", "transport", "user_agent", "path", "instance", "reg_id")


@dataclass(frozen=True, slots=True)
class _SqliteBatch:
    """`replace_many`'s statements rendered once for SQLite (qmark parameters):

    * `delete`: every binding of one AOR;
    * `insert`: one binding, selected from the subscriber's row, so that nothing is
      written for a subscriber removed meanwhile (its AOR is left out, as the SQLAlchemy
      path does with a query first);
    * `insert_order`: the names of `insert`'s parameters, in order;
    * `to_db`: the dialect's own conversion of a datetime, so that rows read the same
      whichever path wrote them."""

    delete: str
    insert: str
    insert_order: tuple[str, ...]
    to_db: Callable[[Any], Any]

    @classmethod
    def for_dialect(cls, dialect: Dialect) -> _SqliteBatch:
        owner = (_subscribers.join(_domains, _subscribers.c.domain_id == _domains.c.id))
        adding = insert(_registrations).from_select(
            [*_VALUE_COLUMNS, "subscriber_id", "updated_at"],
            select(*(bindparam(name) for name in _VALUE_COLUMNS), _subscribers.c.id,
                   bindparam("updated_at"))
            .select_from(owner)
            .where(_domains.c.name == bindparam("domain"),
                   _subscribers.c.number == bindparam("number")),
        ).compile(dialect=dialect)
        dropping = delete(_registrations).where(_registrations.c.aor == bindparam("aor"))
        time_type = _registrations.c.expires_at.type.dialect_impl(dialect)
        to_db = time_type.bind_processor(dialect) or (lambda value: value)
        return cls(str(dropping.compile(dialect=dialect)), str(adding),
                   tuple(adding.positiontup or ()), to_db)

    def rows(self, aor: str, values: list[dict[str, Any]],
             updated_at: Any) -> list[tuple[Any, ...]]:
        number, _, domain = aor.rpartition("@")  # checked by `replace_many`
        order = self.insert_order
        rows = []
        for row in values:
            row.update(expires_at=self.to_db(row["expires_at"]), updated_at=updated_at,
                       number=number, domain=domain)
            rows.append(tuple([row[name] for name in order]))
        return rows


@functools.cache
def _sqlite_batch() -> _SqliteBatch:
    """The statements for every SQLite engine: the schemas are the logical names there."""
    return _SqliteBatch.for_dialect(sqlite.dialect())


async def _existing_sqlite(driver: Any, dialect: Dialect, aors: list[str]) -> set[str]:
    """The AORs among `aors` whose subscriber exists, read in the open SQLite transaction."""
    by_domain: dict[str, list[str]] = {}
    for aor in aors:
        number, domain = split_address(aor)
        by_domain.setdefault(domain, []).append(number)
    found: set[str] = set()
    for domain, numbers in by_domain.items():
        for start in range(0, len(numbers), _BATCH):
            chunk = numbers[start : start + _BATCH]
            query = (
                select(_subscribers.c.number)
                .join(_domains, _subscribers.c.domain_id == _domains.c.id)
                .where(_domains.c.name == domain, _subscribers.c.number.in_(chunk))
                .compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
            )
            params = query.construct_params()
            rows = await driver.execute_fetchall(
                str(query), tuple(params[name] for name in query.positiontup or ()))
            found.update(f"{number}@{domain}" for (number,) in rows)
    return found


_ORDER = (_registrations.c.aor, _registrations.c.q.desc(), _registrations.c.id)


async def _subscriber_ids(conn: AsyncConnection, aors: list[str]) -> dict[str, int]:
    """AOR -> subscriber id, for the AORs whose subscriber exists."""
    by_domain: dict[str, list[str]] = {}
    for aor in aors:
        number, domain = split_address(aor)
        by_domain.setdefault(domain, []).append(number)
    found: dict[str, int] = {}
    for domain, numbers in by_domain.items():
        for start in range(0, len(numbers), _BATCH):
            rows = await conn.execute(
                select(_subscribers.c.number, _subscribers.c.id)
                .join(_domains, _subscribers.c.domain_id == _domains.c.id)
                .where(
                    _domains.c.name == domain,
                    _subscribers.c.number.in_(numbers[start : start + _BATCH]),
                )
            )
            found.update({f"{number}@{domain}": ident for number, ident in rows})
    return found


class RegistrationRepository(Repository):
    """Contact bindings by AOR ``number@domain``."""

    @retry_on_conflict
    async def upsert(self, binding: Binding) -> Binding:
        """Add the binding, or refresh the one with the same AOR and contact URI."""
        values = _check(binding)
        async with self._db.write() as conn:
            await self._write(conn, binding.aor, [values])
        return binding

    async def replace_for_aor(self, aor: str, bindings: Sequence[Binding]) -> None:
        """Make `bindings` the AOR's whole set in one transaction: contacts not listed are
        removed, the others added or refreshed (the outcome of one REGISTER, RFC 3261
        §10.3 step 8). An empty list removes every binding of the AOR."""
        if await self.replace_many({aor: bindings}):
            raise NotFound(f"subscriber {aor} does not exist")

    @retry_on_conflict
    async def replace_many(self, changes: Mapping[str, Sequence[Binding]]) -> list[str]:
        """`replace_for_aor` for many AORs in one transaction of a few statements, for a
        registrar that writes its location service behind in batches. AORs whose
        subscriber no longer exists are left out and returned; the rest is written."""
        rows: dict[str, list[dict[str, Any]]] = {}
        for aor, bindings in changes.items():
            split_address(aor)
            if any(b.aor != aor for b in bindings):
                raise InvalidValue(f"every binding given for {aor} must belong to it")
            contacts = [b.contact for b in bindings]
            if len(set(contacts)) != len(contacts):
                raise InvalidValue(f"the same contact is given twice for {aor}")
            rows[aor] = [_check(b, aor_checked=True) for b in bindings]
        if not rows:
            return []
        updated_at = self._now()
        if self._db.dialect == "sqlite":
            return await self._replace_many_sqlite(rows, updated_at)
        async with self._db.write() as conn:
            owners = await _subscriber_ids(conn, list(rows))
            written = [aor for aor in rows if aor in owners]
            for start in range(0, len(written), _BATCH):
                await conn.execute(
                    delete(_registrations).where(
                        _registrations.c.aor.in_(written[start : start + _BATCH])
                    )
                )
            fresh = [
                {**values, "subscriber_id": owners[aor], "updated_at": updated_at}
                for aor in written
                for values in rows[aor]
            ]
            for start in range(0, len(fresh), _BATCH):
                await conn.execute(insert(_registrations), fresh[start : start + _BATCH])
        return [aor for aor in rows if aor not in owners]

    async def _replace_many_sqlite(self, rows: dict[str, list[dict[str, Any]]],
                                   updated_at: datetime) -> list[str]:
        """`replace_many` on SQLite: one transaction of four trips to the SQLite thread
        (BEGIN IMMEDIATE, the deletes, the inserts, COMMIT) whatever the batch holds.
        Each insert selects the subscriber's id, so the count of rows written tells
        whether every subscriber still exists; only when it does not, or when a batch
        removes an AOR's bindings altogether, is the subscribers table read."""
        dialect = self._db.engine.dialect
        statements = _sqlite_batch()
        stamp = statements.to_db(updated_at)
        fresh = [row for aor, values in rows.items()
                 for row in statements.rows(aor, values, stamp)]
        async with self._db.sqlite_write() as driver:
            await driver.executemany(statements.delete, [(aor,) for aor in rows])
            written = (await driver.executemany(statements.insert, fresh)).rowcount if fresh else 0
            if written == len(fresh) and all(rows.values()):
                return []
            existing = await _existing_sqlite(driver, dialect, list(rows))
        return [aor for aor in rows if aor not in existing]

    async def _write(self, conn: AsyncConnection, aor: str, rows: list[dict[str, Any]]) -> None:
        number, domain = split_address(aor)
        subscriber = await conn.scalar(
            select(_subscribers.c.id)
            .join(_domains, _subscribers.c.domain_id == _domains.c.id)
            .where(_domains.c.name == domain, _subscribers.c.number == number)
        )
        if subscriber is None:
            raise NotFound(f"subscriber {aor} does not exist")
        updated_at = self._now()
        for values in rows:
            values = {**values, "subscriber_id": subscriber, "updated_at": updated_at}
            refreshed = {k: v for k, v in values.items() if k not in ("aor", "contact")}
            await self._upsert(
                conn, _registrations, values, keys=["aor", "contact"], refreshed=refreshed
            )

    @retry_on_conflict
    async def remove(self, aor: str, contact: str | None = None) -> int:
        """Remove one binding of `aor` (or all of them with None); returns how many."""
        split_address(aor)
        query = delete(_registrations).where(_registrations.c.aor == aor)
        if contact is not None:
            query = query.where(_registrations.c.contact == contact)
        async with self._db.write() as conn:
            return (await conn.execute(query)).rowcount

    async def list_for_aor(self, aor: str) -> list[Binding]:
        """Bindings of one AOR, highest q first (expired ones included until purged)."""
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(_registrations).where(_registrations.c.aor == aor).order_by(*_ORDER)
            )
            return [_record(r) for r in rows]

    async def list_all(self) -> list[Binding]:
        """Every binding, to rebuild the location service after a restart."""
        async with self._db.read() as conn:
            rows = await conn.execute(select(_registrations).order_by(*_ORDER))
            return [_record(r) for r in rows]

    async def list_for_domain(self, domain: str) -> list[Binding]:
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(_registrations)
                .join(_subscribers, _registrations.c.subscriber_id == _subscribers.c.id)
                .join(_domains, _subscribers.c.domain_id == _domains.c.id)
                .where(_domains.c.name == domain)
                .order_by(*_ORDER)
            )
            return [_record(r) for r in rows]

    async def expired(self, now: datetime) -> list[Binding]:
        """Bindings whose expiry time is at or before `now`."""
        limit = to_db_time(now, "now")
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(_registrations).where(_registrations.c.expires_at <= limit).order_by(*_ORDER)
            )
            return [_record(r) for r in rows]

    @retry_on_conflict
    async def purge_expired(self, now: datetime) -> int:
        """Remove the bindings expired at `now`; returns how many."""
        limit = to_db_time(now, "now")
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(_registrations).where(_registrations.c.expires_at <= limit)
            )
            return result.rowcount

    async def count(self) -> int:
        async with self._db.read() as conn:
            return int(await conn.scalar(select(func.count()).select_from(_registrations)) or 0)
