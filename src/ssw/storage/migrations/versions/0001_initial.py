"""Initial schema: every table of the logical databases of SPEC §3.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: UTC time with milliseconds (MySQL DATETIME keeps whole seconds unless told otherwise)
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=3), "mysql", "mariadb")
#: 64-bit row id; SQLite auto-increments only an INTEGER PRIMARY KEY
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("front_end", sa.String(length=32), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        schema="ecss_audit",
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False, schema="ecss_audit")
    op.create_table(
        "cdrs",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("domain", sa.String(length=128), nullable=False),
        sa.Column("connection_id", sa.String(length=64), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("callee", sa.String(length=64), nullable=False),
        sa.Column("setup_at", TIMESTAMP, nullable=False),
        sa.Column("answer_at", TIMESTAMP, nullable=True),
        sa.Column("end_at", TIMESTAMP, nullable=False),
        sa.Column("answer_delay_ms", sa.BigInteger(), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.Column("release_cause", sa.Integer(), nullable=False),
        sa.Column("release_side", sa.String(length=16), nullable=False),
        sa.Column("cdr_group", sa.String(length=64), nullable=False),
        sa.Column("recording_file", sa.String(length=255), nullable=False),
        sa.Column("incoming_call_id", sa.String(length=255), nullable=False),
        sa.Column("outgoing_call_id", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdrs")),
        schema="ecss_calls_db",
    )
    op.create_index(
        op.f("ix_cdrs_connection_id"),
        "cdrs",
        ["connection_id"],
        unique=False,
        schema="ecss_calls_db",
    )
    op.create_index(
        op.f("ix_cdrs_domain_setup_at"),
        "cdrs",
        ["domain", "setup_at"],
        unique=False,
        schema="ecss_calls_db",
    )
    op.create_index(
        op.f("ix_cdrs_setup_at"), "cdrs", ["setup_at"], unique=False, schema="ecss_calls_db"
    )
    op.create_table(
        "domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("digitmap", sa.String(length=1024), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domains")),
        sa.UniqueConstraint("name", name=op.f("uq_domains_name")),
        schema="ecss_subscribers",
    )
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("raised_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
        sa.UniqueConstraint("name", "source", name=op.f("uq_alarms_name_source")),
        schema="ecss_system",
    )
    op.create_table(
        "licence_blobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("added_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence_blobs")),
        schema="ecss_system",
    )
    op.create_index(
        op.f("ix_licence_blobs_kind"), "licence_blobs", ["kind"], unique=False, schema="ecss_system"
    )
    op.create_table(
        "roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("privileges", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("name", name=op.f("uq_roles_name")),
        schema="ecss_system",
    )
    op.create_table(
        "system_properties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_properties")),
        sa.UniqueConstraint("section", "name", name=op.f("uq_system_properties_section_name")),
        schema="ecss_system",
    )
    op.create_table(
        "aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("iface", sa.String(length=192), nullable=False),
        sa.Column("category", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("clir", sa.Boolean(), nullable=False),
        sa.Column("cdr_group", sa.String(length=64), nullable=False),
        sa.Column("properties", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["ecss_subscribers.domains.id"],
            name=op.f("fk_aliases_domain_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aliases")),
        sa.UniqueConstraint("domain_id", "number", name=op.f("uq_aliases_domain_id_number")),
        schema="ecss_subscribers",
    )
    op.create_table(
        "domain_properties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["ecss_subscribers.domains.id"],
            name=op.f("fk_domain_properties_domain_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_properties")),
        sa.UniqueConstraint(
            "domain_id", "section", "name", name=op.f("uq_domain_properties_domain_id_section_name")
        ),
        schema="ecss_subscribers",
    )
    op.create_table(
        "media_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("codecs", sa.Text(), nullable=False),
        sa.Column("properties", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["ecss_subscribers.domains.id"],
            name=op.f("fk_media_profiles_domain_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_profiles")),
        sa.UniqueConstraint("domain_id", "name", name=op.f("uq_media_profiles_domain_id_name")),
        schema="ecss_subscribers",
    )
    op.create_table(
        "sip_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["ecss_subscribers.domains.id"],
            name=op.f("fk_sip_groups_domain_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sip_groups")),
        sa.UniqueConstraint("domain_id", "name", name=op.f("uq_sip_groups_domain_id_name")),
        schema="ecss_subscribers",
    )
    op.create_table(
        "ss_activated",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=48), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["ecss_subscribers.domains.id"],
            name=op.f("fk_ss_activated_domain_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ss_activated")),
        sa.UniqueConstraint(
            "domain_id", "number", "service", name=op.f("uq_ss_activated_domain_id_number_service")
        ),
        schema="ecss_subscribers",
    )
    op.create_table(
        "ss_enabled",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=48), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["ecss_subscribers.domains.id"],
            name=op.f("fk_ss_enabled_domain_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ss_enabled")),
        sa.UniqueConstraint(
            "domain_id", "number", "service", name=op.f("uq_ss_enabled_domain_id_number_service")
        ),
        schema="ecss_subscribers",
    )
    op.create_table(
        "trunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("routing_context", sa.String(length=128), nullable=False),
        sa.Column("trunk_group", sa.String(length=128), nullable=False),
        sa.Column("ipset", sa.String(length=128), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("listen_port", sa.Integer(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["ecss_subscribers.domains.id"],
            name=op.f("fk_trunks_domain_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trunks")),
        sa.UniqueConstraint("domain_id", "name", name=op.f("uq_trunks_domain_id_name")),
        schema="ecss_subscribers",
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("password_changed_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"], ["ecss_system.roles.id"], name=op.f("fk_users_role_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
        schema="ecss_system",
    )
    op.create_index(
        op.f("ix_users_role_id"), "users", ["role_id"], unique=False, schema="ecss_system"
    )
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("password", sa.String(length=128), nullable=True),
        sa.Column("ha1_md5", sa.String(length=32), nullable=True),
        sa.Column("ha1_sha256", sa.String(length=64), nullable=True),
        sa.Column("auth_mode", sa.String(length=32), nullable=False),
        sa.Column("qop_mode", sa.String(length=32), nullable=False),
        sa.Column("login_mode", sa.String(length=32), nullable=False),
        sa.Column("routing_context", sa.String(length=128), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["ecss_subscribers.domains.id"],
            name=op.f("fk_subscribers_domain_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["ecss_subscribers.sip_groups.id"],
            name=op.f("fk_subscribers_group_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscribers")),
        sa.UniqueConstraint("domain_id", "login", name=op.f("uq_subscribers_domain_id_login")),
        sa.UniqueConstraint("domain_id", "number", name=op.f("uq_subscribers_domain_id_number")),
        schema="ecss_subscribers",
    )
    op.create_index(
        op.f("ix_subscribers_group_id"),
        "subscribers",
        ["group_id"],
        unique=False,
        schema="ecss_subscribers",
    )
    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("aor", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=500), nullable=False),
        sa.Column("q", sa.Float(), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("call_id", sa.String(length=255), nullable=False),
        sa.Column("cseq", sa.BigInteger(), nullable=False),
        sa.Column("source_host", sa.String(length=64), nullable=False),
        sa.Column("source_port", sa.Integer(), nullable=False),
        sa.Column("transport", sa.String(length=8), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("instance", sa.String(length=255), nullable=False),
        sa.Column("reg_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["ecss_subscribers.subscribers.id"],
            name=op.f("fk_registrations_subscriber_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
        sa.UniqueConstraint("aor", "contact", name=op.f("uq_registrations_aor_contact")),
        schema="ecss_subscribers",
    )
    op.create_index(
        op.f("ix_registrations_expires_at"),
        "registrations",
        ["expires_at"],
        unique=False,
        schema="ecss_subscribers",
    )
    op.create_index(
        op.f("ix_registrations_subscriber_id"),
        "registrations",
        ["subscriber_id"],
        unique=False,
        schema="ecss_subscribers",
    )


def downgrade() -> None:
    # Tables go with their indexes; dependants first (MySQL refuses to drop an index a
    # foreign key still needs, so indexes are not dropped one by one).
    for schema, table in (
        ("ecss_subscribers", "registrations"),
        ("ecss_subscribers", "subscribers"),
        ("ecss_subscribers", "sip_groups"),
        ("ecss_subscribers", "aliases"),
        ("ecss_subscribers", "ss_enabled"),
        ("ecss_subscribers", "ss_activated"),
        ("ecss_subscribers", "media_profiles"),
        ("ecss_subscribers", "trunks"),
        ("ecss_subscribers", "domain_properties"),
        ("ecss_subscribers", "domains"),
        ("ecss_calls_db", "cdrs"),
        ("ecss_audit", "audit_log"),
        ("ecss_system", "users"),
        ("ecss_system", "roles"),
        ("ecss_system", "alarms"),
        ("ecss_system", "licence_blobs"),
        ("ecss_system", "system_properties"),
    ):
        op.drop_table(table, schema=schema)
