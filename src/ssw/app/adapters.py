"""Storage seen through the protocols of the call core (`ssw.core.ports`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any

from ssw.cocon.services import Change
from ssw.core.call.cdr import CallRecord, CsvCdrWriter
from ssw.core.call.events import Side
from ssw.core.directory import Directory
from ssw.core.location import Locations
from ssw.core.ports import (
    ForkMode,
    ReliableProvisional,
    SessionTimerMode,
    SubscriberProfile,
)
from ssw.storage import Storage
from ssw.storage.records import Cdr, Subscriber

__all__ = ["StorageCdrSink", "StorageSubscribers", "location_listener"]

logger = logging.getLogger(__name__)

_FORK_MODES = {
    "all-contacts": ForkMode.ALL_CONTACTS,
    "disable": ForkMode.DISABLE,
    "find-me-one-by-one previous-stop": ForkMode.ONE_BY_ONE_STOP,
    "find-me-one-by-one previous-continue": ForkMode.ONE_BY_ONE_CONTINUE,
    "find-me-with-q previous-stop": ForkMode.BY_Q,
    "find-me-with-q previous-continue": ForkMode.BY_Q_CONTINUE,
}


def location_listener(locations: Locations, spawn: Callable[[Coroutine[Any, Any, None]], None]
                      ) -> Callable[[Change], None]:
    """A `ChangeHub` listener that makes the location service re-read the AORs a console
    command changed behind the registrar (`stop-registration`, a subscriber or a domain
    removed: their bindings went from storage with them)."""

    def on_change(change: Change) -> None:
        if change.kind not in ("registration", "subscriber", "domain") or change.domain is None:
            return
        if change.kind == "domain" or not change.keys:
            aors = locations.aors_of_domain(change.domain)
        else:
            aors = [f"{key.partition('@')[0]}@{change.domain}" for key in change.keys]
        if aors:
            spawn(locations.forget(aors))

    return on_change


class StorageSubscribers:
    """Subscribers and their domain's core timers for the call core, through the cache of
    `ssw.core.directory` (a console change in this process takes effect at once, one made
    by another process within the directory's `max_age`)."""

    def __init__(self, directory: Directory, clock: Callable[[], float]) -> None:
        self.directory = directory
        self.clock = clock
        # (domain, number) -> the records a profile was built from, and the profile: the
        # directory hands out the same objects until it reads them again, so an unchanged
        # subscriber costs three cache lookups per INVITE, not a new profile.
        self._profiles: dict[tuple[str, str], tuple[object, object, object,
                                                    SubscriberProfile]] = {}

    async def find(self, domain: str, number: str) -> SubscriberProfile | None:
        now = self.clock()
        subscriber = await self.directory.subscriber(domain, number, now)
        if subscriber is None or subscriber.password is None:
            return None
        timers = await self.directory.section(domain, "timers", now)
        sip_timers = await self.directory.section(domain, "sip_timers", now)
        key = (domain, number)
        built = self._profiles.get(key)
        if (built is not None and built[0] is subscriber and built[1] is timers
                and built[2] is sip_timers):
            return built[3]
        profile = _profile(subscriber, timers, sip_timers)
        if len(self._profiles) >= _MAX_PROFILES:
            self._profiles.clear()
        self._profiles[key] = (subscriber, timers, sip_timers, profile)
        return profile


#: profiles kept by `StorageSubscribers` (the whole memo is dropped when it is full)
_MAX_PROFILES = 100_000


def _profile(subscriber: Subscriber, timers: Mapping[str, object],
             sip_timers: Mapping[str, object]) -> SubscriberProfile:
    fork_mode = _FORK_MODES.get(str(subscriber.setting("fork-mode")), ForkMode.ALL_CONTACTS)
    reliable = (ReliableProvisional.REQUIRED if subscriber.setting("req100rel")
                else ReliableProvisional.SUPPORTED)
    display = str(subscriber.setting("display-name") or "") or None
    conversation = _number(timers.get("conversation_timeout"), 0)
    return SubscriberProfile(
        domain=subscriber.domain,
        number=subscriber.number,
        login=subscriber.login,
        password=subscriber.password or "",
        qop=subscriber.qop_mode == "qop_authentication",
        fork_mode=fork_mode,
        reliable_provisional=reliable,
        session_timer=_session_timer_mode(subscriber),
        no_answer_timeout=_number(timers.get("no_answer_timeout"), 120),
        conversation_timeout=conversation or None,
        session_expires=_whole(sip_timers.get("rfc4028_use_se")),
        min_se=_whole(sip_timers.get("rfc4028_min_se")),
        fork_step_timeout=_find_me_step(timers, sip_timers),
        display_name=display,
    )


def _session_timer_mode(subscriber: Subscriber) -> SessionTimerMode:
    """`rfc-4028-control` (true/false/force) and ECSS's separate `rfc-4028-force` flag."""
    control = str(subscriber.setting("rfc-4028-control"))
    if control == "force" or (control == "true" and subscriber.setting("rfc-4028-force") is True):
        return SessionTimerMode.FORCE
    return SessionTimerMode.ON if control == "true" else SessionTimerMode.OFF


def _find_me_step(timers: Mapping[str, object], sip_timers: Mapping[str, object]) -> float:
    """How long one find-me step rings: `sip/timer/set find_me <ms>` (the form the QA suite
    uses, milliseconds like the other SIP timers) wins over the core timer (seconds)."""
    if "find_me" in sip_timers:
        return _number(sip_timers["find_me"], 20_000) / 1000
    return _number(timers.get("find_me"), 20)


def _whole(value: object) -> int | None:
    number = _number(value, -1)
    return int(number) if number > 0 else None


def _number(value: object, default: float) -> float:
    """A timer's value; keys the catalogue does not type are stored as the text typed."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return default
    return default


class StorageCdrSink:
    """Writes each finished call to the domain's CSV file at once and to `ecss_calls_db`
    from a queue (the call core's `write` is synchronous; the database is not)."""

    def __init__(self, storage: Storage, csv: CsvCdrWriter) -> None:
        self.storage = storage
        self.csv = csv
        self._queue: asyncio.Queue[CallRecord] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._drain(), name="cdr-writer")

    async def stop(self) -> None:
        await self._queue.join()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.csv.close()

    def write(self, record: CallRecord) -> None:
        try:
            self.csv.write(record)
        except OSError:
            logger.exception("cannot write the CDR CSV file for %s", record.domain)
        self._queue.put_nowait(record)

    async def _drain(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self.storage.cdrs.add_many([_cdr_of(record) for record in batch])
            except Exception:
                logger.exception("cannot store %d CDR(s) in ecss_calls_db", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()


#: the call core's sides as `ecss_calls_db` names them
_RELEASE_SIDES = {Side.CALLER: "caller", Side.CALLEE: "callee", Side.SWITCH: "system"}


def _when(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)


def _cdr_of(record: CallRecord) -> Cdr:
    return Cdr(
        domain=record.domain,
        connection_id=record.connection_id,
        caller=record.caller,
        callee=record.callee,
        setup_at=_when(record.setup_ms),
        answer_at=None if record.answer_ms is None else _when(record.answer_ms),
        end_at=_when(record.end_ms),
        release_cause=record.release_cause,
        release_side=_RELEASE_SIDES[record.release_side],
        recording_file=record.recording_file,
    )
