"""Matching requests and responses to transactions (RFC 3261 §17.1.3, §17.2.3, §9.2)."""

from __future__ import annotations

from fakelink import ALICE, BOB, answer, drain, make_request

from ssw.sip.address import Address
from ssw.sip.message import Response, make_response
from ssw.sip.transaction import (
    AckReceived,
    CancelReceived,
    InvalidMessage,
    InviteServerTransaction,
    NonInviteServerTransaction,
    RequestReceived,
    ResponseReceived,
    State,
    StrayResponse,
    TransactionLayer,
)
from ssw.sip.transaction.matching import client_key, invite_key_for, server_key


def _received(layer: TransactionLayer) -> list[RequestReceived]:
    return [e for e in drain(layer) if isinstance(e, RequestReceived)]


def test_rfc3261_key_is_branch_sent_by_and_method() -> None:
    invite = make_request(branch="z9hG4bKx", sent_by="192.0.2.10")
    assert server_key(invite) == ("3261", "z9hG4bKx", "192.0.2.10", "5060", "INVITE")
    ack = make_request("ACK", branch="z9hG4bKx", sent_by="192.0.2.10:5060", to_tag="t")
    assert server_key(ack) == server_key(invite)  # default port equals the explicit one
    cancel = make_request("CANCEL", branch="z9hG4bKx", sent_by="192.0.2.10")
    assert server_key(cancel) != server_key(invite)
    assert invite_key_for(cancel) == server_key(invite)


def test_same_branch_from_another_sent_by_is_another_transaction() -> None:
    layer = TransactionLayer()
    layer.receive(make_request("OPTIONS", sent_by="192.0.2.10:5060"), ALICE, 0.0)
    layer.receive(make_request("OPTIONS", sent_by="192.0.2.11:5060"), ALICE, 0.0)
    assert len(_received(layer)) == 2
    assert layer.transaction_count == 2


def test_cancel_finds_its_invite_and_gets_its_own_transaction() -> None:
    layer = TransactionLayer()
    layer.receive(make_request(), ALICE, 0.0)
    (invite_event,) = _received(layer)
    invite_txn = invite_event.transaction
    cancel = make_request("CANCEL")
    layer.receive(cancel, ALICE, 1.0)
    (event,) = drain(layer)
    assert isinstance(event, CancelReceived)
    assert event.invite_transaction is invite_txn
    assert isinstance(event.transaction, NonInviteServerTransaction)
    assert layer.invite_transaction_for_cancel(cancel) is invite_txn
    # §9.2: 200 to the CANCEL, 487 to the INVITE.
    layer.data_to_send()
    layer.send_response(event.transaction, answer(cancel, 200), 1.0)
    layer.send_response(invite_txn, answer(invite_txn.request, 487), 1.0)
    sent = [item.data.split(b"\r\n")[0] for item in layer.data_to_send()]
    assert sent == [b"SIP/2.0 200 OK", b"SIP/2.0 487 Request Terminated"]
    assert invite_txn.state is State.COMPLETED


def test_cancel_without_invite_is_reported_with_none() -> None:
    layer = TransactionLayer()
    layer.receive(make_request("CANCEL", branch="z9hG4bKunknown"), ALICE, 0.0)
    (event,) = drain(layer)
    assert isinstance(event, CancelReceived)
    assert event.invite_transaction is None


def test_ack_with_new_branch_goes_to_the_tu() -> None:
    layer = TransactionLayer()
    layer.receive(make_request(), ALICE, 0.0)
    (event,) = _received(layer)
    layer.send_response(event.transaction, answer(event.request, 200), 0.0)
    ack = make_request("ACK", branch="z9hG4bK-ack-2xx", to_tag="bob-tag")
    layer.receive(ack, ALICE, 0.1)
    assert drain(layer) == [AckReceived(ack, ALICE, None)]
    assert event.transaction.state is State.ACCEPTED


def test_ack_to_non_2xx_with_a_branch_of_its_own_confirms_the_invite() -> None:
    # §17.1.1.3 wants the INVITE's branch; some phones make a new one. The ACK is matched by
    # Call-ID, From tag, CSeq number and the To tag of the final response instead, so the
    # 488 is not retransmitted until Timer H.
    layer = TransactionLayer()
    layer.receive(make_request(), ALICE, 0.0)
    (event,) = _received(layer)
    layer.send_response(event.transaction, answer(event.request, 488, to_tag="t488"), 0.0)
    layer.data_to_send()
    wrong_tag = make_request("ACK", branch="z9hG4bK-own-ack", to_tag="other")
    layer.receive(wrong_tag, ALICE, 0.1)
    assert drain(layer) == [AckReceived(wrong_tag, ALICE, None)]
    assert event.transaction.state is State.COMPLETED
    layer.receive(make_request("ACK", branch="z9hG4bK-own-ack", to_tag="t488"), ALICE, 0.2)
    assert drain(layer) == []
    assert event.transaction.state is State.CONFIRMED
    layer.handle_timer(5.0)  # Timer G would have fired by now
    assert layer.data_to_send() == []


def test_ack_of_another_cseq_with_a_new_branch_matches_nothing() -> None:
    layer = TransactionLayer()
    layer.receive(make_request(), ALICE, 0.0)
    (event,) = _received(layer)
    layer.send_response(event.transaction, answer(event.request, 488, to_tag="t488"), 0.0)
    ack = make_request("ACK", branch="z9hG4bK-own-ack", to_tag="t488", cseq=2)
    layer.receive(ack, ALICE, 0.1)
    assert drain(layer) == [AckReceived(ack, ALICE, None)]
    assert event.transaction.state is State.COMPLETED


