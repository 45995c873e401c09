"""Forking to several contacts, find-me, redirects (302) and early media."""

from __future__ import annotations

from call_harness import ANSWER, DOMAIN, OFFER, Bench, profile

from ssw.core.call.events import Side
from ssw.core.ports import Binding, ForkMode
from ssw.sip.address import Address
from ssw.sip.message import Request

TWO_CONTACTS = [
    Binding("sip:200@10.0.0.2:5070", 1.0, Address("udp", "10.0.0.2", 5070)),
    Binding("sip:200@10.0.0.3:5070", 0.5, Address("udp", "10.0.0.3", 5070)),
]


def test_all_contacts_ring_and_the_first_answer_cancels_the_other() -> None:
    bench = Bench(contacts=TWO_CONTACTS)
    txn = bench.caller_invite()
    first, second = bench.port.sent("INVITE")
    assert {first.uri, second.uri} == {"sip:200@10.0.0.2:5070", "sip:200@10.0.0.3:5070"}
    assert first.call_id != second.call_id
    bench.callee_answers(first, 180, tag="b1")
    bench.callee_answers(second, 180, tag="b2")
    assert bench.port.statuses(txn) == [180, 180]
    bench.callee_answers(second, 200, tag="b2", body=ANSWER)
    assert bench.port.statuses(txn) == [180, 180, 200]
    [cancel] = bench.port.sent("CANCEL")
    assert cancel.call_id == first.call_id
    assert cancel.headers.get("reason") == 'SIP;cause=200;text="Call completed elsewhere"'
    bench.callee_answers(cancel, 200)
    bench.callee_answers(first, 487, tag="b1")
    assert bench.port.statuses(txn) == [180, 180, 200]
    bench.caller_ack()
    bench.caller_request("BYE")
    [bye] = bench.port.sent("BYE")
    assert bye.call_id == second.call_id
    assert bench.cdrs.records[0].answered_contact == "sip:200@10.0.0.3:5070"


def test_a_2xx_that_crosses_the_cancel_is_acked_and_released() -> None:
    bench = Bench(contacts=TWO_CONTACTS)
    bench.caller_invite()
    first, second = bench.port.sent("INVITE")
    bench.callee_answers(first, 180, tag="b1")
    bench.callee_answers(second, 180, tag="b2")
    bench.callee_answers(first, 200, tag="b1", body=ANSWER)
    bench.callee_answers(second, 200, tag="b2", body=ANSWER)
    acked = {ack.call_id for ack in bench.port.acks()}
    assert acked == {first.call_id, second.call_id}
    [bye] = bench.port.sent("BYE")
    assert bye.call_id == second.call_id


def test_all_forks_fail_the_best_failure_wins() -> None:
    bench = Bench(contacts=TWO_CONTACTS)
    txn = bench.caller_invite()
    first, second = bench.port.sent("INVITE")
    bench.callee_answers(first, 503)
    assert bench.port.statuses(txn) == []
    bench.callee_answers(second, 486)
    assert bench.port.statuses(txn) == [486]
    assert bench.cdrs.records[0].release_side is Side.CALLEE


def test_find_me_one_by_one_moves_on_after_the_step_timeout() -> None:
    callee = profile("200", fork_mode=ForkMode.ONE_BY_ONE_STOP, fork_step_timeout=10.0)
    bench = Bench(callee=callee, contacts=TWO_CONTACTS)
    txn = bench.caller_invite()
    [first] = bench.port.sent("INVITE")
    assert first.uri == "sip:200@10.0.0.2:5070"  # highest q first
    bench.callee_answers(first, 180, tag="b1")
    bench.clock.advance(10.0)
    [cancel] = bench.port.sent("CANCEL")
    assert cancel.call_id == first.call_id
    second = bench.port.sent("INVITE")[1]
    assert second.uri == "sip:200@10.0.0.3:5070"
    bench.callee_answers(first, 487, tag="b1")
    assert bench.port.statuses(txn) == [180]
    bench.callee_answers(second, 200, tag="b2", body=ANSWER)
    assert bench.port.statuses(txn) == [180, 200]


def test_find_me_moves_on_at_once_when_a_contact_fails() -> None:
    callee = profile("200", fork_mode=ForkMode.BY_Q, fork_step_timeout=10.0)
    bench = Bench(callee=callee, contacts=TWO_CONTACTS)
    txn = bench.caller_invite()
    [first] = bench.port.sent("INVITE")
    bench.callee_answers(first, 480)
    assert len(bench.port.sent("INVITE")) == 2
    second = bench.port.sent("INVITE")[1]
    bench.callee_answers(second, 603)
    assert bench.port.statuses(txn) == [603]


def test_302_is_followed_with_a_new_fork() -> None:
    bench = Bench()
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(
        invite, 302, headers=[("Contact", "<sip:300@10.0.0.9:5080>;q=0.7")]
    )
    assert bench.port.statuses(txn) == [181]  # Call Is Being Forwarded (RFC 3261 §21.1.3)
    redirected = bench.port.sent("INVITE")[1]
    assert redirected.uri == "sip:300@10.0.0.9:5080"
    assert bench.port.dest_of(redirected) == Address("udp", "10.0.0.9", 5080)
    assert redirected.body == OFFER
    bench.callee_answers(redirected, 200, tag="c1", body=ANSWER)
    assert bench.port.statuses(txn) == [181, 200]
    assert bench.cdrs.records == []
    bench.caller_ack()
    bench.caller_request("BYE")
    assert bench.cdrs.records[0].answered_contact == "sip:300@10.0.0.9:5080"


