"""Mid-call: re-INVITE and UPDATE relayed (hold/resume), glare, delayed offers, 100rel."""

from __future__ import annotations

from call_harness import ANSWER, HOLD, OFFER, RESUME, Bench, profile

from ssw.core.ports import ReliableProvisional
from ssw.sip.address import Address
from ssw.sip.message import new_request

ANSWER_HELD = ANSWER.replace(b"o=bob 2 2", b"o=bob 2 3").replace(b"a=sendrecv", b"a=recvonly")


def test_hold_and_resume_from_the_caller_are_relayed() -> None:
    bench = Bench()
    invite = bench.establish()
    hold_txn = bench.caller_request("INVITE", body=HOLD)
    [reinvite] = [r for r in bench.port.sent("INVITE") if r.call_id == invite.call_id][1:]
    assert reinvite.body == HOLD
    assert reinvite.to.tag == "bob"
    assert reinvite.cseq.seq > invite.cseq.seq
    assert bench.port.statuses(hold_txn) == []
    bench.callee_answers(reinvite, 200, body=ANSWER_HELD)
    [ok] = bench.port.answers(hold_txn)
    assert ok.status == 200 and ok.body == ANSWER_HELD
    acks = [a for a in bench.port.acks() if a.cseq.seq == reinvite.cseq.seq]
    assert len(acks) == 1

    resume_txn = bench.caller_request("INVITE", body=RESUME)
    reinvite2 = bench.port.sent("INVITE")[-1]
    assert reinvite2.body == RESUME
    bench.callee_answers(reinvite2, 200, body=ANSWER)
    assert bench.port.answers(resume_txn)[-1].body == ANSWER


def test_reinvite_from_the_callee_reaches_the_caller() -> None:
    bench = Bench()
    invite = bench.establish()
    txn = bench.callee_request("INVITE", invite, cseq=7, body=ANSWER_HELD)
    reinvite = bench.port.sent("INVITE")[-1]
    assert reinvite.call_id == "call-a@10.0.0.1"
    assert reinvite.uri == "sip:100@10.0.0.1:5062"
    assert reinvite.body == ANSWER_HELD
    response = bench.callee_answers(reinvite, 200, body=HOLD)
    del response
    [ok] = bench.port.answers(txn)
    assert ok.status == 200 and ok.body == HOLD


def test_update_is_relayed_as_update_when_the_peer_allows_it() -> None:
    bench = Bench()
    bench.caller_invite()
    invite = bench.port.sent("INVITE")[-1]
    bench.callee_answers(invite, 200, body=ANSWER, headers=[("Allow", "INVITE, ACK, BYE, UPDATE")])
    bench.caller_ack()
    txn = bench.caller_request("UPDATE", body=HOLD)
    [update] = bench.port.sent("UPDATE")
    assert update.body == HOLD
    bench.callee_answers(update, 200, body=ANSWER_HELD)
    assert bench.port.answers(txn)[-1].body == ANSWER_HELD
    assert [a.cseq.method for a in bench.port.acks()] == ["ACK"]  # no ACK for UPDATE


def test_update_becomes_reinvite_when_the_peer_does_not_allow_update() -> None:
    bench = Bench()
    bench.establish()
    bench.caller_request("UPDATE", body=HOLD)
    assert bench.port.sent("UPDATE") == []
    assert bench.port.sent("INVITE")[-1].body == HOLD


def test_rejected_offer_is_relayed_back() -> None:
    bench = Bench()
    bench.establish()
    txn = bench.caller_request("INVITE", body=HOLD)
    reinvite = bench.port.sent("INVITE")[-1]
    bench.callee_answers(reinvite, 488)
    assert bench.port.statuses(txn) == [488]


def test_glare_gets_491() -> None:
    bench = Bench()
    invite = bench.establish()
    bench.caller_request("INVITE", body=HOLD)
    txn = bench.callee_request("INVITE", invite, cseq=9, body=ANSWER_HELD)
    assert bench.port.statuses(txn) == [491]


