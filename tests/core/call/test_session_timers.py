"""Session timers (RFC 4028) on both legs: 422, refreshes, expiry."""

from __future__ import annotations

from call_harness import ANSWER, OFFER, Bench, profile

from ssw.core.call.events import Side
from ssw.core.call.session_timer import SessionTimerSettings
from ssw.core.ports import SessionTimerMode


def test_too_small_session_expires_gets_422_with_min_se() -> None:
    bench = Bench()
    txn = bench.caller_invite(headers=[("Session-Expires", "60")])
    [response] = bench.port.answers(txn)
    assert response.status == 422
    assert response.min_se == 90
    assert bench.port.sent("INVITE") == []


def test_outgoing_invite_asks_for_session_timers() -> None:
    bench = Bench()
    bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    assert invite.session_expires is not None and invite.session_expires.delta == 1800
    assert invite.min_se == 90
    assert "timer" in invite.supported


def test_caller_as_refresher_who_never_refreshes_is_released() -> None:
    bench = Bench()
    txn = bench.caller_invite(headers=[("Session-Expires", "1800;refresher=uac")])
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 200, body=ANSWER)
    ok = bench.port.answers(txn)[-1]
    assert ok.session_expires is not None
    assert (ok.session_expires.delta, ok.session_expires.refresher) == (1800, "uac")
    assert "timer" in ok.require
    bench.caller_ack()
    bench.clock.advance(1799.0)
    assert bench.port.sent("BYE") == []
    bench.clock.advance(1.0)  # the whole Session-Expires, as ECSS-10 (RFC 4028 §10)
    byes = bench.port.sent("BYE")
    assert {b.call_id for b in byes} == {"call-a@10.0.0.1", invite.call_id}
    [record] = bench.cdrs.records
    assert (record.release_cause, record.release_side) == (102, Side.SWITCH)
    assert record.duration_ms == 1800_000


def test_refresh_from_the_caller_is_answered_locally_and_keeps_the_call() -> None:
    bench = Bench()
    bench.caller_invite(headers=[("Session-Expires", "1800;refresher=uac")])
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 200, body=ANSWER)
    bench.caller_ack()
    bench.clock.advance(900.0)
    txn = bench.caller_request(
        "INVITE", body=OFFER, headers=[("Session-Expires", "1800;refresher=uac"),
                                       ("Supported", "timer")]
    )
    [ok] = bench.port.answers(txn)
    assert ok.status == 200 and ok.body == ANSWER
    assert len(bench.port.sent("INVITE")) == 1  # not relayed to the callee
    bench.caller_ack(cseq=ok.cseq.seq)
    bench.clock.advance(1000.0)
    assert bench.port.sent("BYE") == []
    bench.clock.advance(800.0)
    assert len(bench.port.sent("BYE")) == 2


def test_switch_refreshes_the_callee_when_it_is_refresher() -> None:
    bench = Bench(session_timers=SessionTimerSettings(interval=180, min_se=90))
    bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(
        invite, 200, body=ANSWER, headers=[("Session-Expires", "180;refresher=uac"),
                                           ("Require", "timer")]
    )
    bench.caller_ack()
    bench.clock.advance(89.0)
    assert bench.port.sent("OPTIONS") == []
    bench.clock.advance(1.0)
    # The callee never said what it allows: ask first (in-dialog OPTIONS, as ECSS-10 does).
    [probe] = bench.port.sent("OPTIONS")
    assert probe.call_id == invite.call_id
    assert len(bench.port.sent("INVITE")) == 1
    bench.callee_answers(probe, 200)
    refresh = bench.port.sent("INVITE")[-1]
    assert refresh.call_id == invite.call_id
    assert refresh.body == OFFER  # the session description the callee already has
    assert refresh.session_expires is not None and refresh.session_expires.refresher == "uac"
    bench.callee_answers(refresh, 200, body=ANSWER,
                         headers=[("Session-Expires", "180;refresher=uac")])
    assert any(a.cseq.seq == refresh.cseq.seq for a in bench.port.acks())
    bench.clock.advance(90.0)
    bench.callee_answers(bench.port.sent("OPTIONS")[-1], 200)
    assert len(bench.port.sent("INVITE")) == 3
    assert bench.port.sent("BYE") == []


