"""What command handlers work on, bundled and passed in (no globals, no service locator).

`CoconServices` is built once by the composition root and reaches every handler as
`ctx.services`. Commands that change configuration publish a `Change` on `services.changes`;
parts of the switch that keep copies (the registrar, routing) subscribe and drop them, so that
every change takes effect at once for new calls and registrations.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .alarms import AlarmBoard
from .cluster import ClusterView, StaticCluster
from .session import Identity

__all__ = ["Change", "ChangeHub", "CoconServices"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """Something the console changed: `kind` names the table (domain, subscriber, alias, ss,
    timers, trunk, routing, media_profile, user), `domain` the domain if any, `keys` the numbers
    or names touched (empty: the whole domain)."""

    kind: str
    domain: str | None = None
    keys: tuple[str, ...] = ()


class ChangeHub:
    """Synchronous fan-out of changes; a failing listener is logged and never blocks others."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[Change], None]] = []

    def subscribe(self, listener: Callable[[Change], None]) -> Callable[[], None]:
        """Register `listener`; returns a function that unsubscribes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def publish(self, change: Change) -> None:
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:
                log.exception("change listener %r failed on %s", listener, change)


@dataclass
class CoconServices:
    storage: Any  # ssw.storage: the repositories of SPEC §3
    identity: Identity = field(default_factory=Identity)
    cluster: ClusterView = field(default_factory=lambda: StaticCluster(["ecss1"]))
    alarms: AlarmBoard = field(default_factory=AlarmBoard)
    changes: ChangeHub = field(default_factory=ChangeHub)
    licence: Any = None  # ssw.licence.service.LicenceService, when licensing runs here
    clock: Callable[[], float] = time.time
    started_at: float = field(default_factory=time.time)

    @property
    def node_name(self) -> str:
        return f"{self.identity.node}@{self.identity.host}"
