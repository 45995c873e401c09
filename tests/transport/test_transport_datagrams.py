"""UDP seen from a bare socket: RFC 3581 rport/received, malformed input, retransmissions."""

from __future__ import annotations

import asyncio

import pytest
from transport_support import Collector, RawUdp, StartEndpoint, branch, make_request, raw_request

from ssw.sip.address import Address
from ssw.sip.message import Response, parse_message
from ssw.sip.transaction import RequestReceived, TimerConfig, TransactionTimeout, TransportError
from ssw.transport import SipEndpoint
from ssw.transport.echo_uas import EchoUas


async def _uas(start_endpoint: StartEndpoint) -> tuple[SipEndpoint, EchoUas]:
    server = await start_endpoint()
    return server, EchoUas(server)


async def test_rport_answer_goes_to_the_source_port(start_endpoint: StartEndpoint) -> None:
    server, _ = await _uas(start_endpoint)
    peer = await RawUdp.open()
    try:
        # The sent-by names an address nobody listens on; RFC 3581 §4 sends the answer to the
        # address and port the request came from, recorded in received/rport.
        via = f"SIP/2.0/UDP 192.0.2.7:5999;rport;branch={branch()}"
        peer.send(raw_request("OPTIONS", via), server.local_address("udp"))
        answer = parse_message(await peer.receive())
    finally:
        peer.close()

    assert isinstance(answer, Response) and answer.status == 200
    top = answer.top_via
    assert top.received == "127.0.0.1"
    assert top.rport == peer.port


async def test_received_is_stamped_on_the_request_the_tu_sees(
    start_endpoint: StartEndpoint,
) -> None:
    server = await start_endpoint()
    seen = Collector()
    server.on_event = seen
    peer = await RawUdp.open()
    try:
        via = f"SIP/2.0/UDP uac.example.invalid:{5070};rport;branch={branch()}"
        peer.send(raw_request("OPTIONS", via), server.local_address("udp"))
        request = (await seen.next(RequestReceived)).request
    finally:
        peer.close()

    assert request.top_via.received == "127.0.0.1"
    assert request.top_via.rport == peer.port
    assert request.top_via.host == "uac.example.invalid"  # sent-by itself is untouched


async def test_without_rport_the_answer_goes_to_sent_by(start_endpoint: StartEndpoint) -> None:
    server, _ = await _uas(start_endpoint)
    source = await RawUdp.open()
    listener = await RawUdp.open()
    try:
        # RFC 3261 §18.2.2: no rport, so the answer goes to the sent-by port, not the source.
        via = f"SIP/2.0/UDP 127.0.0.1:{listener.port};branch={branch()}"
        source.send(raw_request("OPTIONS", via), server.local_address("udp"))
        answer = parse_message(await listener.receive())
        assert await source.nothing_within(0.2)
    finally:
        source.close()
        listener.close()

    assert isinstance(answer, Response) and answer.status == 200
    assert answer.top_via.received is None  # sent-by host equals the source address


MALFORMED = [
    # Content-Length larger than the datagram (RFC 3261 §18.3).
    (b"Content-Length: 0\r\n\r\n", b"Content-Length: 500\r\n\r\nv=0", 400),
    # A request line with a broken SIP-Version.
    (b" SIP/2.0\r\n", b" SIP/2.O\r\n", 400),
    # A version this element does not speak (RFC 3261 §8.2.2 → 505).
    (b" SIP/2.0\r\n", b" SIP/7.0\r\n", 505),
]


@pytest.mark.parametrize(("old", "new", "status"), MALFORMED)
async def test_malformed_request_is_answered_and_serving_goes_on(
    start_endpoint: StartEndpoint, old: bytes, new: bytes, status: int
) -> None:
    server, uas = await _uas(start_endpoint)
    dest = server.local_address("udp")
    peer = await RawUdp.open()
    try:
        good = raw_request("OPTIONS", f"SIP/2.0/UDP 127.0.0.1:{5999};rport;branch={branch()}")
        bad = good.replace(old, new, 1)
        assert bad != good
        peer.send(bad, dest)
        rejection = parse_message(await peer.receive())
        peer.send(b"\x00\xff garbage that is no SIP at all \r\n\r\n", dest)  # dropped
        peer.send(good, dest)
        answer = parse_message(await peer.receive())
    finally:
        peer.close()

    assert isinstance(rejection, Response) and rejection.status == status
    assert isinstance(answer, Response) and answer.status == 200
    assert uas.received["OPTIONS"] == 1
    assert server.stats.malformed == 2
    assert server.stats.rejected == 1


