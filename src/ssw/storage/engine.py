"""Opening the database: one async engine, the logical databases mapped onto it, and the
transactions every repository runs in.

* SQLite (the embedded default): each logical database that holds tables is one file under
  the data directory (``<prefix>ecss_subscribers.sqlite``, ...), ATTACHed to every pooled
  connection under its logical name. Files use write-ahead logging, so a crash (even
  SIGKILL) loses nothing that was committed and never shows half a transaction. Writes
  begin with ``BEGIN IMMEDIATE`` so concurrent writers queue on the busy timeout instead
  of failing when a read lock would have to be upgraded. Reads issue no BEGIN: each
  statement reads its own consistent snapshot, which saves three round trips to the
  SQLite thread per read.
* MariaDB/MySQL (production): each logical database is a real database, created when
  missing; a prefix is applied with SQLAlchemy's schema translate map. Transactions run
  at READ COMMITTED; a write that InnoDB aborts as a deadlock victim is run again
  (repositories.common.retry_on_conflict).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from ssw.storage.databases import (
    AUDIT,
    CALLS,
    LOGICAL_DATABASES,
    SUBSCRIBERS,
    SYSTEM,
    TABLE_DATABASES,
    check_prefix,
)
from ssw.storage.errors import InvalidValue, StorageUnavailable

__all__ = ["Database", "connect"]

#: how long a SQLite writer waits for another writer before giving up, in seconds
SQLITE_BUSY_TIMEOUT = 30.0
_WRITE_OPTION = "ssw_write"
#: WAL with synchronous=NORMAL survives a crash of the process without loss; FULL also
#: survives a power cut without losing the last commits, at one fsync per commit: kept
#: for the billing records and the audit trail, not for the churn of registrations.
_SQLITE_SYNCHRONOUS = {SUBSCRIBERS: "NORMAL", SYSTEM: "NORMAL", CALLS: "FULL", AUDIT: "FULL"}
#: MySQL client errors meaning the server is gone: can't connect (2002 socket, 2003 TCP),
#: server has gone away (2006), lost connection during query (2013)
_CONNECTION_ERRORS = frozenset({2002, 2003, 2006, 2013})
#: SQLite errors that mean the files cannot be used (full disk, I/O error, lost files, or
#: another writer holding the lock past the busy timeout)
_SQLITE_UNAVAILABLE = (
    "database or disk is full",
    "disk I/O error",
    "unable to open database",
    "database is locked",
    "readonly database",
)


@dataclass(slots=True)
class Database:
    """The engine and the way to run one transaction on it."""

    engine: AsyncEngine
    dialect: str  # "sqlite" or "mysql" (MariaDB reports "mysql" too)
    prefix: str
    location: str  # data directory or URL without password, for messages
    schema_map: dict[str, str]  # logical database -> name on the server
    root: AsyncEngine | None = None  # the engine that owns the pool, when `engine` wraps it

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction: committed when the block ends, rolled back on error."""
        try:
            async with self.engine.connect() as conn:
                await conn.execution_options(**{_WRITE_OPTION: True})
                async with conn.begin():
                    yield conn
        except DBAPIError as error:
            self._raise_if_unreachable(error)
            raise

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading (on SQLite each statement is its own snapshot)."""
        try:
            async with self.engine.connect() as conn, conn.begin():
                yield conn
        except DBAPIError as error:
            self._raise_if_unreachable(error)
            raise

    @contextlib.asynccontextmanager
    async def sqlite_write(self) -> AsyncIterator[Any]:
        """One write transaction (``BEGIN IMMEDIATE``) on the SQLite driver's own
        connection (an ``aiosqlite.Connection``), for the few hot writes that cannot
        afford SQLAlchemy: through its aiosqlite adapter every statement costs three
        trips to the connection's thread (cursor, execute, close) and the transaction
        about fifteen; here each `execute`/`executemany` is one trip, BEGIN and COMMIT one
        each. Committed when the block ends, rolled back on error; the caller writes
        SQL for SQLite only, with the logical database names as schemas."""
        if self.dialect != "sqlite":
            raise RuntimeError("sqlite_write is for the SQLite back end only")
        async with self.engine.connect() as conn:
            driver: Any = (await conn.get_raw_connection()).driver_connection
            try:
                await driver.execute("BEGIN IMMEDIATE")
                yield driver
                await driver.execute("COMMIT")
            except BaseException as failure:
                # Also when cancelled: what was handed to the connection's thread runs
                # anyway, BEGIN included, so the ROLLBACK is queued after it and before
                # anything of the connection's next user ("no transaction" is fine).
                with contextlib.suppress(sqlite3.Error):
                    await driver.execute("ROLLBACK")
                if isinstance(failure, sqlite3.Error):
                    raise self._sqlite_error(failure) from failure
                raise

    def _sqlite_error(self, error: sqlite3.Error) -> Exception:
        """StorageUnavailable for files that cannot be written, as `write` says; else the
        driver's error as SQLAlchemy would have raised it."""
        text_of_error = str(error)
        if any(words in text_of_error for words in _SQLITE_UNAVAILABLE):
            return StorageUnavailable(
                f"the database at {self.location} cannot be reached: {text_of_error}")
        wrapped = DBAPIError.instance(None, None, error, sqlite3.Error)
        return wrapped if isinstance(wrapped, Exception) else error

    def _raise_if_unreachable(self, error: DBAPIError) -> None:
        """Turn a lost or refused connection, or SQLite files that cannot be written, into
        StorageUnavailable; the transaction was rolled back (or never began), and the next
        call tries afresh."""
        code = error.orig.args[0] if error.orig is not None and error.orig.args else None
        sqlite_trouble = isinstance(code, str) and any(
            words in code for words in _SQLITE_UNAVAILABLE
        )
        if error.connection_invalidated or code in _CONNECTION_ERRORS or sqlite_trouble:
            raise StorageUnavailable(
                f"the database at {self.location} cannot be reached: {_reason(error)}"
            ) from error

    async def close(self) -> None:
        await (self.root or self.engine).dispose()


