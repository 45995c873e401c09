"""A console over a real storage: SQLite files in a temporary directory, and MariaDB.

MariaDB is expected at 127.0.0.1:3306 (root, no password) or at SSW_TEST_MYSQL_URL; each
test gets its own database prefix, dropped afterwards. When no server answers, the MariaDB
variants are skipped with the reason.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pymysql
import pytest
from cocon_helpers import Runner
from sqlalchemy import make_url, text

from ssw.cocon.adapters import StorageAudit, StorageUsers
from ssw.cocon.cluster import StaticCluster
from ssw.cocon.commands import build_registry
from ssw.cocon.console import Console
from ssw.cocon.executor import Executor
from ssw.cocon.services import CoconServices
from ssw.cocon.session import Identity
from ssw.storage.storage import Storage

MYSQL_URL = os.environ.get("SSW_TEST_MYSQL_URL", "mysql+aiomysql://root@127.0.0.1:3306/")


def _mariadb_unreachable() -> str | None:
    url = make_url(MYSQL_URL)
    try:
        connection = pymysql.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 3306,
            user=url.username or "root",
            password=url.password or "",
            connect_timeout=2,
        )
    except pymysql.MySQLError as error:
        return str(error)
    connection.close()
    return None


async def _drop(storage: Storage) -> None:
    engine = storage.database.root or storage.database.engine
    async with engine.begin() as conn:
        for name in storage.database.schema_map.values():
            await conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))


@pytest.fixture(params=["sqlite", "mariadb"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "sqlite":
        store = await Storage.open(tmp_path / "data")
    else:
        reason = _mariadb_unreachable()
        if reason is not None:
            pytest.skip(f"MariaDB unreachable at {MYSQL_URL}: {reason}")
        prefix = f"c{os.getpid()}_{secrets.token_hex(3)}_"
        store = await Storage.open(MYSQL_URL, db_prefix=prefix)
    try:
        yield store
    finally:
        if store.dialect == "mysql":
            await _drop(store)
        await store.close()


@pytest.fixture
def console(storage: Storage) -> Console:
    services = CoconServices(
        storage=storage,
        identity=Identity("mycelium1", "ecss1"),
        cluster=StaticCluster(["ecss1", "ecss2"]),
    )
    return Console(
        build_registry(), services, Executor(StorageAudit(storage)), StorageUsers(storage)
    )


@pytest.fixture
def runner(console: Console, storage: Storage) -> Runner:
    return Runner(console, storage)
