"""The active alarm list shown by `/cluster/mediator/md1/alarms/list` (SPEC §10).

An `AlarmBoard` holds alarms by key; parts of the switch raise and clear them (the console raises
`default_password` while the admin password is still `password`). The board is a plain object
passed in by the composition root, never a global.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Alarm", "AlarmBoard", "Severity"]


class Severity(enum.IntEnum):
    WARNING = 1
    MINOR = 2
    MAJOR = 3
    CRITICAL = 4


@dataclass(frozen=True)
class Alarm:
    key: str  # stable identifier, e.g. "default_password"
    severity: Severity
    node: str  # the node that reports it, e.g. "mycelium1@ecss1"
    text: str
    since: float  # seconds since the epoch


class AlarmBoard:
    """Active alarms; raising an alarm that is already active keeps its original time."""

    def __init__(self) -> None:
        self._active: dict[str, Alarm] = {}

    def raise_alarm(self, key: str, severity: Severity, node: str, text: str, now: float) -> None:
        current = self._active.get(key)
        since = current.since if current is not None else now
        self._active[key] = Alarm(key, severity, node, text, since)

    def clear(self, key: str) -> bool:
        return self._active.pop(key, None) is not None

    def is_active(self, key: str) -> bool:
        return key in self._active

    def active(self) -> list[Alarm]:
        """Most severe first, then oldest first."""
        return sorted(self._active.values(), key=lambda alarm: (-alarm.severity, alarm.since))
