"""INVITE and non-INVITE server transactions (RFC 3261 §17.2, RFC 6026 §7.1)."""

from __future__ import annotations

import pytest
from fakelink import (
    ALICE,
    BOB,
    Link,
    answer,
    drain,
    make_request,
    request_bytes,
    server_transaction,
)

from ssw.sip.address import Address
from ssw.sip.message import parse_message
from ssw.sip.transaction import (
    AckReceived,
    InviteServerTransaction,
    State,
    TransactionLayer,
    TransactionStateError,
    TransactionTerminated,
    TransactionTimeout,
)


def test_timer_g_doubles_up_to_t2_and_timer_h_gives_up(link: Link) -> None:
    # Every ACK is lost: the 486 is retransmitted on Timer G until Timer H (64*T1).
    link.drop = lambda sent: sent.start_line.startswith("ACK")
    link.a.send_request(make_request(), BOB, 0.0)
    link.flush()
    server = server_transaction(link.b)
    link.now = 1.0
    link.b.send_response(server, answer(server.request, 486), 1.0)
    link.run_until(40.0)
    assert link.sent_times("b", "SIP/2.0 486") == [
        1.0,
        1.5,
        2.5,
        4.5,
        8.5,
        12.5,
        16.5,
        20.5,
        24.5,
        28.5,
        32.5,
    ]
    events = drain(link.b)
    assert events == [TransactionTimeout(server, "Timer H"), TransactionTerminated(server)]
    assert link.b.transaction_count == 0


def test_invite_retransmission_gets_the_last_response(link: Link) -> None:
    # The 100 Trying is lost, so the client retransmits the INVITE at 0.5 s; the server
    # absorbs it (no second RequestReceived) and re-sends its latest provisional.
    link.drop = lambda sent: sent.start_line.startswith("SIP/2.0 100")
    link.a.send_request(make_request(), BOB, 0.0)
    link.flush()
    server = server_transaction(link.b)
    link.now = 0.1
    link.b.send_response(server, answer(server.request, 180), 0.1)
    link.drop = lambda sent: sent.start_line.startswith("SIP/2.0 180") and sent.time < 0.2
    link.run_until(0.6)
    assert link.sent_times("a", "INVITE") == [0.0, 0.5]
    assert link.sent_times("b", "SIP/2.0 180") == [0.1, 0.5]
    assert drain(link.b) == []


def test_ack_confirms_and_timer_i_absorbs_ack_copies(link: Link) -> None:
    client = link.a.send_request(make_request(), BOB, 0.0)
    link.flush()
    server = server_transaction(link.b)
    link.b.send_response(server, answer(server.request, 480), 0.0)
    link.flush()
    assert server.state is State.CONFIRMED
    assert server.armed_timers() == {"I": 5.0}  # T4
    ack = client.ack
    assert ack is not None
    link.b.receive(parse_message(bytes(ack)), ALICE, 1.0)  # a copy of the ACK: absorbed
    assert drain(link.b) == []
    link.run_until(5.0)
    assert server.state is State.TERMINATED
    assert [type(e) for e in drain(link.b)] == [TransactionTerminated]


def test_accepted_absorbs_invite_copies_and_passes_ack_until_timer_l(link: Link) -> None:
    link.a.send_request(make_request(), BOB, 0.0)
    link.flush()
    server = server_transaction(link.b)
    ok = answer(server.request, 200)
    link.b.send_response(server, ok, 0.0)
    link.flush()
    assert server.state is State.ACCEPTED
    assert server.armed_timers() == {"L": 32.0}
    sent_before = len(link.log)
    # An INVITE copy is absorbed: nothing sent, nothing to the TU (RFC 6026 §7.1).
    link.b.receive(make_request(), ALICE, 1.0)
    assert link.b.data_to_send() == [] and drain(link.b) == []
    # The TU may still retransmit its 2xx; a 1xx or another final is refused.
    link.b.send_response(server, ok, 1.0)
    assert len(link.b.data_to_send()) == 1
    with pytest.raises(TransactionStateError):
        link.b.send_response(server, answer(server.request, 180), 1.0)
    with pytest.raises(TransactionStateError):
        link.b.send_response(server, answer(server.request, 500), 1.0)
    assert server.state is State.ACCEPTED
    # An ACK that matches the transaction (same branch) goes to the TU with it.
    same_branch_ack = make_request("ACK", to_tag="bob-tag", cseq_method="ACK")
    link.b.receive(same_branch_ack, ALICE, 2.0)
    assert drain(link.b) == [AckReceived(same_branch_ack, ALICE, server)]
    link.run_until(32.0)
    assert server.state is State.TERMINATED
    assert link.b.transaction_count == 0
    assert len(link.log) == sent_before


