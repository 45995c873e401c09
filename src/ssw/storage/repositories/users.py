"""CoCon users and roles in ``ecss_system``.

Out of the box there is one user, ``admin`` with password ``password`` (SPEC §2); while it
keeps that password `is_default_password` says so, and the mediator raises an alarm.
Passwords are kept as scrypt hashes (ssw.storage.passwords); hashing runs in a worker
thread so a login never stalls the event loop.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ssw.storage.errors import AlreadyExists, InUse, InvalidValue, NotFound
from ssw.storage.names import check_identifier
from ssw.storage.passwords import hash_password, verify_password
from ssw.storage.records import User
from ssw.storage.repositories.common import (
    Repository,
    dump_json,
    existing,
    from_db_time,
    inserted_id,
    is_duplicate,
    load_json,
    retry_on_conflict,
)
from ssw.storage.tables import RoleRow, UserRow, table_of

__all__ = ["DEFAULT_PASSWORD", "DEFAULT_USER", "UserRepository"]

DEFAULT_USER = "admin"
DEFAULT_PASSWORD = "password"
#: the role of the default user: every privilege
ADMIN_ROLE = "admin"
ALL_PRIVILEGES = "*"

_users = table_of(UserRow)
_roles = table_of(RoleRow)


def _check_password(password: str) -> None:
    if not isinstance(password, str) or not 1 <= len(password) <= 256:
        raise InvalidValue("a password must be 1-256 characters")


def _record(row: Row[Any]) -> User:
    return User(
        name=row.name,
        role=row.role_name,
        privileges=frozenset(load_json(row.privileges)),
        created_at=from_db_time(row.created_at),
        password_changed_at=from_db_time(row.password_changed_at),
    )


_JOINED = select(_users, _roles.c.name.label("role_name"), _roles.c.privileges).select_from(
    _users.join(_roles, _users.c.role_id == _roles.c.id)
)


async def _insert_user(
    conn: AsyncConnection, name: str, password_hash: str, role_id: int, now: datetime
) -> None:
    """A new user's row: its password set (and changed) when it is created."""
    await conn.execute(
        insert(_users).values(
            name=name,
            password_hash=password_hash,
            role_id=role_id,
            created_at=now,
            password_changed_at=now,
        )
    )


class UserRepository(Repository):
    @retry_on_conflict
    async def ensure_defaults(self) -> None:
        """Create the admin role and the default user when no user exists yet. Two
        processes opening a new database at once both succeed: the one that loses the race
        to insert finds the other's rows."""
        async with self._db.read() as conn:
            if await conn.scalar(select(func.count()).select_from(_users)):
                return  # the usual case: spare the cost of hashing
        password_hash = await asyncio.to_thread(hash_password, DEFAULT_PASSWORD)
        try:
            async with self._db.write() as conn:
                if await conn.scalar(select(func.count()).select_from(_users)):
                    return
                role = await conn.scalar(select(_roles.c.id).where(_roles.c.name == ADMIN_ROLE))
                if role is None:
                    result = await conn.execute(
                        insert(_roles).values(
                            name=ADMIN_ROLE, privileges=dump_json([ALL_PRIVILEGES])
                        )
                    )
                    role = inserted_id(result)
                await _insert_user(conn, DEFAULT_USER, password_hash, role, self._now())
        except IntegrityError as error:
            if not is_duplicate(error):
                raise

    @retry_on_conflict
    async def declare_role(self, name: str, privileges: list[str]) -> None:
        check_identifier("role", name)
        try:
            async with self._db.write() as conn:
                await conn.execute(
                    insert(_roles).values(name=name, privileges=dump_json(sorted(privileges)))
                )
        except IntegrityError as error:
            if is_duplicate(error):
                raise AlreadyExists(f"role {name!r} already exists") from None
            raise

    async def roles(self) -> dict[str, frozenset[str]]:
        async with self._db.read() as conn:
            rows = await conn.execute(select(_roles).order_by(_roles.c.name))
            return {r.name: frozenset(load_json(r.privileges)) for r in rows}

    @retry_on_conflict
    async def add(self, name: str, password: str, role: str = ADMIN_ROLE) -> User:
        check_identifier("user", name)
        _check_password(password)
        password_hash = await asyncio.to_thread(hash_password, password)
        now = self._now()
        try:
            async with self._db.write() as conn:
                role_id = await conn.scalar(select(_roles.c.id).where(_roles.c.name == role))
                if role_id is None:
                    raise NotFound(f"role {role!r} does not exist")
                await _insert_user(conn, name, password_hash, role_id, now)
        except IntegrityError as error:
            if is_duplicate(error):
                raise AlreadyExists(f"user {name!r} already exists") from None
            raise
        return await self.get(name)

    async def find(self, name: str) -> User | None:
        async with self._db.read() as conn:
            row = (await conn.execute(_JOINED.where(_users.c.name == name))).first()
        return None if row is None else _record(row)

    async def get(self, name: str) -> User:
        return existing(await self.find(name), f"user {name!r} does not exist")

    async def list(self) -> list[User]:
        async with self._db.read() as conn:
            return [_record(r) for r in await conn.execute(_JOINED.order_by(_users.c.name))]

    async def verify(self, name: str, password: str) -> User | None:
        """The user when `password` is right, else None (unknown user or wrong password)."""
        async with self._db.read() as conn:
            row = (await conn.execute(_JOINED.where(_users.c.name == name))).first()
        if row is None:
            # Spend the same work as for a real user, so timing does not tell names apart.
            await asyncio.to_thread(verify_password, password, _DUMMY_HASH)
            return None
        if not await asyncio.to_thread(verify_password, password, row.password_hash):
            return None
        return _record(row)

    @retry_on_conflict
    async def set_password(self, name: str, password: str) -> None:
        _check_password(password)
        password_hash = await asyncio.to_thread(hash_password, password)
        async with self._db.write() as conn:
            result = await conn.execute(
                update(_users)
                .where(_users.c.name == name)
                .values(password_hash=password_hash, password_changed_at=self._now())
            )
            if result.rowcount == 0:
                raise NotFound(f"user {name!r} does not exist")

    async def is_default_password(self, name: str = DEFAULT_USER) -> bool:
        """True while user `name` exists and still has the factory password."""
        async with self._db.read() as conn:
            stored = await conn.scalar(select(_users.c.password_hash).where(_users.c.name == name))
        if stored is None:
            return False
        return await asyncio.to_thread(verify_password, DEFAULT_PASSWORD, stored)

    @retry_on_conflict
    async def remove(self, name: str) -> None:
        """Remove a user; the last user holding every privilege cannot be removed."""
        async with self._db.write() as conn:
            row = (await conn.execute(_JOINED.where(_users.c.name == name))).first()
            if row is None:
                raise NotFound(f"user {name!r} does not exist")
            if ALL_PRIVILEGES in load_json(row.privileges):
                admins = await conn.scalar(
                    select(func.count())
                    .select_from(_users.join(_roles, _users.c.role_id == _roles.c.id))
                    .where(_roles.c.privileges.contains(f'"{ALL_PRIVILEGES}"'))
                )
                if (admins or 0) <= 1:
                    raise InUse(f"user {name!r} is the last administrator and cannot be removed")
            await conn.execute(delete(_users).where(_users.c.id == row.id))


_DUMMY_HASH = "scrypt$16384$8$1$" + "A" * 22 + "==$" + "A" * 43 + "="
