"""The Alembic migrations and the models agree, on SQLite and MariaDB."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, inspect, text
from sqlalchemy.engine import Connection
from storage_helpers import drop_databases

from ssw.storage import Storage, StorageUnavailable
from ssw.storage.databases import SYSTEM, TABLE_DATABASES
from ssw.storage.engine import connect
from ssw.storage.migrate import current_revision, downgrade, head_revision, upgrade
from ssw.storage.tables import metadata


def _as_on_server(schema_map: dict[str, str]) -> MetaData:
    """The models with each logical database renamed as on the server (prefix)."""
    renamed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        assert table.schema is not None
        table.to_metadata(renamed, schema=schema_map[table.schema])
    return renamed


def _differences(
    connection: Connection, schema_map: dict[str, str], models: MetaData | None = None
) -> list[Any]:
    ours = {schema_map[name] for name in TABLE_DATABASES}

    def include_name(name: str | None, type_: str, parent: object) -> bool:
        return type_ != "schema" or name in ours

    context = MigrationContext.configure(
        connection,
        opts={
            "include_schemas": True,
            "include_name": include_name,
            "compare_type": True,
            "version_table_schema": schema_map[SYSTEM],
        },
    )
    return list(compare_metadata(context, models or _as_on_server(schema_map)))


async def test_migrated_schema_matches_the_models(storage: Storage) -> None:
    async with storage.database.read() as conn:
        differences = await conn.run_sync(_differences, storage.database.schema_map)
    assert differences == []


async def test_the_comparison_notices_a_drift(storage: Storage) -> None:
    """A model with one column more than the migration made must show as a difference."""
    schema_map = storage.database.schema_map
    drifted = _as_on_server(schema_map)
    subscribers = drifted.tables[f"{schema_map['ecss_subscribers']}.subscribers"]
    subscribers.append_column(Column("nickname", String(32), nullable=True))
    async with storage.database.read() as conn:
        differences = await conn.run_sync(_differences, schema_map, drifted)
    assert [(d[0], d[2], d[3].name) for d in differences] == [
        ("add_column", "subscribers", "nickname")
    ]


async def test_database_is_at_head_and_reopening_is_idempotent(
    open_storage: Callable[[], Awaitable[Storage]],
) -> None:
    first = await open_storage()
    await first.domains.declare("kept.example")
    assert await current_revision(first.database) == head_revision()
    await first.close()
    second = await open_storage()
    assert await current_revision(second.database) == head_revision()
    assert [d.name for d in await second.domains.list()] == ["kept.example"]


async def test_every_table_is_in_its_logical_database(storage: Storage) -> None:
    def tables_by_schema(connection: Connection) -> dict[str, set[str]]:
        inspector = inspect(connection)
        return {
            logical: set(inspector.get_table_names(schema=storage.database.schema_map[logical]))
            for logical in TABLE_DATABASES
        }

    async with storage.database.read() as conn:
        found = await conn.run_sync(tables_by_schema)
    assert {"domains", "subscribers", "registrations", "aliases"} <= found["ecss_subscribers"]
    assert found["ecss_calls_db"] == {"cdrs"}
    assert found["ecss_audit"] == {"audit_log"}
    assert {"users", "roles", "alarms", "licence_blobs", "alembic_version"} <= found["ecss_system"]


async def test_mariadb_gets_every_logical_database_of_the_spec(storage: Storage) -> None:
    if storage.dialect != "mysql":
        return
    async with storage.database.read() as conn:
        names = set(await conn.run_sync(lambda c: inspect(c).get_schema_names()))
    assert set(storage.database.schema_map.values()) <= names
    assert len(storage.database.schema_map) == 11


async def test_downgrade_to_base_and_up_again(
    open_storage: Callable[[], Awaitable[Storage]],
) -> None:
    storage = await open_storage()
    await downgrade(storage.database, "base")
    assert await current_revision(storage.database) is None

    def user_tables(connection: Connection) -> set[str]:
        inspector = inspect(connection)
        schema_map = storage.database.schema_map
        return {
            name
            for logical in TABLE_DATABASES
            for name in inspector.get_table_names(schema=schema_map[logical])
        }

    async with storage.database.read() as conn:
        assert await conn.run_sync(user_tables) <= {"alembic_version"}
    await upgrade(storage.database)
    assert await current_revision(storage.database) == head_revision()
    await storage.users.ensure_defaults()
    assert await storage.users.is_default_password()


async def test_schema_not_at_head_is_refused_clearly(
    target: tuple[str, str], open_storage: Callable[[], Awaitable[Storage]]
) -> None:
    location, prefix = target
    with pytest.raises(StorageUnavailable, match="revision none"):
        await Storage.open(location, db_prefix=prefix, migrate=False)
    storage = await open_storage()
    version_table = f"{storage.database.schema_map[SYSTEM]}.alembic_version"
    async with storage.database.write() as conn:
        await conn.execute(text(f"UPDATE {version_table} SET version_num = 'from_the_future'"))
    with pytest.raises(StorageUnavailable, match="from_the_future"):
        await Storage.open(location, db_prefix=prefix)
    with pytest.raises(StorageUnavailable, match="from_the_future"):
        await Storage.open(location, db_prefix=prefix, migrate=False)
    async with storage.database.write() as conn:
        await conn.execute(
            text(f"UPDATE {version_table} SET version_num = :head"), {"head": head_revision()}
        )
    reopened = await Storage.open(location, db_prefix=prefix, migrate=False)
    await reopened.close()


async def test_upgrade_from_the_first_revision_keeps_the_data(target: tuple[str, str]) -> None:
    """A database made by revision 0001 (with data in it) upgrades to head in place."""
    location, prefix = target
    database = await connect(location, prefix)
    try:
        await upgrade(database, "0001")
        assert await current_revision(database) == "0001"
        old = Storage(database)
        await old.domains.declare("kept.example")
        await old.subscribers.declare("kept.example", "100", group="g", password="p")
        await upgrade(database)
        assert await current_revision(database) == head_revision()
        new = Storage(database)
        assert (await new.subscribers.get("kept.example", "100")).password == "p"
        await new.routing.put("kept.example", "ctx", '<context name="ctx"/>')
    finally:
        if database.dialect == "mysql":
            await drop_databases(Storage(database))
        await database.close()
