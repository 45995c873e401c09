"""Alembic migrations of the storage schema (the scripts live in ``versions/``)."""
