"""Media profiles and SIP trunks of a domain (``media-profile/...``, ``trunk/sip/...``).
Kept here so the console can store them; the media server and routing read them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Row, insert, update
from sqlalchemy.exc import IntegrityError

from ssw.storage.errors import AlreadyExists, InvalidValue, NotFound
from ssw.storage.names import check_identifier
from ssw.storage.records import MediaProfile, PropertyValue, Trunk
from ssw.storage.repositories.common import (
    Repository,
    domain_id,
    dump_json,
    existing,
    is_duplicate,
    load_json,
    retry_on_conflict,
)
from ssw.storage.tables import MediaProfileRow, TrunkRow, table_of

__all__ = ["MediaProfileRepository", "TrunkRepository"]

_profiles = table_of(MediaProfileRow)
_trunks = table_of(TrunkRow)
_TRUNK_MODES = ("static", "dynamic")


def _check_codecs(codecs: Iterable[str]) -> list[str]:
    listed = list(codecs)
    for codec in listed:
        if not isinstance(codec, str) or not 1 <= len(codec) <= 64 or "," in codec:
            raise InvalidValue(f"codec {codec!r} must be 1-64 characters without ','")
    return listed


def _profile(domain: str, row: Row[Any]) -> MediaProfile:
    return MediaProfile(domain, row.name, tuple(load_json(row.codecs)), load_json(row.properties))


class MediaProfileRepository(Repository):
    @retry_on_conflict
    async def declare(
        self,
        domain: str,
        name: str,
        codecs: Iterable[str] = (),
        properties: Mapping[str, PropertyValue] | None = None,
    ) -> MediaProfile:
        check_identifier("media profile", name)
        listed = _check_codecs(codecs)
        try:
            async with self._db.write() as conn:
                await conn.execute(
                    insert(_profiles).values(
                        domain_id=await domain_id(conn, domain),
                        name=name,
                        codecs=dump_json(listed),
                        properties=dump_json(dict(properties or {})),
                    )
                )
        except IntegrityError as error:
            if is_duplicate(error):
                raise AlreadyExists(
                    f"media profile {name!r} already exists in {domain!r}"
                ) from None
            raise
        return MediaProfile(domain, name, tuple(listed), dict(properties or {}))

    async def find(self, domain: str, name: str) -> MediaProfile | None:
        row = await self._find_in_domain(_profiles, domain, "name", name)
        return None if row is None else _profile(domain, row)

    async def get(self, domain: str, name: str) -> MediaProfile:
        return existing(
            await self.find(domain, name), f"media profile {name!r} does not exist in {domain!r}"
        )

    async def list(self, domain: str) -> list[MediaProfile]:
        return [_profile(domain, r) for r in await self._list_in_domain(_profiles, domain, "name")]

    async def add_codecs(self, domain: str, name: str, codecs: Iterable[str]) -> MediaProfile:
        """Append codecs not yet in the profile, keeping the order of preference."""
        added = _check_codecs(codecs)
        return await self._change(
            domain, name, lambda old: old + [c for c in dict.fromkeys(added) if c not in old]
        )

    async def remove_codecs(self, domain: str, name: str, codecs: Iterable[str]) -> MediaProfile:
        removed = set(_check_codecs(codecs))
        return await self._change(domain, name, lambda old: [c for c in old if c not in removed])

    @retry_on_conflict
    async def _change(self, domain: str, name: str, change: Any) -> MediaProfile:
        await self._change_json_in_domain(
            _profiles,
            domain,
            ("name", name),
            "codecs",
            change,
            f"media profile {name!r} does not exist in {domain!r}",
        )
        return await self.get(domain, name)

    @retry_on_conflict
    async def remove(self, domain: str, name: str) -> None:
        missing = f"media profile {name!r} does not exist in {domain!r}"
        await self._remove_in_domain(_profiles, domain, "name", name, missing)


def _trunk(domain: str, row: Row[Any]) -> Trunk:
    return Trunk(
        domain=domain,
        name=row.name,
        routing_context=row.routing_context,
        trunk_group=row.trunk_group,
        ipset=row.ipset,
        mode=row.mode,
        host=row.host,
        port=row.port,
        listen_port=row.listen_port,
        blocked=bool(row.blocked),
        settings=load_json(row.settings),
    )


def _check_port(what: str, port: int) -> None:
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidValue(f"{what} {port!r} must be 0-65535")


class TrunkRepository(Repository):
    @retry_on_conflict
    async def declare(self, trunk: Trunk) -> Trunk:
        check_identifier("trunk", trunk.name)
        check_identifier("routing context", trunk.routing_context)
        check_identifier("trunk group", trunk.trunk_group)
        check_identifier("IP set", trunk.ipset)
        if trunk.mode not in _TRUNK_MODES:
            raise InvalidValue(f"trunk mode {trunk.mode!r} is not one of {', '.join(_TRUNK_MODES)}")
        if trunk.mode == "static" and not trunk.host:
            raise InvalidValue("a static trunk needs the peer's address")
        _check_port("trunk port", trunk.port)
        _check_port("listen port", trunk.listen_port)
        try:
            async with self._db.write() as conn:
                await conn.execute(
                    insert(_trunks).values(
                        domain_id=await domain_id(conn, trunk.domain),
                        name=trunk.name,
                        routing_context=trunk.routing_context,
                        trunk_group=trunk.trunk_group,
                        ipset=trunk.ipset,
                        mode=trunk.mode,
                        host=trunk.host,
                        port=trunk.port,
                        listen_port=trunk.listen_port,
                        blocked=trunk.blocked,
                        settings=dump_json(dict(trunk.settings)),
                    )
                )
        except IntegrityError as error:
            if is_duplicate(error):
                raise AlreadyExists(
                    f"trunk {trunk.name!r} already exists in {trunk.domain!r}"
                ) from None
            raise
        return trunk

    async def find(self, domain: str, name: str) -> Trunk | None:
        row = await self._find_in_domain(_trunks, domain, "name", name)
        return None if row is None else _trunk(domain, row)

    async def get(self, domain: str, name: str) -> Trunk:
        return existing(
            await self.find(domain, name), f"trunk {name!r} does not exist in {domain!r}"
        )

    async def list(self, domain: str) -> list[Trunk]:
        return [_trunk(domain, r) for r in await self._list_in_domain(_trunks, domain, "name")]

    async def set_blocked(self, domain: str, name: str, blocked: bool) -> Trunk:
        """``trunk/sip/block|unblock``."""
        await self._update(domain, name, blocked=bool(blocked))
        return await self.get(domain, name)

    @retry_on_conflict
    async def set_setting(self, domain: str, name: str, key: str, value: PropertyValue) -> Trunk:
        """``trunk/sip/set``: one further setting of the trunk."""
        if not isinstance(key, str) or not 1 <= len(key) <= 64:
            raise InvalidValue("a trunk setting name must be 1-64 characters")
        await self._change_json_in_domain(
            _trunks,
            domain,
            ("name", name),
            "settings",
            lambda settings: {**settings, key: value},
            f"trunk {name!r} does not exist in {domain!r}",
        )
        return await self.get(domain, name)

    @retry_on_conflict
    async def _update(self, domain: str, name: str, **values: Any) -> None:
        async with self._db.write() as conn:
            result = await conn.execute(
                update(_trunks)
                .where(_trunks.c.domain_id == await domain_id(conn, domain), _trunks.c.name == name)
                .values(**values)
            )
            if result.rowcount == 0:
                raise NotFound(f"trunk {name!r} does not exist in {domain!r}")

    @retry_on_conflict
    async def remove(self, domain: str, name: str) -> None:
        missing = f"trunk {name!r} does not exist in {domain!r}"
        await self._remove_in_domain(_trunks, domain, "name", name, missing)
