"""RTCP packets (RFC 3550 §6.4-6.6), pure: compound parse and serialize.

Sender and receiver reports with their report blocks, SDES (CNAME and the other items),
BYE; other packet types (APP, RTPFB, ...) are kept as `RtcpUnknown` with their raw body so a
relay can forward a compound packet it does not understand.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

__all__ = [
    "ReportBlock",
    "RtcpBye",
    "RtcpError",
    "RtcpPacket",
    "RtcpReceiverReport",
    "RtcpSdes",
    "RtcpSenderReport",
    "RtcpUnknown",
    "parse_compound",
    "rewrite_sender_ssrc",
    "serialize_compound",
]

SR, RR, SDES, BYE = 200, 201, 202, 203
_HEADER = struct.Struct("!BBH")
_REPORT_BLOCK = struct.Struct("!IIIIII")
_SENDER_INFO = struct.Struct("!IIIII")


class RtcpError(ValueError):
    """A datagram that is not a well-formed RTCP compound packet."""


@dataclass(slots=True)
class ReportBlock:
    """§6.4.1 report block: reception statistics about one source."""

    ssrc: int
    fraction_lost: int
    packets_lost: int  # cumulative, 24-bit signed
    highest_sequence: int
    jitter: int
    last_sr: int
    delay_since_last_sr: int

    def pack(self) -> bytes:
        lost = self.packets_lost & 0xFFFFFF
        return _REPORT_BLOCK.pack(self.ssrc, (self.fraction_lost & 0xFF) << 24 | lost,
                                  self.highest_sequence, self.jitter, self.last_sr,
                                  self.delay_since_last_sr)

    @classmethod
    def unpack(cls, data: bytes, offset: int) -> ReportBlock:
        ssrc, lost_word, highest, jitter, lsr, dlsr = _REPORT_BLOCK.unpack_from(data, offset)
        lost = lost_word & 0xFFFFFF
        if lost & 0x800000:
            lost -= 0x1000000
        return cls(ssrc, lost_word >> 24, lost, highest, jitter, lsr, dlsr)


@dataclass(slots=True)
class RtcpSenderReport:
    """§6.4.1 SR."""

    ssrc: int
    ntp_timestamp: int
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: list[ReportBlock] = field(default_factory=list)


@dataclass(slots=True)
class RtcpReceiverReport:
    """§6.4.2 RR."""

    ssrc: int
    reports: list[ReportBlock] = field(default_factory=list)


@dataclass(slots=True)
class RtcpSdes:
    """§6.5 SDES: per source, a list of (item type, value); type 1 is CNAME."""

    chunks: list[tuple[int, list[tuple[int, bytes]]]] = field(default_factory=list)


@dataclass(slots=True)
class RtcpBye:
    """§6.6 BYE."""

    sources: list[int] = field(default_factory=list)
    reason: bytes = b""


@dataclass(slots=True)
class RtcpUnknown:
    """Any other packet type, kept raw (count field and body after the 4-octet header)."""

    packet_type: int
    count: int
    body: bytes


RtcpPacket = RtcpSenderReport | RtcpReceiverReport | RtcpSdes | RtcpBye | RtcpUnknown


def _blocks(data: bytes, offset: int, count: int, end: int) -> list[ReportBlock]:
    if offset + count * _REPORT_BLOCK.size > end:
        raise RtcpError(f"{count} report blocks do not fit the packet")
    return [ReportBlock.unpack(data, offset + i * _REPORT_BLOCK.size) for i in range(count)]


def _parse_sdes(body: bytes, count: int) -> RtcpSdes:
    chunks: list[tuple[int, list[tuple[int, bytes]]]] = []
    offset = 0
    for _ in range(count):
        if offset + 4 > len(body):
            raise RtcpError("SDES chunk truncated")
        (ssrc,) = struct.unpack_from("!I", body, offset)
        offset += 4
        items: list[tuple[int, bytes]] = []
        while True:
            if offset >= len(body):
                raise RtcpError("SDES chunk without its terminating null item")
            item_type = body[offset]
            if item_type == 0:  # end of the chunk, padded to a 32-bit boundary
                offset = (offset + 4) & ~3
                break
            if offset + 2 > len(body) or offset + 2 + body[offset + 1] > len(body):
                raise RtcpError("SDES item overruns the packet")
            length = body[offset + 1]
            items.append((item_type, body[offset + 2:offset + 2 + length]))
            offset += 2 + length
        chunks.append((ssrc, items))
    return RtcpSdes(chunks)


def parse_compound(data: bytes | bytearray | memoryview) -> list[RtcpPacket]:
    """Every packet of a compound RTCP datagram (§6.1); raise `RtcpError` if malformed."""
    data = bytes(data)
    if len(data) < 4:
        raise RtcpError(f"RTCP datagram of {len(data)} octets is shorter than a header")
    packets: list[RtcpPacket] = []
    offset = 0
    while offset < len(data):
        if offset + 4 > len(data):
            raise RtcpError("trailing octets after the last RTCP packet")
        first, packet_type, words = _HEADER.unpack_from(data, offset)
        if first >> 6 != 2:
            raise RtcpError(f"RTCP version {first >> 6}, expected 2")
        end = offset + 4 * (words + 1)
        if end > len(data):
            raise RtcpError(f"RTCP packet length {4 * (words + 1)} overruns the datagram")
        count = first & 0x1F
        body_end = end - (data[end - 1] if first & 0x20 else 0)
        body = data[offset + 4:body_end]
        if packet_type == SR:
            if len(body) < 24:
                raise RtcpError("SR shorter than its sender info")
            ssrc = struct.unpack_from("!I", body)[0]
            ntp_hi, ntp_lo, rtp_ts, pkts, octets = _SENDER_INFO.unpack_from(body, 4)
            packets.append(RtcpSenderReport(ssrc, ntp_hi << 32 | ntp_lo, rtp_ts, pkts, octets,
                                            _blocks(body, 24, count, len(body))))
        elif packet_type == RR:
            if len(body) < 4:
                raise RtcpError("RR without its sender SSRC")
            packets.append(RtcpReceiverReport(struct.unpack_from("!I", body)[0],
                                              _blocks(body, 4, count, len(body))))
        elif packet_type == SDES:
            packets.append(_parse_sdes(body, count))
        elif packet_type == BYE:
            if len(body) < 4 * count:
                raise RtcpError("BYE lists more sources than it holds")
            sources = list(struct.unpack_from(f"!{count}I", body))
            reason = b""
            if len(body) > 4 * count:
                length = body[4 * count]
                reason = body[4 * count + 1:4 * count + 1 + length]
            packets.append(RtcpBye(sources, reason))
        else:
            packets.append(RtcpUnknown(packet_type, count, body))
        offset = end
    return packets


def _with_header(packet_type: int, count: int, body: bytes) -> bytes:
    if len(body) % 4:
        body += bytes(4 - len(body) % 4)
    return _HEADER.pack(0x80 | count, packet_type, len(body) // 4) + body


def _serialize_one(packet: RtcpPacket) -> bytes:
    if isinstance(packet, RtcpSenderReport):
        body = struct.pack("!I", packet.ssrc) + _SENDER_INFO.pack(
            packet.ntp_timestamp >> 32 & 0xFFFFFFFF, packet.ntp_timestamp & 0xFFFFFFFF,
            packet.rtp_timestamp & 0xFFFFFFFF, packet.packet_count & 0xFFFFFFFF,
            packet.octet_count & 0xFFFFFFFF)
        return _with_header(SR, len(packet.reports),
                            body + b"".join(b.pack() for b in packet.reports))
    if isinstance(packet, RtcpReceiverReport):
        body = struct.pack("!I", packet.ssrc) + b"".join(b.pack() for b in packet.reports)
        return _with_header(RR, len(packet.reports), body)
    if isinstance(packet, RtcpSdes):
        chunks = []
        for ssrc, items in packet.chunks:
            chunk = struct.pack("!I", ssrc) + b"".join(
                bytes([kind, len(value)]) + value for kind, value in items) + b"\x00"
            chunks.append(chunk + bytes(-len(chunk) % 4))
        return _with_header(SDES, len(packet.chunks), b"".join(chunks))
    if isinstance(packet, RtcpBye):
        body = struct.pack(f"!{len(packet.sources)}I", *packet.sources)
        if packet.reason:
            body += bytes([len(packet.reason)]) + packet.reason
        return _with_header(BYE, len(packet.sources), body)
    return _with_header(packet.packet_type, packet.count, packet.body)


def serialize_compound(packets: list[RtcpPacket]) -> bytes:
    """One compound datagram of `packets` (§6.1), each padded to a 32-bit boundary."""
    if any(len(getattr(p, "reports", ())) > 31 for p in packets):
        raise RtcpError("at most 31 report blocks fit one packet")
    return b"".join(_serialize_one(p) for p in packets)


def rewrite_sender_ssrc(buffer: bytearray, ssrc: int) -> None:
    """Put `ssrc` as the sender SSRC of the first packet (SR/RR), in place, for the relay."""
    if len(buffer) >= 8 and buffer[1] in (SR, RR):
        struct.pack_into("!I", buffer, 4, ssrc & 0xFFFFFFFF)
