"""Domains (virtual PBXs, SPEC §6) and their SIP groups."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ssw.storage.errors import AlreadyExists, InUse, NotFound
from ssw.storage.names import check_digitmap, check_domain_name, check_identifier
from ssw.storage.records import Domain, SipGroup
from ssw.storage.repositories.common import (
    Repository,
    domain_id,
    existing,
    from_db_time,
    is_duplicate,
    retry_on_conflict,
)
from ssw.storage.repositories.domain_copy import copy_domain
from ssw.storage.tables import DomainRow, SipGroupRow, SubscriberRow, table_of

__all__ = ["DomainRepository", "SipGroupRepository"]

_domains = table_of(DomainRow)
_groups = table_of(SipGroupRow)
_subscribers = table_of(SubscriberRow)


class DomainRepository(Repository):
    """``domain/declare|list|remove|info`` and the digit map."""

    @retry_on_conflict
    async def declare(self, name: str, digitmap: str | None = None) -> Domain:
        """Create domain `name`; AlreadyExists if it is there, InvalidName if not allowed."""
        check_domain_name(name)
        if digitmap is not None:
            check_digitmap(digitmap)
        created_at = self._now()
        try:
            async with self._db.write() as conn:
                await conn.execute(
                    insert(_domains).values(name=name, digitmap=digitmap, created_at=created_at)
                )
        except IntegrityError as error:
            if is_duplicate(error):
                raise AlreadyExists(f"domain {name!r} already exists") from None
            raise
        return Domain(name, digitmap, from_db_time(created_at))

    async def get(self, name: str) -> Domain:
        return existing(await self.find(name), f"domain {name!r} does not exist")

    async def find(self, name: str) -> Domain | None:
        async with self._db.read() as conn:
            row = (await conn.execute(select(_domains).where(_domains.c.name == name))).first()
        if row is None:
            return None
        return Domain(row.name, row.digitmap, from_db_time(row.created_at))

    async def exists(self, name: str) -> bool:
        return await self.find(name) is not None

    async def list(self) -> list[Domain]:
        """Every domain, by name."""
        async with self._db.read() as conn:
            rows = (await conn.execute(select(_domains).order_by(_domains.c.name))).all()
        return [Domain(r.name, r.digitmap, from_db_time(r.created_at)) for r in rows]

    @retry_on_conflict
    async def remove(self, name: str) -> None:
        """Remove the domain with its subscribers, aliases, services, bindings, properties."""
        async with self._db.write() as conn:
            ident = await domain_id(conn, name)
            await conn.execute(delete(_domains).where(_domains.c.id == ident))

    @retry_on_conflict
    async def copy(self, source: str, target: str) -> Domain:
        """``/domain/copy``: declare `target` with everything configured in `source`
        (see ssw.storage.repositories.domain_copy); all or nothing."""
        check_domain_name(target)
        try:
            async with self._db.write() as conn:
                await copy_domain(conn, source, target, self._now())
        except IntegrityError as error:
            if is_duplicate(error):
                raise AlreadyExists(f"domain {target!r} already exists") from None
            raise
        return await self.get(target)

    @retry_on_conflict
    async def set_digitmap(self, name: str, digitmap: str | None) -> Domain:
        """Set (or with None, clear) the digit map of a domain."""
        if digitmap is not None:
            check_digitmap(digitmap)
        async with self._db.write() as conn:
            ident = await domain_id(conn, name)
            await conn.execute(
                update(_domains).where(_domains.c.id == ident).values(digitmap=digitmap)
            )
        return await self.get(name)


class SipGroupRepository(Repository):
    """SIP groups of a domain (``sip.ab`` in ``sip/user/declare``); declared implicitly by the
    first subscriber put in them, or explicitly here."""

    @retry_on_conflict
    async def declare(self, domain: str, name: str) -> SipGroup:
        check_identifier("SIP group", name)
        try:
            async with self._db.write() as conn:
                ident = await domain_id(conn, domain)
                await conn.execute(insert(_groups).values(domain_id=ident, name=name))
        except IntegrityError as error:
            if is_duplicate(error):
                raise AlreadyExists(f"SIP group {name!r} already exists in {domain!r}") from None
            raise
        return SipGroup(domain, name)

    async def list(self, domain: str) -> list[SipGroup]:
        async with self._db.read() as conn:
            ident = await domain_id(conn, domain)
            names = await conn.scalars(
                select(_groups.c.name).where(_groups.c.domain_id == ident).order_by(_groups.c.name)
            )
            return [SipGroup(domain, name) for name in names]

    @retry_on_conflict
    async def remove(self, domain: str, name: str) -> None:
        """Remove an empty group; InUse while subscribers are in it."""
        async with self._db.write() as conn:
            ident = await domain_id(conn, domain)
            group = await conn.scalar(
                select(_groups.c.id).where(_groups.c.domain_id == ident, _groups.c.name == name)
            )
            if group is None:
                raise NotFound(f"SIP group {name!r} does not exist in {domain!r}")
            members = await conn.scalar(
                select(func.count())
                .select_from(_subscribers)
                .where(_subscribers.c.group_id == group)
            )
            if members:
                raise InUse(f"SIP group {name!r} still has {members} subscriber(s)")
            await conn.execute(delete(_groups).where(_groups.c.id == group))