def test_offer_in_200_and_answer_in_ack() -> None:
    bench = Bench()
    txn = bench.caller_invite(body=b"")
    [invite] = bench.port.sent("INVITE")
    assert invite.body == b""
    bench.callee_answers(invite, 200, body=ANSWER)
    assert bench.port.answers(txn)[-1].body == ANSWER
    assert bench.port.acks() == []  # held until the caller's answer comes
    bench.caller_ack(body=OFFER)
    [ack] = bench.port.acks()
    assert ack.body == OFFER and ack.cseq.seq == invite.cseq.seq


def test_reliable_ringing_is_pracked_end_to_end() -> None:
    bench = Bench()
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    assert "100rel" in invite.supported
    bench.callee_answers(
        invite, 183, body=ANSWER, headers=[("Require", "100rel"), ("RSeq", "1")]
    )
    [progress] = bench.port.answers(txn)
    assert "100rel" in progress.require and progress.rseq == 101
    assert progress.body == ANSWER
    assert bench.port.sent("PRACK") == []
    prack_txn = bench.caller_request("PRACK", headers=[bench.rack(101)])
    assert bench.port.statuses(prack_txn) == [200]
    [prack] = bench.port.sent("PRACK")
    assert prack.headers.get("rack") == f"1 {invite.cseq.seq} INVITE"
    assert prack.call_id == invite.call_id and prack.to.tag == "bob"
    bench.callee_answers(prack, 200)
    bench.callee_answers(invite, 200, body=ANSWER)
    assert bench.port.statuses(txn)[-1] == 200


def test_reliable_provisional_is_retransmitted_until_pracked() -> None:
    bench = Bench()
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 180, headers=[("Require", "100rel"), ("RSeq", "7")])
    bench.clock.advance(0.5)
    bench.clock.advance(1.0)
    assert bench.port.statuses(txn) == [180, 180, 180]
    bench.caller_request("PRACK", headers=[bench.rack(101)])
    bench.clock.advance(10.0)
    assert bench.port.statuses(txn) == [180, 180, 180]


def test_wrong_rack_gets_481() -> None:
    bench = Bench()
    bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 180, headers=[("Require", "100rel"), ("RSeq", "7")])
    txn = bench.caller_request("PRACK", headers=[("RAck", "55 1 INVITE")])
    assert bench.port.statuses(txn) == [481]


def test_caller_without_100rel_gets_plain_ringing_and_the_switch_pracks() -> None:
    bench = Bench(caller=profile("100", reliable_provisional=ReliableProvisional.OFF))
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 180, headers=[("Require", "100rel"), ("RSeq", "3")])
    [ringing] = bench.port.answers(txn)
    assert "100rel" not in ringing.require and ringing.rseq is None
    [prack] = bench.port.sent("PRACK")
    assert prack.headers.get("rack") == f"3 {invite.cseq.seq} INVITE"


def test_unknown_dialog_gets_481() -> None:
    bench = Bench()
    bench.establish()
    bench.caller_request("BYE")
    txn = bench.caller_request("BYE")
    assert bench.port.statuses(txn) == [481]


def test_no_ack_from_the_caller_ends_the_call() -> None:
    bench = Bench()
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 200, body=ANSWER)
    bench.clock.advance(40.0)
    statuses = bench.port.statuses(txn)
    assert statuses[0] == 200 and len(statuses) > 3  # retransmitted 2xx (§13.3.1.4)
    byes = bench.port.sent("BYE")
    assert {b.call_id for b in byes} == {"call-a@10.0.0.1", invite.call_id}
    assert bench.cdrs.records[0].release_status == 408


def test_reinvite_answer_is_retransmitted_until_acked() -> None:
    bench = Bench()
    bench.establish()
    txn = bench.caller_request("INVITE", body=HOLD)
    bench.callee_answers(bench.port.sent("INVITE")[-1], 200, body=ANSWER_HELD)
    bench.clock.advance(1.6)  # T1 and 2*T1 (RFC 3261 §13.3.1.4)
    assert bench.port.statuses(txn) == [200, 200, 200]
    bench.caller_ack(cseq=bench.port.answers(txn)[0].cseq.seq)
    bench.clock.advance(60.0)
    assert bench.port.statuses(txn) == [200, 200, 200]
    assert bench.port.sent("BYE") == []


