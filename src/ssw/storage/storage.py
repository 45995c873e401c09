"""`Storage`: the one object the rest of the switch holds to reach the database."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from sqlalchemy import text

from ssw.storage.engine import Database, connect
from ssw.storage.migrate import check_at_head, upgrade
from ssw.storage.repositories.audit import AuditRepository
from ssw.storage.repositories.cdrs import CdrRepository
from ssw.storage.repositories.common import Clock, system_clock
from ssw.storage.repositories.domains import DomainRepository, SipGroupRepository
from ssw.storage.repositories.interfaces import MediaProfileRepository, TrunkRepository
from ssw.storage.repositories.numbers import AliasRepository, ServiceRepository
from ssw.storage.repositories.properties import PropertyRepository
from ssw.storage.repositories.registrations import RegistrationRepository
from ssw.storage.repositories.routing import RoutingContextRepository
from ssw.storage.repositories.subscribers import SubscriberRepository
from ssw.storage.repositories.system import AlarmRepository, LicenceRepository
from ssw.storage.repositories.users import UserRepository

__all__ = ["Storage"]


class Storage:
    """Every repository over one database. Build it with `Storage.open`."""

    def __init__(self, database: Database, clock: Clock = system_clock) -> None:
        self.database = database
        self.domains = DomainRepository(database, clock)
        self.sip_groups = SipGroupRepository(database, clock)
        self.subscribers = SubscriberRepository(database, clock)
        self.aliases = AliasRepository(database, clock)
        self.services = ServiceRepository(database, clock)
        self.registrations = RegistrationRepository(database, clock)
        self.kv = PropertyRepository(database, clock)
        self.media_profiles = MediaProfileRepository(database, clock)
        self.trunks = TrunkRepository(database, clock)
        self.routing = RoutingContextRepository(database, clock)
        self.cdrs = CdrRepository(database, clock)
        self.audit = AuditRepository(database, clock)
        self.users = UserRepository(database, clock)
        self.alarms = AlarmRepository(database, clock)
        self.licences = LicenceRepository(database, clock)

    @classmethod
    async def open(
        cls,
        target: str | Path,
        *,
        db_prefix: str = "",
        migrate: bool = True,
        clock: Clock = system_clock,
    ) -> Storage:
        """Open a data directory (SQLite files, created when missing) or a database URL
        (``mysql+aiomysql://user:password@host:3306/``, databases created when missing).

        `db_prefix` is put before every logical database name (``t1_ecss_subscribers``);
        `migrate` upgrades the schema to the newest revision and creates the default
        console user (without it, a schema that is not at the newest revision is refused
        with StorageUnavailable); `clock` gives the bookkeeping times (created_at, ...)."""
        database = await connect(target, db_prefix)
        storage = cls(database, clock)
        try:
            if migrate:
                await upgrade(database)
                await storage.users.ensure_defaults()
            else:
                await check_at_head(database)
        except BaseException:
            await database.close()
            raise
        return storage

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``mysql`` (MariaDB too)."""
        return self.database.dialect

    @property
    def location(self) -> str:
        """The data directory, or the URL without its password."""
        return self.database.location

    async def ping(self) -> None:
        """Check that the database answers; StorageUnavailable when it does not (for the
        readiness port and the "DB unreachable" alarm)."""
        async with self.database.read() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        """Close every pooled connection. Committed data is already on disk."""
        await self.database.close()

    async def __aenter__(self) -> Storage:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
