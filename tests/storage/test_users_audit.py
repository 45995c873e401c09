"""CoCon users (default admin/password, hashed) and the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ssw.storage import AlreadyExists, AuditEntry, InUse, InvalidValue, NotFound, Storage
from ssw.storage.passwords import hash_password, verify_password
from ssw.storage.tables import UserRow


def test_password_hashes_are_salted_and_verified() -> None:
    first, second = hash_password("password"), hash_password("password")
    assert first != second and first.startswith("scrypt$")
    assert verify_password("password", first) and verify_password("password", second)
    assert not verify_password("Password", first)
    assert not verify_password("password", "not a hash")
    assert not verify_password("password", "md5$1$2$3$4$5")


async def test_default_admin_exists_with_a_hashed_password(storage: Storage) -> None:
    assert [u.name for u in await storage.users.list()] == ["admin"]
    assert await storage.users.is_default_password()
    admin = await storage.users.verify("admin", "password")
    assert admin is not None and admin.role == "admin" and "*" in admin.privileges
    assert await storage.users.verify("admin", "wrong") is None
    assert await storage.users.verify("nobody", "password") is None
    async with storage.database.read() as conn:
        stored = await conn.scalar(select(UserRow.password_hash))
    assert stored is not None and "password" not in stored


async def test_changing_the_password_clears_the_default_flag(storage: Storage) -> None:
    await storage.users.set_password("admin", "n3w-secret")
    assert not await storage.users.is_default_password()
    assert await storage.users.verify("admin", "password") is None
    assert await storage.users.verify("admin", "n3w-secret") is not None
    with pytest.raises(NotFound):
        await storage.users.set_password("nobody", "x")
    with pytest.raises(InvalidValue):
        await storage.users.set_password("admin", "")


async def test_defaults_are_not_recreated_on_reopen(
    open_storage: Callable[[], Awaitable[Storage]],
) -> None:
    first = await open_storage()
    await first.users.set_password("admin", "changed")
    await first.close()
    second = await open_storage()
    assert not await second.users.is_default_password()
    assert len(await second.users.list()) == 1


async def test_users_and_roles(storage: Storage) -> None:
    await storage.users.declare_role("viewer", ["domain/list", "domain/info"])
    assert (await storage.users.roles())["viewer"] == frozenset({"domain/list", "domain/info"})
    operator = await storage.users.add("operator", "pw", role="viewer")
    assert operator.role == "viewer"
    with pytest.raises(AlreadyExists):
        await storage.users.add("operator", "pw", role="viewer")
    with pytest.raises(NotFound, match="role 'ghost'"):
        await storage.users.add("someone", "pw", role="ghost")
    with pytest.raises(InUse, match="last administrator"):
        await storage.users.remove("admin")
    await storage.users.add("admin2", "pw")
    await storage.users.remove("admin")
    await storage.users.remove("operator")
    assert [u.name for u in await storage.users.list()] == ["admin2"]
    with pytest.raises(NotFound):
        await storage.users.get("admin")


async def test_audit_log(storage: Storage) -> None:
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    for n in range(5):
        await storage.audit.add(
            AuditEntry(
                at=start + timedelta(seconds=n),
                user="admin" if n % 2 == 0 else "operator",
                source="127.0.0.1:40000",
                front_end="ssh" if n < 4 else "http_terminal",
                command=f"domain/declare d{n}.example",
                result="declared" if n != 3 else "Command error: already exists",
                success=n != 3,
            )
        )
    assert await storage.audit.count() == 5
    newest = await storage.audit.list(limit=2)
    assert [e.command for e in newest] == ["domain/declare d3.example", "domain/declare d4.example"]
    assert newest[0].success is False and newest[0].at == start + timedelta(seconds=3)
    assert [e.user for e in await storage.audit.list(user="operator")] == ["operator"] * 2
    by_http = await storage.audit.list(front_end="http_terminal")
    assert [e.command for e in by_http] == ["domain/declare d4.example"]
    since = await storage.audit.list(since=start + timedelta(seconds=4))
    assert [e.command for e in since] == ["domain/declare d4.example"]
    with pytest.raises(InvalidValue, match="front end"):
        await storage.audit.add(AuditEntry(start, "admin", "local", "x" * 40, "ls", "ok"))
    long_command = await storage.audit.add(
        AuditEntry(start, "admin", "local", "cli", "x" * 70_000, "")
    )
    assert long_command and len((await storage.audit.list(limit=1))[0].command) == 60_000
