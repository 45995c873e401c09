"""The basic call through the B2BUA: answer, BYE either way, CANCEL, busy, no answer, rejections."""

from __future__ import annotations

from call_harness import ANSWER, CALLER_ADDR, DOMAIN, OFFER, Bench, profile

from ssw.core.call.events import Side
from ssw.sip.address import Address
from ssw.sip.auth import DigestClient


def test_answered_call_then_bye_from_caller() -> None:
    bench = Bench()
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    # Each leg is its own dialog: new Call-ID, new From tag, the caller's SDP end to end.
    assert invite.call_id != "call-a@10.0.0.1"
    assert invite.from_.tag not in (None, "alice")
    assert invite.uri == "sip:200@10.0.0.2:5070"
    assert invite.to.uri == f"sip:200@{DOMAIN}"
    assert invite.from_.uri == f"sip:100@{DOMAIN}"
    assert invite.body == OFFER
    assert bench.port.dest_of(invite) == Address("udp", "10.0.0.2", 5070)
    assert invite.max_forwards == 69

    bench.callee_answers(invite, 180)
    assert bench.port.statuses(txn) == [180]
    bench.clock.advance(2.5)
    bench.callee_answers(invite, 200, body=ANSWER)
    ok = bench.port.answers(txn)[-1]
    assert ok.status == 200 and ok.body == ANSWER
    assert ok.contacts and ok.to.tag
    [ack] = bench.port.acks()
    assert ack.cseq.seq == invite.cseq.seq and ack.call_id == invite.call_id
    assert ack.to.tag == "bob"

    bench.caller_ack()
    bench.clock.advance(10.0)
    bye_txn = bench.caller_request("BYE")
    assert bench.port.statuses(bye_txn) == [200]
    [bye] = bench.port.sent("BYE")
    assert bye.call_id == invite.call_id and bye.to.tag == "bob"
    assert bye.headers.get("reason") == 'Q.850;cause=16;text="Normal call clearing"'
    bench.callee_answers(bye, 200)

    [record] = bench.cdrs.records
    assert record.caller == "100" and record.callee == "200" and record.domain == DOMAIN
    assert record.answer_delay_ms == 2500
    assert record.duration_ms == 10000
    assert (record.release_cause, record.release_side) == (16, Side.CALLER)
    assert record.answered_contact == "sip:200@10.0.0.2:5070"
    assert bench.b2bua.calls == {}
    assert bench.b2bua.leg_count == 0


def test_bye_from_callee_reaches_caller() -> None:
    bench = Bench()
    invite = bench.establish()
    bench.clock.advance(61.25)
    bye_txn = bench.callee_request("BYE", invite, cseq=5)
    assert bench.port.statuses(bye_txn) == [200]
    [bye] = bench.port.sent("BYE")
    assert bye.call_id == "call-a@10.0.0.1"
    assert bye.to.tag == "alice" and bye.from_.tag == bench.caller_tag()
    assert bye.uri == "sip:100@10.0.0.1:5062"
    assert bench.port.dest_of(bye) == CALLER_ADDR
    [record] = bench.cdrs.records
    assert record.release_side is Side.CALLEE
    assert record.duration_ms == 61250


def test_cancel_before_answer() -> None:
    bench = Bench()
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 180)
    bench.clock.advance(4.0)
    cancel_txn = bench.caller_cancel()
    assert bench.port.statuses(cancel_txn) == [200]
    assert bench.port.statuses(txn) == [180, 487]
    [cancel] = bench.port.sent("CANCEL")
    assert cancel.top_via.branch == invite.top_via.branch
    assert cancel.cseq.seq == invite.cseq.seq
    bench.callee_answers(cancel, 200)
    bench.callee_answers(invite, 487)
    assert bench.port.statuses(txn) == [180, 487]
    [record] = bench.cdrs.records
    assert record.answer_ms is None and record.duration_ms == 0
    assert (record.release_status, record.release_side) == (487, Side.CALLER)
    assert record.end_ms - record.setup_ms == 4000
    assert bench.b2bua.leg_count == 0


def test_callee_busy_is_relayed() -> None:
    bench = Bench()
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 486)
    assert bench.port.statuses(txn) == [486]
    [record] = bench.cdrs.records
    assert (record.release_status, record.release_cause) == (486, 17)
    assert record.release_side is Side.CALLEE


def test_no_answer_timeout_after_ringing_gives_480() -> None:
    bench = Bench(callee=profile("200", no_answer_timeout=20.0))
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 180)
    bench.clock.advance(19.9)
    assert bench.port.statuses(txn) == [180]
    bench.clock.advance(0.2)
    assert bench.port.statuses(txn) == [180, 480]
    [cancel] = bench.port.sent("CANCEL")
    assert "cause=19" in (cancel.headers.get("reason") or "")
    [record] = bench.cdrs.records
    assert (record.release_cause, record.release_side) == (19, Side.SWITCH)


