"""The logical databases of SPEC §3 and how their names map onto a real server.

On MariaDB/MySQL each logical database is a real database; tests and side-by-side
installations may add a prefix (``t123_ecss_subscribers``). On SQLite each logical
database that holds tables is one file under the data directory, ATTACHed under its
logical name, so the same ``schema=`` models serve both back ends.
"""

from __future__ import annotations

import re

from ssw.storage.errors import InvalidName

__all__ = [
    "AUDIT",
    "CALLS",
    "LOGICAL_DATABASES",
    "SUBSCRIBERS",
    "SYSTEM",
    "TABLE_DATABASES",
    "check_prefix",
    "physical_names",
]

SUBSCRIBERS = "ecss_subscribers"
CALLS = "ecss_calls_db"
AUDIT = "ecss_audit"
SYSTEM = "ecss_system"

#: every logical database ecss-mysql creates (SPEC §3), in the manual's order
LOGICAL_DATABASES = (
    "ecss_address_book",
    AUDIT,
    CALLS,
    "ecss_dialer_db",
    "ecss_meeting_db",
    "ecss_numbers_db",
    "ecss_statistics",
    SUBSCRIBERS,
    SYSTEM,
    "history_db",
    "web_conf",
)

#: the logical databases that hold tables today (SQLite attaches only these: it allows 10)
TABLE_DATABASES = (SUBSCRIBERS, CALLS, AUDIT, SYSTEM)

_PREFIX = re.compile(r"[A-Za-z0-9_]{0,32}")


def check_prefix(prefix: str) -> str:
    """Return `prefix` if it is safe in a database or file name, else raise InvalidName."""
    if not _PREFIX.fullmatch(prefix):
        raise InvalidName(f"database prefix {prefix!r} must be up to 32 letters, digits or '_'")
    return prefix


def physical_names(prefix: str) -> dict[str, str]:
    """Logical database name -> the name used on the server, for every logical database."""
    check_prefix(prefix)
    return {name: f"{prefix}{name}" for name in LOGICAL_DATABASES}
