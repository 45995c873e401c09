"""Helpers of the storage tests (a module name of its own, so no other test folder's
conftest can shadow it)."""

from __future__ import annotations

import os
import secrets

from sqlalchemy import text

from ssw.storage import Storage

__all__ = ["drop_databases", "unique_prefix"]


async def drop_databases(storage: Storage) -> None:
    """Drop every database of a prefixed MariaDB storage (tests only)."""
    engine = storage.database.root or storage.database.engine
    async with engine.begin() as conn:
        for name in storage.database.schema_map.values():
            await conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))


def unique_prefix() -> str:
    return f"t{os.getpid()}_{secrets.token_hex(3)}_"
