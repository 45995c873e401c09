"""Real RTP on loopback through the media server: relay, latching, continuity, bad input."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from media_peers import RtpPeer

from ssw.media.client import MediaClient, MediaError
from ssw.media.engine import EngineConfig
from ssw.media.rtcp import RtcpReceiverReport, serialize_compound
from ssw.media.server import MediaServer

PeerFactory = Callable[[], Awaitable[RtpPeer]]


async def _wait_for(condition: Any, timeout: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def test_relays_both_ways_and_latches_to_the_real_source(
        open_peer: PeerFactory, media: MediaClient) -> None:
    a, b = await open_peer(), await open_peer()
    relay = await media.allocate("call-1")
    assert relay.legs[0].rtp_port != relay.legs[1].rtp_port
    # A's SDP names a port it does not send from (NAT): latching finds the real one
    await media.update("call-1", 0, "127.0.0.1", 9, payload_type=0)
    await media.update("call-1", 1, "127.0.0.1", b.port, payload_type=0)
    a_to_switch, b_to_switch = relay.legs[0].rtp_port, relay.legs[1].rtp_port
    assert a.transport and b.transport
    sent_by_a = [a.packet(bytes([n]) * 160) for n in range(5)]
    for data in sent_by_a:
        a.transport.sendto(data, ("127.0.0.1", a_to_switch))
    await _wait_for(lambda: len(b.raw) == 5)
    assert b.raw == sent_by_a  # the first source passes byte for byte
    assert all(addr[1] == b_to_switch for _, addr in b.received)
    for n in range(3):
        b.transport.sendto(b.packet(bytes([n]) * 160), ("127.0.0.1", b_to_switch))
    await _wait_for(lambda: len(a.raw) == 3)  # reached A at its latched address, not port 9
    answer = await media.release("call-1")
    assert answer["legs"][0]["received"] == 5 and answer["legs"][1]["received"] == 3
    assert answer["legs"][0]["latched"] == f"127.0.0.1:{a.port}"


async def test_stream_continuity_when_the_source_changes(
        open_peer: PeerFactory, media: MediaClient) -> None:
    a, b, c = await open_peer(), await open_peer(), await open_peer()
    relay = await media.allocate("call-2")
    await media.update("call-2", 0, "127.0.0.1", a.port)
    await media.update("call-2", 1, "127.0.0.1", b.port)
    assert a.transport and c.transport
    for _ in range(3):
        a.transport.sendto(a.packet(b"\xff" * 160), ("127.0.0.1", relay.legs[0].rtp_port))
    await _wait_for(lambda: len(b.received) == 3)
    # transfer: C replaces A (new SDP, new SSRC, unrelated sequence and timestamp)
    await media.update("call-2", 0, "127.0.0.1", c.port)
    for _ in range(3):
        c.transport.sendto(c.packet(b"\xff" * 160), ("127.0.0.1", relay.legs[0].rtp_port))
    await _wait_for(lambda: len(b.received) == 6)
    packets = [p for p, _ in b.received]
    assert {p.ssrc for p in packets} == {a.ssrc}
    sequences = [p.sequence_number for p in packets]
    assert all((y - x) & 0xFFFF == 1 for x, y in itertools.pairwise(sequences))
    timestamps = [p.timestamp for p in packets]
    assert all(0 < (y - x) & 0xFFFFFFFF < 8000 for x, y in itertools.pairwise(timestamps))


async def test_garbage_and_wrong_sources_are_dropped_and_logged(open_peer: PeerFactory,
        media: MediaClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ssw.media")
    a, b, intruder = await open_peer(), await open_peer(), await open_peer()
    relay = await media.allocate("call-3")
    await media.update("call-3", 0, "127.0.0.1", a.port)
    await media.update("call-3", 1, "127.0.0.1", b.port)
    port = relay.legs[0].rtp_port
    assert a.transport and intruder.transport
    for junk in (b"", b"hello", b"\x00" * 40, b"\xff" * 3):
        intruder.transport.sendto(junk, ("127.0.0.1", port))
        intruder.transport.sendto(junk, ("127.0.0.1", port + 1))
    a.transport.sendto(a.packet(b"\x01" * 160), ("127.0.0.1", port))  # latches A
    await _wait_for(lambda: len(b.raw) == 1)
    intruder.transport.sendto(intruder.packet(b"\x02" * 160), ("127.0.0.1", port))
    a.transport.sendto(a.packet(b"\x03" * 160), ("127.0.0.1", port))
    await _wait_for(lambda: len(b.raw) == 2)
    await asyncio.sleep(0.05)
    assert [p.payload[0] for p, _ in b.received] == [1, 3]
    counters = (await media.request("release", relay="call-3"))["legs"][0]
    # asyncio does not send the empty datagram: three bad ones reach each port
    assert counters["garbage"] == 3 and counters["rtcp_garbage"] == 3
    assert counters["wrong_source"] == 1
    text = caplog.text
    assert "not RTP" in text and "not RTCP" in text
    assert "latched to" in text and "dropped RTP from" in text


async def test_strict_source_refuses_another_host_before_latching(
        open_peer: PeerFactory, media: MediaClient) -> None:
    a, b = await open_peer(), await open_peer()
    relay = await media.allocate("call-4", strict_source=True)
    await media.update("call-4", 0, "127.0.0.2", 4000)  # SDP names another host
    await media.update("call-4", 1, "127.0.0.1", b.port)
    assert a.transport
    a.transport.sendto(a.packet(b"\x01" * 160), ("127.0.0.1", relay.legs[0].rtp_port))
    await asyncio.sleep(0.1)
    assert b.raw == []
    counters = (await media.release("call-4"))["legs"][0]
    assert counters["wrong_source"] == 1 and counters["latched"] is None


async def test_timeout_is_reported_and_the_relay_released(open_peer: PeerFactory,
        media_server: MediaServer, media: MediaClient, events: list[dict[str, Any]],
        caplog: pytest.LogCaptureFixture) -> None:
    media_server.engine.config.rtp_timeout = 1.0
    a, b = await open_peer(), await open_peer()
    relay = await media.allocate("call-5")
    await media.update("call-5", 0, "127.0.0.1", a.port)
    await media.update("call-5", 1, "127.0.0.1", b.port)  # B never sends
    assert a.transport
    loop = asyncio.get_running_loop()
    end = loop.time() + 4
    while not events and loop.time() < end:
        a.transport.sendto(a.packet(b"\xff" * 160), ("127.0.0.1", relay.legs[0].rtp_port))
        await asyncio.sleep(0.02)
    assert events and events[0]["event"] == "timeout"
    assert events[0]["relay"] == "call-5" and events[0]["leg"] == 1
    assert "no RTP from leg 1" in caplog.text
    with pytest.raises(MediaError, match="no relay 'call-5'"):
        await media.release("call-5")


async def test_held_leg_does_not_time_out(media_server: MediaServer, media: MediaClient,
                                          events: list[dict[str, Any]]) -> None:
    media_server.engine.config.rtp_timeout = 1.0
    await media.allocate("call-6")
    await media.update("call-6", 0, "127.0.0.1", 4000, sends=False)
    await media.update("call-6", 1, "127.0.0.1", 4002, sends=False)
    await asyncio.sleep(2.2)
    assert events == []
    await media.release("call-6")


async def test_bad_requests_get_clear_errors(media: MediaClient) -> None:
    with pytest.raises(MediaError, match="unknown command 'nope'"):
        await media.request("nope")
    with pytest.raises(MediaError, match="missing relay"):
        await media.request("allocate")
    with pytest.raises(MediaError, match="port must be int"):
        await media.request("update", relay="x", leg=0, address="127.0.0.1", port="5")
    await media.allocate("dup")
    with pytest.raises(MediaError, match="exists"):
        await media.allocate("dup")
    with pytest.raises(MediaError, match="leg must be 0 or 1"):
        await media.update("dup", 2, "127.0.0.1", 4000)
    with pytest.raises(MediaError, match="unknown source"):
        await media.play("dup", 0, "../../etc/passwd")
    assert (await media.request("ping"))["relays"] == 1


async def test_relays_over_ipv6_loopback(media_config: EngineConfig) -> None:
    media_config.address = "::1"
    server = MediaServer(media_config, "tcp:127.0.0.1:0")
    await server.start()
    loop = asyncio.get_running_loop()
    peers = [await loop.create_datagram_endpoint(RtpPeer, local_addr=("::1", 0))
             for _ in range(2)]
    client = await MediaClient.connect(server.bound)
    try:
        (_, a), (_, b) = peers
        relay = await client.allocate("v6")
        assert relay.legs[0].address == "::1"
        await client.update("v6", 0, "::1", a.port)
        await client.update("v6", 1, "::1", b.port)
        assert a.transport
        for _ in range(3):
            a.transport.sendto(a.packet(b"\xff" * 160), ("::1", relay.legs[0].rtp_port))
        await _wait_for(lambda: len(b.raw) == 3)
        counters = (await client.release("v6"))["legs"][0]
        assert counters["wrong_source"] == 0 and counters["received"] == 3
    finally:
        await client.close()
        for transport, _ in peers:
            transport.close()
        await server.stop()


async def test_no_timeout_while_only_the_offer_is_known(
        media_server: MediaServer, media: MediaClient, events: list[dict[str, Any]]) -> None:
    media_server.engine.config.rtp_timeout = 1.0
    await media.allocate("ringing")
    await media.update("ringing", 0, "127.0.0.1", 4000)  # the caller's offer; no answer yet
    await asyncio.sleep(2.2)
    assert events == []
    await media.update("ringing", 1, "127.0.0.1", 4002)  # answered: now both must send
    loop = asyncio.get_running_loop()
    end = loop.time() + 4
    while not events and loop.time() < end:
        await asyncio.sleep(0.05)
    assert events and events[0]["event"] == "timeout" and events[0]["relay"] == "ringing"


async def test_t38_udptl_is_relayed_untouched(open_peer: PeerFactory,
                                              media: MediaClient) -> None:
    a, b = await open_peer(), await open_peer()
    relay = await media.allocate("fax")
    await media.request("update", relay="fax", leg=0, address="127.0.0.1", port=a.port,
                        transport="udptl")
    await media.request("update", relay="fax", leg=1, address="127.0.0.1", port=b.port,
                        transport="udptl")
    udptl = bytes.fromhex("0000 0602 0a00")  # a short T.38 IFP packet: not RTP at all
    assert a.transport
    a.transport.sendto(udptl, ("127.0.0.1", relay.legs[0].rtp_port))
    await _wait_for(lambda: len(b.raw) == 1)
    assert b.raw == [udptl]
    with pytest.raises(MediaError, match="transport must be rtp or udptl"):
        await media.request("update", relay="fax", leg=0, address="127.0.0.1", port=a.port,
                            transport="tcp")


async def test_rtcp_multiplexed_on_the_rtp_port_passes_and_does_not_break_the_stream(
        open_peer: PeerFactory, media: MediaClient) -> None:
    a, b = await open_peer(), await open_peer()
    relay = await media.allocate("mux")
    await media.update("mux", 0, "127.0.0.1", a.port)
    await media.update("mux", 1, "127.0.0.1", b.port)
    port = relay.legs[0].rtp_port
    assert a.transport
    report = serialize_compound([RtcpReceiverReport(a.ssrc, [])])
    a.transport.sendto(a.packet(b"\xff" * 160), ("127.0.0.1", port))
    a.transport.sendto(report, ("127.0.0.1", port))
    a.transport.sendto(a.packet(b"\xff" * 160), ("127.0.0.1", port))
    await _wait_for(lambda: len(b.raw) == 3)
    assert report in b.raw
    packets = [p for p, _ in b.received]
    assert len(packets) == 2 and packets[0].ssrc == packets[1].ssrc == a.ssrc
    assert (packets[1].sequence_number - packets[0].sequence_number) & 0xFFFF == 1
