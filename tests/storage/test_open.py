"""Opening the storage: targets, errors that say what to do, files, concurrent writers."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from ssw.storage import Cdr, InvalidName, InvalidValue, Storage, StorageUnavailable
from ssw.storage.databases import TABLE_DATABASES


async def test_data_directory_gets_one_file_per_logical_database(tmp_path: Path) -> None:
    async with await Storage.open(tmp_path / "data") as storage:
        assert storage.dialect == "sqlite" and storage.location == str(tmp_path / "data")
        await storage.domains.declare("pv.ssw3")
    names = {p.name for p in (tmp_path / "data").glob("*.sqlite")}
    assert names == {f"{name}.sqlite" for name in TABLE_DATABASES}


async def test_sqlite_url_and_prefix(tmp_path: Path) -> None:
    async with await Storage.open(f"sqlite:///{tmp_path}", db_prefix="t1_") as storage:
        await storage.domains.declare("pv.ssw3")
    assert (tmp_path / "t1_ecss_subscribers.sqlite").exists()
    async with await Storage.open(tmp_path, db_prefix="t1_") as again:
        assert [d.name for d in await again.domains.list()] == ["pv.ssw3"]
    async with await Storage.open(tmp_path) as unprefixed:
        assert await unprefixed.domains.list() == []


async def test_bad_targets_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(StorageUnavailable, match="cannot reach the database"):
        await Storage.open("mysql+aiomysql://root@127.0.0.1:1/")
    with pytest.raises(InvalidValue, match="leave the database out"):
        await Storage.open("mysql+aiomysql://root@127.0.0.1:3306/ecss_subscribers")
    with pytest.raises(InvalidValue, match="unsupported database"):
        await Storage.open("postgresql://localhost/")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageUnavailable, match="data directory"):
        await Storage.open(blocker / "data")
    with pytest.raises(InvalidName, match="prefix"):
        await Storage.open(tmp_path, db_prefix="bad-prefix;")


async def test_password_is_hidden_in_the_location() -> None:
    with pytest.raises(StorageUnavailable) as raised:
        await Storage.open("mysql+aiomysql://root:s3cret@127.0.0.1:1/")
    assert "root:***@127.0.0.1:1" in str(raised.value)
    assert "s3cret" not in str(raised.value)


async def test_two_openers_write_concurrently(
    open_storage: Callable[[], Awaitable[Storage]],
) -> None:
    """Two Storage objects on the same database (as two processes of the switch would be)
    writing at once: every write lands, none fails with a lock error."""
    first, second = await open_storage(), await open_storage()
    await first.domains.declare("pv.ssw3")
    at = datetime(2026, 3, 1, tzinfo=UTC)

    def cdr(n: int) -> Cdr:
        return Cdr("pv.ssw3", f"c{n}", "1", "2", at, None, at, 19, "system")

    writes = [
        (first if n % 2 else second).subscribers.declare(
            "pv.ssw3", str(1000 + n), group="g", password="p"
        )
        for n in range(40)
    ] + [(second if n % 2 else first).cdrs.add(cdr(n)) for n in range(40)]
    await asyncio.gather(*writes)
    assert await first.subscribers.count("pv.ssw3") == 40
    assert await second.cdrs.count() == 40


async def test_two_processes_opening_a_new_database_at_once(
    open_storage: Callable[[], Awaitable[Storage]],
) -> None:
    """Two services of the switch starting together on an empty database: one migrates and
    creates the default user, the other finds them; neither fails."""
    first, second = await asyncio.gather(open_storage(), open_storage())
    assert [u.name for u in await first.users.list()] == ["admin"]
    assert await second.users.is_default_password()


@pytest.mark.parametrize(
    "message", ["database or disk is full", "disk I/O error", "database is locked"]
)
async def test_sqlite_files_that_cannot_be_written_are_unavailable(
    tmp_path: Path, message: str
) -> None:
    storage = await Storage.open(tmp_path)
    try:

        def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.startswith("INSERT"):
                raise sqlite3.OperationalError(message)

        engine = storage.database.engine.sync_engine
        event.listen(engine, "before_cursor_execute", refuse)
        try:
            with pytest.raises(StorageUnavailable, match=message):
                await storage.domains.declare("pv.ssw3")
        finally:
            event.remove(engine, "before_cursor_execute", refuse)
        await storage.domains.declare("pv.ssw3")
    finally:
        await storage.close()
