"""One media leg: an RTP/RTCP port pair facing one peer, with latching (symmetric RTP).

This is the hot path. `datagram_received` checks the RTP fixed header, latches to the first
source (RFC 4961 symmetric RTP: the address a peer behind NAT really sends from wins over
its SDP), and hands the datagram to the leg's `sink`: the opposite leg of a relay (which
forwards it through its outbound stream, no decoding), or a conference member's jitter
buffer. Nothing here allocates for a plain forwarded packet.

Packets that are not RTP and packets from another source once latched are dropped, counted
and logged: the first one, then every 1000th, so a flood cannot fill the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, cast

from ssw.media.dtmf import DtmfDetector, DtmfError
from ssw.media.rtcp import rewrite_sender_ssrc
from ssw.media.stream import OutboundStream

__all__ = ["Address", "Clock", "Leg"]

log = logging.getLogger("ssw.media.leg")

Address = tuple[Any, ...]  # (host, port) or, for IPv6, (host, port, flowinfo, scope_id)
Sink = Callable[["Leg", bytes], None]


class Clock:
    """The engine's time, refreshed every tick (20 ms) so the hot path never reads a clock."""

    __slots__ = ("now",)

    def __init__(self, now: float = 0.0) -> None:
        self.now = now


def _should_log(count: int) -> bool:
    return count == 1 or count % 1000 == 0


