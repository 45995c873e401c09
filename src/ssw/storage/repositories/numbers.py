"""Aliases (a number bound to an interface, with attributes) and the supplementary-service
state of each number (SPEC §6, §7)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Insert, Row, delete, select
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ssw.storage.errors import InvalidValue, NotFound
from ssw.storage.names import check_number
from ssw.storage.records import Alias, PropertyValue, ServiceState
from ssw.storage.repositories.common import (
    Repository,
    domain_id,
    dump_json,
    existing,
    load_json,
    retry_on_conflict,
)
from ssw.storage.settings import SERVICES
from ssw.storage.tables import (
    AliasRow,
    ServiceActivationRow,
    ServiceEnabledRow,
    SubscriberRow,
    table_of,
)

__all__ = ["AliasRepository", "ServiceRepository"]

_aliases = table_of(AliasRow)
_enabled = table_of(ServiceEnabledRow)
_activated = table_of(ServiceActivationRow)
_subscribers = table_of(SubscriberRow)


def _check_alias(alias: Alias) -> dict[str, Any]:
    check_number(alias.number)
    if not isinstance(alias.iface, str) or not 1 <= len(alias.iface) <= 192:
        raise InvalidValue("an alias interface name must be 1-192 characters")
    if not isinstance(alias.category, int) or not 0 <= alias.category <= 255:
        raise InvalidValue(f"calling party category {alias.category!r} must be 0-255")
    if len(alias.display_name) > 128 or len(alias.cdr_group) > 64:
        raise InvalidValue("display name is up to 128 characters, CDR group up to 64")
    return {
        "number": alias.number,
        "iface": alias.iface,
        "category": alias.category,
        "display_name": alias.display_name,
        "clir": bool(alias.clir),
        "cdr_group": alias.cdr_group,
        "properties": dump_json(dict(alias.properties)),
    }


def _alias(domain: str, row: Row[Any]) -> Alias:
    return Alias(
        domain=domain,
        number=row.number,
        iface=row.iface,
        category=row.category,
        display_name=row.display_name,
        clir=bool(row.clir),
        cdr_group=row.cdr_group,
        properties=load_json(row.properties),
    )


class AliasRepository(Repository):
    """``/domain/<D>/alias/set|clean|info|...``"""

    @retry_on_conflict
    async def set(self, alias: Alias) -> Alias:
        """Create the alias or replace all its attributes."""
        values = _check_alias(alias)
        async with self._db.write() as conn:
            values["domain_id"] = await domain_id(conn, alias.domain)
            refreshed = {k: v for k, v in values.items() if k not in ("domain_id", "number")}
            await self._upsert(
                conn, _aliases, values, keys=["domain_id", "number"], refreshed=refreshed
            )
        return alias

    async def find(self, domain: str, number: str) -> Alias | None:
        row = await self._find_in_domain(_aliases, domain, "number", number)
        return None if row is None else _alias(domain, row)

    async def get(self, domain: str, number: str) -> Alias:
        return existing(await self.find(domain, number), f"alias {number}@{domain} does not exist")

    async def list(self, domain: str, *, iface: str | None = None) -> list[Alias]:
        async with self._db.read() as conn:
            query = select(_aliases).where(_aliases.c.domain_id == await domain_id(conn, domain))
            if iface is not None:
                query = query.where(_aliases.c.iface == iface)
            rows = await conn.execute(query.order_by(_aliases.c.number))
            return [_alias(domain, r) for r in rows]

    @retry_on_conflict
    async def set_property(
        self, domain: str, number: str, name: str, value: PropertyValue
    ) -> Alias:
        """Set one further attribute (timezone, access group, portal login, services, ...)."""
        if not isinstance(name, str) or not 1 <= len(name) <= 64:
            raise InvalidValue("an alias attribute name must be 1-64 characters")
        await self._change_json_in_domain(
            _aliases,
            domain,
            ("number", number),
            "properties",
            lambda properties: {**properties, name: value},
            f"alias {number}@{domain} does not exist",
        )
        return await self.get(domain, number)

    @retry_on_conflict
    async def remove(self, domain: str, number: str) -> None:
        missing = f"alias {number}@{domain} does not exist"
        await self._remove_in_domain(_aliases, domain, "number", number, missing)


def _check_services(services: Iterable[str]) -> list[str]:
    wanted = sorted(set(services))
    unknown = [s for s in wanted if s not in SERVICES]
    if unknown:
        raise InvalidValue(f"unknown supplementary service(s): {', '.join(unknown)}")
    if not wanted:
        raise InvalidValue("no supplementary service given")
    return wanted


async def _check_numbers(conn: AsyncConnection, domain: int, numbers: list[str]) -> None:
    """Every number must be a subscriber or an alias of the domain."""
    for number in numbers:
        check_number(number)
    known: set[str] = set()
    for start in range(0, len(numbers), 1000):
        batch = numbers[start : start + 1000]
        for table in (_subscribers, _aliases):
            known.update(
                await conn.scalars(
                    select(table.c.number).where(
                        table.c.domain_id == domain, table.c.number.in_(batch)
                    )
                )
            )
    missing = [n for n in numbers if n not in known]
    if missing:
        raise NotFound(f"no subscriber or alias {', '.join(missing[:5])} in this domain")


class ServiceRepository(Repository):
    """``/domain/<D>/ss/enable|disable|activate|deactivate|info``: the operator enables
    services per number, then they are activated with parameters (SPEC §7)."""

    @retry_on_conflict
    async def enable(self, domain: str, numbers: Iterable[str], services: Iterable[str]) -> None:
        wanted = _check_services(services)
        targets = sorted(set(numbers))
        async with self._db.write() as conn:
            ident = await domain_id(conn, domain)
            await _check_numbers(conn, ident, targets)
            for start in range(0, len(targets), 1000):
                batch = targets[start : start + 1000]
                have = {
                    (row.number, row.service)
                    for row in await conn.execute(
                        select(_enabled.c.number, _enabled.c.service).where(
                            _enabled.c.domain_id == ident, _enabled.c.number.in_(batch)
                        )
                    )
                }
                rows = [
                    {"domain_id": ident, "number": number, "service": service}
                    for number in batch
                    for service in wanted
                    if (number, service) not in have
                ]
                if rows:
                    # another enable racing for the same pair has the same effect: skip it
                    statement: Insert = (
                        sqlite.insert(_enabled).on_conflict_do_nothing()
                        if self._db.dialect == "sqlite"
                        else mysql.insert(_enabled).prefix_with("IGNORE")
                    )
                    await conn.execute(statement, rows)

    @retry_on_conflict
    async def disable(self, domain: str, numbers: Iterable[str], services: Iterable[str]) -> None:
        """Disable services (and deactivate them); ``["*"]`` disables every service."""
        listed = list(services)
        everything = listed == ["*"]
        wanted = [] if everything else _check_services(listed)
        targets = sorted(set(numbers))
        async with self._db.write() as conn:
            ident = await domain_id(conn, domain)
            await _check_numbers(conn, ident, targets)
            for table in (_enabled, _activated):
                query = delete(table).where(table.c.domain_id == ident, table.c.number.in_(targets))
                if not everything:
                    query = query.where(table.c.service.in_(wanted))
                await conn.execute(query)

    @retry_on_conflict
    async def activate(
        self,
        domain: str,
        number: str,
        service: str,
        params: Mapping[str, PropertyValue] | None = None,
    ) -> None:
        """Activate an enabled service with its parameters (replacing earlier ones)."""
        _check_services([service])
        document = dump_json(dict(params or {}))
        async with self._db.write() as conn:
            ident = await domain_id(conn, domain)
            await _check_numbers(conn, ident, [number])
            is_enabled = await conn.scalar(
                select(_enabled.c.id).where(
                    _enabled.c.domain_id == ident,
                    _enabled.c.number == number,
                    _enabled.c.service == service,
                )
            )
            if is_enabled is None:
                raise InvalidValue(f"service {service} is not enabled for {number}@{domain}")
            values = {"domain_id": ident, "number": number, "service": service}
            await self._upsert(
                conn,
                _activated,
                {**values, "params": document},
                keys=["domain_id", "number", "service"],
                refreshed={"params": document},
            )

    @retry_on_conflict
    async def deactivate(self, domain: str, number: str, service: str) -> bool:
        """Deactivate a service; returns False when it was not active."""
        _check_services([service])
        async with self._db.write() as conn:
            ident = await domain_id(conn, domain)
            result = await conn.execute(
                delete(_activated).where(
                    _activated.c.domain_id == ident,
                    _activated.c.number == number,
                    _activated.c.service == service,
                )
            )
            return bool(result.rowcount)

    async def info(self, domain: str, number: str) -> ServiceState:
        states = await self.info_many(domain, [number])
        return states[0]

    async def info_many(
        self, domain: str, numbers: Iterable[str] | None = None
    ) -> list[ServiceState]:
        """The service state of the given numbers (of every number with any service when
        None), by number."""
        async with self._db.read() as conn:
            ident = await domain_id(conn, domain)
            wanted = None if numbers is None else sorted(set(numbers))
            enabled_q = select(_enabled.c.number, _enabled.c.service).where(
                _enabled.c.domain_id == ident
            )
            active_q = select(_activated.c.number, _activated.c.service, _activated.c.params).where(
                _activated.c.domain_id == ident
            )
            if wanted is not None:
                await _check_numbers(conn, ident, wanted)
                enabled_q = enabled_q.where(_enabled.c.number.in_(wanted))
                active_q = active_q.where(_activated.c.number.in_(wanted))
            enabled: dict[str, set[str]] = {n: set() for n in wanted or ()}
            active: dict[str, dict[str, Mapping[str, PropertyValue]]] = {}
            for row in await conn.execute(enabled_q):
                enabled.setdefault(row.number, set()).add(row.service)
            for number, service, params in await conn.execute(active_q):
                active.setdefault(number, {})[service] = load_json(params)
        return [
            ServiceState(domain, n, frozenset(enabled.get(n, ())), active.get(n, {}))
            for n in sorted(set(enabled) | set(active))
        ]