def test_refresh_uses_update_when_the_callee_allows_it() -> None:
    bench = Bench(session_timers=SessionTimerSettings(interval=180, min_se=90))
    bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(
        invite, 200, body=ANSWER,
        headers=[("Session-Expires", "180;refresher=uac"), ("Allow", "INVITE, BYE, UPDATE")],
    )
    bench.caller_ack()
    bench.clock.advance(90.0)
    [update] = bench.port.sent("UPDATE")
    assert update.body == b""


def test_unanswered_refresh_ends_the_call() -> None:
    bench = Bench(session_timers=SessionTimerSettings(interval=180, min_se=90))
    bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 200, body=ANSWER, headers=[("Session-Expires", "180")])
    bench.caller_ack()
    bench.clock.advance(90.0)
    bench.callee_answers(bench.port.sent("OPTIONS")[-1], 200, headers=[("Allow", "UPDATE")])
    [refresh] = bench.port.sent("UPDATE")
    assert refresh.headers.get("session-expires") == "180;refresher=uac"
    assert refresh.min_se == 90
    bench.b2bua.on_timeout(refresh)
    assert {b.call_id for b in bench.port.sent("BYE")} == {"call-a@10.0.0.1", invite.call_id}


def test_callee_422_makes_the_switch_retry_with_its_min_se() -> None:
    bench = Bench()
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 422, headers=[("Min-SE", "3600")])
    assert bench.port.statuses(txn) == []
    retry = bench.port.sent("INVITE")[1]
    assert retry.call_id == invite.call_id and retry.cseq.seq == invite.cseq.seq + 1
    assert retry.session_expires is not None and retry.session_expires.delta == 3600
    bench.callee_answers(retry, 200, body=ANSWER)
    assert bench.port.statuses(txn) == [200]


def test_forced_timer_towards_a_caller_without_support() -> None:
    bench = Bench(
        caller=profile("100", session_timer=SessionTimerMode.FORCE),
        session_timers=SessionTimerSettings(interval=120, min_se=90),
    )
    txn = bench.caller_invite(supported="100rel")
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 200, body=ANSWER)
    ok = bench.port.answers(txn)[-1]
    assert ok.session_expires is not None and ok.session_expires.refresher == "uas"
    assert "timer" not in ok.require
    bench.caller_ack()
    bench.clock.advance(60.0)
    bench.callee_answers(bench.port.sent("OPTIONS")[-1], 408)
    refresh = bench.port.sent("INVITE")[-1]
    assert refresh.call_id == "call-a@10.0.0.1" and refresh.body == ANSWER


def test_timers_off_on_both_sides_means_no_session_expires() -> None:
    callee = profile("200", session_timer=SessionTimerMode.OFF)
    bench = Bench(caller=profile("100", session_timer=SessionTimerMode.OFF), callee=callee)
    bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    assert invite.session_expires is None and "timer" not in invite.supported


def test_absent_refresher_makes_the_switch_refresh_with_update() -> None:
    # ECSS QA rfc4028_uac_send_min_se_100: "Session-Expires: 100;refresher=uas" in the 200,
    # then UPDATEs from the switch with "Session-Expires: 100;refresher=uac".
    bench = Bench(session_timers=SessionTimerSettings(interval=90, min_se=90))
    txn = bench.caller_invite(headers=[
        ("Session-Expires", "100"), ("Min-SE", "100"), ("Allow", "INVITE, ACK, BYE, UPDATE"),
    ])
    bench.callee_answers(bench.port.sent("INVITE")[-1], 200, body=ANSWER)
    ok = bench.port.answers(txn)[-1]
    assert ok.headers.get("session-expires") == "100;refresher=uas"
    bench.caller_ack()
    bench.clock.advance(50.0)
    assert bench.port.sent("OPTIONS") == []
    [update] = bench.port.sent("UPDATE")
    assert update.call_id == "call-a@10.0.0.1" and update.body == b""
    assert update.headers.get("session-expires") == "100;refresher=uac"
    bench.callee_answers(update, 200, headers=[("Session-Expires", "100;refresher=uac")])
    bench.clock.advance(50.0)
    assert len(bench.port.sent("UPDATE")) == 2


