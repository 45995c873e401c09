"""The transaction layer end to end: two endpoints on a lossy link, fake time."""

from __future__ import annotations

import random

import pytest
from fakelink import ALICE, BOB, Link, answer, drain, make_request

from ssw.sip.message import parse_message
from ssw.sip.transaction import (
    AckReceived,
    InvalidMessage,
    Outgoing,
    RequestReceived,
    ResponseReceived,
    State,
    TimerConfig,
    TransactionLayer,
    TransactionStateError,
    TransactionTerminated,
    TransactionTimeout,
    TransportError,
)


@pytest.mark.parametrize("seed", range(20))
def test_lossy_transactions_each_end_once_and_the_layers_end_empty(seed: int) -> None:
    rng = random.Random(seed)
    timers = TimerConfig()
    link = Link(TransactionLayer(timers), TransactionLayer(timers))
    link.drop = lambda sent: rng.random() < 0.3
    clients = []
    for n in range(6):
        method = "INVITE" if n % 2 == 0 else "OPTIONS"
        request = make_request(method, branch=f"z9hG4bK-{seed}-{n}", call_id=f"c{n}")
        clients.append(link.a.send_request(request, BOB, link.now))
    seen_by_server: set[str | None] = set()
    outcomes: dict[object, list[object]] = {client: [] for client in clients}
    while link.now < 80.0:
        link.run_until(link.now + 0.25)
        for event in drain(link.b):
            if isinstance(event, RequestReceived):
                # Retransmissions are absorbed: each request reaches the TU once.
                assert event.request.top_via.branch not in seen_by_server
                seen_by_server.add(event.request.top_via.branch)
                status = 200 if event.request.method == "OPTIONS" else 486
                link.b.send_response(event.transaction, answer(event.request, status), link.now)
        for event in drain(link.a):
            if isinstance(event, ResponseReceived) and event.response.status >= 200:
                outcomes[event.transaction].append(event.response.status)
            elif isinstance(event, TransactionTimeout):
                outcomes[event.transaction].append("timeout")
    # Every client transaction ended exactly once: one final passed up, or one timeout.
    for client, seen in outcomes.items():
        assert len(seen) == 1, (client, seen)
        expected = 486 if client.method == "INVITE" else 200
        assert seen[0] in (expected, "timeout")
    assert link.a.transaction_count == 0
    assert link.b.transaction_count == 0
    assert link.a.get_timer() is None and link.b.get_timer() is None


def test_per_transaction_timer_values() -> None:
    layer = TransactionLayer()
    fast = TimerConfig(t1=0.1, t2=0.4, t4=1.0)
    client = layer.send_request(make_request("OPTIONS"), BOB, 0.0, timers=fast)
    assert client.armed_timers() == {"E": 0.1, "F": pytest.approx(6.4)}


def test_a_via_that_parses_but_cannot_be_answered_is_invalid() -> None:
    layer = TransactionLayer()
    request = make_request("OPTIONS", sent_by="192.0.2.10:0")
    layer.receive(request, ALICE, 0.0)
    (event,) = drain(layer)
    assert isinstance(event, InvalidMessage) and event.error.status == 400
    assert layer.transaction_count == 0


def test_send_request_adds_a_branch_and_refuses_duplicates_and_ack() -> None:
    branches = iter(["z9hG4bK-one", "z9hG4bK-two"])
    layer = TransactionLayer(branch_factory=lambda: next(branches))
    request = make_request("OPTIONS", branch=None)
    client = layer.send_request(request, BOB, 0.0)
    assert client.request.top_via.branch == "z9hG4bK-one"
    (sent,) = layer.data_to_send()
    assert b";branch=z9hG4bK-one" in sent.data
    assert sent.transaction is client
    with pytest.raises(ValueError, match="already used"):
        layer.send_request(make_request("OPTIONS", branch="z9hG4bK-one"), BOB, 0.0)
    with pytest.raises(ValueError, match="send_stateless"):
        layer.send_request(make_request("ACK"), BOB, 0.0)
    no_via = make_request("OPTIONS")
    no_via.headers.remove("via")
    with pytest.raises(ValueError, match="no Via"):
        layer.send_request(no_via, BOB, 0.0)
    assert layer.transaction_count == 1


