"""Fixtures of the storage tests: the same tests run on SQLite files and on MariaDB.

MariaDB is expected at 127.0.0.1:3306 (root, no password), or at the URL in
SSW_TEST_MYSQL_URL. When nothing answers there, the fixture starts the local mariadbd
(and stops it after the session); only if it still cannot connect are the MariaDB tests
skipped, with the reason. Each MariaDB test gets its own database prefix, dropped after.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pymysql
import pytest
from sqlalchemy import make_url
from storage_helpers import drop_databases, unique_prefix

from ssw.storage import Storage

MYSQL_URL = os.environ.get("SSW_TEST_MYSQL_URL", "mysql+aiomysql://root@127.0.0.1:3306/")
MARIADBD = "/usr/sbin/mariadbd"
BACKENDS = ["sqlite", "mariadb"]


def _ping(url: str) -> str | None:
    """None when the server answers, else why not."""
    parsed = make_url(url)
    try:
        connection = pymysql.connect(
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 3306,
            user=parsed.username or "root",
            password=parsed.password or "",
            connect_timeout=2,
        )
    except pymysql.MySQLError as error:
        return str(error)
    connection.close()
    return None


@pytest.fixture(scope="session")
def mariadb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a reachable MariaDB, starting the local server when needed."""
    reason = _ping(MYSQL_URL)
    started_pid: int | None = None
    if reason is not None:
        if not (Path(MARIADBD).exists() and shutil.which("start-stop-daemon")):
            pytest.skip(f"MariaDB unreachable at {MYSQL_URL} ({reason}) and mariadbd not installed")
        pidfile = tmp_path_factory.mktemp("mariadb") / "mariadbd.pid"
        with contextlib.suppress(OSError, LookupError):  # the socket directory a new host lacks
            Path("/run/mysqld").mkdir(exist_ok=True)
            shutil.chown("/run/mysqld", "mysql", "mysql")
        subprocess.run(
            [
                "start-stop-daemon",
                "--start",
                "--oknodo",
                "--background",
                "--make-pidfile",
                "--pidfile",
                str(pidfile),
                "--exec",
                MARIADBD,
                "--",
                "--user=mysql",
            ],
            check=False,
            capture_output=True,
        )
        deadline = time.monotonic() + 30
        while reason is not None and time.monotonic() < deadline:
            time.sleep(0.5)
            reason = _ping(MYSQL_URL)
        if pidfile.exists():
            started_pid = int(pidfile.read_text().strip() or 0) or None
        if reason is not None:
            _stop(started_pid)
            pytest.skip(f"MariaDB unreachable at {MYSQL_URL} even after starting it: {reason}")
    try:
        yield MYSQL_URL
    finally:
        _stop(started_pid)


def _stop(pid: int | None) -> None:
    """Stop the mariadbd this session started (it may have exited already)."""
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def target(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(what to open, prefix) for the backend under test."""
    if backend == "sqlite":
        return str(tmp_path / "data"), ""
    url = request.getfixturevalue("mariadb_url")
    return url, unique_prefix()


@pytest.fixture
async def storage(target: tuple[str, str]) -> AsyncIterator[Storage]:
    location, prefix = target
    opened = await Storage.open(location, db_prefix=prefix)
    try:
        yield opened
    finally:
        if opened.dialect == "mysql":
            await drop_databases(opened)
        await opened.close()


@pytest.fixture
async def open_storage(target: tuple[str, str]) -> AsyncIterator[Callable[[], Awaitable[Storage]]]:
    """Open the target again (as a restarted switch would); all are closed, and the MariaDB
    databases dropped, after the test."""
    location, prefix = target
    opened: list[Storage] = []

    async def reopen() -> Storage:
        opened.append(await Storage.open(location, db_prefix=prefix))
        return opened[-1]

    try:
        yield reopen
    finally:
        for index, each in enumerate(opened):
            if index == 0 and each.dialect == "mysql":
                await drop_databases(each)
            await each.close()


@pytest.fixture
async def domain(storage: Storage) -> str:
    """A declared domain named as in the QA suite."""
    await storage.domains.declare("pv.ssw3")
    return "pv.ssw3"