class _RtcpProtocol(asyncio.DatagramProtocol):
    def __init__(self, leg: Leg) -> None:
        self.leg = leg

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.leg.rtcp_received(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("%s: RTCP socket error %s", self.leg.name, exc)


class Leg(asyncio.DatagramProtocol):
    """An RTP socket (and its RTCP neighbour) bound to one local port pair."""

    def __init__(self, name: str, index: int, *, clock: Clock,
                 strict_source: bool = False) -> None:
        self.name = name
        self.index = index
        self._clock = clock
        self.strict_source = strict_source
        self.transport: asyncio.DatagramTransport | None = None
        self.rtcp_transport: asyncio.DatagramTransport | None = None
        self.local_port = 0
        # where to send: the latched source, else what the SDP said
        self.sdp_address: Address | None = None
        self.sdp_rtcp_address: Address | None = None
        self.latched: Address | None = None
        self.latched_rtcp: Address | None = None
        self.destination: Address | None = None
        self.rtcp_destination: Address | None = None
        self.sends = True
        self.raw = False  # True for a non-RTP stream (T.38 UDPTL): no header checks
        self.payload_type: int | None = None
        self.event_payload_type: int | None = None
        self.dtmf = DtmfDetector()
        self.on_digit: Callable[[Leg, str], None] | None = None
        self.sink: Sink | None = None
        self.tap: Sink | None = None  # e.g. a recorder, sees every accepted packet
        self.muted = False  # True while a player owns what this leg's peer hears
        self.stream = OutboundStream()
        self.received = 0
        self.sent = 0
        self.garbage = 0
        self.rtcp_garbage = 0
        self.wrong_source = 0

    # asyncio callbacks -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # the selector loop's datagram transport does not subclass DatagramTransport
        self.transport = cast(asyncio.DatagramTransport, transport)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable from a peer that went away: not fatal, the timeout decides
        log.debug("%s: RTP socket error %s", self.name, exc)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self.raw:  # T.38 over UDPTL (ITU-T T.38 §9.1): latched and passed on untouched
            if addr == self.latched or self._latch(addr, rtcp=False):
                self.received += 1
                if self.sink is not None:
                    self.sink(self, data)
            return
        if len(data) < 12 or data[0] & 0xC0 != 0x80:
            if len(data) >= 8 and data[0] & 0xC0 == 0x80 and 191 < data[1] < 224:
                self._muxed_rtcp(data, addr)  # a short RTCP packet (an empty RR is 8 octets)
                return
            self.garbage += 1
            if _should_log(self.garbage):
                log.warning("%s: dropped %d-octet datagram from %s:%s on port %d: not RTP "
                            "(%d so far)", self.name, len(data), addr[0], addr[1],
                            self.local_port, self.garbage)
            return
        if addr != self.latched and not self._latch(addr, rtcp=False):
            return
        if 191 < data[1] < 224:  # RTCP multiplexed on the RTP port (RFC 5761 §4)
            self._muxed_rtcp(data, addr)
            return
        self.received += 1
        if self.event_payload_type is not None and data[1] & 0x7F == self.event_payload_type:
            self._detect_digit(data)
        if self.tap is not None:
            self.tap(self, data)
        if self.sink is not None:
            self.sink(self, data)

    def _muxed_rtcp(self, data: bytes, addr: Address) -> None:
        if addr != self.latched and not self._latch(addr, rtcp=False):
            return
        peer = self.rtcp_peer
        if peer is not None:
            peer.send_rtcp(data, muxed=True)

    # latching --------------------------------------------------------------------------
    def _latch(self, addr: Address, *, rtcp: bool) -> bool:
        current = self.latched_rtcp if rtcp else self.latched
        source = addr  # as received: IPv6 addresses are 4-tuples, compared as such
        if current is None:
            expected = self.sdp_address
            if self.strict_source and expected is not None and expected[0] != source[0]:
                self.wrong_source += 1
                if _should_log(self.wrong_source):
                    log.warning("%s: not latching to %s:%s: strict source expects %s",
                                self.name, source[0], source[1], expected[0])
                return False
            if rtcp:
                self.latched_rtcp = self.rtcp_destination = source
            else:
                self.latched = self.destination = source
                if self.latched_rtcp is None:
                    self.rtcp_destination = (source[0], source[1] + 1)
            log.info("%s: latched %s to %s:%s (SDP said %s)", self.name,
                     "RTCP" if rtcp else "RTP", source[0], source[1],
                     f"{expected[0]}:{expected[1]}" if expected else "nothing yet")
            return True
        self.wrong_source += 1
        if _should_log(self.wrong_source):
            log.warning("%s: dropped %s from %s:%s: latched to %s:%s (%d so far)", self.name,
                        "RTCP" if rtcp else "RTP", source[0], source[1], current[0],
                        current[1], self.wrong_source)
        return False

    def set_remote(self, address: Address, rtcp_address: Address) -> None:
        """The peer's SDP address; a new address (re-INVITE, transfer) re-opens latching."""
        if address != self.sdp_address:
            self.sdp_address = address
            self.latched = self.latched_rtcp = None
            self.destination = address
            self.rtcp_destination = rtcp_address
        self.sdp_rtcp_address = rtcp_address

    def _detect_digit(self, data: bytes) -> None:
        offset = 12 + 4 * (data[0] & 0x0F)
        timestamp = int.from_bytes(data[4:8], "big")
        try:
            digit = self.dtmf.receive(timestamp, data[offset:offset + 4])
        except DtmfError as exc:
            log.warning("%s: bad telephone-event payload: %s", self.name, exc)
            return
        if digit is not None and self.on_digit is not None:
            self.on_digit(self, digit)

    # sending ----------------------------------------------------------------------------
    def send(self, packet: bytes, now: float) -> None:
        """Send a packet from any source to this leg's peer, with stream continuity."""
        destination = self.destination
        if destination is None or self.transport is None:
            return
        self.transport.sendto(self.stream.rewrite(packet, now), destination)
        self.sent += 1

    def relay_to(self, source: Leg, packet: bytes) -> None:
        """Forward a packet from the opposite leg (dropped while a player owns the leg).

        Used directly as the opposite leg's `sink`, so a relayed packet costs one call here
        and one in `OutboundStream.rewrite`.
        """
        destination = self.destination
        if self.muted or destination is None or self.transport is None:
            return
        if source.raw:
            self.transport.sendto(packet, destination)
        else:
            self.transport.sendto(self.stream.rewrite(packet, self._clock.now), destination)
        self.sent += 1

    def rtcp_received(self, data: bytes, addr: Any) -> None:
        if len(data) < 8 or data[0] & 0xC0 != 0x80:
            self.rtcp_garbage += 1
            if _should_log(self.rtcp_garbage):
                log.warning("%s: dropped %d-octet datagram from %s:%s on port %d: not RTCP "
                            "(%d so far)", self.name, len(data), addr[0], addr[1],
                            self.local_port + 1, self.rtcp_garbage)
            return
        if addr != self.latched_rtcp and not self._latch(addr, rtcp=True):
            return
        opposite = self.rtcp_peer
        if opposite is not None:
            opposite.send_rtcp(data)

    rtcp_peer: Leg | None = None

    def send_rtcp(self, data: bytes, *, muxed: bool = False) -> None:
        """Send RTCP to this leg's peer: to its RTCP port, or with `muxed` (the packet came
        multiplexed on the other side's RTP port) to its RTP address from the RTP socket."""
        transport = self.transport if muxed else self.rtcp_transport
        destination = self.destination if muxed else self.rtcp_destination
        if destination is None or transport is None:
            return
        ssrc = self.stream.ssrc
        if ssrc is not None and not self.stream.passthrough:
            buffer = bytearray(data)
            rewrite_sender_ssrc(buffer, ssrc)
            transport.sendto(buffer, destination)
        else:
            transport.sendto(data, destination)

    def close(self) -> None:
        for transport in (self.transport, self.rtcp_transport):
            if transport is not None:
                transport.close()
        self.transport = self.rtcp_transport = None
        self.sink = self.tap = self.on_digit = None
        self.rtcp_peer = None

    def rtcp_protocol(self) -> asyncio.DatagramProtocol:
        return _RtcpProtocol(self)

    def counters(self) -> dict[str, Any]:
        return {"received": self.received, "sent": self.sent, "garbage": self.garbage,
                "rtcp_garbage": self.rtcp_garbage,
                "wrong_source": self.wrong_source,
                "latched": f"{self.latched[0]}:{self.latched[1]}" if self.latched else None}
