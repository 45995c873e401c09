"""Media anchored in the relay: the relay's own answers, and answers that wait for the relay.

ECSS QA update/update_test.json: `uac_simple_update_test` (reliable 180 with the relay's
answer, early UPDATE from the caller, UPDATE after the answer) and `uas_two_update` (a second
UPDATE while the first waits for the relay: 500 with Retry-After, RFC 3311 §5.2).
"""

from __future__ import annotations

from call_harness import ANSWER, OFFER, Bench
from media_harness import RELAY_HOST, FakeMedia, media_bench

from ssw.core.call.dialog_state import IdSource
from ssw.core.call.media_anchor import RELAY_WAIT_LIMIT
from ssw.media.sdp_bridge import relay_answer
from ssw.sip.sdp import SdpError, SessionDescription

REQUIRE_100REL = [("Require", "100rel")]
# the caller offers three codecs: the relay's answer must keep all it relays
OFFER3 = OFFER.replace(b"RTP/AVP 0\r\n",
                       b"RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n")
NEW_OFFER = (b"v=0\r\no=alice 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
             b"m=audio 4002 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")
CALLEE_OFFER = ANSWER.replace(b"o=bob 2 2", b"o=bob 2 3").replace(b"5000", b"5002")


def _stream(body: bytes) -> tuple[str, int, list[str], int]:
    """(address, port, formats, o= version) of the first stream of `body`."""
    sd = SessionDescription.parse(body)
    media = sd.media[0]
    connection = sd.effective_connection(media)
    assert connection is not None and sd.origin is not None
    return connection.address, media.port, list(media.formats), sd.origin.session_version


def _reliable_ring(bench: Bench, media: FakeMedia) -> None:
    """A caller that requires 100rel, a callee that rings without SDP; the caller PRACKs."""
    txn = bench.caller_invite(body=OFFER3, headers=REQUIRE_100REL)
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 180)
    [ring] = bench.port.answers(txn)[-1:]
    assert ring.status == 180 and ring.headers.get("rseq") == "101"
    bench.caller_request("PRACK", headers=[bench.rack(101)])


def test_a_reliable_ring_carries_the_relays_answer_to_the_invite_offer() -> None:
    bench, media = media_bench()
    _reliable_ring(bench, media)
    ring = bench.port.answers(bench.invite_txn)[-1]
    # RFC 3262 §5: the answer in a reliable 18x; every offered codec, at the caller's side
    assert _stream(ring.body) == (RELAY_HOST, 20000, ["0", "8", "101"], 1)
    assert b"a=sendrecv" in ring.body
    assert [p["source"] for p in media.commands("play")] == ["tone:ringback"]
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 200, body=ANSWER)
    ok = bench.port.answers(bench.invite_txn)[-1]
    assert ok.status == 200 and ok.body == b""  # no second answer to the same offer
    last = media.commands("update")[-1]
    assert (last["leg"], last["address"], last["port"]) == (1, "10.0.0.2", 5000)
    assert media.commands("stop_play") == [{"relay": media.allocated[0], "leg": 0}]


def test_the_callees_early_sdp_after_the_relays_answer_reaches_the_caller_without_a_body() -> None:
    bench, media = media_bench()
    _reliable_ring(bench, media)
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 183, body=ANSWER)
    progress = bench.port.answers(bench.invite_txn)[-1]
    assert progress.status == 183 and progress.body == b""
    assert media.commands("update")[-1]["leg"] == 1  # the relay follows the callee anyway
    assert len(media.commands("stop_play")) == 1


def test_an_early_update_of_the_caller_is_answered_by_the_relay() -> None:
    bench, media = media_bench()
    _reliable_ring(bench, media)
    txn = bench.caller_request("UPDATE", body=NEW_OFFER)
    [ok] = bench.port.answers(txn)
    assert ok.status == 200
    assert _stream(ok.body) == (RELAY_HOST, 20000, ["8"], 2)  # §8: the next version
    last = media.commands("update")[-1]
    assert (last["leg"], last["port"]) == (0, 4002)  # the relay sends to the new port
    assert bench.port.sent("UPDATE") == []  # the callee has not answered its INVITE yet
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 200, body=ANSWER)
    assert bench.port.answers(bench.invite_txn)[-1].body == b""


def test_an_update_towards_a_callee_without_update_is_answered_by_the_relay() -> None:
    bench, media = media_bench()
    bench.establish()
    txn = bench.caller_request("UPDATE", body=NEW_OFFER)
    [ok] = bench.port.answers(txn)
    assert ok.status == 200 and _stream(ok.body)[:3] == (RELAY_HOST, 20000, ["8"])
    assert len(bench.port.sent("INVITE")) == 1 and bench.port.sent("UPDATE") == []
    assert media.commands("update")[-1]["port"] == 4002