def test_refresh_update_from_a_refreshing_caller_keeps_its_role() -> None:
    # ECSS QA rfc4028_uac_like_refresher: the caller refreshes with UPDATEs that carry no
    # Supported header; the 200 must still say refresher=uac.
    bench = Bench(session_timers=SessionTimerSettings(interval=90, min_se=90))
    txn = bench.caller_invite(headers=[("Session-Expires", "90;refresher=uac"),
                                       ("Min-SE", "90")])
    bench.callee_answers(bench.port.sent("INVITE")[-1], 200, body=ANSWER)
    assert bench.port.answers(txn)[-1].headers.get("session-expires") == "90;refresher=uac"
    bench.caller_ack()
    for _ in range(2):
        bench.clock.advance(55.0)
        update = bench.caller_request("UPDATE", headers=[("Session-Expires", "90;refresher=uac")])
        [ok] = bench.port.answers(update)
        assert ok.status == 200 and ok.headers.get("session-expires") == "90;refresher=uac"
    assert bench.port.sent("BYE") == []
    bench.clock.advance(89.0)  # ECSS QA expects the BYE at the full 90 s, not at 60 s
    assert bench.port.sent("BYE") == []
    bench.clock.advance(1.0)
    assert len(bench.port.sent("BYE")) == 2


def test_outgoing_invite_offers_to_refresh_and_follows_two_422s() -> None:
    # ECSS QA rfc4028_send_uas_send_422: Min-SE 100, then 120, then the call goes through.
    bench = Bench(session_timers=SessionTimerSettings(interval=90, min_se=90))
    txn = bench.caller_invite()
    first = bench.port.sent("INVITE")[-1]
    assert first.headers.get("session-expires") == "90;refresher=uac" and first.min_se == 90
    bench.callee_answers(first, 422, headers=[("Min-SE", "100")])
    second = bench.port.sent("INVITE")[-1]
    assert second.headers.get("session-expires") == "100;refresher=uac" and second.min_se == 100
    bench.callee_answers(second, 422, headers=[("Min-SE", "120")])
    third = bench.port.sent("INVITE")[-1]
    assert third.headers.get("session-expires") == "120;refresher=uac" and third.min_se == 120
    granted = [("Session-Expires", "120;refresher=uac")]
    bench.callee_answers(third, 200, body=ANSWER, headers=granted)
    assert bench.port.statuses(txn) == [200]


def test_domain_session_timers_come_from_the_profile() -> None:
    callee = profile("200", session_expires=120, min_se=100)
    bench = Bench(callee=callee)
    bench.caller_invite()
    invite = bench.port.sent("INVITE")[-1]
    assert invite.headers.get("session-expires") == "120;refresher=uac" and invite.min_se == 100


def test_timers_offered_to_a_callee_with_timers_off_when_the_caller_has_them() -> None:
    bench = Bench(callee=profile("200", session_timer=SessionTimerMode.OFF))
    bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    assert invite.session_expires is not None and "timer" in invite.supported
    bench.callee_answers(invite, 200, body=ANSWER)  # no Session-Expires: no timer, not forced
    bench.caller_ack()
    bench.clock.advance(4000.0)
    assert bench.port.sent("OPTIONS") == [] and len(bench.port.sent("INVITE")) == 1


