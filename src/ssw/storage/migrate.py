"""Schema migrations with Alembic, configured in code (no alembic.ini outside the package).

`upgrade(database)` brings every logical database to the newest revision; `Storage.open`
calls it. On MariaDB a named lock keeps two processes from migrating at once; on SQLite the
migration runs in one ``BEGIN IMMEDIATE`` transaction, so it is all-or-nothing.
New revisions: `make_revision(database, message)` writes a script into ``versions/`` from
the difference between the models and the database.
"""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ssw.storage.databases import SYSTEM
from ssw.storage.engine import Database
from ssw.storage.errors import StorageUnavailable

__all__ = [
    "alembic_config",
    "check_at_head",
    "current_revision",
    "downgrade",
    "head_revision",
    "make_revision",
    "upgrade",
]

SCRIPT_LOCATION = "ssw.storage:migrations"
_MIGRATION_LOCK = "ssw_storage_migration"


def alembic_config(
    connection: Connection | None = None, database: Database | None = None, **attributes: Any
) -> Config:
    """The Alembic configuration an alembic.ini would hold, for `connection`."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    if database is not None:
        config.attributes["version_schema"] = database.schema_map[SYSTEM]
    config.attributes.update(attributes)
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the migration scripts of ssw.storage are missing")
    return head


async def check_at_head(database: Database) -> None:
    """StorageUnavailable unless the schema is at the revision this release expects."""
    current, head = await current_revision(database), head_revision()
    if current != head:
        raise StorageUnavailable(
            f"the schema at {database.location} is at revision {current or 'none'}, this"
            f" release needs {head}: open it with migrations enabled"
        )


async def current_revision(database: Database) -> str | None:
    """The revision the database is at (None before the first upgrade)."""

    def read(connection: Connection) -> str | None:
        options = {"version_table_schema": database.schema_map[SYSTEM]}
        context = MigrationContext.configure(connection, opts=options)
        return context.get_current_revision()

    async with database.read() as conn:
        return await conn.run_sync(read)


async def upgrade(database: Database, revision: str = "head") -> None:
    """Upgrade every logical database to `revision` (all-or-nothing on SQLite)."""

    def run(connection: Connection) -> None:
        try:
            command.upgrade(alembic_config(connection, database), revision)
        except CommandError as error:
            # e.g. the database was written by a newer release whose revision is unknown here
            raise StorageUnavailable(
                f"cannot upgrade the schema at {database.location} to {revision}: {error}"
            ) from error

    async with database.write() as conn:
        if database.dialect == "mysql":
            locked = await conn.scalar(
                text("SELECT GET_LOCK(:name, 120)"), {"name": _MIGRATION_LOCK}
            )
            if locked != 1:
                raise RuntimeError("another process kept the schema migration lock for 120 s")
        try:
            await conn.run_sync(run)
        finally:
            if database.dialect == "mysql":
                await conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _MIGRATION_LOCK})


async def downgrade(database: Database, revision: str) -> None:
    """Take the schema back to `revision` (``base`` drops every table of the package)."""

    def run(connection: Connection) -> None:
        command.downgrade(alembic_config(connection, database), revision)

    async with database.write() as conn:
        await conn.run_sync(run)


async def make_revision(database: Database, message: str, rev_id: str | None = None) -> None:
    """Write a new migration script from the difference between the models and `database`."""

    def run(connection: Connection) -> None:
        config = alembic_config(connection, database, schemas=tuple(database.schema_map.values()))
        command.revision(config, message=message, autogenerate=True, rev_id=rev_id)

    async with database.write() as conn:
        await conn.run_sync(run)
