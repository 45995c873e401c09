"""The media engine: relays, players, recorders and conferences on one event loop.

The engine owns the sockets of its legs and one 20 ms clock tick. The tick refreshes the
cached time (`Clock`), sends the next frame of every player, writes a frame of every
recording, mixes every conference and, once a second, looks for legs whose peer has gone
silent. Commands arrive already validated (`ssw.media.control`) through `execute`; events
(timeout, dtmf, play_done, pin) go back to the controller that created the object.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ssw.media.conference import Conference
from ssw.media.config import EngineConfig
from ssw.media.control import ControlError
from ssw.media.dtmf import DEFAULT_EVENT_PAYLOAD_TYPE, DtmfError
from ssw.media.g711 import Law, law_for_payload_type
from ssw.media.leg import Clock, Leg
from ssw.media.player import DigitPlayer, Player
from ssw.media.recorder import Recorder
from ssw.media.resources.catalogue import prompts_dir
from ssw.media.tones import TONES, music_on_hold
from ssw.media.wavfile import WavError, read_wav

__all__ = ["EngineConfig", "MediaEngine", "Relay"]

log = logging.getLogger("ssw.media.engine")

TICK = 0.020
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
EventSink = Callable[[Any, str, dict[str, Any]], None]


@dataclass(slots=True)
class Relay:
    """A call's two legs, each forwarding to the other."""

    id: str
    legs: tuple[Leg, Leg]
    owner: Any
    recorder: Recorder | None = None
    players: dict[int, Player | DigitPlayer] = field(default_factory=dict)


