"""SQLAlchemy models of every table, each in its logical database (SPEC §3).

Tables name their logical database with ``schema=``; the engine maps it to a real database
(MariaDB) or to an ATTACHed file (SQLite). Foreign keys stay inside one logical database,
because SQLite cannot enforce them across files. JSON documents (settings, parameters,
codec lists) are kept as TEXT written by the repositories, so both back ends store the
same bytes. Times are UTC with millisecond precision.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ssw.storage.databases import AUDIT, CALLS, SUBSCRIBERS, SYSTEM

__all__ = [
    "AlarmRow",
    "AliasRow",
    "AuditRow",
    "Base",
    "CdrRow",
    "DomainPropertyRow",
    "DomainRow",
    "LicenceBlobRow",
    "MediaProfileRow",
    "RegistrationRow",
    "RoleRow",
    "RoutingContextRow",
    "ServiceActivationRow",
    "ServiceEnabledRow",
    "SipGroupRow",
    "SubscriberRow",
    "SystemPropertyRow",
    "TrunkRow",
    "UserRow",
    "metadata",
    "table_of",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: UTC wall-clock time with milliseconds (MySQL DATETIME defaults to whole seconds)
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=3), "mysql", "mariadb")
#: text of up to 16 MB (MySQL TEXT stops at 64 KB)
LargeText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
#: 64-bit row id; SQLite only auto-increments an INTEGER PRIMARY KEY
RowId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = metadata


# --- ecss_subscribers: domains and everything that lives in a domain ---------------------


class DomainRow(Base):
    __tablename__ = "domains"
    __table_args__ = ({"schema": SUBSCRIBERS},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    digitmap: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class DomainPropertyRow(Base):
    """Per-domain key/value properties: core timers, SIP timers, SIP properties, ..."""

    __tablename__ = "domain_properties"
    __table_args__ = (
        UniqueConstraint("domain_id", "section", "name"),
        {"schema": SUBSCRIBERS},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(
        ForeignKey(f"{SUBSCRIBERS}.domains.id", ondelete="CASCADE")
    )
    section: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)  # JSON


class SipGroupRow(Base):
    __tablename__ = "sip_groups"
    __table_args__ = (UniqueConstraint("domain_id", "name"), {"schema": SUBSCRIBERS})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(
        ForeignKey(f"{SUBSCRIBERS}.domains.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(128))


class SubscriberRow(Base):
    __tablename__ = "subscribers"
    __table_args__ = (
        UniqueConstraint("domain_id", "number"),
        UniqueConstraint("domain_id", "login"),
        {"schema": SUBSCRIBERS},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(
        ForeignKey(f"{SUBSCRIBERS}.domains.id", ondelete="CASCADE")
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey(f"{SUBSCRIBERS}.sip_groups.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(64))
    login: Mapped[str] = mapped_column(String(64))
    password: Mapped[str | None] = mapped_column(String(128))
    ha1_md5: Mapped[str | None] = mapped_column(String(32))
    ha1_sha256: Mapped[str | None] = mapped_column(String(64))
    auth_mode: Mapped[str] = mapped_column(String(32))
    qop_mode: Mapped[str] = mapped_column(String(32))
    login_mode: Mapped[str] = mapped_column(String(32))
    routing_context: Mapped[str] = mapped_column(String(128))
    settings: Mapped[str] = mapped_column(Text)  # JSON object of per-subscriber SIP settings
    created_at: Mapped[datetime] = mapped_column(Timestamp)


class AliasRow(Base):
    """A number bound to an interface, with the attributes calls and CDRs read."""

    __tablename__ = "aliases"
    __table_args__ = (UniqueConstraint("domain_id", "number"), {"schema": SUBSCRIBERS})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(
        ForeignKey(f"{SUBSCRIBERS}.domains.id", ondelete="CASCADE")
    )
    number: Mapped[str] = mapped_column(String(64))
    iface: Mapped[str] = mapped_column(String(192))
    category: Mapped[int] = mapped_column(Integer)
    display_name: Mapped[str] = mapped_column(String(128))
    clir: Mapped[bool] = mapped_column(Boolean)
    cdr_group: Mapped[str] = mapped_column(String(64))
    properties: Mapped[str] = mapped_column(Text)  # JSON object of further attributes


class ServiceEnabledRow(Base):
    """A supplementary service the operator enabled for a number (SPEC §7)."""

    __tablename__ = "ss_enabled"
    __table_args__ = (
        UniqueConstraint("domain_id", "number", "service"),
        {"schema": SUBSCRIBERS},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(
        ForeignKey(f"{SUBSCRIBERS}.domains.id", ondelete="CASCADE")
    )
    number: Mapped[str] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(48))


class ServiceActivationRow(Base):
    """A supplementary service activated for a number, with its parameters (SPEC §7)."""

    __tablename__ = "ss_activated"
    __table_args__ = (
        UniqueConstraint("domain_id", "number", "service"),
        {"schema": SUBSCRIBERS},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(
        ForeignKey(f"{SUBSCRIBERS}.domains.id", ondelete="CASCADE")
    )
    number: Mapped[str] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(48))
    params: Mapped[str] = mapped_column(Text)  # JSON object


class RegistrationRow(Base):
    """One contact binding of an address-of-record (RFC 3261 §10.3)."""

    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("aor", "contact"), {"schema": SUBSCRIBERS})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey(f"{SUBSCRIBERS}.subscribers.id", ondelete="CASCADE"), index=True
    )
    aor: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(500))
    q: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    call_id: Mapped[str] = mapped_column(String(255))
    cseq: Mapped[int] = mapped_column(BigInteger)
    source_host: Mapped[str] = mapped_column(String(64))
    source_port: Mapped[int] = mapped_column(Integer)
    transport: Mapped[str] = mapped_column(String(8))
    user_agent: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(Text)  # JSON list of Path header values (RFC 3327)
    instance: Mapped[str] = mapped_column(String(255))  # +sip.instance (RFC 5626)
    reg_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class MediaProfileRow(Base):
    __tablename__ = "media_profiles"
    __table_args__ = (UniqueConstraint("domain_id", "name"), {"schema": SUBSCRIBERS})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(
        ForeignKey(f"{SUBSCRIBERS}.domains.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(128))
    codecs: Mapped[str] = mapped_column(Text)  # JSON list, in order of preference
    properties: Mapped[str] = mapped_column(Text)  # JSON object


class TrunkRow(Base):
    __tablename__ = "trunks"
    __table_args__ = (UniqueConstraint("domain_id", "name"), {"schema": SUBSCRIBERS})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(
        ForeignKey(f"{SUBSCRIBERS}.domains.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(128))
    routing_context: Mapped[str] = mapped_column(String(128))
    trunk_group: Mapped[str] = mapped_column(String(128))
    ipset: Mapped[str] = mapped_column(String(128))
    mode: Mapped[str] = mapped_column(String(16))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    listen_port: Mapped[int] = mapped_column(Integer)
    blocked: Mapped[bool] = mapped_column(Boolean)
    settings: Mapped[str] = mapped_column(Text)  # JSON object


class RoutingContextRow(Base):
    """A routing context of a domain as imported (``routing/.xbin/.import-context``)."""

    __tablename__ = "routing_contexts"
    __table_args__ = (UniqueConstraint("domain_id", "name"), {"schema": SUBSCRIBERS})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(
        ForeignKey(f"{SUBSCRIBERS}.domains.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(128))
    xml: Mapped[str] = mapped_column(LargeText)
    imported_at: Mapped[datetime] = mapped_column(Timestamp)


# --- ecss_calls_db ------------------------------------------------------------------------


class CdrRow(Base):
    """One call attempt (SPEC §6): times to the millisecond, durations in milliseconds."""

    __tablename__ = "cdrs"
    __table_args__ = (
        Index(None, "domain", "setup_at"),
        {"schema": CALLS},
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    domain: Mapped[str] = mapped_column(String(128))
    connection_id: Mapped[str] = mapped_column(String(64), index=True)
    caller: Mapped[str] = mapped_column(String(64))
    callee: Mapped[str] = mapped_column(String(64))
    setup_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    answer_at: Mapped[datetime | None] = mapped_column(Timestamp)
    end_at: Mapped[datetime] = mapped_column(Timestamp)
    answer_delay_ms: Mapped[int | None] = mapped_column(BigInteger)
    duration_ms: Mapped[int] = mapped_column(BigInteger)
    release_cause: Mapped[int] = mapped_column(Integer)
    release_side: Mapped[str] = mapped_column(String(16))
    cdr_group: Mapped[str] = mapped_column(String(64))
    recording_file: Mapped[str] = mapped_column(String(255))
    incoming_call_id: Mapped[str] = mapped_column(String(255))
    outgoing_call_id: Mapped[str] = mapped_column(String(255))


# --- ecss_audit ---------------------------------------------------------------------------


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = ({"schema": AUDIT},)

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    user: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(128))
    front_end: Mapped[str] = mapped_column(String(32))
    command: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(Text)
    success: Mapped[bool] = mapped_column(Boolean)


# --- ecss_system --------------------------------------------------------------------------


class RoleRow(Base):
    __tablename__ = "roles"
    __table_args__ = ({"schema": SYSTEM},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    privileges: Mapped[str] = mapped_column(Text)  # JSON list


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = ({"schema": SYSTEM},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role_id: Mapped[int] = mapped_column(ForeignKey(f"{SYSTEM}.roles.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    password_changed_at: Mapped[datetime] = mapped_column(Timestamp)


class AlarmRow(Base):
    """An active alarm; clearing removes the row (the history goes to the audit log)."""

    __tablename__ = "alarms"
    __table_args__ = (UniqueConstraint("name", "source"), {"schema": SYSTEM})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(128))
    severity: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(Timestamp)


class LicenceBlobRow(Base):
    """The passport and the licence keys, kept as the operator pasted them (SPEC §9)."""

    __tablename__ = "licence_blobs"
    __table_args__ = ({"schema": SYSTEM},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    content: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(Timestamp)


class SystemPropertyRow(Base):
    """System-wide key/value properties (the same sections as per-domain ones)."""

    __tablename__ = "system_properties"
    __table_args__ = (UniqueConstraint("section", "name"), {"schema": SYSTEM})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)  # JSON


def table_of(model: type[Base]) -> Table:
    """The Core table of a model, for the statements the repositories build."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table
