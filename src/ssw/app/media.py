"""The media server as part of `ssw run`: its own process, one control connection (SPEC §8).

`SwitchMedia.start` starts `python -m ssw.media.server` (`MediaServerProcess`) on a free
control port with the switch's RTP port range and RestFS directory, and connects the
`MediaClient` the B2BUA drives; `stop` closes the connection and stops the child by its PID.
The child also gets SIGTERM from the kernel if the switch dies without stopping it, and
`supervise` starts a new one if the child dies while the switch runs (the calls of the
moment lose their media; new calls get the new server).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from ssw.core.call.media_policy import MeetMeRoom
from ssw.core.directory import Directory
from ssw.media.client import MediaClient
from ssw.media.config import EngineConfig
from ssw.media.process import MediaServerProcess
from ssw.storage import NotFound, Storage

__all__ = ["MediaSettings", "StorageMediaPolicy", "SwitchMedia", "parse_port_range"]

logger = logging.getLogger(__name__)
V = TypeVar("V")

#: seconds without RTP before a call is released; above the longest silent calls of the
#: ECSS QA suite (session-timer tests hold calls up to two minutes without RTP)
DEFAULT_RTP_TIMEOUT = 300.0


@dataclass(frozen=True)
class MediaSettings:
    """How `ssw run` runs its media server; `enabled=False` is signalling only (SDP passes
    end to end, nothing is relayed)."""

    enabled: bool = True
    port_min: int = 20000
    port_max: int = 29999
    rtp_timeout: float = DEFAULT_RTP_TIMEOUT  # 0: never
    restfs_dir: Path | None = None  # default <data-dir>/restfs
    prompt_language: str = "en"
    log_level: str = "INFO"  # of the media server process (`ssw run --log-level`)

    def __post_init__(self) -> None:
        if not 1024 <= self.port_min < self.port_max <= 65535 or \
                self.port_max - self.port_min < 3:
            raise ValueError(f"bad RTP port range {self.port_min}-{self.port_max} "
                             "(1024-65535, at least two port pairs)")
        if self.rtp_timeout < 0:
            raise ValueError("the RTP timeout cannot be negative")

    def restfs(self, data_dir: Path) -> Path:
        return self.restfs_dir or data_dir / "restfs"


def parse_port_range(text: str) -> tuple[int, int]:
    """`20000-29999` -> (20000, 29999); ValueError with the reason otherwise."""
    low, sep, high = text.partition("-")
    if not sep or not low.strip().isdigit() or not high.strip().isdigit():
        raise ValueError(f"expected LOW-HIGH, e.g. 20000-29999, got {text!r}")
    return int(low), int(high)


class SwitchMedia:
    """The media server child process and the switch's connection to it."""

    def __init__(self, settings: MediaSettings, data_dir: Path, address: str) -> None:
        self.settings = settings
        self.engine = EngineConfig(
            data_dir=data_dir, address=address, port_min=settings.port_min,
            port_max=settings.port_max, rtp_timeout=settings.rtp_timeout,
            recordings_dir=settings.restfs(data_dir) / "recordings")
        self.process: MediaServerProcess | None = None
        self.client: MediaClient | None = None
        self.restarts = 0
        self._on_event: Callable[[dict[str, Any]], None] | None = None
        self._stopping = False

    @property
    def recordings(self) -> Path:
        return self.engine.recordings

    async def start(self, on_event: Callable[[dict[str, Any]], None]) -> MediaClient:
        """Start the child and connect to it; its events go to `on_event`."""
        self._on_event = on_event
        self.engine.recordings.mkdir(parents=True, exist_ok=True)
        self.process = await MediaServerProcess.start(
            self.engine, control=f"tcp:{self.engine.address}:0",
            extra=["--prompts", "generate", "--prompt-language",
                   self.settings.prompt_language, "--log-level", self.settings.log_level],
            die_with_parent=True)
        logger.info("media server pid %d at %s, RTP ports %d-%d", self.process.pid,
                    self.process.control, self.engine.port_min, self.engine.port_max)
        self.client = await MediaClient.connect(self.process.control, on_event=on_event)
        return self.client

    async def supervise(self, on_restart: Callable[[MediaClient], None],
                        delay: float = 1.0) -> None:
        """Run while the switch runs: when the child exits, start another one after `delay`
        seconds and hand its client to `on_restart` (the B2BUA)."""
        while not self._stopping:
            process = self.process
            if process is None or self._on_event is None:
                return
            status = await process.process.wait()
            if self._stopping:
                return
            logger.error("media server pid %d exited (status %s): starting another one",
                         process.pid, status)
            if self.client is not None:
                await self.client.close()
                self.client = None
            await asyncio.sleep(delay)
            try:
                client = await self.start(self._on_event)
            except (RuntimeError, OSError) as exc:
                logger.error("media server restart failed: %s; retrying", exc)
                continue
            self.restarts += 1
            on_restart(client)

    async def stop(self) -> None:
        self._stopping = True
        if self.client is not None:
            await self.client.close()
            self.client = None
        if self.process is not None:
            status = await self.process.stop()
            logger.info("media server pid %d stopped (exit status %s)", self.process.pid,
                        status)
            self.process = None


