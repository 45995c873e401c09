"""The B2BUA with a media server: SDP points at the relay, the relay follows the call."""

from __future__ import annotations

from call_harness import ANSWER, HOLD, Bench
from media_harness import RELAY_HOST, FakeMedia, media_bench

from ssw.sip.sdp import SessionDescription


def _audio(body: bytes) -> tuple[str, int]:
    sd = SessionDescription.parse(body)
    media = sd.media[0]
    connection = sd.effective_connection(media)
    assert connection is not None
    return connection.address, media.port



def test_both_sides_send_to_the_relay_and_it_learns_both_phones() -> None:
    bench, media = media_bench()
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    assert _audio(invite.body) == (RELAY_HOST, 20002)  # the callee sends to leg 1
    bench.callee_answers(invite, 180)
    bench.callee_answers(invite, 200, body=ANSWER)
    ok = bench.port.answers(txn)[-1]
    assert _audio(ok.body) == (RELAY_HOST, 20000)  # the caller sends to leg 0
    bench.caller_ack()
    [relay] = media.allocated
    assert relay in bench.b2bua.calls
    updates = media.commands("update")
    assert [(u["leg"], u["address"], u["port"]) for u in updates] == [
        (0, "10.0.0.1", 4000), (1, "10.0.0.2", 5000)]
    bench.caller_request("BYE")
    assert media.commands("release") == [{"relay": relay}]


def test_hold_offer_is_relayed_and_stops_the_timeout_of_that_side() -> None:
    bench, media = media_bench()
    bench.establish()
    bench.caller_request("INVITE", body=HOLD)
    reinvite = bench.port.sent("INVITE")[-1]
    assert _audio(reinvite.body) == (RELAY_HOST, 20002)
    last = media.commands("update")[-1]
    assert (last["leg"], last["sends"]) == (0, True)  # sendonly: the holder still sends
    assert b"a=sendonly" in reinvite.body


def test_media_timeout_ends_the_call_with_a_cause() -> None:
    bench, media = media_bench()
    bench.establish()
    [relay] = media.allocated
    bench.b2bua.on_media_event({"event": "timeout", "relay": relay, "leg": 1, "silent": 30.0})
    byes = bench.port.sent("BYE")
    assert sorted(bye.uri for bye in byes) == ["sip:100@10.0.0.1:5062", "sip:200@10.0.0.2:5070"]
    assert all("cause=102" in (bye.headers.get("reason") or "") for bye in byes)
    [record] = bench.cdrs.records
    assert record.release_cause == 102
    assert media.commands("release") == []  # the media server freed it already
    assert bench.b2bua.calls == {}


def test_unreachable_media_server_refuses_the_call() -> None:
    bench = Bench()
    bench.b2bua.media = FakeMedia(refuse=True)  # type: ignore[assignment]
    txn = bench.caller_invite()
    assert bench.port.statuses(txn) == [503]
    assert bench.port.sent("INVITE") == []
    [record] = bench.cdrs.records
    assert record.release_cause == 47