class MediaEngine:
    def __init__(self, config: EngineConfig, emit: EventSink) -> None:
        self.config = config
        self._emit = emit
        self.clock = Clock()
        self.relays: dict[str, Relay] = {}
        self.conferences: dict[str, Conference] = {}
        self._next_port = config.port_min + (config.port_min % 2)
        self._audio: dict[str, npt.NDArray[np.int16]] = {}
        self._tick_handle: asyncio.TimerHandle | None = None
        self._tick_count = 0
        self._tick_start = 0.0
        self._silence: dict[int, tuple[int, float]] = {}  # id(leg) -> (count, silent since)
        self.timeouts = 0
        self.late_ticks = 0

    # lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tick_start = self.clock.now = loop.time()
        self._tick_handle = loop.call_at(self._tick_start + TICK, self._tick)

    async def stop(self) -> None:
        if self._tick_handle is not None:
            self._tick_handle.cancel()
        for relay_id in list(self.relays):
            self._release(relay_id)
        for conference_id in list(self.conferences):
            self._destroy_conference(conference_id)

    # ports -----------------------------------------------------------------------------
    async def open_leg(self, name: str, index: int, *, strict_source: bool = False) -> Leg:
        """A leg bound to the next free even/odd port pair of the range."""
        loop = asyncio.get_running_loop()
        span = self.config.port_max - self.config.port_min + 1
        leg = Leg(name, index, clock=self.clock, strict_source=strict_source)
        for _ in range(span // 2):
            port = self._next_port
            self._next_port += 2
            if self._next_port + 1 > self.config.port_max:
                self._next_port = self.config.port_min + (self.config.port_min % 2)
            try:
                await loop.create_datagram_endpoint(lambda: leg,
                                                    local_addr=(self.config.address, port))
            except OSError:
                continue
            try:
                rtcp, _ = await loop.create_datagram_endpoint(
                    leg.rtcp_protocol, local_addr=(self.config.address, port + 1))
            except OSError:
                if leg.transport is not None:
                    leg.transport.close()
                continue
            leg.rtcp_transport = rtcp
            leg.local_port = port
            return leg
        raise ControlError(f"no free port pair in {self.config.port_min}-{self.config.port_max}")

    def _describe(self, leg: Leg) -> dict[str, Any]:
        return {"address": self.config.advertise or self.config.address,
                "rtp_port": leg.local_port, "rtcp_port": leg.local_port + 1}

    # commands --------------------------------------------------------------------------
    async def execute(self, command: str, params: dict[str, Any], owner: Any) -> dict[str, Any]:
        handler = getattr(self, f"_cmd_{command}")
        result: dict[str, Any] = await handler(owner=owner, **params)
        return result

    async def _cmd_ping(self, owner: Any) -> dict[str, Any]:
        return {"node": self.config.node, "relays": len(self.relays),
                "conferences": len(self.conferences)}

    async def _cmd_stats(self, owner: Any) -> dict[str, Any]:
        legs = [leg for relay in self.relays.values() for leg in relay.legs]
        return {"node": self.config.node, "relays": len(self.relays),
                "conferences": len(self.conferences),
                "members": sum(len(c.members) for c in self.conferences.values()),
                "received": sum(leg.received for leg in legs),
                "sent": sum(leg.sent for leg in legs), "timeouts": self.timeouts,
                "late_ticks": self.late_ticks}

    async def _cmd_allocate(self, owner: Any, relay: str, strict_source: bool = False
                            ) -> dict[str, Any]:
        if relay in self.relays:
            raise ControlError(f"relay {relay!r} exists; release it or use another id")
        first = await self.open_leg(f"relay {relay} leg 0", 0, strict_source=strict_source)
        try:
            second = await self.open_leg(f"relay {relay} leg 1", 1,
                                         strict_source=strict_source)
        except ControlError:
            first.close()
            raise
        first.sink, second.sink = second.relay_to, first.relay_to
        first.rtcp_peer, second.rtcp_peer = second, first
        created = Relay(relay, (first, second), owner)
        for leg in created.legs:
            leg.on_digit = self._digit_reporter(created)
        self.relays[relay] = created
        return {"relay": relay, "legs": [self._describe(first), self._describe(second)]}

    def _relay(self, relay: str) -> Relay:
        found = self.relays.get(relay)
        if found is None:
            raise ControlError(f"no relay {relay!r} (released, timed out or never allocated)")
        return found

    @staticmethod
    def _leg(relay: Relay, leg: int) -> Leg:
        if leg not in (0, 1):
            raise ControlError(f"leg must be 0 or 1, got {leg}")
        return relay.legs[leg]

    @staticmethod
    def _apply_remote(leg: Leg, address: str, port: int, rtcp_port: int | None,
                      payload_type: int | None, event_payload_type: int | None,
                      sends: bool | None, transport: str | None = None) -> None:
        if transport not in (None, "rtp", "udptl"):
            raise ControlError(f"transport must be rtp or udptl, got {transport!r}")
        if not 0 <= port <= 65535 or (rtcp_port is not None and not 0 < rtcp_port <= 65535):
            raise ControlError(f"port {port}/{rtcp_port} out of range")
        if payload_type is not None and not 0 <= payload_type <= 127:
            raise ControlError(f"payload_type {payload_type} out of range 0-127")
        if port == 0:  # stream rejected or removed (RFC 3264 §6)
            leg.sends = False
            leg.destination = None
            return
        leg.set_remote((address, port), (address, rtcp_port or port + 1))
        if transport is not None:
            leg.raw = transport == "udptl"
        if payload_type is not None:
            leg.payload_type = payload_type
        if event_payload_type is not None:
            leg.event_payload_type = event_payload_type
        if sends is not None:
            leg.sends = sends

    async def _cmd_update(self, owner: Any, relay: str, leg: int, address: str, port: int,
                          rtcp_port: int | None = None, payload_type: int | None = None,
                          event_payload_type: int | None = None, sends: bool | None = None,
                          transport: str | None = None) -> dict[str, Any]:
        target = self._leg(self._relay(relay), leg)
        self._apply_remote(target, address, port, rtcp_port, payload_type, event_payload_type,
                           sends, transport)
        return self._describe(target)

    async def _cmd_release(self, owner: Any, relay: str) -> dict[str, Any]:
        self._relay(relay)
        return self._release(relay)

    def _release(self, relay_id: str) -> dict[str, Any]:
        relay = self.relays.pop(relay_id)
        result: dict[str, Any] = {"legs": [leg.counters() for leg in relay.legs]}
        if relay.recorder is not None:
            relay.recorder.close()
            result["recording"] = str(relay.recorder.path)
            result["recording_seconds"] = relay.recorder.seconds
        for leg in relay.legs:
            self._silence.pop(id(leg), None)
            leg.close()
        return result

    # playing ---------------------------------------------------------------------------
    def audio(self, source: str) -> npt.NDArray[np.int16]:
        """Linear samples of `tone:<name>`, `prompt:<name>`, `file:<name.wav>` or `moh`."""
        cached = self._audio.get(source)
        if cached is not None:
            return cached
        kind, _, name = source.partition(":")
        if kind == "tone" and name in TONES:
            samples = TONES[name].cycle()
        elif source == "moh":
            samples = music_on_hold()
        elif kind in ("prompt", "file") and _SAFE_NAME.match(name):
            file = prompts_dir(self.config.data_dir) / (name if kind == "file" else f"{name}.wav")
            try:
                samples = read_wav(file)
            except FileNotFoundError as exc:
                raise ControlError(f"{source}: {file} does not exist (generate the prompts "
                                   "with python -m ssw.media.resources)") from exc
            except WavError as exc:
                raise ControlError(f"{source}: {exc}") from exc
        else:
            raise ControlError(f"unknown source {source!r}: use tone:<{'|'.join(TONES)}>, "
                               "prompt:<name>, file:<name.wav> or moh")
        self._audio[source] = samples
        return samples

    @staticmethod
    def law_of(leg: Leg) -> Law:
        return law_for_payload_type(leg.payload_type or 0) or "pcmu"

    async def _cmd_play(self, owner: Any, relay: str, leg: int, source: str,
                        loop: bool | None = None) -> dict[str, Any]:
        target_relay = self._relay(relay)
        target = self._leg(target_relay, leg)
        looping = loop if loop is not None else (source.startswith("tone:") or source == "moh")
        player = Player(self.audio(source), law=self.law_of(target), loop=looping, name=source)
        target_relay.players[leg] = player
        target.muted = True
        return {"source": source, "loop": looping}

    async def _cmd_send_dtmf(self, owner: Any, relay: str, leg: int, digits: str
                             ) -> dict[str, Any]:
        target_relay = self._relay(relay)
        target = self._leg(target_relay, leg)
        try:
            player = DigitPlayer(digits, payload_type=target.event_payload_type
                                 or DEFAULT_EVENT_PAYLOAD_TYPE)
        except DtmfError as exc:
            raise ControlError(str(exc)) from None
        target_relay.players[leg] = player
        target.muted = True
        return {"source": player.name}

    async def _cmd_stop_play(self, owner: Any, relay: str, leg: int) -> dict[str, Any]:
        target_relay = self._relay(relay)
        self._leg(target_relay, leg).muted = False
        player = target_relay.players.pop(leg, None)
        return {"stopped": player.name if player else None}

    # recording -------------------------------------------------------------------------
    async def _cmd_record_start(self, owner: Any, relay: str, file: str | None = None
                                ) -> dict[str, Any]:
        target = self._relay(relay)
        if target.recorder is not None:
            raise ControlError(f"relay {relay!r} is already recording to {target.recorder.path}")
        safe_relay = re.sub(r"[^A-Za-z0-9._-]", "_", relay)[:80]
        name = file or f"{time.strftime('%Y%m%d-%H%M%S')}-{safe_relay}.wav"
        if not _SAFE_NAME.match(name) or ".." in name:
            raise ControlError(f"file name {name!r} must be a plain name (letters, digits, . _ -)")
        try:
            recorder = Recorder(self.config.recordings / name)
        except OSError as exc:
            raise ControlError(f"cannot record to {self.config.recordings / name}: {exc}") from exc
        target.recorder = recorder
        for leg in target.legs:
            leg.tap = self._record_tap(recorder, target)
        return {"path": str(recorder.path)}

    @staticmethod
    def _record_tap(recorder: Recorder, relay: Relay) -> Callable[[Leg, bytes], None]:
        def tap(leg: Leg, packet: bytes) -> None:
            # while the other leg plays an announcement, its peer hears that, not this
            # packet: the player's frames are recorded on this channel instead (`_play`)
            if not relay.legs[1 - leg.index].muted:
                recorder.receive(leg.index, packet)
        return tap

    async def _cmd_record_stop(self, owner: Any, relay: str) -> dict[str, Any]:
        target = self._relay(relay)
        recorder = target.recorder
        if recorder is None:
            raise ControlError(f"relay {relay!r} is not recording")
        for leg in target.legs:
            leg.tap = None
        target.recorder = None
        recorder.close()
        return {"path": str(recorder.path), "seconds": recorder.seconds}

    # conferences -----------------------------------------------------------------------
    async def _cmd_conference_create(self, owner: Any, conference: str, pin: str | None = None
                                     ) -> dict[str, Any]:
        if conference in self.conferences:
            raise ControlError(f"conference {conference!r} exists")
        if pin is not None and not pin.isdigit():
            raise ControlError("pin must be digits only")
        self.conferences[conference] = Conference(conference, pin, owner, self._emit)
        return {"conference": conference}

    def _conference(self, conference: str) -> Conference:
        found = self.conferences.get(conference)
        if found is None:
            raise ControlError(f"no conference {conference!r}")
        return found

    async def _cmd_conference_join(self, owner: Any, conference: str, member: str
                                   ) -> dict[str, Any]:
        target = self._conference(conference)
        if member in target.members:
            raise ControlError(f"{member!r} is already in conference {conference!r}")
        leg = await self.open_leg(f"conference {conference} member {member}", 0)
        target.add(member, leg)
        return {**self._describe(leg), "admitted": target.members[member].admitted}

    async def _cmd_conference_update(self, owner: Any, conference: str, member: str,
                                     address: str, port: int, rtcp_port: int | None = None,
                                     payload_type: int | None = None,
                                     event_payload_type: int | None = None,
                                     sends: bool | None = None, transport: str | None = None
                                     ) -> dict[str, Any]:
        if transport not in (None, "rtp"):
            raise ControlError("a conference mixes RTP audio only (transport rtp)")
        target = self._conference(conference)
        found = target.members.get(member)
        if found is None:
            raise ControlError(f"no member {member!r} in conference {conference!r}")
        self._apply_remote(found.leg, address, port, rtcp_port, payload_type,
                           event_payload_type if event_payload_type is not None else 101, sends)
        found.law = self.law_of(found.leg)
        return self._describe(found.leg)

    async def _cmd_conference_leave(self, owner: Any, conference: str, member: str
                                    ) -> dict[str, Any]:
        target = self._conference(conference)
        if member not in target.members:
            raise ControlError(f"no member {member!r} in conference {conference!r}")
        leg = target.remove(member)
        self._silence.pop(id(leg), None)
        return {"members": len(target.members), **leg.counters()}

    async def _cmd_conference_destroy(self, owner: Any, conference: str) -> dict[str, Any]:
        self._conference(conference)
        return {"members": self._destroy_conference(conference)}

    def _destroy_conference(self, conference_id: str) -> int:
        conference = self.conferences.pop(conference_id)
        count = len(conference.members)
        for member in list(conference.members):
            self._silence.pop(id(conference.remove(member)), None)
        return count

    # events ----------------------------------------------------------------------------
    def _digit_reporter(self, relay: Relay) -> Callable[[Leg, str], None]:
        def report(leg: Leg, digit: str) -> None:
            self._emit(relay.owner, "dtmf", {"relay": relay.id, "leg": leg.index,
                                             "digit": digit})
        return report

    # the clock -------------------------------------------------------------------------
    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        now = self.clock.now = loop.time()
        self._tick_count += 1
        due = self._tick_start + self._tick_count * TICK
        if now - due > 5 * TICK:  # the loop was busy: resynchronise rather than burst
            self.late_ticks += 1
            self._tick_start, self._tick_count = now, 0
            due = now
        self._tick_handle = loop.call_at(due + TICK, self._tick)
        try:
            self._run_tick(now)
        except Exception:  # a bug in one object must not stop the media clock for all
            log.exception("media tick failed")

    def _run_tick(self, now: float) -> None:
        for relay in self.relays.values():
            if relay.players:
                self._play(relay, now)
            if relay.recorder is not None:
                relay.recorder.tick()
        for conference in self.conferences.values():
            conference.tick(now)
        if self._tick_count % 50 == 0:
            self._sweep_timeouts(now)

    def _play(self, relay: Relay, now: float) -> None:
        for index, player in list(relay.players.items()):
            leg = relay.legs[index]
            packet = player.next_packet()
            if packet is None:
                del relay.players[index]
                leg.muted = False
                self._emit(relay.owner, "play_done", {"relay": relay.id, "leg": index,
                                                      "source": player.name})
                continue
            if not packet:
                continue  # a pause between digits
            leg.send(packet, now)
            if relay.recorder is not None:
                relay.recorder.receive(1 - index, packet)  # what the peer hears is recorded

    def _is_silent(self, leg: Leg, now: float, *, peer_knows: bool = True) -> float:
        """Seconds since `leg`'s peer last sent while it was expected to send.

        A relay leg's peer can only send once it has the switch's address, i.e. once the
        other side's SDP went through (`peer_knows`): until then (ringing without early
        media) silence does not count.
        """
        if leg.destination is None or not leg.sends or not peer_knows:
            self._silence.pop(id(leg), None)
            return 0.0
        count, since = self._silence.get(id(leg), (-1, now))
        if leg.received != count:
            self._silence[id(leg)] = (leg.received, now)
            return 0.0
        return now - since

    def _sweep_timeouts(self, now: float) -> None:
        limit = self.config.rtp_timeout
        if limit <= 0:
            return
        for relay in list(self.relays.values()):
            for leg in relay.legs:
                other = relay.legs[1 - leg.index]
                silent = self._is_silent(leg, now, peer_knows=other.sdp_address is not None)
                if silent >= limit:
                    self.timeouts += 1
                    log.warning("relay %s: no RTP from leg %d's peer for %.0f s; released "
                                "(received %d packets)", relay.id, leg.index, silent,
                                leg.received)
                    counters = self._release(relay.id)
                    self._emit(relay.owner, "timeout", {"relay": relay.id, "leg": leg.index,
                                                        "silent": round(silent, 1),
                                                        **counters})
                    break
        for conference in list(self.conferences.values()):
            for name, member in list(conference.members.items()):
                silent = self._is_silent(member.leg, now)
                if silent >= limit:
                    self.timeouts += 1
                    log.warning("conference %s: no RTP from member %s for %.0f s; removed",
                                conference.id, name, silent)
                    self._silence.pop(id(conference.remove(name)), None)
                    self._emit(conference.owner, "timeout", {"conference": conference.id,
                                                             "member": name,
                                                             "silent": round(silent, 1)})
