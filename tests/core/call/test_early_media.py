"""CallerMedia: ringback, announcements and recording towards the caller (no sockets)."""

from __future__ import annotations

from typing import Any, cast

from call_harness import FakeClock

from ssw.core.call.causes import ReleaseCause
from ssw.core.call.cdr import CdrBuilder
from ssw.core.call.early_media import ANNOUNCEMENT_LIMIT, CallerMedia
from ssw.core.call.events import Answer, CallEvent, Disconnect, Fail, Ring, Side
from ssw.core.call.leg_uas import IncomingLeg
from ssw.media.call_media import RelaySession
from ssw.media.client import LegAddress, RelayAllocation

OFFER = (b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
         b"m=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n")
BUSY = ReleaseCause(486, 17, "Busy Here")


class FakeLeg:
    def __init__(self, *, reliable: bool = False) -> None:
        self.delivered: list[CallEvent] = []
        self.local_sdp: bytes | None = None
        self.final_sent = False
        self.reliable = reliable

    def will_send_reliably(self, ring: Ring) -> bool:
        return self.reliable or ring.reliable

    def deliver(self, event: CallEvent) -> None:
        self.delivered.append(event)
        if isinstance(event, Ring) and event.sdp is not None:
            self.local_sdp = event.sdp
        if isinstance(event, Fail | Answer):
            self.final_sent = True


class FakeRelay:
    def __init__(self) -> None:
        legs = (LegAddress("198.51.100.1", 30000, 30001), LegAddress("198.51.100.1", 30002,
                                                                      30003))
        self.allocation = RelayAllocation("call-1", legs)
        self.relay_id = "call-1"
        self.released = False
        self.commands: list[tuple[Any, ...]] = []
        self.refuse_play = False

    def play(self, side: int, source: str, *, loop: bool | None = None,
             on_error: Any = None) -> None:
        self.commands.append(("play", side, source))
        if self.refuse_play and on_error is not None:
            on_error("prompt missing")

    def stop_play(self, side: int) -> None:
        self.commands.append(("stop_play", side))

    def record_start(self, file: str | None = None) -> None:
        self.commands.append(("record_start", file))

    def release(self) -> None:
        self.released = True


def _media(leg: FakeLeg, relay: FakeRelay, clock: FakeClock, **kwargs: Any) -> CallerMedia:
    finished: list[CallerMedia] = []
    media = CallerMedia(cast(IncomingLeg, leg), cast(RelaySession, relay), OFFER, clock,
                        finished.append, **kwargs)
    media.finished = finished  # type: ignore[attr-defined]
    return media


def test_ringback_with_the_switch_sdp_until_the_answer() -> None:
    leg, relay, clock = FakeLeg(), FakeRelay(), FakeClock()
    media = _media(leg, relay, clock)
    media.deliver(Ring(None, False, 180))
    ring = leg.delivered[0]
    assert isinstance(ring, Ring) and ring.status == 180 and ring.sdp is not None
    assert b"c=IN IP4 198.51.100.1" in ring.sdp and b"m=audio 30000 " in ring.sdp
    assert b"a=sendonly" in ring.sdp
    assert relay.commands == [("play", 0, "tone:ringback")]
    media.deliver(Ring(None, False, 180))  # a second 180: as it is, the tone goes on
    assert leg.delivered[1] == Ring(None, False, 180)
    media.deliver(Answer(b"v=0 answer"))
    assert relay.commands[-1] == ("stop_play", 0)
    assert leg.delivered[-1] == Answer(b"v=0 answer")


def test_no_ringback_in_a_reliable_ring_nor_over_the_callee_media() -> None:
    leg, relay, clock = FakeLeg(reliable=True), FakeRelay(), FakeClock()
    media = _media(leg, relay, clock)
    media.deliver(Ring(None, True, 180))
    assert leg.delivered == [Ring(None, True, 180)] and not relay.commands
    leg, relay = FakeLeg(), FakeRelay()
    media = _media(leg, relay, clock)
    media.deliver(Ring(b"callee sdp", False, 183))
    assert leg.delivered == [Ring(b"callee sdp", False, 183)] and not relay.commands


def test_busy_announcement_then_the_final_response() -> None:
    leg, relay, clock = FakeLeg(), FakeRelay(), FakeClock()
    media = _media(leg, relay, clock)
    media.deliver(Fail(BUSY))
    early = leg.delivered[0]
    assert isinstance(early, Ring) and early.status == 183 and early.sdp is not None
    assert relay.commands == [("play", 0, "prompt:subscriber_busy")]
    assert len(leg.delivered) == 1 and not relay.released
    media.play_done()
    assert leg.delivered[-1] == Fail(BUSY) and relay.released
    assert media.finished == [media]  # type: ignore[attr-defined]
    media.play_done()  # a late second report changes nothing
    assert leg.delivered.count(Fail(BUSY)) == 1


def test_a_refused_prompt_fails_the_call_at_once() -> None:
    leg, relay, clock = FakeLeg(), FakeRelay(), FakeClock()
    relay.refuse_play = True
    media = _media(leg, relay, clock)
    media.deliver(Fail(BUSY))
    assert leg.delivered[-1] == Fail(BUSY) and relay.released


def test_the_announcement_is_cut_after_its_limit() -> None:
    leg, relay, clock = FakeLeg(), FakeRelay(), FakeClock()
    media = _media(leg, relay, clock)
    media.deliver(Fail(BUSY))
    clock.advance(ANNOUNCEMENT_LIMIT - 1)
    assert leg.delivered[-1] != Fail(BUSY)
    clock.advance(2)
    assert leg.delivered[-1] == Fail(BUSY)


def test_cancel_during_the_announcement_and_statuses_without_one() -> None:
    leg, relay, clock = FakeLeg(), FakeRelay(), FakeClock()
    media = _media(leg, relay, clock)
    media.deliver(Fail(BUSY))
    media.caller_event(Disconnect(ReleaseCause(487, 16, "cancelled"), Side.CALLER))
    assert relay.released and media.announcing is None
    clock.advance(ANNOUNCEMENT_LIMIT + 1)
    assert Fail(BUSY) not in leg.delivered  # the leg has answered the INVITE 487 itself
    leg, relay = FakeLeg(), FakeRelay()
    media = _media(leg, relay, clock)
    congestion = ReleaseCause(503, 34, "Service Unavailable")
    media.deliver(Fail(congestion))
    assert leg.delivered == [Fail(congestion)] and not relay.commands


def test_recording_starts_at_the_answer_and_names_the_file_in_the_cdr() -> None:
    leg, relay, clock = FakeLeg(), FakeRelay(), FakeClock(start=1_764_000_000.0)
    cdr = CdrBuilder("call-1", "d", "1001", "1002", 1_764_000_000_000)
    media = _media(leg, relay, clock, record_into=cdr)
    media.deliver(Answer(b"sdp"))
    assert cdr.recording_file == "recordings/20251124-160000-call-1.wav"
    assert relay.commands == [("record_start", "20251124-160000-call-1.wav")]
