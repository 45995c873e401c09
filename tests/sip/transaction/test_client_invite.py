"""INVITE client transaction timing on a lossy link (RFC 3261 §17.1.1, RFC 6026 §7.2)."""

from __future__ import annotations

import pytest
from fakelink import BOB, Link, Sent, answer, drain, make_request, server_transaction

from ssw.sip.address import Address
from ssw.sip.message import Request
from ssw.sip.transaction import (
    ResponseReceived,
    State,
    TimerConfig,
    TransactionLayer,
    TransactionTerminated,
    TransactionTimeout,
)


def test_timer_a_doubles_without_bound_until_timer_b(link: Link) -> None:
    link.drop = lambda sent: True  # the peer is unreachable
    client = link.a.send_request(make_request(), BOB, 0.0)
    link.run_until(40.0)
    # Sent at 0, then Timer A at T1, 2*T1, 4*T1, ... (§17.1.1.2): 0.5 1.5 3.5 7.5 15.5 31.5
    assert link.sent_times("a", "INVITE") == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    events = drain(link.a)
    assert events == [TransactionTimeout(client, "Timer B"), TransactionTerminated(client)]
    assert client.state is State.TERMINATED
    assert link.a.transaction_count == 0
    assert link.a.get_timer() is None


def test_timer_b_is_64_t1_with_other_t1() -> None:
    timers = TimerConfig(t1=0.1, t2=4.0, t4=5.0)
    link = Link(TransactionLayer(timers), TransactionLayer(timers), drop=lambda s: True)
    link.a.send_request(make_request(), BOB, 10.0)
    link.now = 10.0
    link.run_until(20.0)
    times = link.sent_times("a", "INVITE")
    assert times == pytest.approx([10.0, 10.1, 10.3, 10.7, 11.5, 13.1, 16.3])
    timeout = [e for e in drain(link.a) if isinstance(e, TransactionTimeout)]
    assert len(timeout) == 1
    assert link.now == 20.0


def test_reliable_transport_sends_once_and_times_out_on_b() -> None:
    layer = TransactionLayer()
    peer = Address("tcp", "192.0.2.20", 5060)
    client = layer.send_request(make_request(transport="TCP"), peer, 0.0)
    assert len(layer.data_to_send()) == 1
    assert client.armed_timers() == {"B": 32.0}
    layer.handle_timer(31.9)
    assert layer.data_to_send() == []
    layer.handle_timer(32.0)
    assert [type(e) for e in drain(layer)] == [TransactionTimeout, TransactionTerminated]


def test_provisional_stops_retransmission_and_timer_b(link: Link) -> None:
    client = link.a.send_request(make_request(), BOB, 0.0)
    link.flush()
    server = server_transaction(link.b)
    link.b.send_response(server, answer(server.request, 180), 0.0)
    link.run_until(100.0)
    assert client.state is State.PROCEEDING  # waits for the final response indefinitely
    assert link.sent_times("a", "INVITE") == [0.0]
    assert [e.response.status for e in drain(link.a) if isinstance(e, ResponseReceived)] == [
        100,
        180,
    ]


def test_non_2xx_is_acked_and_retransmissions_absorbed_until_timer_d(link: Link) -> None:
    # The ACK to the 486 is lost twice: the server retransmits the 486 on Timer G and the
    # client re-sends the ACK each time without passing the 486 up again (§17.1.1.2).
    acks_dropped = 0

    def lose_two_acks(sent: Sent) -> bool:
        nonlocal acks_dropped
        if sent.start_line.startswith("ACK") and acks_dropped < 2:
            acks_dropped += 1
            return True
        return False

    link.drop = lose_two_acks
    client = link.a.send_request(make_request(), BOB, 0.0)
    link.flush()
    server = server_transaction(link.b)
    link.b.send_response(server, answer(server.request, 486), 0.0)
    link.flush()
    assert client.state is State.COMPLETED
    assert client.armed_timers() == {"D": 32.0}
    link.run_until(31.0)
    assert link.sent_times("b", "SIP/2.0 486") == [0.0, 0.5, 1.5]
    assert link.sent_times("a", "ACK") == [0.0, 0.5, 1.5]
    finals = [e for e in drain(link.a) if isinstance(e, ResponseReceived)]
    assert [e.response.status for e in finals] == [100, 486]
    assert client.state is State.COMPLETED
    link.run_until(32.0)
    assert client.state is State.TERMINATED
    assert link.a.transaction_count == 0


def test_ack_for_non_2xx_is_built_per_17_1_1_3(link: Link) -> None:
    invite = make_request(extra="Route: <sip:proxy.example.com;lr>\r\n")
    client = link.a.send_request(invite, BOB, 0.0)
    link.flush()
    server = server_transaction(link.b)
    link.b.send_response(server, answer(server.request, 603), 0.0)
    link.flush()
    ack = client.ack
    assert isinstance(ack, Request)
    assert ack.method == "ACK"
    assert ack.uri == invite.uri
    assert ack.cseq.seq == invite.cseq.seq and ack.cseq.method == "ACK"
    assert ack.call_id == invite.call_id
    assert ack.from_ == invite.from_
    assert ack.to.tag == "bob-tag"
    assert [str(v) for v in ack.vias] == [str(invite.top_via)]
    assert [str(r) for r in ack.routes] == ["<sip:proxy.example.com;lr>"]


def test_timer_d_is_zero_over_a_reliable_transport() -> None:
    a, b = TransactionLayer(), TransactionLayer()
    alice = Address("tcp", "192.0.2.10", 40000)
    bob = Address("tcp", "192.0.2.20", 5060)
    link = Link(a, b, a_addr=alice, b_addr=bob)
    client = a.send_request(make_request(transport="TCP"), bob, 0.0)
    link.flush()
    server = server_transaction(b)
    b.send_response(server, answer(server.request, 404), 0.0)
    link.flush()
    assert client.state is State.TERMINATED
    assert a.transaction_count == 0
    # The server's Timer I is zero too: the ACK ends it at once.
    assert server.state is State.TERMINATED
    assert b.transaction_count == 0


def test_accepted_passes_2xx_retransmissions_to_the_tu_until_timer_m(link: Link) -> None:
    client = link.a.send_request(make_request(), BOB, 0.0)
    link.flush()
    server = server_transaction(link.b)
    ok = answer(server.request, 200)
    link.b.send_response(server, ok, 0.0)
    link.flush()
    assert client.state is State.ACCEPTED
    assert client.armed_timers() == {"M": 32.0}
    # The server's TU retransmits its 2xx (§13.3.1.4); each copy reaches the client's TU.
    link.now = 0.5
    link.b.send_response(server, ok, 0.5)
    link.flush()
    statuses = [e.response.status for e in drain(link.a) if isinstance(e, ResponseReceived)]
    assert statuses == [100, 200, 200]
    link.run_until(32.0)
    assert client.state is State.TERMINATED
    assert link.a.transaction_count == 0
    # No ACK is sent by the transaction for a 2xx: that is the TU's (§13.2.2.4).
    assert link.sent_times("a", "ACK") == []