def test_cancel_with_a_branch_of_its_own_finds_the_pending_invite() -> None:
    # §9.1 wants the INVITE's branch in the CANCEL; matched leniently while the INVITE is
    # unanswered, and never once it has a final response.
    layer = TransactionLayer()
    layer.receive(make_request(), ALICE, 0.0)
    (invite_event,) = _received(layer)
    cancel = make_request("CANCEL", branch="z9hG4bK-own-cancel")
    layer.receive(cancel, ALICE, 0.5)
    (event,) = drain(layer)
    assert isinstance(event, CancelReceived)
    assert event.invite_transaction is invite_event.transaction
    layer.send_response(invite_event.transaction, answer(invite_event.request, 487), 0.6)
    late = make_request("CANCEL", branch="z9hG4bK-late-cancel")
    layer.receive(late, ALICE, 0.7)
    (late_event,) = drain(layer)
    assert isinstance(late_event, CancelReceived)
    assert late_event.invite_transaction is None


def test_rfc2543_request_matching_without_magic_cookie() -> None:
    layer = TransactionLayer()
    invite = make_request(branch=None)
    layer.receive(invite, ALICE, 0.0)
    (event,) = _received(layer)
    server = event.transaction
    assert isinstance(server, InviteServerTransaction)
    layer.send_response(server, answer(invite, 404, to_tag="t404"), 0.0)
    layer.data_to_send()
    # A retransmission (same Request-URI, tags, Call-ID, CSeq, Via) matches.
    layer.receive(make_request(branch=None), ALICE, 0.5)
    assert [i.data.split(b"\r\n")[0] for i in layer.data_to_send()] == [b"SIP/2.0 404 Not Found"]
    # Another CSeq is a new transaction.
    layer.receive(make_request(branch=None, cseq=2), ALICE, 0.6)
    assert len(_received(layer)) == 1
    # The ACK matches only with the To tag of the response sent.
    wrong_ack = make_request("ACK", branch=None, to_tag="other")
    layer.receive(wrong_ack, ALICE, 0.7)
    assert drain(layer) == [AckReceived(wrong_ack, ALICE, None)]
    layer.receive(make_request("ACK", branch=None, to_tag="t404"), ALICE, 0.8)
    assert server.state is State.CONFIRMED
    # A CANCEL finds the INVITE without magic cookie too (§9.2).
    layer.receive(make_request(branch=None, cseq=3), ALICE, 0.9)
    (third,) = _received(layer)
    layer.receive(make_request("CANCEL", branch=None, cseq=3), ALICE, 1.0)
    (cancel_event,) = drain(layer)
    assert isinstance(cancel_event, CancelReceived)
    assert cancel_event.invite_transaction is third.transaction


def test_rfc2543_via_difference_is_another_transaction() -> None:
    layer = TransactionLayer()
    layer.receive(make_request("OPTIONS", branch=None, sent_by="192.0.2.10:5060"), ALICE, 0.0)
    layer.receive(make_request("OPTIONS", branch=None, sent_by="192.0.2.10:5070"), ALICE, 0.0)
    assert len(_received(layer)) == 2


def test_response_matching_uses_branch_and_cseq_method() -> None:
    layer = TransactionLayer()
    invite = make_request(branch="z9hG4bKsame")
    client_invite = layer.send_request(invite, BOB, 0.0)
    cancel = make_request("CANCEL", branch="z9hG4bKsame")
    client_cancel = layer.send_request(cancel, BOB, 0.1)
    assert client_key(invite) != client_key(cancel)
    layer.receive(make_response(cancel, 200), BOB, 0.2)
    layer.receive(make_response(invite, 487, to_tag="x"), BOB, 0.3)
    responses = [e for e in drain(layer) if isinstance(e, ResponseReceived)]
    assert [(e.transaction, e.response.status) for e in responses] == [
        (client_cancel, 200),
        (client_invite, 487),
    ]


def test_unmatched_response_is_stray() -> None:
    layer = TransactionLayer()
    response = make_response(make_request(branch="z9hG4bKnobody"), 200, to_tag="x")
    layer.receive(response, BOB, 0.0)
    assert drain(layer) == [StrayResponse(response, BOB)]


def test_message_without_via_is_reported_and_creates_nothing() -> None:
    layer = TransactionLayer()
    request = make_request("OPTIONS")
    request.headers.remove("via")
    layer.receive(request, ALICE, 0.0)
    (event,) = drain(layer)
    assert isinstance(event, InvalidMessage)
    assert event.error.status == 400
    assert layer.transaction_count == 0
    response = Response(200, None, [("Call-ID", "x"), ("CSeq", "1 OPTIONS")])
    layer.receive(response, BOB, 0.0)
    assert isinstance(layer.next_event(), InvalidMessage)


def test_many_transactions_are_each_found_by_key() -> None:
    # Ten thousand live transactions: a retransmission is still found by key, and every
    # one of them is found (no collisions between branches).
    layer = TransactionLayer(send_trying=False)
    source = Address("udp", "192.0.2.10", 5060)
    for n in range(10_000):
        layer.receive(make_request("OPTIONS", branch=f"z9hG4bK{n}"), source, 0.0)
    assert layer.transaction_count == 10_000
    drain(layer)
    layer.receive(make_request("OPTIONS", branch="z9hG4bK9999"), source, 0.1)
    assert drain(layer) == []