def test_redirect_loops_are_not_followed() -> None:
    bench = Bench()
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 302, headers=[("Contact", "<sip:200@10.0.0.2:5070>")])
    assert len(bench.port.sent("INVITE")) == 1
    assert bench.port.statuses(txn) == [480]


def test_early_media_of_one_fork_only() -> None:
    bench = Bench(contacts=TWO_CONTACTS)
    txn = bench.caller_invite()
    first, second = bench.port.sent("INVITE")
    bench.callee_answers(first, 183, tag="b1", body=ANSWER)
    bench.callee_answers(second, 183, tag="b2", body=ANSWER.replace(b"5000", b"6000"))
    progress = bench.port.answers(txn)
    assert [r.status for r in progress] == [183, 183]
    assert progress[0].body == ANSWER
    assert progress[1].body == b""


def test_transport_error_while_sending_the_invite_fails_that_fork_at_once() -> None:
    bench = Bench(contacts=TWO_CONTACTS)
    unreachable = Address("udp", "10.0.0.3", 5070)
    send = bench.port.send_request

    def send_and_fail(request: Request, dest: Address) -> object:
        handle = send(request, dest)
        if dest == unreachable:
            bench.b2bua.on_timeout(request)  # the driver reports the error synchronously
        return handle

    bench.port.send_request = send_and_fail  # type: ignore[method-assign]
    txn = bench.caller_invite()
    first = bench.port.sent("INVITE")[0]
    assert bench.port.statuses(txn) == []
    bench.callee_answers(first, 486, tag="b1")
    assert bench.port.statuses(txn) == [486]


def test_302_to_a_number_of_the_domain_rings_that_subscribers_contacts() -> None:
    # ECSS QA 302_response_test: the phone redirects to "sip:<number>@<domain>".
    bench = Bench(extra=[profile("300")])
    bench.locations.bindings[(DOMAIN, "300")] = [
        Binding("sip:300@10.0.0.7:5090", 1.0, Address("udp", "10.0.0.7", 5090))
    ]
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 302, headers=[("Contact", f"<sip:300@{DOMAIN}>")])
    assert bench.port.statuses(txn) == [181]
    assert len(bench.port.sent("INVITE")) == 1  # the contacts are being looked up
    bench.run_spawned()
    forwarded = bench.port.sent("INVITE")[-1]
    assert forwarded.uri == "sip:300@10.0.0.7:5090"
    assert bench.port.dest_of(forwarded) == Address("udp", "10.0.0.7", 5090)
    bench.callee_answers(forwarded, 180, tag="c1")
    bench.callee_answers(forwarded, 200, tag="c1", body=ANSWER)
    assert bench.port.statuses(txn) == [181, 180, 200]


def test_302_to_an_unknown_number_fails_the_call() -> None:
    bench = Bench()
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 302, headers=[("Contact", f"<sip:999@{DOMAIN}>")])
    bench.run_spawned()
    assert bench.port.statuses(txn) == [181, 404]


def test_lookup_finishing_after_the_caller_gave_up_does_nothing() -> None:
    bench = Bench(extra=[profile("300")])
    bench.locations.bindings[(DOMAIN, "300")] = [Binding("sip:300@10.0.0.7:5090")]
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 302, headers=[("Contact", f"<sip:300@{DOMAIN}>")])
    bench.caller_cancel()
    bench.run_spawned()
    assert len(bench.port.sent("INVITE")) == 1
    assert bench.port.statuses(txn) == [181, 487]


def test_2xx_from_another_downstream_fork_than_the_ringing_one_sets_the_dialog() -> None:
    bench = Bench()
    txn = bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 180, tag="early", headers=[("Record-Route", "<sip:p9;lr>")])
    bench.callee_answers(invite, 200, tag="winner", body=ANSWER)
    [ack] = bench.port.acks()
    assert ack.to.tag == "winner" and ack.routes == []
    assert bench.port.statuses(txn) == [180, 200]


def test_find_me_previous_continue_keeps_the_first_contact_ringing() -> None:
    callee = profile("200", fork_mode=ForkMode.BY_Q_CONTINUE, fork_step_timeout=3.6)
    bench = Bench(callee=callee, contacts=TWO_CONTACTS)
    txn = bench.caller_invite()
    [first] = bench.port.sent("INVITE")
    bench.callee_answers(first, 180, tag="b1")
    bench.clock.advance(3.6)
    assert bench.port.sent("CANCEL") == []
    second = bench.port.sent("INVITE")[1]
    bench.callee_answers(second, 200, tag="b2", body=ANSWER)
    [cancel] = bench.port.sent("CANCEL")
    assert cancel.call_id == first.call_id
    assert bench.port.statuses(txn) == [180, 200]
