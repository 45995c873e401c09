"""Non-INVITE client transaction timing (RFC 3261 §17.1.2)."""

from __future__ import annotations

from fakelink import BOB, Link, answer, drain, make_request, server_transaction

from ssw.sip.address import Address
from ssw.sip.transaction import (
    ResponseReceived,
    State,
    TransactionLayer,
    TransactionTerminated,
    TransactionTimeout,
)


def test_timer_e_doubles_up_to_t2_until_timer_f(link: Link) -> None:
    link.drop = lambda sent: True
    client = link.a.send_request(make_request("OPTIONS"), BOB, 0.0)
    link.run_until(40.0)
    # Intervals 0.5 1 2 4 4 4 ... (MIN(2^n*T1, T2)), Timer F at 64*T1 = 32 s.
    assert link.sent_times("a", "OPTIONS") == [
        0.0,
        0.5,
        1.5,
        3.5,
        7.5,
        11.5,
        15.5,
        19.5,
        23.5,
        27.5,
        31.5,
    ]
    assert drain(link.a) == [TransactionTimeout(client, "Timer F"), TransactionTerminated(client)]
    assert link.a.transaction_count == 0


def test_proceeding_retransmits_every_t2(link: Link) -> None:
    client = link.a.send_request(make_request("REGISTER"), BOB, 0.0)
    link.flush()
    server = server_transaction(link.b)
    link.now = 0.2
    link.b.send_response(server, answer(server.request, 100, to_tag=None), 0.2)
    link.flush()
    assert client.state is State.PROCEEDING
    link.run_until(20.0)
    # Timer E fires at 0.5 (armed in Trying), then every T2 = 4 s (§17.1.2.2).
    assert link.sent_times("a", "REGISTER") == [0.0, 0.5, 4.5, 8.5, 12.5, 16.5]
    # Each retransmission gets the provisional again from the server (§17.2.2).
    assert link.sent_times("b", "SIP/2.0 100") == [0.2, 0.5, 4.5, 8.5, 12.5, 16.5]
    link.b.send_response(server, answer(server.request, 200), 20.0)
    link.now = 20.0
    link.flush()
    assert client.state is State.COMPLETED


def test_timer_k_absorbs_response_retransmissions(link: Link) -> None:
    client = link.a.send_request(make_request("BYE", to_tag="bob-tag", cseq=2), BOB, 0.0)
    link.flush()
    server = server_transaction(link.b)
    ok = answer(server.request, 200)
    link.b.send_response(server, ok, 0.0)
    link.flush()
    assert client.state is State.COMPLETED
    assert client.armed_timers() == {"K": 5.0}  # T4
    # A copy of the 200 arrives again (the request was retransmitted on another path):
    # absorbed, not passed up.
    link.a.receive(ok, BOB, 1.0)
    responses = [e for e in drain(link.a) if isinstance(e, ResponseReceived)]
    assert [e.response.status for e in responses] == [200]
    link.run_until(4.9)
    assert client.state is State.COMPLETED
    link.run_until(5.0)
    assert client.state is State.TERMINATED
    assert link.a.transaction_count == 0


def test_reliable_transport_never_retransmits_and_k_is_zero() -> None:
    layer = TransactionLayer()
    peer = Address("tls", "192.0.2.20", 5061)
    request = make_request("OPTIONS", transport="TLS", sent_by="192.0.2.10:5061")
    client = layer.send_request(request, peer, 0.0)
    assert client.armed_timers() == {"F": 32.0}
    assert len(layer.data_to_send()) == 1
    layer.receive(answer(request, 200), peer, 1.0)
    assert client.state is State.TERMINATED
    assert [type(e) for e in drain(layer)] == [ResponseReceived, TransactionTerminated]
    assert layer.get_timer() is None
