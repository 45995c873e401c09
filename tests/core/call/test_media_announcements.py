"""The B2BUA with a media server: announcements, ringback, the codec check (fake server)."""

from __future__ import annotations

from media_harness import RELAY_HOST, media_bench

from ssw.sip.sdp import SessionDescription


def test_unknown_number_hears_its_announcement_before_the_404() -> None:
    bench, media = media_bench()
    txn = bench.caller_invite(called="999")
    answers = bench.port.answers(txn)
    assert [r.status for r in answers if r.status > 100] == [183]
    sd = SessionDescription.parse(answers[-1].body)
    connection = sd.effective_connection(sd.media[0])
    assert connection is not None and connection.address == RELAY_HOST
    assert sd.media[0].port == 20000
    [play] = media.commands("play")
    assert (play["leg"], play["source"]) == (0, "prompt:number_does_not_exist")
    assert bench.cdrs.records[-1].release_status == 404  # written at the failure
    relay = play["relay"]
    bench.b2bua.on_media_event({"event": "play_done", "relay": relay,
                                "source": "prompt:number_does_not_exist"})
    assert bench.port.statuses(txn)[-1] == 404
    assert answers[-1].to.tag == bench.port.answers(txn)[-1].to.tag  # one dialog
    assert media.commands("release") == [{"relay": relay}]
    assert not bench.b2bua._relays and not bench.b2bua._caller_media


def test_cancel_during_the_announcement() -> None:
    bench, media = media_bench()
    txn = bench.caller_invite(called="999")
    cancel_txn = object()
    assert bench.invite is not None
    bench.b2bua.on_cancel(cancel_txn, bench.invite, txn)
    assert bench.port.statuses(txn)[-1] == 487
    assert len(media.commands("release")) == 1 and not bench.b2bua._caller_media


def test_a_caller_requiring_100rel_gets_the_404_at_once() -> None:
    bench, media = media_bench()
    txn = bench.caller_invite(called="999", headers=[("Require", "100rel")])
    assert [s for s in bench.port.statuses(txn) if s > 100] == [404]
    assert not media.commands("play") and len(media.commands("release")) == 1


def test_ringback_in_the_180_without_100rel() -> None:
    bench, media = media_bench()
    txn = bench.caller_invite(supported="timer")
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 180)
    ringing = bench.port.answers(txn)[-1]
    assert ringing.status == 180 and b"m=audio 20000 " in ringing.body
    assert [(p["leg"], p["source"]) for p in media.commands("play")] == [(0, "tone:ringback")]


def test_an_offer_without_a_known_codec_gets_488_and_no_relay() -> None:
    bench, media = media_bench()
    offer = (b"v=0\r\no=alice 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
             b"m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 X-NOBODY/8000\r\n")
    txn = bench.caller_invite(body=offer)
    assert bench.port.statuses(txn)[-1] == 488
    assert not media.allocated
    assert bench.cdrs.records[-1].release_cause == 65