def test_a_peer_whose_allow_came_from_options_is_asked_again_before_every_refresh() -> None:
    # ECSS QA rfc4028_simple_test_invite_req: OPTIONS, re-INVITE, then OPTIONS, re-INVITE.
    bench = Bench(session_timers=SessionTimerSettings(interval=90, min_se=90))
    txn = bench.caller_invite(headers=[("Session-Expires", "90"), ("Min-SE", "90")])
    bench.callee_answers(bench.port.sent("INVITE")[-1], 200, body=ANSWER)
    assert bench.port.answers(txn)[-1].headers.get("session-expires") == "90;refresher=uas"
    bench.caller_ack()
    for round_ in (1, 2):
        bench.clock.advance(45.0)
        probes = [r for r in bench.port.sent("OPTIONS") if r.call_id == "call-a@10.0.0.1"]
        assert len(probes) == round_
        bench.callee_answers(probes[-1], 200, headers=[("Allow", "INVITE, ACK, CANCEL, BYE")])
        refresh = [r for r in bench.port.sent("INVITE") if r.call_id == "call-a@10.0.0.1"][-1]
        bench.callee_answers(refresh, 200, body=OFFER,
                             headers=[("Session-Expires", "90;refresher=uac")])
    assert bench.port.sent("UPDATE") == [] and bench.port.sent("BYE") == []


def test_a_peer_that_allowed_update_in_the_dialog_is_refreshed_without_options() -> None:
    # ECSS QA rfc4028_simple_test_update_req: the caller's INVITE lists UPDATE in Allow.
    bench = Bench(session_timers=SessionTimerSettings(interval=90, min_se=90))
    bench.caller_invite(headers=[("Session-Expires", "90"), ("Min-SE", "90"),
                                 ("Allow", "INVITE, ACK, CANCEL, BYE, UPDATE")])
    bench.callee_answers(bench.port.sent("INVITE")[-1], 200, body=ANSWER)
    bench.caller_ack()
    for round_ in (1, 2):
        bench.clock.advance(45.0)
        updates = bench.port.sent("UPDATE")
        assert len(updates) == round_
        bench.callee_answers(updates[-1], 200, headers=[("Session-Expires", "90;refresher=uac")])
    assert bench.port.sent("OPTIONS") == []


def test_forced_timer_callee_is_offered_the_domains_use_se_then_its_min_se() -> None:
    # ECSS QA rfc4028_send_uas_send_422: rfc4028_use_se 90, then the callee's Min-SE 100, 120.
    callee = profile("200", session_timer=SessionTimerMode.FORCE, session_expires=90)
    bench = Bench(callee=callee)
    bench.caller_invite()
    first = bench.port.sent("INVITE")[-1]
    assert first.headers.get("session-expires") == "90;refresher=uac" and first.min_se == 90
    bench.callee_answers(first, 422, headers=[("Min-SE", "100")])
    second = bench.port.sent("INVITE")[-1]
    assert second.headers.get("session-expires") == "100;refresher=uac" and second.min_se == 100
    bench.callee_answers(second, 422, headers=[("Min-SE", "120")])
    third = bench.port.sent("INVITE")[-1]
    assert third.headers.get("session-expires") == "120;refresher=uac" and third.min_se == 120


def test_refreshes_keep_the_min_se_a_422_asked_for() -> None:
    # ECSS QA rfc4028_send_uas_send_422: the refresh UPDATE carries Min-SE 120, not 90.
    callee = profile("200", session_timer=SessionTimerMode.FORCE, session_expires=90)
    bench = Bench(callee=callee)
    bench.caller_invite()
    bench.callee_answers(bench.port.sent("INVITE")[-1], 422, headers=[("Min-SE", "120")])
    invite = bench.port.sent("INVITE")[-1]
    bench.callee_answers(invite, 200, body=ANSWER,
                         headers=[("Session-Expires", "120;refresher=uac")])
    bench.caller_ack()
    bench.clock.advance(60.0)
    bench.callee_answers(bench.port.sent("OPTIONS")[-1], 200, headers=[("Allow", "UPDATE")])
    [update] = bench.port.sent("UPDATE")
    assert update.headers.get("session-expires") == "120;refresher=uac" and update.min_se == 120
