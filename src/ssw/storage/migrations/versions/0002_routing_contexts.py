"""Routing contexts of a domain, as imported by ``routing/.xbin/.import-context``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: UTC time with milliseconds
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=3), "mysql", "mariadb")
#: text of up to 16 MB (MySQL TEXT stops at 64 KB)
LARGE_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "routing_contexts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("xml", LARGE_TEXT, nullable=False),
        sa.Column("imported_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["ecss_subscribers.domains.id"],
            name=op.f("fk_routing_contexts_domain_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_contexts")),
        sa.UniqueConstraint(
            "domain_id", "name", name=op.f("uq_routing_contexts_domain_id_name")
        ),
        schema="ecss_subscribers",
    )


def downgrade() -> None:
    op.drop_table("routing_contexts", schema="ecss_subscribers")