def _reason(error: BaseException) -> str:
    """The driver's own words, without SQLAlchemy's statement dump and links."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        return str(error.orig)
    return str(error)


def _is_url(target: str | Path) -> bool:
    return isinstance(target, str) and "://" in target


async def connect(target: str | Path, db_prefix: str = "") -> Database:
    """Open the engine for a data directory (SQLite) or a database URL."""
    check_prefix(db_prefix)
    if _is_url(target):
        url = make_url(str(target))
        if url.get_backend_name() == "sqlite":
            database = url.database or ""
            if not database:
                raise InvalidValue("a SQLite URL must name a data directory: sqlite:///<dir>")
            return await _connect_sqlite(Path(database), db_prefix)
        if url.get_backend_name() in ("mysql", "mariadb"):
            return await _connect_mysql(url, db_prefix)
        raise InvalidValue(
            f"unsupported database {url.get_backend_name()!r}: use a data directory"
            " (SQLite) or mysql+aiomysql://user:password@host:port/"
        )
    return await _connect_sqlite(Path(target), db_prefix)


async def _connect_sqlite(data_dir: Path, prefix: str) -> Database:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StorageUnavailable(f"cannot create data directory {data_dir}: {error}") from error
    files = {name: str(data_dir / f"{prefix}{name}.sqlite") for name in TABLE_DATABASES}
    # The main database is a private in-memory one; every table lives in an attached file.
    engine = create_async_engine(
        "sqlite+aiosqlite://",
        poolclass=AsyncAdaptedQueuePool,
        # Kept open: an overflow connection is closed when returned, and opening one costs a
        # thread, four ATTACHes and their pragmas. Under load the CDR writer, the directory,
        # the location service and its refresh each hold one at the same time.
        pool_size=8,
        max_overflow=4,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT, "check_same_thread": False},
        # Every checkout ends in commit or rollback (Database.write/read): no reset needed.
        pool_reset_on_return=None,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite would not).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            for name, path in files.items():
                cursor.execute(f"ATTACH DATABASE ? AS {name}", (path,))
                cursor.execute(f"PRAGMA {name}.journal_mode = WAL")
                cursor.execute(f"PRAGMA {name}.synchronous = {_SQLITE_SYNCHRONOUS[name]}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(_WRITE_OPTION, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    database = Database(
        engine=engine,
        dialect="sqlite",
        prefix=prefix,
        location=str(data_dir),
        schema_map={name: name for name in LOGICAL_DATABASES},
    )
    try:
        async with database.read() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as error:
        await engine.dispose()
        raise StorageUnavailable(
            f"cannot open SQLite files in {data_dir}: {_reason(error)}"
        ) from error
    return database


async def _connect_mysql(url: URL, prefix: str) -> Database:
    if url.database:
        raise InvalidValue(
            f"leave the database out of the URL ({url.database!r} given): the logical"
            " databases of SPEC §3 are chosen by the switch"
        )
    if url.drivername in ("mysql", "mariadb"):
        url = url.set(drivername=f"{url.drivername}+aiomysql")
    url = url.update_query_dict({"charset": "utf8mb4"})
    schema_map = {name: f"{prefix}{name}" for name in LOGICAL_DATABASES}
    location = url.render_as_string(hide_password=True)
    engine = create_async_engine(
        url,
        # Each statement sees what is committed and InnoDB takes no gap locks on plain
        # searches, which keeps concurrent registrations from deadlocking one another.
        isolation_level="READ COMMITTED",
        pool_size=8,
        max_overflow=16,
        pool_pre_ping=True,
        pool_recycle=3600,
        pool_reset_on_return=None,
    )
    try:
        async with engine.begin() as conn:
            for real_name in schema_map.values():
                await conn.execute(
                    text(
                        f"CREATE DATABASE IF NOT EXISTS `{real_name}`"
                        " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                    )
                )
    except (SQLAlchemyError, OSError) as error:
        await engine.dispose()
        raise StorageUnavailable(
            f"cannot reach the database at {location}: {_reason(error)}"
        ) from error
    root = engine
    if prefix:
        engine = engine.execution_options(schema_translate_map=schema_map)
    return Database(
        engine=engine,
        root=root,
        dialect="mysql",
        prefix=prefix,
        location=location,
        schema_map=schema_map,
    )