def test_malformed_in_dialog_request_gets_400_and_changes_nothing() -> None:
    bench = Bench()
    bench.establish()
    txn = bench.caller_request("INVITE", body=HOLD, headers=[("Session-Expires", "soon")])
    [response] = bench.port.answers(txn)
    assert response.status == 400
    assert len(bench.port.sent("INVITE")) == 1
    bench.caller_request("BYE")
    assert len(bench.port.sent("BYE")) == 1


def test_malformed_response_is_dropped() -> None:
    bench = Bench()
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 180, headers=[("RSeq", "x"), ("Require", "100rel")])
    assert bench.port.statuses(txn) == []
    bench.callee_answers(invite, 180)
    assert bench.port.statuses(txn) == [180]


def test_record_route_of_the_callee_side_becomes_the_route_set() -> None:
    bench = Bench()
    bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(
        invite,
        200,
        body=ANSWER,
        headers=[("Record-Route", "<sip:p2.example;lr>, <sip:p1.example:5080;lr>")],
    )
    [ack] = bench.port.acks()
    assert ack.uri == "sip:200@10.0.0.2:5070"  # loose routing: the remote target stays
    assert [r.uri for r in ack.routes] == ["sip:p1.example:5080;lr", "sip:p2.example;lr"]
    assert bench.port.stateless[-1][1] == Address("udp", "p1.example", 5080)
    bench.caller_ack()
    bench.caller_request("BYE")
    [bye] = bench.port.sent("BYE")
    assert [r.uri for r in bye.routes] == ["sip:p1.example:5080;lr", "sip:p2.example;lr"]
    assert bench.port.dest_of(bye) == Address("udp", "p1.example", 5080)


def test_strict_router_gets_the_request_uri() -> None:
    bench = Bench()
    bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    strict = [("Record-Route", "<sip:strict.example>")]
    bench.callee_answers(invite, 200, body=ANSWER, headers=strict)
    [ack] = bench.port.acks()
    assert ack.uri == "sip:strict.example"  # RFC 3261 §12.2.1.1, strict routing
    assert [r.uri for r in ack.routes] == ["sip:200@10.0.0.2:5070"]


def test_info_is_relayed_with_its_content_type() -> None:
    bench = Bench()
    invite = bench.establish()
    dtmf = b"Signal=5\r\nDuration=160\r\n"
    txn = bench.caller_request(
        "INFO", headers=[("Content-Type", "application/dtmf-relay")], body=b""
    )
    assert bench.port.statuses(txn) == [200]
    assert bench.port.sent("INFO") == []  # nothing to relay without a body
    request = new_request(
        "INFO", "sip:200@192.0.2.1:5060",
        via="SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKinfo",
        from_='"Alice" <sip:100@ssw.test>;tag=alice',
        to=f"<sip:200@ssw.test>;tag={bench.caller_tag()}",
        call_id="call-a@10.0.0.1", cseq=40, body=dtmf, content_type="application/dtmf-relay",
    )
    bench.b2bua.on_request(object(), request)
    [info] = bench.port.sent("INFO")
    assert info.call_id == invite.call_id and info.body == dtmf
    assert info.headers.get("content-type") == "application/dtmf-relay"


def test_required_100rel_refused_with_420_is_retried_without_it() -> None:
    # ECSS QA sip_420_test: req100rel true, the phone answers 420 Unsupported: 100rel.
    bench = Bench(callee=profile("200", reliable_provisional=ReliableProvisional.REQUIRED))
    txn = bench.caller_invite()
    first = bench.port.sent("INVITE")[-1]
    assert "100rel" in first.require
    bench.callee_answers(first, 420, headers=[("Unsupported", "100rel")])
    second = bench.port.sent("INVITE")[-1]
    assert "100rel" not in second.require and second.cseq.seq == first.cseq.seq + 1
    assert bench.port.statuses(txn) == []
    bench.callee_answers(second, 180)
    bench.callee_answers(second, 200, body=ANSWER)
    assert bench.port.statuses(txn) == [180, 200]