def test_send_stateless_leaves_no_state() -> None:
    layer = TransactionLayer(branch_factory=lambda: "z9hG4bK-ack")
    ack = make_request("ACK", branch=None, to_tag="bob-tag")
    layer.send_stateless(ack, BOB)
    (sent,) = layer.data_to_send()
    assert sent.transaction is None and sent.dest == BOB
    assert parse_message(sent.data).top_via.branch == "z9hG4bK-ack"
    assert layer.transaction_count == 0 and layer.get_timer() is None


def test_transport_error_informs_the_tu_and_terminates() -> None:
    layer = TransactionLayer()
    client = layer.send_request(make_request("OPTIONS"), BOB, 0.0)
    (sent,) = layer.data_to_send()
    layer.report_transport_error(sent, 0.1)
    assert drain(layer) == [TransportError(client), TransactionTerminated(client)]
    assert layer.transaction_count == 0
    layer.report_transport_error(sent, 0.2)  # late reports about a dead transaction: nothing
    layer.report_transport_error(Outgoing(b"x", BOB), 0.2)
    assert drain(layer) == []


def test_send_response_on_an_ended_transaction_changes_nothing() -> None:
    layer = TransactionLayer()
    request = make_request("OPTIONS")
    layer.receive(request, ALICE, 0.0)
    (event,) = drain(layer)
    assert isinstance(event, RequestReceived)
    other = TransactionLayer()
    with pytest.raises(TransactionStateError):
        other.send_response(event.transaction, answer(request, 200), 0.0)
    layer.send_response(event.transaction, answer(request, 200), 0.0)
    layer.handle_timer(100.0)
    assert event.transaction.state is State.TERMINATED
    layer.data_to_send()
    with pytest.raises(TransactionStateError):
        layer.send_response(event.transaction, answer(request, 200), 100.0)
    assert layer.data_to_send() == []


def test_stale_timers_are_compacted() -> None:
    # Each transaction is answered at once over TCP: its Timer F is stopped and its heap
    # entry goes stale. The heap stays proportional to the live transactions.
    layer = TransactionLayer()
    peer = BOB.__class__("tcp", BOB.host, BOB.port)
    for n in range(2_000):
        request = make_request("OPTIONS", branch=f"z9hG4bK{n}", transport="TCP")
        layer.send_request(request, peer, 0.0)
        layer.receive(answer(request, 200), peer, 0.0)
    assert layer.transaction_count == 0
    assert len(layer._heap) <= 64 + 4  # bounded, not 2000 stale entries
    assert layer.get_timer() is None
    assert layer._heap == []


def test_2xx_ack_is_passed_up_while_non_2xx_ack_is_absorbed(link: Link) -> None:
    link.a.send_request(make_request(call_id="ok"), BOB, 0.0)
    link.a.send_request(make_request(call_id="busy", branch="z9hG4bK-b"), BOB, 0.0)
    link.flush()
    for event in drain(link.b):
        if isinstance(event, RequestReceived):
            status = 200 if event.request.call_id == "ok" else 486
            link.b.send_response(event.transaction, answer(event.request, status), 0.0)
    link.flush()
    # The UAC core ACKs the 2xx itself, with a new branch (§13.2.2.4).
    ack = make_request("ACK", call_id="ok", to_tag="bob-tag", branch="z9hG4bK-2xx-ack")
    link.a.send_stateless(ack, BOB)
    link.flush()
    acks = [e for e in drain(link.b) if isinstance(e, AckReceived)]
    assert [e.request.call_id for e in acks] == ["ok"]
    link.run_until(100.0)
    assert link.a.transaction_count == 0 and link.b.transaction_count == 0


def test_late_handle_timer_keeps_the_schedule(link: Link) -> None:
    link.drop = lambda sent: True
    link.a.send_request(make_request("OPTIONS"), BOB, 0.0)
    link.a.data_to_send()
    link.a.handle_timer(2.0)  # the driver was late: A at 0.5 and 1.5 are both due
    out = link.a.data_to_send()
    assert len(out) == 2
    assert link.a.get_timer() == 3.5
