"""Alembic environment: runs on the connection that ssw.storage.migrate hands over.

There is no alembic.ini: ssw.storage.migrate builds the configuration in code and passes
an open connection in ``config.attributes["connection"]``; the version table lives in the
``ecss_system`` logical database.
"""

from __future__ import annotations

from alembic import context

from ssw.storage.databases import SYSTEM, TABLE_DATABASES
from ssw.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "ssw.storage migrations run through ssw.storage.migrate (Storage.open upgrades"
        " the schema); there is no standalone alembic.ini"
    )


def _include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Compare only the logical databases this package owns."""
    if type_ == "schema":
        return name in context.config.attributes.get("schemas", TABLE_DATABASES)
    return True


context.configure(
    connection=connection,
    target_metadata=metadata,
    # The real name of ecss_system: Alembic looks the version table up without the
    # schema translate map, so it must be given the name on the server.
    version_table_schema=context.config.attributes.get("version_schema", SYSTEM),
    include_schemas=True,
    include_name=_include_name,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