def test_early_update_from_the_callee_answered_for_a_caller_without_update() -> None:
    # ECSS QA update/uas_erly_update: reliable 180 with SDP, PRACK, then UPDATE -> 200.
    bench = Bench()
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(
        invite, 180, body=ANSWER, headers=[("Require", "100rel"), ("RSeq", "1")]
    )
    bench.caller_request("PRACK", headers=[bench.rack(101)])
    bench.callee_answers(bench.port.sent("PRACK")[-1], 200)
    update_txn = bench.callee_request("UPDATE", invite, cseq=invite.cseq.seq + 5,
                                      body=ANSWER_HELD)
    [ok] = bench.port.answers(update_txn)
    assert ok.status == 200 and ok.body == OFFER  # the caller's session, unchanged
    assert bench.port.sent("UPDATE") == []
    assert bench.port.statuses(txn) == [180]


def test_update_before_the_invite_offer_is_answered_gets_491() -> None:
    # ECSS QA update/uas_update_before_answer_recv (RFC 3311 §5.2).
    bench = Bench()
    bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 180, headers=[("Require", "100rel"), ("RSeq", "1")])
    txn = bench.callee_request("UPDATE", invite, cseq=invite.cseq.seq + 5, body=ANSWER_HELD)
    assert bench.port.statuses(txn) == [491]


def test_record_route_of_the_caller_is_echoed_and_kept() -> None:
    bench = Bench()
    record_route = [("Record-Route", "<sip:10.0.0.1:5040;lr>"),
                    ("Record-Route", "<sip:test1.domain.ru;lr>")]
    txn = bench.caller_invite(headers=record_route)
    [invite] = bench.port.sent("INVITE")
    assert invite.headers.get_all("record-route") == []  # the callee's dialog is our own
    bench.callee_answers(invite, 180)
    bench.callee_answers(invite, 200, body=ANSWER)
    for response in bench.port.answers(txn):
        assert response.headers.get_all("record-route") == [v for _, v in record_route]
    bench.caller_ack()
    bench.callee_request("BYE", invite, cseq=9)
    [bye] = bench.port.sent("BYE")
    assert [r.uri for r in bye.routes] == ["sip:10.0.0.1:5040;lr", "sip:test1.domain.ru;lr"]
    assert bench.port.dest_of(bye) == Address("udp", "10.0.0.1", 5062)  # where it came from


def test_each_2xx_retransmission_gets_an_ack_of_its_own() -> None:
    # ECSS QA rfc3261_simple_test: one ACK per 200; SIPp takes an identical ACK for a
    # retransmission of the first and answers it with the 200 again, so each ACK is new.
    bench = Bench()
    bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    ok = bench.callee_answers(invite, 200, body=ANSWER)
    bench.b2bua.on_response(ok)
    bench.b2bua.on_response(ok)
    acks = bench.port.acks()
    assert len(acks) == 3
    assert len({ack.top_via.branch for ack in acks}) == 3
    assert {ack.cseq.seq for ack in acks} == {invite.cseq.seq}


def test_leg_is_forgotten_only_when_nothing_it_sent_is_pending() -> None:
    bench = Bench()
    bench.establish()
    bench.caller_request("INVITE", body=HOLD)
    reinvite = bench.port.sent("INVITE")[-1]
    bench.caller_request("BYE")
    [bye] = bench.port.sent("BYE")
    bench.callee_answers(bye, 200)
    assert bench.b2bua.leg_count == 1  # the re-INVITE still waits for its answer
    bench.b2bua.on_timeout(reinvite)
    assert bench.b2bua.leg_count == 0
    assert len(bench.cdrs.records) == 1


def test_unanswered_prack_cancels_the_callee_and_fails_the_call_with_408() -> None:
    # ECSS QA sip_timers/test_prack_retrans: PRACK times out (Timer F) -> CANCEL, caller gets 408.
    bench = Bench(caller=profile("100", reliable_provisional=ReliableProvisional.OFF))
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 180, headers=[("Require", "100rel"), ("RSeq", "1")])
    [prack] = bench.port.sent("PRACK")
    assert bench.port.sent("CANCEL") == []
    bench.b2bua.on_timeout(prack)
    [cancel] = bench.port.sent("CANCEL")
    assert cancel.top_via.branch == invite.top_via.branch
    assert 408 not in bench.port.statuses(txn)
    bench.callee_answers(invite, 487)
    assert bench.port.statuses(txn)[-1] == 408
