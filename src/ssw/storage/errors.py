"""Errors raised by the storage layer.

Every error says what was wrong in words an operator understands; the console and the
http_terminal print ``str(error)`` as the reason (``Command error: <reason>``). A write that
raises has changed nothing: each repository method is one transaction.
"""

from __future__ import annotations

__all__ = [
    "AlreadyExists",
    "InUse",
    "InvalidName",
    "InvalidValue",
    "NotFound",
    "StorageError",
    "StorageUnavailable",
]


class StorageError(Exception):
    """Base class of every storage error."""

    #: a short machine-readable cause, as the http_terminal reports it (SPEC §5)
    cause = "storage_error"


class AlreadyExists(StorageError):
    """A declare would create something that is already there."""

    cause = "already_exists"


class NotFound(StorageError):
    """The named domain, subscriber, user, ... does not exist."""

    cause = "not_found"


class InvalidName(StorageError):
    """A name (domain, number, login, group, ...) breaks the naming rules."""

    cause = "invalid_name"


class InvalidValue(StorageError):
    """A value (setting, timer, time, digit map, ...) is out of range or of the wrong kind."""

    cause = "invalid_value"


class InUse(StorageError):
    """The thing to remove is still used (a group with subscribers, a role with users)."""

    cause = "in_use"


class StorageUnavailable(StorageError):
    """The database cannot be reached or opened."""

    cause = "db_unreachable"
