"""``/domain/copy <SRC> <DST>``: a new domain with everything the operator configured in
another one, in one transaction.

Copied: properties, digit map, SIP groups, subscribers, aliases, supplementary services,
media profiles, trunks and routing contexts. Not copied: registrations (phones register
with their own domain). The digest realm is the domain name, so HA1 values are recomputed
from the password; a subscriber kept as HA1 only cannot be moved to another realm, and the
copy is refused, naming how many there are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ssw.storage.errors import InvalidValue
from ssw.storage.repositories.common import domain_id
from ssw.storage.repositories.subscribers import digest_ha1
from ssw.storage.tables import (
    AliasRow,
    DomainPropertyRow,
    DomainRow,
    MediaProfileRow,
    RoutingContextRow,
    ServiceActivationRow,
    ServiceEnabledRow,
    SipGroupRow,
    SubscriberRow,
    TrunkRow,
    table_of,
)

__all__ = ["copy_domain"]

_domains = table_of(DomainRow)
_groups = table_of(SipGroupRow)
_subscribers = table_of(SubscriberRow)
_aliases = table_of(AliasRow)
#: tables whose rows belong to a domain and carry nothing else that names it
_PLAIN = tuple(
    table_of(model)
    for model in (
        DomainPropertyRow,
        ServiceEnabledRow,
        ServiceActivationRow,
        MediaProfileRow,
        TrunkRow,
        RoutingContextRow,
    )
)
_BATCH = 1000


async def _rows(conn: AsyncConnection, table: Any, source: int) -> list[dict[str, Any]]:
    result = await conn.execute(select(table).where(table.c.domain_id == source))
    return [dict(row._mapping) for row in result]


async def _insert(conn: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _BATCH):
        await conn.execute(insert(table), rows[start : start + _BATCH])


async def copy_domain(conn: AsyncConnection, source: str, target: str, created_at: Any) -> None:
    """Copy domain `source` into the new domain `target` (declared here) on `conn`."""
    source_id = await domain_id(conn, source)
    ha1_only = await conn.scalar(
        select(func.count())
        .select_from(_subscribers)
        .where(_subscribers.c.domain_id == source_id, _subscribers.c.password.is_(None))
        .where(_subscribers.c.ha1_md5.is_not(None) | _subscribers.c.ha1_sha256.is_not(None))
    )
    if ha1_only:
        raise InvalidValue(
            f"{ha1_only} subscriber(s) of {source!r} are kept as HA1 digests only, which are"
            f" bound to realm {source!r}; give them passwords before copying the domain"
        )
    digitmap = await conn.scalar(select(_domains.c.digitmap).where(_domains.c.id == source_id))
    result = await conn.execute(
        insert(_domains).values(name=target, digitmap=digitmap, created_at=created_at)
    )
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the database did not report the id of the new domain")
    target_id = int(key[0])

    group_ids: dict[int, int] = {}
    for group in await _rows(conn, _groups, source_id):
        made = await conn.execute(insert(_groups).values(domain_id=target_id, name=group["name"]))
        new_key = made.inserted_primary_key
        if new_key is None:
            raise RuntimeError("the database did not report the id of a copied SIP group")
        group_ids[group["id"]] = int(new_key[0])

    subscribers = []
    for row in await _rows(conn, _subscribers, source_id):
        password = row["password"]
        row.update(
            domain_id=target_id,
            group_id=group_ids[row["group_id"]],
            created_at=created_at,
            ha1_md5=password and digest_ha1("MD5", row["login"], target, password),
            ha1_sha256=password and digest_ha1("SHA-256", row["login"], target, password),
        )
        del row["id"]
        subscribers.append(row)
    await _insert(conn, _subscribers, subscribers)

    aliases = []
    suffix = f"@{source}"
    for row in await _rows(conn, _aliases, source_id):
        iface = row["iface"]
        if iface.endswith(suffix):
            iface = iface[: -len(suffix)] + f"@{target}"
        row.update(domain_id=target_id, iface=iface)
        del row["id"]
        aliases.append(row)
    await _insert(conn, _aliases, aliases)

    for table in _PLAIN:
        rows = await _rows(conn, table, source_id)
        for row in rows:
            row["domain_id"] = target_id
            del row["id"]
        await _insert(conn, table, rows)
