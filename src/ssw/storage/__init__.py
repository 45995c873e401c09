"""Storage of the switch: SQLAlchemy models, repositories and migrations for the logical
databases of SPEC §3 (``ecss_subscribers``, ``ecss_calls_db``, ``ecss_audit``,
``ecss_system``, ...), on SQLite files (embedded default) or MariaDB/MySQL (production).

Open it once in the composition root and pass it on::

    storage = await Storage.open(data_dir)          # or "mysql+aiomysql://root@127.0.0.1:3306/"
    await storage.domains.declare("pv.ssw3")
    await storage.subscribers.declare_many("pv.ssw3", ["100", "101"], group="sip.ab",
                                           password="123")
    subscriber = await storage.subscribers.find_by_login("pv.ssw3", "100")
    await storage.close()

Repositories (attributes of `Storage`), each method one transaction, values in and out as
the frozen dataclasses of ssw.storage.records (never ORM rows):

* ``domains``: declare(name, digitmap=None), get, find, exists, list(), remove(name),
  copy(source, target), set_digitmap(name, digitmap)
* ``sip_groups``: declare(domain, name), list(domain), remove(domain, name)
* ``subscribers``: declare(domain, number, *, group, password, routing_context, auth_mode,
  qop_mode, login, ha1_md5, ha1_sha256, settings), declare_many(domain, numbers, ...) -> int,
  get/find(domain, number), find_by_login(domain, login), list(domain, group=, numbers=),
  count(domain=None), set_setting(domain, number, name, value), clean_setting(...),
  update(domain, number, password=, auth_mode=, qop_mode=, routing_context=, group=),
  remove(domain, number), remove_many(domain, numbers) -> int
* ``aliases``: set(Alias), get/find(domain, number), list(domain, iface=),
  set_property(domain, number, name, value), remove(domain, number)
* ``services``: enable(domain, numbers, services), disable(domain, numbers, services|["*"]),
  activate(domain, number, service, params), deactivate(...) -> bool, info(domain, number),
  info_many(domain, numbers=None)
* ``registrations``: upsert(Binding), replace_for_aor(aor, bindings), replace_many({aor:
  bindings}) -> missing AORs (one transaction for a batch), remove(aor,
  contact=None) -> int, list_for_aor(aor), list_for_domain(domain), list_all(),
  expired(now), purge_expired(now) -> int, count()
* ``kv``: set(domain|None, section, name, value), get(...), section(domain, section),
  effective(domain, section), clean(domain, section, name=None) -> int
* ``media_profiles``: declare(domain, name, codecs, properties), get/find, list,
  add_codecs, remove_codecs, remove
* ``trunks``: declare(Trunk), get/find, list, set_blocked, set_setting, remove
* ``routing``: put(domain, name, xml), get/find(domain, name), list(domain) -> {name: xml},
  remove(domain, name): routing contexts as imported, up to 4 MB each
* ``cdrs``: add(Cdr) -> id, add_many(cdrs) -> int, get(id), list(domain=, since=, until=,
  connection_id=, cdr_group=, after_id=, limit=), count(domain=None)
* ``audit``: add(AuditEntry) -> id, list(limit=, user=, front_end=, since=, until=), count()
* ``users``: verify(name, password) -> User|None, add(name, password, role), get/find,
  list(), set_password(name, password), is_default_password(name="admin"), remove(name),
  declare_role(name, privileges), roles()
* ``alarms``: raise_alarm(Alarm), clear(name, source=None) -> int, list(), is_active(...)
* ``licences``: set_passport(text), passport(), add(text), list(), remove(id)

``storage.ping()`` raises StorageUnavailable when the database does not answer;
``storage.close()`` closes the pool.

Errors (ssw.storage.errors) say what was wrong: AlreadyExists, NotFound, InvalidName,
InvalidValue, InUse, StorageUnavailable; each has a ``cause`` for the http_terminal.
Times are timezone-aware UTC datetimes, kept to the millisecond; time-dependent queries
(``expired(now)``) take the time as an argument. Writes that collide on MariaDB are run
again whole; every write either happens completely or not at all, also across a crash.

What may be set (subscriber settings, domain property sections, auth/qop modes,
supplementary services) is catalogued, with defaults, in ssw.storage.settings.
"""

from ssw.storage.errors import (
    AlreadyExists,
    InUse,
    InvalidName,
    InvalidValue,
    NotFound,
    StorageError,
    StorageUnavailable,
)
from ssw.storage.records import (
    Alarm,
    Alias,
    AuditEntry,
    Binding,
    Cdr,
    Domain,
    LicenceBlob,
    MediaProfile,
    PropertyValue,
    ServiceState,
    SipGroup,
    Subscriber,
    Trunk,
    User,
)
from ssw.storage.repositories.subscribers import digest_ha1
from ssw.storage.settings import LOGIN_AS_NUMBER
from ssw.storage.storage import Storage

__all__ = [
    "LOGIN_AS_NUMBER",
    "Alarm",
    "Alias",
    "AlreadyExists",
    "AuditEntry",
    "Binding",
    "Cdr",
    "Domain",
    "InUse",
    "InvalidName",
    "InvalidValue",
    "LicenceBlob",
    "MediaProfile",
    "NotFound",
    "PropertyValue",
    "ServiceState",
    "SipGroup",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "Subscriber",
    "Trunk",
    "User",
    "digest_ha1",
]