async def test_malformed_response_is_dropped(start_endpoint: StartEndpoint) -> None:
    server, _ = await _uas(start_endpoint)
    peer = await RawUdp.open()
    try:
        response = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\nCSeq: x\r\n"
        peer.send(response + b"Content-Length: 99\r\n\r\n", server.local_address("udp"))
        assert await peer.nothing_within(0.3)
    finally:
        peer.close()
    assert server.stats.malformed == 1


async def test_request_missing_mandatory_headers_gets_400(start_endpoint: StartEndpoint) -> None:
    server, _ = await _uas(start_endpoint)
    peer = await RawUdp.open()
    try:
        request = raw_request("OPTIONS", f"SIP/2.0/UDP 127.0.0.1:5999;rport;branch={branch()}")
        without_cseq = b"".join(
            line for line in request.splitlines(keepends=True) if not line.startswith(b"CSeq")
        )
        peer.send(without_cseq, server.local_address("udp"))
        answer = parse_message(await peer.receive())
    finally:
        peer.close()
    assert isinstance(answer, Response) and answer.status == 400


async def test_retransmissions_follow_timer_e_until_timer_f(
    start_endpoint: StartEndpoint,
) -> None:
    # RFC 3261 §17.1.2.2: Timer E starts at T1 and doubles up to T2; Timer F ends it at 64*T1.
    client = await start_endpoint(timers=TimerConfig(t1=0.05, t2=0.2, t4=0.5))
    events = Collector()
    client.on_event = events
    silent = await RawUdp.open()
    try:
        dest = Address("udp", "127.0.0.1", silent.port)
        client.send_request(make_request("OPTIONS", client, dest), dest)
        timeout = await events.next(TransactionTimeout, timeout=10)
        arrivals: list[float] = []
        while not silent.received.empty():
            arrivals.append(silent.received.get_nowait()[1])
    finally:
        silent.close()

    assert timeout.timer == "Timer F"
    # Timer E: 0.05, 0.1, 0.2, then capped at T2 = 0.2, each due at its own deadline (the
    # schedule does not drift), until Timer F at 64*T1 = 3.2 s: about 18 transmissions.
    offsets = [arrival - arrivals[0] for arrival in arrivals]
    expected = [0.0, 0.05, 0.15, *(0.35 + 0.2 * k for k in range(15))]
    assert 16 <= len(offsets) <= 18
    for offset, due in zip(offsets, expected, strict=False):
        assert offset == pytest.approx(due, abs=0.1)
    assert offsets[3] - offsets[2] > offsets[1] - offsets[0]  # the interval doubled


async def test_host_names_are_resolved_before_sending(start_endpoint: StartEndpoint) -> None:
    client = await start_endpoint(timers=TimerConfig(t1=0.05, t2=0.2, t4=0.5))
    peer = await RawUdp.open()
    try:
        dest = Address("udp", "localhost", peer.port)
        assert client.local_address_for(dest) == client.local_address("udp")
        client.send_request(make_request("OPTIONS", client, dest), dest)
        request = await peer.receive()
    finally:
        peer.close()
    assert request.startswith(b"OPTIONS sip:echo@localhost:")


async def test_unresolvable_host_is_a_transport_error(start_endpoint: StartEndpoint) -> None:
    client = await start_endpoint(connect_timeout=2.0)
    events = Collector()
    client.on_event = events
    dest = Address("udp", "no-such-host.invalid", 5060)

    transaction = client.send_request(make_request("OPTIONS", client, dest), dest)

    error = await events.next(TransportError, timeout=5.0)
    assert error.transaction is transaction


async def test_timers_need_no_task_per_transaction(start_endpoint: StartEndpoint) -> None:
    """Fifty transactions retransmit from the endpoint's one timer, with no task each."""
    client = await start_endpoint(timers=TimerConfig(t1=0.05, t2=0.2, t4=0.5))
    silent = await RawUdp.open()
    try:
        tasks_before = len(asyncio.all_tasks())
        dest = Address("udp", "127.0.0.1", silent.port)
        for _ in range(50):
            client.send_request(make_request("OPTIONS", client, dest), dest)
        async with asyncio.timeout(5):
            while silent.received.qsize() < 100:  # each sent, then retransmitted (Timer E)
                await asyncio.sleep(0.01)
        assert len(asyncio.all_tasks()) == tasks_before
    finally:
        silent.close()
