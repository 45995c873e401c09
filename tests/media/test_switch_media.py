"""The media server as part of `ssw run`: options, the child process, the codec check."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest

from ssw.app.media import MediaSettings, StorageMediaPolicy, SwitchMedia, parse_port_range
from ssw.cli import _media_settings as media_settings_of
from ssw.cli import build_parser
from ssw.cocon.services import Change
from ssw.core.call.media_policy import MeetMeRoom
from ssw.media.client import MediaClient
from ssw.media.sdp_bridge import NoCommonCodec, check_codecs
from ssw.sip.sdp import SessionDescription
from ssw.storage.records import Alias, MediaProfile, ServiceState


def _offer(formats: str, maps: str = "") -> SessionDescription:
    return SessionDescription.parse(
        (f"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
         f"m=audio 4000 RTP/AVP {formats}\r\n{maps}").encode())


def test_run_options_reach_the_media_settings() -> None:
    args = build_parser().parse_args(["run", "--media-ports", "30000-30999", "--rtp-timeout",
                                      "7.5", "--restfs-dir", "/srv/restfs"])
    settings = media_settings_of(args)
    assert settings == MediaSettings(True, 30000, 30999, 7.5, Path("/srv/restfs"), "en", "INFO")
    assert media_settings_of(build_parser().parse_args(["run", "--no-media"])).enabled is False
    defaults = media_settings_of(build_parser().parse_args(["run"]))
    assert (defaults.port_min, defaults.port_max, defaults.enabled) == (20000, 29999, True)
    assert defaults.restfs(Path("d")) == Path("d") / "restfs"


@pytest.mark.parametrize("text", ["20000", "a-b", "30000-20000", "80-90", "20000-20001"])
def test_bad_port_ranges_are_refused(text: str) -> None:
    with pytest.raises((ValueError, SystemExit)):
        media_settings_of(build_parser().parse_args(["run", "--media-ports", text]))
    with pytest.raises(ValueError):
        low, high = parse_port_range(text)
        MediaSettings(port_min=low, port_max=high)


def test_offer_needs_a_codec_the_switch_relays() -> None:
    check_codecs(_offer("0 101", "a=rtpmap:101 telephone-event/8000\r\n"))
    check_codecs(_offer("96", "a=rtpmap:96 opus/48000/2\r\n"))
    check_codecs(_offer("18"))  # G729 by its static payload type
    with pytest.raises(NoCommonCodec, match="x-nobody"):
        check_codecs(_offer("96", "a=rtpmap:96 X-NOBODY/8000\r\n"))
    with pytest.raises(NoCommonCodec, match="payload type 97"):
        check_codecs(_offer("97 101", "a=rtpmap:101 telephone-event/8000\r\n"))


async def test_switch_media_starts_and_stops_its_own_process(tmp_path: Path) -> None:
    base = random.randrange(30000, 60000, 1000)
    media = SwitchMedia(MediaSettings(port_min=base, port_max=base + 99, rtp_timeout=5),
                        tmp_path, "127.0.0.1")
    events: list[dict[str, object]] = []
    client = await media.start(events.append)
    assert media.process is not None
    pid = media.process.pid
    try:
        relay = await client.allocate("r1")
        assert all(base <= leg.rtp_port <= base + 99 for leg in relay.legs)
        assert media.recordings == tmp_path / "restfs" / "recordings"
        assert media.recordings.is_dir()
        assert (await client.request("ping"))["relays"] == 1
    finally:
        await media.stop()
    assert media.process is None and media.client is None
    # the child is gone (reaped by stop): its PID no longer exists or is not ours
    await asyncio.sleep(0)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


class _Services:
    def __init__(self) -> None:
        self.active: dict[str, set[str]] = {}
        self.reads = 0

    async def info_many(self, domain: str, numbers: list[str]) -> list[ServiceState]:
        self.reads += 1
        return [ServiceState(domain, n, frozenset(self.active.get(n, set())),
                             {s: {} for s in self.active.get(n, set())}) for n in numbers]


class _Directory:
    def __init__(self) -> None:
        self.media: dict[str, object] = {"call_recording": False, "meet_me_number": "",
                                         "meet_me_pin": ""}

    async def section(self, domain: str, section: str, now: float) -> dict[str, object]:
        assert section == "media"
        return self.media


async def test_media_policy_reads_services_once_and_follows_console_changes() -> None:
    services, directory = _Services(), _Directory()
    storage = SimpleNamespace(services=services)
    policy = StorageMediaPolicy(storage, directory, lambda: 1000.0)  # type: ignore[arg-type]
    assert not await policy.recording_wanted("d", "1001", "1002")
    assert not await policy.recording_wanted("d", "1001", "1002")
    assert services.reads == 1  # both numbers in one query, then cached
    services.active["1002"] = {"call_recording"}
    assert not await policy.recording_wanted("d", "1001", "1002")  # still cached
    policy.on_change(Change("ss", "d", ("1002",)))
    assert await policy.recording_wanted("d", "1001", "1002")
    assert services.reads == 2
    services.active.clear()
    policy.on_change(Change("ss", "d", ("*",)))
    assert not await policy.recording_wanted("d", "1001", "1002")
    directory.media["call_recording"] = True  # the domain switch
    assert await policy.recording_wanted("d", "1001", "1002")


async def test_media_policy_finds_the_meet_me_room() -> None:
    directory = _Directory()
    policy = StorageMediaPolicy(SimpleNamespace(), directory, lambda: 0.0)  # type: ignore[arg-type]
    assert await policy.meet_me("d", "7000") is None
    directory.media.update(meet_me_number="7000", meet_me_pin="24-68")
    assert await policy.meet_me("d", "7001") is None
    room = await policy.meet_me("d", "7000")
    assert room == MeetMeRoom("d", "7000", "2468")
    assert room.conference_id == "meetme:7000@d"
    directory.media["meet_me_pin"] = ""
    assert (await policy.meet_me("d", "7000")) == MeetMeRoom("d", "7000", None)


async def test_a_media_server_that_dies_is_replaced(tmp_path: Path) -> None:
    base = random.randrange(30000, 60000, 1000)
    media = SwitchMedia(MediaSettings(port_min=base, port_max=base + 99), tmp_path,
                        "127.0.0.1")
    await media.start(lambda event: None)
    replaced: list[MediaClient] = []
    supervisor = asyncio.get_running_loop().create_task(
        media.supervise(replaced.append, delay=0.1))
    try:
        assert media.process is not None
        first = media.process.pid
        os.kill(first, signal.SIGKILL)  # the child we started, by its PID
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30.0
        while not replaced and loop.time() < deadline:
            await asyncio.sleep(0.05)
        assert replaced, "no new media server within 30 s"
        assert media.process.pid != first and media.restarts == 1
        assert (await replaced[0].request("ping"))["relays"] == 0
    finally:
        await media.stop()
        await asyncio.wait_for(supervisor, 10.0)  # it ends with the stop


async def test_media_policy_reads_the_codecs_an_alias_media_profile_refuses() -> None:
    reads: list[str] = []

    class Aliases:
        async def find(self, domain: str, number: str) -> Alias | None:
            reads.append(number)
            properties = {"media-profile": "drop_729"} if number == "157" else {}
            return Alias(domain, number, f"{number}@{domain}", properties=properties)

    class Profiles:
        async def find(self, domain: str, name: str) -> MediaProfile | None:
            codecs = ("audio:PCMA:*:true", "audio:PCMU:*:true", "audio:G729:*:false",
                      "video:H264:*:false")
            return MediaProfile(domain, name, codecs) if name == "drop_729" else None

    storage = SimpleNamespace(aliases=Aliases(), media_profiles=Profiles())
    policy = StorageMediaPolicy(storage, _Directory(), lambda: 1000.0)  # type: ignore[arg-type]
    assert await policy.refused_codecs("d", "157") == frozenset({"g729"})
    assert await policy.refused_codecs("d", "158") == frozenset()
    assert await policy.refused_codecs("d", "157") == frozenset({"g729"})
    assert reads == ["157", "158"]  # the second look-up came from the cache
    policy.on_change(SimpleNamespace(kind="media_profile", domain="d", keys=("drop_729",)))
    assert await policy.refused_codecs("d", "157") == frozenset({"g729"})
    assert reads == ["157", "158", "157"]  # a console change is read again