def test_100_trying_can_be_left_to_the_tu() -> None:
    layer = TransactionLayer(send_trying=False)
    layer.receive(make_request(), ALICE, 0.0)
    assert layer.data_to_send() == []
    server = server_transaction(layer)
    assert isinstance(server, InviteServerTransaction)
    assert server.state is State.PROCEEDING


def test_non_invite_server_discards_copies_in_trying_and_resends_final_until_j(
    link: Link,
) -> None:
    layer = link.b
    request = make_request("OPTIONS")
    layer.receive(request, ALICE, 0.0)
    server = server_transaction(layer)
    layer.receive(make_request("OPTIONS"), ALICE, 0.5)  # Trying: discarded
    assert layer.data_to_send() == [] and drain(layer) == []
    layer.send_response(server, answer(request, 200), 1.0)
    assert len(layer.data_to_send()) == 1
    assert server.armed_timers() == {"J": 33.0}  # 64*T1 after the final
    layer.receive(make_request("OPTIONS"), ALICE, 2.0)  # Completed: final re-sent
    resent = layer.data_to_send()
    assert [item.data.split(b"\r\n")[0] for item in resent] == [b"SIP/2.0 200 OK"]
    with pytest.raises(TransactionStateError):
        layer.send_response(server, answer(request, 500), 2.0)
    layer.handle_timer(32.9)
    assert server.state is State.COMPLETED
    layer.handle_timer(33.0)
    assert server.state is State.TERMINATED
    assert layer.transaction_count == 0


def test_non_invite_server_timer_j_is_zero_over_tcp() -> None:
    layer = TransactionLayer()
    source = Address("tcp", "192.0.2.10", 40001)
    request = make_request("OPTIONS", transport="TCP")
    layer.receive(request, source, 0.0)
    server = server_transaction(layer)
    assert server.peer == source  # responses go back over the connection (§18.2.2)
    layer.send_response(server, answer(request, 200), 0.0)
    assert server.state is State.TERMINATED
    assert layer.transaction_count == 0
    assert [item.dest for item in layer.data_to_send()] == [source]


def test_response_goes_to_the_rport_and_received_address() -> None:
    layer = TransactionLayer()
    nat = Address("udp", "198.51.100.7", 31000)
    data = request_bytes("OPTIONS", sent_by="10.0.0.5:5060").replace(b"branch=", b"rport;branch=")
    layer.receive(parse_message(data), nat, 0.0)
    server = server_transaction(layer)
    assert server.request.top_via.params["received"] == "198.51.100.7"
    assert server.request.top_via.params["rport"] == "31000"
    layer.send_response(server, answer(server.request, 200), 0.0)
    (sent,) = layer.data_to_send()
    assert sent.dest == nat
    assert b"received=198.51.100.7" in sent.data and b"rport=31000" in sent.data


def test_a_completed_transaction_keeps_its_messages_without_their_decoded_values() -> None:
    # Waiting out Timer J, the transaction only resends its final response: the request and
    # the response forget their parsed header values (fewer objects for the collector),
    # and the retransmission is still the same bytes.
    layer = TransactionLayer()
    layer.receive(make_request("OPTIONS"), ALICE, 0.0)
    (event,) = [e for e in drain(layer) if not isinstance(e, TransactionTerminated)]
    server = event.transaction
    request = server.request
    assert request.cseq.method == "OPTIONS" and request.headers._cache
    response = answer(request, 200)
    layer.send_response(server, response, 0.1)
    first = [item.data for item in layer.data_to_send()]
    assert server.state is State.COMPLETED
    assert request.headers._cache == {} and response.headers._cache == {}
    layer.receive(make_request("OPTIONS"), ALICE, 0.5)  # a retransmission
    assert [item.data for item in layer.data_to_send()] == first
    assert request.cseq.method == "OPTIONS"  # decoded again when read
