"""MeetMeRooms: joining, PIN failures, leaving, re-INVITEs (a fake media server)."""

from __future__ import annotations

from typing import Any, cast

from call_harness import FakeClock

from ssw.core.call.causes import MEDIA_TIMEOUT, ReleaseCause
from ssw.core.call.cdr import CallRecord, CdrBuilder
from ssw.core.call.events import Answer, CallEvent, Disconnect, Side, Update, UpdateAccepted
from ssw.core.call.leg_uas import IncomingLeg
from ssw.core.call.media_policy import MeetMeRoom
from ssw.core.call.meet_me import WRONG_PIN, MeetMeRooms
from ssw.media.client import LegAddress, MediaClient

ROOM = MeetMeRoom("d", "7000", "2468")
NORMAL = ReleaseCause(200, 16, "Normal call clearing")


def _offer(formats: str = "0 101", port: int = 4000, version: int = 1) -> bytes:
    return (f"v=0\r\no=- 1 {version} IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
            f"t=0 0\r\nm=audio {port} RTP/AVP {formats}\r\n"
            f"a=rtpmap:101 telephone-event/8000\r\n").encode()


class FakeMedia:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.notified: list[tuple[str, dict[str, Any]]] = []

    async def conference_create(self, conference: str, pin: str | None = None) -> None:
        self.requests.append(("conference_create", {"conference": conference, "pin": pin}))

    async def conference_join(self, conference: str, member: str) -> LegAddress:
        self.requests.append(("conference_join", {"member": member}))
        return LegAddress("198.51.100.1", 31000 + 2 * len(self.requests), 31001)

    async def conference_update(self, conference: str, member: str, **params: Any
                                ) -> LegAddress:
        self.requests.append(("conference_update", {"member": member, **params}))
        return LegAddress("198.51.100.1", 31000, 31001)

    def notify(self, command: str, **params: Any) -> None:
        self.notified.append((command, params))


class FakeLeg:
    def __init__(self) -> None:
        self.delivered: list[CallEvent] = []
        self.sink: Any = None

    def deliver(self, event: CallEvent) -> None:
        self.delivered.append(event)

    def emit(self, event: CallEvent) -> None:
        self.sink(self, event)


class Cdrs:
    def __init__(self) -> None:
        self.records: list[CallRecord] = []

    def write(self, record: CallRecord) -> None:
        self.records.append(record)


def _rooms() -> tuple[MeetMeRooms, FakeMedia, Cdrs, FakeClock]:
    media, cdrs, clock = FakeMedia(), Cdrs(), FakeClock()
    return MeetMeRooms(cast(MediaClient, media), cdrs, clock), media, cdrs, clock


async def _join(rooms: MeetMeRooms, member: str, offer: bytes | None = None
                ) -> tuple[FakeLeg, Any]:
    leg = FakeLeg()
    cdr = CdrBuilder(member, "d", "1001", "7000", 1_760_000_000_000)
    refusal = await rooms.join(ROOM, member, _offer() if offer is None else offer,
                               lambda: cast(IncomingLeg, leg), cdr)
    return leg, refusal


async def test_members_join_one_conference_and_the_last_one_destroys_it() -> None:
    rooms, media, cdrs, _ = _rooms()
    first, refusal = await _join(rooms, "m1")
    assert refusal is None
    second, _ = await _join(rooms, "m2")
    creates = [r for r in media.requests if r[0] == "conference_create"]
    assert creates == [("conference_create", {"conference": "meetme:7000@d", "pin": "2468"})]
    answer = first.delivered[0]
    assert isinstance(answer, Answer) and answer.sdp is not None
    assert b"c=IN IP4 198.51.100.1" in answer.sdp and b"a=sendrecv" in answer.sdp
    updates = [r[1] for r in media.requests if r[0] == "conference_update"]
    assert updates[0]["address"] == "192.0.2.1" and updates[0]["port"] == 4000
    assert updates[0]["payload_type"] == 0
    first.emit(Disconnect(NORMAL, Side.CALLER))
    assert ("conference_leave", {"conference": "meetme:7000@d", "member": "m1"}) in \
        media.notified
    assert not any(c == "conference_destroy" for c, _ in media.notified)
    second.emit(Disconnect(NORMAL, Side.CALLER))
    assert media.notified[-1] == ("conference_destroy", {"conference": "meetme:7000@d"})
    assert [r.release_cause for r in cdrs.records] == [16, 16]
    assert all(r.answer_ms is not None for r in cdrs.records)
    assert rooms.member_count == 0


async def test_offers_the_conference_cannot_answer_are_refused() -> None:
    rooms, media, _, _ = _rooms()
    _, refusal = await _join(rooms, "m1", _offer("18"))  # G.729 only: no mixing
    assert refusal is not None and refusal.status == 488
    _, refusal = await _join(rooms, "m2", b"")  # a delayed offer
    assert refusal is not None and refusal.status == 488
    assert not media.requests


async def test_three_wrong_pins_end_the_call_and_a_timeout_releases_the_member() -> None:
    rooms, _, cdrs, _ = _rooms()
    leg, _ = await _join(rooms, "m1")
    for attempt in range(3):
        assert rooms.on_media_event({"event": "pin", "conference": "meetme:7000@d",
                                     "member": "m1", "admitted": False})
        assert len(leg.delivered) == (1 if attempt < 2 else 2)
    assert leg.delivered[-1] == Disconnect(WRONG_PIN, Side.SWITCH)
    assert cdrs.records[-1].release_cause == 21
    other, _ = await _join(rooms, "m2")
    rooms.on_media_event({"event": "timeout", "conference": "meetme:7000@d",
                          "member": "m2", "silent": 30.0})
    assert other.delivered[-1] == Disconnect(MEDIA_TIMEOUT, Side.SWITCH)
    assert cdrs.records[-1].release_cause == 102
    assert not rooms.on_media_event({"event": "timeout", "conference": "x", "member": "m9"})


async def test_a_reinvite_keeps_the_member_port_with_a_newer_version() -> None:
    rooms, media, _, _ = _rooms()
    leg, _ = await _join(rooms, "m1")
    first = leg.delivered[0]
    assert isinstance(first, Answer) and first.sdp is not None
    leg.emit(Update(_offer(port=5000, version=2)))
    answer = leg.delivered[-1]
    assert isinstance(answer, UpdateAccepted) and answer.sdp is not None
    port_line = [line for line in first.sdp.split(b"\r\n") if line.startswith(b"m=")]
    assert port_line[0] in answer.sdp
    assert b" 2 IN IP4" in answer.sdp  # o= version increased (RFC 3264 §8)
    assert media.notified[-1][0] == "conference_update"
    assert media.notified[-1][1]["port"] == 5000
