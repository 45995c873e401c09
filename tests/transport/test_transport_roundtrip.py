"""Two endpoints of ours on loopback: OPTIONS and a whole call over UDP, TCP and TLS."""

from __future__ import annotations

import asyncio

import pytest
from transport_support import Collector, StartEndpoint, make_request

from ssw.sip.address import Address, build_via
from ssw.sip.dialog import build_cancel
from ssw.sip.message import new_request
from ssw.sip.transaction import ResponseReceived, State, TransactionTerminated, new_branch
from ssw.sip.uri import SipUri
from ssw.transport import SipEndpoint
from ssw.transport.echo_uas import EchoUas

SDP_OFFER = (
    b"v=0\r\no=tester 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 6000 RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
)

TRANSPORTS = ["udp", "tcp", "tls"]


async def _pair(
    start_endpoint: StartEndpoint, host: str
) -> tuple[SipEndpoint, EchoUas, SipEndpoint, Collector]:
    server = await start_endpoint(hosts=(host,))
    uas = EchoUas(server)
    client = await start_endpoint(hosts=(host,))
    collector = Collector()
    client.on_event = collector
    return server, uas, client, collector


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_options_round_trip(start_endpoint: StartEndpoint, transport: str, host: str) -> None:
    server, uas, client, events = await _pair(start_endpoint, host)
    dest = server.local_address(transport, ipv6=":" in host)

    client.send_request(make_request("OPTIONS", client, dest), dest)
    answer = (await events.next(ResponseReceived)).response

    assert answer.status == 200
    assert set(answer.allow) == {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"}
    assert answer.headers.get("accept") == "application/sdp"
    assert "supported" in answer.headers
    assert uas.received["OPTIONS"] == 1
    if transport != "udp":
        # RFC 3261 §18.2.2: the answer came back on the connection the request went out on.
        assert client.connection_count == 1
        assert server.connection_count == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_invite_call(start_endpoint: StartEndpoint, transport: str) -> None:
    server, uas, client, events = await _pair(start_endpoint, "127.0.0.1")
    dest = server.local_address(transport)
    invite = make_request("INVITE", client, dest, body=SDP_OFFER)

    client.send_request(invite, dest)
    statuses: list[int] = []
    while not statuses or statuses[-1] < 200:
        statuses.append((await events.next(ResponseReceived)).response.status)
        if statuses[-1] == 200:
            ok = events.seen[-1]
    assert statuses == [100, 180, 200]
    assert isinstance(ok, ResponseReceived)
    answer = ok.response
    assert answer.content_type is not None and answer.content_type.mime == "application/sdp"
    assert b"m=audio 40000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000" in answer.body
    contact_uri = answer.contacts[0].address
    assert isinstance(contact_uri, SipUri)
    assert contact_uri.port == server.local_address(transport).port
    to_tag = answer.to.tag
    assert to_tag

    # The ACK for a 2xx is sent outside the transaction (§13.2.2.4), then BYE in the dialog.
    local = client.local_address(transport)
    ack = new_request(
        "ACK",
        invite.uri,
        via=build_via(local, new_branch()),
        from_=invite.headers.get("from") or "",
        to=answer.headers.get("to") or "",
        call_id=invite.call_id,
        cseq=1,
    )
    client.send_stateless(ack, dest)
    bye = make_request("BYE", client, dest, call_id=invite.call_id, cseq=2, to_tag=to_tag)
    bye.headers.set("From", invite.headers.get("from") or "")
    client.send_request(bye, dest)
    assert (await events.next(ResponseReceived)).response.status == 200
    assert uas.received == {"INVITE": 1, "ACK": 1, "BYE": 1}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_unknown_method_is_501(start_endpoint: StartEndpoint, transport: str) -> None:
    server, _, client, events = await _pair(start_endpoint, "127.0.0.1")
    dest = server.local_address(transport)

    client.send_request(make_request("FROBNICATE", client, dest), dest)
    answer = (await events.next(ResponseReceived)).response

    assert answer.status == 501
    assert "OPTIONS" in answer.allow


async def test_bye_outside_a_dialog_is_481(start_endpoint: StartEndpoint) -> None:
    server, _, client, events = await _pair(start_endpoint, "127.0.0.1")
    dest = server.local_address("udp")

    client.send_request(make_request("BYE", client, dest, to_tag="nosuch"), dest)

    assert (await events.next(ResponseReceived)).response.status == 481


async def test_transactions_settle_after_the_exchange(start_endpoint: StartEndpoint) -> None:
    server, _, client, events = await _pair(start_endpoint, "127.0.0.1")
    dest = server.local_address("tcp")

    transaction = client.send_request(make_request("OPTIONS", client, dest), dest)
    await events.next(ResponseReceived)
    terminated = await events.next(TransactionTerminated)

    # Over TCP Timer K is zero (§17.1.2.2): the client transaction ends with the response.
    assert terminated.transaction is transaction
    assert client.layer.transaction_count == 0


async def test_endpoints_reach_each_other_by_address_family(start_endpoint: StartEndpoint) -> None:
    server = await start_endpoint(hosts=("127.0.0.1", "::1"))
    EchoUas(server)
    client = await start_endpoint(hosts=("127.0.0.1", "::1"))
    events = Collector()
    client.on_event = events
    for ipv6 in (False, True):
        dest = server.local_address("udp", ipv6=ipv6)
        client.send_request(make_request("OPTIONS", client, dest), dest)
        response = (await events.next(ResponseReceived)).response
        assert response.status == 200
        assert Address("udp", response.top_via.host, response.top_via.port or 0).host == (
            client.local_address("udp", ipv6=ipv6).host
        )


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_cancel_while_ringing(start_endpoint: StartEndpoint, transport: str) -> None:
    server = await start_endpoint()
    uas = EchoUas(server, ring_time=5.0)
    client = await start_endpoint()
    events = Collector()
    client.on_event = events
    dest = server.local_address(transport)
    invite = make_request("INVITE", client, dest, body=SDP_OFFER)

    invite_transaction = client.send_request(invite, dest)
    while (await events.next(ResponseReceived)).response.status != 180:
        pass
    client.send_request(build_cancel(invite), dest)

    finals: dict[str, int] = {}
    while len(finals) < 2:
        received = await events.next(ResponseReceived)
        if received.response.status >= 200:
            finals[received.response.cseq.method] = received.response.status
    assert finals == {"CANCEL": 200, "INVITE": 487}
    # The INVITE client transaction ACKs the 487 itself (§17.1.1.3); the server transaction
    # absorbs that ACK (Completed -> Confirmed, §17.2.1) and the UAS never sees it.
    assert invite_transaction.state in (State.COMPLETED, State.TERMINATED)
    async with asyncio.timeout(5):
        while any(
            txn.method == "INVITE" and txn.state is State.COMPLETED
            for txn in server.layer.server_transactions()
        ):
            await asyncio.sleep(0.01)
    assert uas.received == {"INVITE": 1, "CANCEL": 1}
    uas.close()
