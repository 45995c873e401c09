"""Routing contexts of a domain (SPEC §6): the XML documents imported with
``/domain/<D>/routing/.xbin/.import-context``, kept exactly as given, up to 4 MB each.
Parsing and evaluating them is the routing engine's business."""

from __future__ import annotations

from sqlalchemy import select

from ssw.storage.errors import InvalidValue
from ssw.storage.names import check_identifier
from ssw.storage.repositories.common import Repository, domain_id, existing, retry_on_conflict
from ssw.storage.tables import RoutingContextRow, table_of

__all__ = ["RoutingContextRepository"]

_contexts = table_of(RoutingContextRow)
#: largest routing context kept, in characters
XML_LIMIT = 4_000_000


class RoutingContextRepository(Repository):
    @retry_on_conflict
    async def put(self, domain: str, name: str, xml: str) -> None:
        """Store context `name` of `domain`, replacing an earlier import of the same name."""
        check_identifier("routing context", name)
        if not isinstance(xml, str) or not xml.strip():
            raise InvalidValue("a routing context must be non-empty XML text")
        if len(xml) > XML_LIMIT:
            raise InvalidValue(f"the routing context is too large ({len(xml)} > {XML_LIMIT})")
        imported_at = self._now()
        async with self._db.write() as conn:
            values = {
                "domain_id": await domain_id(conn, domain),
                "name": name,
                "xml": xml,
                "imported_at": imported_at,
            }
            refreshed = {"xml": xml, "imported_at": imported_at}
            await self._upsert(
                conn, _contexts, values, keys=["domain_id", "name"], refreshed=refreshed
            )

    async def find(self, domain: str, name: str) -> str | None:
        async with self._db.read() as conn:
            ident = await domain_id(conn, domain)
            found = await conn.scalar(
                select(_contexts.c.xml).where(
                    _contexts.c.domain_id == ident, _contexts.c.name == name
                )
            )
        return None if found is None else str(found)

    async def get(self, domain: str, name: str) -> str:
        return existing(
            await self.find(domain, name), f"routing context {name!r} does not exist in {domain!r}"
        )

    async def list(self, domain: str) -> dict[str, str]:
        """Context name -> XML, by name."""
        async with self._db.read() as conn:
            ident = await domain_id(conn, domain)
            rows = await conn.execute(
                select(_contexts.c.name, _contexts.c.xml)
                .where(_contexts.c.domain_id == ident)
                .order_by(_contexts.c.name)
            )
            return {name: xml for name, xml in rows}

    @retry_on_conflict
    async def remove(self, domain: str, name: str) -> None:
        missing = f"routing context {name!r} does not exist in {domain!r}"
        await self._remove_in_domain(_contexts, domain, "name", name, missing)
