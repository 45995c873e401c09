"""SIP subscribers (SPEC §6): declare one or ten thousand, look up, change settings, remove.

The digest realm is the domain name, so the HA1 values kept beside the password are
``H(login:domain:password)`` for MD5 and SHA-256 (RFC 7616 §3.4.2); a subscriber may be
declared with HA1 values only, and then no password is stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ssw.storage.errors import AlreadyExists, InvalidValue, NotFound
from ssw.storage.names import check_identifier, check_login, check_number
from ssw.storage.records import PropertyValue, Subscriber
from ssw.storage.repositories.common import (
    Repository,
    domain_id,
    dump_json,
    existing,
    from_db_time,
    is_duplicate,
    load_json,
    retry_on_conflict,
)
from ssw.storage.settings import (
    AUTH_MODES,
    LOGIN_AS_NUMBER,
    QOP_MODES,
    SUBSCRIBER_SETTINGS,
    check_choice,
)
from ssw.storage.tables import DomainRow, SipGroupRow, SubscriberRow, table_of

__all__ = ["SubscriberRepository", "digest_ha1"]

_domains = table_of(DomainRow)
_groups = table_of(SipGroupRow)
_subscribers = table_of(SubscriberRow)
#: rows per INSERT statement of a bulk declare (all in one transaction)
_BATCH = 1000
_UNSET: Any = object()


def digest_ha1(algorithm: str, login: str, realm: str, password: str) -> str:
    """HA1 = H(username ":" realm ":" passwd) of RFC 7616 §3.4.2 (MD5 or SHA-256)."""
    name = {"MD5": "md5", "SHA-256": "sha256"}.get(algorithm.upper())
    if name is None:
        raise InvalidValue(f"digest algorithm {algorithm!r} is not MD5 or SHA-256")
    return hashlib.new(name, f"{login}:{realm}:{password}".encode()).hexdigest()


def _check_password(password: str | None) -> None:
    if password is not None and (not isinstance(password, str) or not 1 <= len(password) <= 128):
        raise InvalidValue("a password must be 1-128 characters")


def _check_ha1(name: str, value: str | None, length: int) -> None:
    if value is not None and (
        len(value) != length or any(c not in "0123456789abcdef" for c in value)
    ):
        raise InvalidValue(f"{name} must be {length} lower-case hexadecimal digits")


def _check_settings(settings: Mapping[str, PropertyValue] | None) -> dict[str, PropertyValue]:
    checked: dict[str, PropertyValue] = {}
    for name, value in (settings or {}).items():
        checked[name] = _setting(name).coerce(value)
    _check_expire_bounds(checked)
    return checked


def _setting(name: str) -> Any:
    spec = SUBSCRIBER_SETTINGS.get(name)
    if spec is None:
        raise InvalidValue(
            f"unknown subscriber setting {name!r}; known: {', '.join(sorted(SUBSCRIBER_SETTINGS))}"
        )
    return spec


def _check_expire_bounds(settings: Mapping[str, PropertyValue]) -> None:
    low = settings.get("register-expire-min", SUBSCRIBER_SETTINGS["register-expire-min"].default)
    high = settings.get("register-expire-max", SUBSCRIBER_SETTINGS["register-expire-max"].default)
    if isinstance(low, int) and isinstance(high, int) and low > high:
        raise InvalidValue(
            f"register-expire-min ({low}) may not exceed register-expire-max ({high})"
        )


def _columns() -> list[Any]:
    return [
        *_subscribers.c,
        _domains.c.name.label("domain_name"),
        _groups.c.name.label("group_name"),
    ]


def _joined() -> Any:
    return select(*_columns()).select_from(
        _subscribers.join(_domains, _subscribers.c.domain_id == _domains.c.id).join(
            _groups, _subscribers.c.group_id == _groups.c.id
        )
    )


#: rows decoded before, by their content: the directory reads the same busy subscribers
#: again every second, and an unchanged row then costs a lookup instead of a JSON decode
#: (and keeps its record's identity, which the call core's caches key on)
_DECODED: dict[tuple[Any, ...], Subscriber] = {}
_MAX_DECODED = 50_000


def _record(row: Row[Any]) -> Subscriber:
    key = tuple(row)
    try:
        found = _DECODED.get(key)
    except TypeError:  # a driver handed an unhashable value: decode it every time
        return _decode(row)
    if found is None:
        found = _decode(row)
        if len(_DECODED) >= _MAX_DECODED:
            _DECODED.clear()
        _DECODED[key] = found
    return found


def _decode(row: Row[Any]) -> Subscriber:
    return Subscriber(
        domain=row.domain_name,
        number=row.number,
        group=row.group_name,
        login=row.login,
        password=row.password,
        ha1_md5=row.ha1_md5,
        ha1_sha256=row.ha1_sha256,
        auth_mode=row.auth_mode,
        qop_mode=row.qop_mode,
        login_mode=row.login_mode,
        routing_context=row.routing_context,
        settings=load_json(row.settings),
        created_at=from_db_time(row.created_at),
    )


async def _group_id(conn: AsyncConnection, domain: int, group: str, dialect: str) -> int:
    """The id of SIP group `group`, creating it on first use. Two declares racing to create
    the same group both succeed: the insert ignores a duplicate, and the locking read sees
    the row the other transaction committed."""
    values = {"domain_id": domain, "name": group}
    if dialect == "sqlite":
        await conn.execute(sqlite.insert(_groups).values(**values).on_conflict_do_nothing())
    else:
        await conn.execute(
            mysql.insert(_groups).values(**values).on_duplicate_key_update(name=group)
        )
    found = await conn.scalar(
        select(_groups.c.id)
        .where(_groups.c.domain_id == domain, _groups.c.name == group)
        .with_for_update(read=True)
    )
    if found is None:
        raise RuntimeError(f"SIP group {group!r} vanished while being declared")
    return int(found)


class SubscriberRepository(Repository):
    """``/domain/<D>/sip/user/declare|info|set|clean|remove`` and the registrar's lookups."""

    async def declare(
        self,
        domain: str,
        number: str,
        *,
        group: str,
        password: str | None,
        routing_context: str = "default_routing",
        auth_mode: str = "none",
        qop_mode: str = "no_qop_authentication",
        login: str = LOGIN_AS_NUMBER,
        ha1_md5: str | None = None,
        ha1_sha256: str | None = None,
        settings: Mapping[str, PropertyValue] | None = None,
    ) -> Subscriber:
        """Declare one subscriber `number@domain`; AlreadyExists when the number or the login
        is taken. `login` is ``login-as-number`` or the digest user name to use."""
        await self.declare_many(
            domain,
            [number],
            group=group,
            password=password,
            routing_context=routing_context,
            auth_mode=auth_mode,
            qop_mode=qop_mode,
            login=login,
            ha1_md5=ha1_md5,
            ha1_sha256=ha1_sha256,
            settings=settings,
        )
        return await self.get(domain, number)

    @retry_on_conflict
    async def declare_many(
        self,
        domain: str,
        numbers: Iterable[str],
        *,
        group: str,
        password: str | None,
        routing_context: str = "default_routing",
        auth_mode: str = "none",
        qop_mode: str = "no_qop_authentication",
        login: str = LOGIN_AS_NUMBER,
        ha1_md5: str | None = None,
        ha1_sha256: str | None = None,
        settings: Mapping[str, PropertyValue] | None = None,
    ) -> int:
        """Declare every number with the same parameters in one transaction: all of them
        or, on any error, none. Returns how many were declared."""
        wanted = [check_number(n) for n in numbers]
        if not wanted:
            raise InvalidValue("no numbers to declare")
        if len(set(wanted)) != len(wanted):
            raise InvalidValue("the same number is given twice")
        check_identifier("SIP group", group)
        check_identifier("routing context", routing_context)
        check_choice("auth mode", auth_mode, AUTH_MODES)
        check_choice("qop mode", qop_mode, QOP_MODES)
        _check_password(password)
        _check_ha1("ha1_md5", ha1_md5, 32)
        _check_ha1("ha1_sha256", ha1_sha256, 64)
        if password is not None and (ha1_md5 or ha1_sha256):
            raise InvalidValue("give either a password or HA1 values, not both")
        as_number = login == LOGIN_AS_NUMBER
        if not as_number:
            check_login(login)
            if len(wanted) > 1:
                raise InvalidValue("an explicit login can be given to one subscriber only")
        settings_json = dump_json(_check_settings(settings))
        created_at = self._now()

        def row(number: str, domain_ref: int, group_ref: int) -> dict[str, Any]:
            user = number if as_number else login
            return {
                "domain_id": domain_ref,
                "group_id": group_ref,
                "number": number,
                "login": user,
                "password": password,
                "ha1_md5": digest_ha1("MD5", user, domain, password) if password else ha1_md5,
                "ha1_sha256": (
                    digest_ha1("SHA-256", user, domain, password) if password else ha1_sha256
                ),
                "auth_mode": auth_mode,
                "qop_mode": qop_mode,
                "login_mode": LOGIN_AS_NUMBER if as_number else "login",
                "routing_context": routing_context,
                "settings": settings_json,
                "created_at": created_at,
            }

        try:
            async with self._db.write() as conn:
                domain_ref = await domain_id(conn, domain)
                await self._refuse_taken(conn, domain, domain_ref, wanted, as_number, login)
                group_ref = await _group_id(conn, domain_ref, group, self._db.dialect)
                for start in range(0, len(wanted), _BATCH):
                    batch = wanted[start : start + _BATCH]
                    await conn.execute(
                        insert(_subscribers), [row(n, domain_ref, group_ref) for n in batch]
                    )
        except IntegrityError as error:
            if is_duplicate(error):
                raise AlreadyExists(
                    f"a number or login of this declare already exists in {domain!r}"
                ) from None
            raise
        return len(wanted)

    async def _refuse_taken(
        self,
        conn: AsyncConnection,
        domain: str,
        domain_ref: int,
        numbers: list[str],
        as_number: bool,
        login: str,
    ) -> None:
        logins = numbers if as_number else [login]
        taken: set[str] = set()
        for start in range(0, len(numbers), _BATCH):
            batch = numbers[start : start + _BATCH]
            taken.update(
                await conn.scalars(
                    select(_subscribers.c.number).where(
                        _subscribers.c.domain_id == domain_ref, _subscribers.c.number.in_(batch)
                    )
                )
            )
        if taken:
            shown = ", ".join(sorted(taken)[:5]) + (" ..." if len(taken) > 5 else "")
            raise AlreadyExists(f"{len(taken)} number(s) already exist in {domain!r}: {shown}")
        for start in range(0, len(logins), _BATCH):
            batch = logins[start : start + _BATCH]
            used = list(
                await conn.scalars(
                    select(_subscribers.c.login).where(
                        _subscribers.c.domain_id == domain_ref, _subscribers.c.login.in_(batch)
                    )
                )
            )
            if used:
                raise AlreadyExists(f"login {used[0]!r} is already used in {domain!r}")

    async def find(self, domain: str, number: str) -> Subscriber | None:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    _joined().where(_domains.c.name == domain, _subscribers.c.number == number)
                )
            ).first()
        return None if row is None else _record(row)

    async def get(self, domain: str, number: str) -> Subscriber:
        return existing(
            await self.find(domain, number), f"subscriber {number}@{domain} does not exist"
        )

    async def find_by_login(self, domain: str, login: str) -> Subscriber | None:
        """The subscriber whose digest user name in realm `domain` is `login`."""
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    _joined().where(_domains.c.name == domain, _subscribers.c.login == login)
                )
            ).first()
        return None if row is None else _record(row)

    async def list(
        self, domain: str, *, group: str | None = None, numbers: Iterable[str] | None = None
    ) -> list[Subscriber]:
        """Subscribers of a domain ordered by number, optionally of one group or numbers."""
        query = _joined().where(_domains.c.name == domain)
        if group is not None:
            query = query.where(_groups.c.name == group)
        if numbers is not None:
            query = query.where(_subscribers.c.number.in_(list(numbers)))
        async with self._db.read() as conn:
            await domain_id(conn, domain)
            rows = (await conn.execute(query.order_by(_subscribers.c.number))).all()
        return [_record(r) for r in rows]

    async def count(self, domain: str | None = None) -> int:
        """How many subscribers a domain has (all domains with None): the licence's MUL."""
        query = select(func.count()).select_from(_subscribers)
        async with self._db.read() as conn:
            if domain is not None:
                query = query.where(_subscribers.c.domain_id == await domain_id(conn, domain))
            return int(await conn.scalar(query) or 0)

    async def set_setting(
        self, domain: str, number: str, name: str, value: PropertyValue
    ) -> Subscriber:
        """Set one SIP setting (``sip/user/set``); operator text like "true" is accepted."""
        typed = _setting(name).coerce(value)
        await self._change_settings(domain, number, lambda s: {**s, name: typed})
        return await self.get(domain, number)

    async def clean_setting(self, domain: str, number: str, name: str) -> Subscriber:
        """Return one setting to its default (``sip/user/clean``)."""
        _setting(name)
        await self._change_settings(
            domain, number, lambda s: {k: v for k, v in s.items() if k != name}
        )
        return await self.get(domain, number)

    @retry_on_conflict
    async def _change_settings(self, domain: str, number: str, change: Any) -> None:
        async with self._db.write() as conn:
            ident = await self._subscriber_id(conn, domain, number)
            current = await conn.scalar(
                select(_subscribers.c.settings).where(_subscribers.c.id == ident).with_for_update()
            )
            changed = change(load_json(current or "{}"))
            _check_expire_bounds(changed)
            await conn.execute(
                update(_subscribers)
                .where(_subscribers.c.id == ident)
                .values(settings=dump_json(changed))
            )

    @retry_on_conflict
    async def update(
        self,
        domain: str,
        number: str,
        *,
        password: str | None = _UNSET,
        auth_mode: str = _UNSET,
        qop_mode: str = _UNSET,
        routing_context: str = _UNSET,
        group: str = _UNSET,
    ) -> Subscriber:
        """Change the declare-time parameters of a subscriber; omitted ones stay."""
        values: dict[str, Any] = {}
        if auth_mode is not _UNSET:
            values["auth_mode"] = check_choice("auth mode", auth_mode, AUTH_MODES)
        if qop_mode is not _UNSET:
            values["qop_mode"] = check_choice("qop mode", qop_mode, QOP_MODES)
        if routing_context is not _UNSET:
            values["routing_context"] = check_identifier("routing context", routing_context)
        if group is not _UNSET:
            check_identifier("SIP group", group)
        if password is not _UNSET:
            _check_password(password)
        async with self._db.write() as conn:
            ident = await self._subscriber_id(conn, domain, number)
            if group is not _UNSET:
                values["group_id"] = await _group_id(
                    conn, await domain_id(conn, domain), group, self._db.dialect
                )
            if password is not _UNSET:
                login = str(
                    await conn.scalar(
                        select(_subscribers.c.login).where(_subscribers.c.id == ident)
                    )
                )
                values["password"] = password
                values["ha1_md5"] = password and digest_ha1("MD5", login, domain, password)
                values["ha1_sha256"] = password and digest_ha1("SHA-256", login, domain, password)
            if values:
                await conn.execute(
                    update(_subscribers).where(_subscribers.c.id == ident).values(**values)
                )
        return await self.get(domain, number)

    async def remove(self, domain: str, number: str) -> None:
        """Remove one subscriber with its registrations; NotFound when absent."""
        if await self.remove_many(domain, [number]) == 0:
            raise NotFound(f"subscriber {number}@{domain} does not exist")

    @retry_on_conflict
    async def remove_many(self, domain: str, numbers: Iterable[str]) -> int:
        """Remove the listed subscribers that exist; returns how many were removed."""
        wanted = list(numbers)
        removed = 0
        async with self._db.write() as conn:
            ident = await domain_id(conn, domain)
            for start in range(0, len(wanted), _BATCH):
                result = await conn.execute(
                    delete(_subscribers).where(
                        _subscribers.c.domain_id == ident,
                        _subscribers.c.number.in_(wanted[start : start + _BATCH]),
                    )
                )
                removed += result.rowcount
        return removed

    async def _subscriber_id(self, conn: AsyncConnection, domain: str, number: str) -> int:
        ident = await conn.scalar(
            select(_subscribers.c.id).where(
                _subscribers.c.domain_id == await domain_id(conn, domain),
                _subscribers.c.number == number,
            )
        )
        if ident is None:
            raise NotFound(f"subscriber {number}@{domain} does not exist")
        return int(ident)
