"""Registrations: the location service's contact bindings (RFC 3261 §10.3), kept so that
they survive a restart. The registrar decides; this stores and lists. Time is passed in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select
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


def _check(binding: Binding) -> dict[str, Any]:
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
        "path": dump_json(list(binding.path)),
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
            rows[aor] = [_check(b) for b in bindings]
        if not rows:
            return []
        updated_at = self._now()
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