#: how long the services of a number are used before they are read again (seconds); a
#: console change of the services (`on_change`) drops them at once
SERVICES_MAX_AGE = 60.0
MEDIA_SECTION = "media"  # /domain/<D>/media/properties
MEDIA_PROFILE = "media-profile"  # the alias property naming a media profile


class NumberCache(Generic[V]):
    """What was read about each number of a domain, kept `SERVICES_MAX_AGE` seconds."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self.entries: dict[tuple[str, str], tuple[float, V]] = {}

    def get(self, domain: str, number: str, now: float) -> V | None:
        cached = self.entries.get((domain, number))
        return cached[1] if cached is not None and cached[0] > now else None

    def put(self, domain: str, number: str, value: V, now: float) -> None:
        if len(self.entries) > self.limit:
            self.entries.clear()
        self.entries[(domain, number)] = (now + SERVICES_MAX_AGE, value)

    def drop(self, domain: str | None, numbers: set[str] | None = None) -> None:
        """Forget `numbers` of `domain` (all of the domain when None; everything when the
        domain is None too)."""
        if domain is None:
            self.entries.clear()
            return
        for key in [k for k in self.entries
                    if k[0] == domain and (numbers is None or k[1] in numbers)]:
            del self.entries[key]


class StorageMediaPolicy:
    """`MediaPolicy` over storage: the domain's media properties (through the directory's
    cache) and the numbers' `call_recording` service (cached `SERVICES_MAX_AGE` seconds,
    dropped by `on_change` when the console changes services; one query per call at most)."""

    def __init__(self, storage: Storage, directory: Directory,
                 now: Callable[[], float]) -> None:
        self.storage = storage
        self.directory = directory
        self.now = now
        self._recorded: NumberCache[bool] = NumberCache()
        # the codecs each number's alias media profile refuses, cached like the services
        self._refused: NumberCache[frozenset[str]] = NumberCache()

    async def recording_wanted(self, domain: str, caller: str, callee: str) -> bool:
        now = self.now()
        properties = await self.directory.section(domain, MEDIA_SECTION, now)
        if properties.get("call_recording") is True:
            return True
        known: dict[str, bool] = {}
        for number in (caller, callee):
            cached = self._recorded.get(domain, number, now)
            if cached is not None:
                known[number] = cached
        missing = [number for number in (caller, callee) if number not in known]
        if missing:
            known.update(await self._read_services(domain, missing, now))
        return any(known.values())

    async def _read_services(self, domain: str, numbers: list[str], now: float
                             ) -> dict[str, bool]:
        try:
            states = await self.storage.services.info_many(domain, numbers)
            active = {state.number: "call_recording" in state.activated for state in states}
        except NotFound:  # a number that is neither a subscriber nor an alias
            active = {}
        for number in numbers:
            self._recorded.put(domain, number, active.get(number, False), now)
        return {number: active.get(number, False) for number in numbers}

    def on_change(self, change: Any) -> None:
        """A `ChangeHub` listener: services, aliases and media profiles changed on the console
        are read again."""
        if change.kind in ("alias", "media_profile", "domain"):
            self._refused.drop(change.domain)
        if change.kind not in ("ss", "subscriber", "alias", "domain"):
            return
        keys = {key.partition("@")[0] for key in change.keys}
        self._recorded.drop(change.domain, None if not keys or "*" in keys else keys)

    async def refused_codecs(self, domain: str, number: str) -> frozenset[str]:
        """The audio codecs the media profile of `number`'s alias (`media-profile`) refuses:
        its entries `audio:<codec>:<ptime>:false`, names in lower case. Cached
        `SERVICES_MAX_AGE` seconds; `on_change` drops the domain's entries."""
        now = self.now()
        cached = self._refused.get(domain, number, now)
        if cached is not None:
            return cached
        refused = await self._read_refused_codecs(domain, number)
        self._refused.put(domain, number, refused, now)
        return refused

    async def _read_refused_codecs(self, domain: str, number: str) -> frozenset[str]:
        alias = await self.storage.aliases.find(domain, number)
        name = alias.properties.get(MEDIA_PROFILE) if alias is not None else None
        if not name:
            return frozenset()
        profile = await self.storage.media_profiles.find(domain, str(name))
        if profile is None:
            return frozenset()
        refused = set()
        for entry in profile.codecs:
            media, codec, _ptime, allowed = [*entry.split(":"), "", "", ""][:4]
            if media == "audio" and allowed == "false":
                refused.add(codec.lower())
        return frozenset(refused)

    async def meet_me(self, domain: str, number: str) -> MeetMeRoom | None:
        properties = await self.directory.section(domain, MEDIA_SECTION, self.now())
        room = str(properties.get("meet_me_number") or "")
        if not room or room != number:
            return None
        pin = "".join(ch for ch in str(properties.get("meet_me_pin") or "") if ch.isdigit())
        return MeetMeRoom(domain, number, pin or None)