def test_an_update_towards_a_callee_that_takes_it_is_relayed() -> None:
    bench, _ = media_bench()
    bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 200, body=ANSWER, headers=[("Allow", "INVITE, BYE, UPDATE")])
    bench.caller_ack()
    txn = bench.caller_request("UPDATE", body=NEW_OFFER)
    [update] = bench.port.sent("UPDATE")
    assert _stream(update.body)[:2] == (RELAY_HOST, 20002)
    bench.callee_answers(update, 200, body=ANSWER)
    assert bench.port.statuses(txn) == [200]


def test_without_media_a_reliable_ring_has_no_answer_and_an_early_update_gets_491() -> None:
    bench = Bench()
    txn = bench.caller_invite(headers=REQUIRE_100REL)
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 180)
    [ring] = bench.port.answers(txn)
    assert ring.headers.get("rseq") == "101" and ring.body == b""
    bench.caller_request("PRACK", headers=[bench.rack(101)])
    update = bench.caller_request("UPDATE", body=NEW_OFFER)
    assert bench.port.statuses(update) == [491]


def _early_dialog_with_a_plain_caller(bench: Bench) -> object:
    """uas_two_update: a caller with neither 100rel nor UPDATE; the callee rings reliably
    with SDP and gets its PRACK answered. Returns the callee's INVITE."""
    bench.caller_invite(supported="")
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 180, body=ANSWER, headers=[("Require", "100rel"),
                                                             ("RSeq", "1")])
    bench.callee_answers(bench.port.sent("PRACK")[-1], 200)
    return invite


def test_the_answer_to_an_update_waits_for_the_relay_and_a_second_update_gets_500() -> None:
    bench, media = media_bench()
    invite = _early_dialog_with_a_plain_caller(bench)
    media.hold = True  # the media server has not answered yet
    first = bench.callee_request("UPDATE", invite, cseq=invite.cseq.seq + 5, body=CALLEE_OFFER)
    assert bench.port.answers(first) == []
    second = bench.callee_request("UPDATE", invite, cseq=invite.cseq.seq + 6,
                                  body=CALLEE_OFFER)
    [busy] = bench.port.answers(second)
    retry = busy.headers.get("retry-after")
    assert busy.status == 500 and retry == "7"  # §5.2: random, 0 to 10 s (7 on the bench)
    media.carry_out()
    [ok] = bench.port.answers(first)
    assert ok.status == 200 and _stream(ok.body)[:2] == (RELAY_HOST, 20002)
    assert media.commands("update")[-2]["port"] == 5002  # the callee's new port, before it


def test_the_answer_goes_anyway_when_the_media_server_does_not_confirm() -> None:
    bench, media = media_bench()
    invite = _early_dialog_with_a_plain_caller(bench)
    media.hold = True
    first = bench.callee_request("UPDATE", invite, cseq=invite.cseq.seq + 5, body=CALLEE_OFFER)
    bench.clock.advance(RELAY_WAIT_LIMIT - 0.1)
    assert bench.port.answers(first) == []
    bench.clock.advance(0.2)
    assert bench.port.statuses(first) == [200]
    media.carry_out()  # a late confirmation changes nothing
    assert bench.port.statuses(first) == [200]


def test_events_after_a_waiting_answer_keep_their_order() -> None:
    bench, media = media_bench()
    invite = _early_dialog_with_a_plain_caller(bench)
    media.hold = True
    first = bench.callee_request("UPDATE", invite, cseq=invite.cseq.seq + 5, body=CALLEE_OFFER)
    bench.callee_answers(invite, 200)  # the callee answers the INVITE right after
    assert bench.port.statuses(bench.invite_txn) == [180]
    media.carry_out()
    assert bench.port.statuses(first) == [200]
    assert bench.port.statuses(bench.invite_txn) == [180, 200]


def test_relay_answer_keeps_the_codecs_the_switch_relays() -> None:
    offer = SessionDescription.parse(
        b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        b"m=audio 4000 RTP/AVP 18 0 97 101\r\na=rtpmap:97 x-unknown/8000\r\n"
        b"a=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n"
        b"m=video 4002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n")
    answer = relay_answer(offer, "192.0.2.1", 20000, session_id="7", version=3)
    audio, video = answer.media
    assert (audio.port, audio.formats, video.port) == (20000, ["18", "0", "101"], 0)
    assert audio.direction is not None and audio.direction.value == "recvonly"
    origin = answer.origin
    assert origin is not None and (origin.session_id, origin.session_version) == ("7", 3)
    unknown_only = SessionDescription.parse(
        b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        b"m=audio 4000 RTP/AVP 97\r\na=rtpmap:97 x-unknown/8000\r\n")
    try:
        relay_answer(unknown_only, "192.0.2.1", 20000)
    except SdpError:
        pass
    else:
        raise AssertionError("an offer without a relayed codec has no relay answer")


def test_retry_after_is_random_within_ten_seconds() -> None:
    ids = IdSource()
    values = {ids.retry_after() for _ in range(500)}
    assert values <= set(range(11)) and len(values) > 5