def test_no_response_at_all_gives_408_and_cancel_waits_for_a_provisional() -> None:
    bench = Bench(callee=profile("200", no_answer_timeout=20.0))
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.clock.advance(20.0)
    assert bench.port.statuses(txn) == [408]
    # RFC 3261 §9.1: no CANCEL before a provisional response arrived.
    assert bench.port.sent("CANCEL") == []
    bench.callee_answers(invite, 100)
    [cancel] = bench.port.sent("CANCEL")
    assert cancel.cseq.method == "CANCEL"
    assert bench.cdrs.records[0].release_status == 408


def test_unknown_number_404_and_unregistered_480() -> None:
    bench = Bench()
    txn = bench.caller_invite(called="999")
    assert bench.port.statuses(txn) == [404]
    bench.locations.bindings.clear()
    txn = bench.caller_invite(called="200")
    assert bench.port.statuses(txn) == [480]
    assert [r.release_status for r in bench.cdrs.records] == [404, 480]
    assert bench.port.sent("INVITE") == []


def test_unsupported_require_is_answered_420() -> None:
    bench = Bench()
    txn = bench.caller_invite(headers=[("Require", "foo, 100rel")])
    [response] = bench.port.answers(txn)
    assert response.status == 420
    assert response.headers.get("unsupported") == "foo"
    assert bench.cdrs.records == []


def test_invite_challenged_with_401_then_accepted() -> None:
    bench = Bench(caller=profile("100", authenticate_invite=True, qop=True))
    txn = bench.caller_invite()
    [challenge] = bench.port.answers(txn)
    assert challenge.status == 401
    offered = challenge.headers.get_all("www-authenticate")
    assert offered and 'realm="ssw.test"' in offered[0] and "qop" in offered[0]
    client = DigestClient("100", "pw100")
    authorization = client.authorization(offered, "INVITE", f"sip:200@{DOMAIN}")
    bench.caller_cseq += 1
    txn = bench.caller_invite(authorization=authorization)
    assert bench.port.answers(txn) == []
    assert len(bench.port.sent("INVITE")) == 1


def test_wrong_password_is_refused_403() -> None:
    bench = Bench(caller=profile("100", authenticate_invite=True, qop=False))
    txn = bench.caller_invite()
    offered = bench.port.answers(txn)[0].headers.get_all("www-authenticate")
    assert "qop" not in offered[0]
    authorization = DigestClient("100", "wrong").authorization(
        offered, "INVITE", f"sip:200@{DOMAIN}"
    )
    bench.caller_cseq += 1
    txn = bench.caller_invite(authorization=authorization)
    assert bench.port.statuses(txn) == [403]
    assert bench.port.sent("INVITE") == []


def test_unknown_caller_is_refused() -> None:
    bench = Bench(caller=profile("101"))
    txn = bench.caller_invite()
    assert bench.port.statuses(txn) == [403]


def test_bye_on_the_early_dialog_cancels_the_call() -> None:
    bench = Bench()
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 180)
    bye_txn = bench.caller_request("BYE")
    assert bench.port.statuses(bye_txn) == [200]
    assert bench.port.statuses(txn) == [180, 487]
    assert len(bench.port.sent("CANCEL")) == 1
    assert bench.cdrs.records[0].release_side is Side.CALLER


def test_crossing_byes_are_both_answered() -> None:
    bench = Bench()
    invite = bench.establish()
    bench.callee_request("BYE", invite, cseq=5)
    [bye_to_caller] = bench.port.sent("BYE")
    assert bye_to_caller.call_id == "call-a@10.0.0.1"
    # The caller hung up at the same moment: its BYE crosses ours.
    txn = bench.caller_request("BYE")
    assert bench.port.statuses(txn) == [200]
    assert len(bench.cdrs.records) == 1


def test_conversation_timeout_releases_both_sides() -> None:
    bench = Bench(callee=profile("200", conversation_timeout=600.0))
    invite = bench.establish()
    bench.clock.advance(599.0)
    assert bench.port.sent("BYE") == []
    bench.clock.advance(1.0)
    assert {b.call_id for b in bench.port.sent("BYE")} == {"call-a@10.0.0.1", invite.call_id}
    [record] = bench.cdrs.records
    assert (record.duration_ms, record.release_cause) == (600_000, 102)
    assert record.release_side is Side.SWITCH


def test_trying_after_authentication_when_the_b2bua_sends_it() -> None:
    bench = Bench(caller=profile("100", authenticate_invite=True), send_trying=True)
    txn = bench.caller_invite()
    assert bench.port.statuses(txn) == [401]  # no 100 before the challenge
    offered = bench.port.answers(txn)[0].headers.get_all("www-authenticate")
    authorization = DigestClient("100", "pw100").authorization(
        offered, "INVITE", f"sip:200@{DOMAIN}"
    )
    bench.caller_cseq += 1
    txn = bench.caller_invite(authorization=authorization)
    assert bench.port.statuses(txn) == [100]
