"""Key/value properties, per domain (``ecss_subscribers``) or system-wide (``ecss_system``).

Sections group them as CoCon does: ``timers`` (core timers, ``properties/timers/set``),
``sip_timers`` (``sip/timer/set``), ``sip`` (``sip/properties/set``). Known keys are typed
and checked (ssw.storage.settings); other keys are kept as given. Reading a key that was
never set gives its default.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import delete, select

from ssw.storage.errors import InvalidName, InvalidValue
from ssw.storage.records import PropertyValue
from ssw.storage.repositories.common import (
    Repository,
    domain_id,
    dump_json,
    load_json,
    retry_on_conflict,
)
from ssw.storage.settings import PROPERTY_SECTIONS
from ssw.storage.tables import DomainPropertyRow, SystemPropertyRow, table_of

__all__ = ["PropertyRepository"]

_domain_props = table_of(DomainPropertyRow)
_system_props = table_of(SystemPropertyRow)
_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\\\-]{0,63}")
_SECTION = re.compile(r"[a-z0-9_]{1,32}")


def _check(section: str, name: str, value: PropertyValue) -> PropertyValue:
    if not isinstance(section, str) or not _SECTION.fullmatch(section):
        raise InvalidName(f"property section {section!r} must be 1-32 of a-z, 0-9, '_'")
    if not isinstance(name, str) or not _KEY.fullmatch(name):
        raise InvalidName(f"property name {name!r} must be 1-64 letters, digits, '_', '.', '-'")
    known = PROPERTY_SECTIONS.get(section, {}).get(name)
    if known is not None:
        return known.coerce(value)
    too_long = isinstance(value, str) and len(value) > 4096
    if not isinstance(value, str | int | float | bool) or too_long:
        raise InvalidValue(f"property {section}/{name} takes text, a number or true/false")
    return value


class PropertyRepository(Repository):
    """``storage.kv``: domain=None means the system-wide properties."""

    def _table(self, domain: str | None) -> Any:
        return _system_props if domain is None else _domain_props

    @retry_on_conflict
    async def set(
        self, domain: str | None, section: str, name: str, value: PropertyValue
    ) -> PropertyValue:
        """Set a property; returns the value as stored (typed for known keys)."""
        typed = _check(section, name, value)
        table = self._table(domain)
        async with self._db.write() as conn:
            values: dict[str, Any] = {"section": section, "name": name, "value": dump_json(typed)}
            if domain is not None:
                values["domain_id"] = await domain_id(conn, domain)
            keys = ["section", "name"] if domain is None else ["domain_id", "section", "name"]
            await self._upsert(conn, table, values, keys=keys, refreshed={"value": values["value"]})
        return typed

    async def get(self, domain: str | None, section: str, name: str) -> PropertyValue:
        """The stored value, else the default of a known key, else None."""
        stored = await self.section(domain, section)
        if name in stored:
            return stored[name]
        known = PROPERTY_SECTIONS.get(section, {}).get(name)
        return None if known is None else known.default

    async def section(self, domain: str | None, section: str) -> dict[str, PropertyValue]:
        """The values set in one section (defaults not included)."""
        table = self._table(domain)
        query = select(table.c.name, table.c.value).where(table.c.section == section)
        async with self._db.read() as conn:
            if domain is not None:
                query = query.where(table.c.domain_id == await domain_id(conn, domain))
            rows = await conn.execute(query.order_by(table.c.name))
            return {r.name: load_json(r.value) for r in rows}

    async def effective(self, domain: str | None, section: str) -> dict[str, PropertyValue]:
        """Defaults of the known keys overlaid with the values set: what the switch uses."""
        defaults = {n: s.default for n, s in PROPERTY_SECTIONS.get(section, {}).items()}
        return {**defaults, **await self.section(domain, section)}

    @retry_on_conflict
    async def clean(self, domain: str | None, section: str, name: str | None = None) -> int:
        """Return one key (or the whole section with None) to the defaults; returns how many
        stored values were removed."""
        table = self._table(domain)
        query = delete(table).where(table.c.section == section)
        if name is not None:
            query = query.where(table.c.name == name)
        async with self._db.write() as conn:
            if domain is not None:
                query = query.where(table.c.domain_id == await domain_id(conn, domain))
            return (await conn.execute(query)).rowcount
