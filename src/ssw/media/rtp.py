"""RTP packets (RFC 3550 §5.1), pure: parse, serialize, and in-place header rewriting.

The relay's hot path never builds an `RtpPacket`: it checks the fixed header with
`looks_like_rtp` and rewrites SSRC, sequence number and timestamp in the received buffer with
`rewrite_header`. `RtpPacket` is for the paths that look at the payload (players, recorders,
mixers, DTMF detection) and for tests.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

__all__ = [
    "RTP_HEADER_SIZE",
    "RTP_VERSION",
    "RtpError",
    "RtpPacket",
    "is_rtcp_packet_type",
    "looks_like_rtp",
    "read_header_fields",
    "rewrite_header",
]

RTP_VERSION = 2
RTP_HEADER_SIZE = 12
_FIXED = struct.Struct("!BBHII")
_SEQ_TS_SSRC = struct.Struct("!HII")


class RtpError(ValueError):
    """A datagram that is not a well-formed RTP packet; the message says what is wrong."""


def is_rtcp_packet_type(second_octet: int) -> bool:
    """RFC 5761 §4: payload types 72-76 (with the marker bit) are RTCP SR/RR/SDES/BYE/APP."""
    return 192 <= second_octet <= 223


def looks_like_rtp(data: bytes | bytearray | memoryview) -> bool:
    """Cheap test for the relay: version 2 and at least a fixed header (RFC 3550 §5.1)."""
    return len(data) >= RTP_HEADER_SIZE and (data[0] >> 6) == RTP_VERSION


def read_header_fields(data: bytes | bytearray | memoryview) -> tuple[int, int, int]:
    """(sequence number, timestamp, SSRC) of a datagram that `looks_like_rtp`."""
    seq, ts, ssrc = _SEQ_TS_SSRC.unpack_from(data, 2)
    return seq, ts, ssrc


def rewrite_header(buffer: bytearray, sequence: int, timestamp: int, ssrc: int) -> None:
    """Overwrite sequence number, timestamp and SSRC in place (octets 2-11)."""
    _SEQ_TS_SSRC.pack_into(buffer, 2, sequence & 0xFFFF, timestamp & 0xFFFFFFFF,
                           ssrc & 0xFFFFFFFF)


@dataclass(slots=True)
class RtpPacket:
    """One RTP packet. `csrcs` and the header extension are kept for a byte-exact round trip."""

    payload_type: int
    sequence_number: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrcs: list[int] = field(default_factory=list)
    extension_profile: int | None = None
    extension: bytes = b""
    padding: int = 0

    @classmethod
    def parse(cls, data: bytes | bytearray | memoryview) -> RtpPacket:
        """Parse a datagram; raise `RtpError` naming the first problem found."""
        data = bytes(data)
        if len(data) < RTP_HEADER_SIZE:
            raise RtpError(f"RTP packet of {len(data)} octets is shorter than the 12-octet header")
        first, second, seq, ts, ssrc = _FIXED.unpack_from(data)
        if first >> 6 != RTP_VERSION:
            raise RtpError(f"RTP version {first >> 6}, expected 2")
        if is_rtcp_packet_type(second):
            raise RtpError(f"packet type {second} is RTCP, not RTP (RFC 5761 §4)")
        offset = RTP_HEADER_SIZE
        csrc_count = first & 0x0F
        end_of_csrcs = offset + 4 * csrc_count
        if len(data) < end_of_csrcs:
            raise RtpError(f"{csrc_count} CSRCs announced but the packet ends first")
        csrcs = list(struct.unpack_from(f"!{csrc_count}I", data, offset))
        offset = end_of_csrcs
        profile: int | None = None
        extension = b""
        if first & 0x10:  # §5.3.1 header extension
            if len(data) < offset + 4:
                raise RtpError("header extension flag set but no extension header")
            profile, words = struct.unpack_from("!HH", data, offset)
            offset += 4
            if len(data) < offset + 4 * words:
                raise RtpError(f"header extension of {words} words overruns the packet")
            extension = data[offset:offset + 4 * words]
            offset += 4 * words
        end = len(data)
        padding = 0
        if first & 0x20:  # §5.1 P: last octet counts the padding octets, itself included
            padding = data[-1]
            if padding == 0 or offset + padding > end:
                raise RtpError(f"padding count {padding} does not fit the packet")
            end -= padding
        return cls(
            payload_type=second & 0x7F,
            sequence_number=seq,
            timestamp=ts,
            ssrc=ssrc,
            payload=data[offset:end],
            marker=bool(second & 0x80),
            csrcs=csrcs,
            extension_profile=profile,
            extension=extension,
            padding=padding,
        )

    def serialize(self) -> bytes:
        """The packet's octets (RFC 3550 §5.1)."""
        if not 0 <= self.payload_type <= 127:
            raise RtpError(f"payload type {self.payload_type} is outside 0-127")
        if len(self.csrcs) > 15:
            raise RtpError(f"{len(self.csrcs)} CSRCs; at most 15 fit the CC field")
        first = RTP_VERSION << 6 | len(self.csrcs)
        if self.padding:
            first |= 0x20
        if self.extension_profile is not None:
            first |= 0x10
        second = self.payload_type | (0x80 if self.marker else 0)
        parts = [
            _FIXED.pack(first, second, self.sequence_number & 0xFFFF,
                        self.timestamp & 0xFFFFFFFF, self.ssrc & 0xFFFFFFFF)
        ]
        if self.csrcs:
            parts.append(struct.pack(f"!{len(self.csrcs)}I", *self.csrcs))
        if self.extension_profile is not None:
            if len(self.extension) % 4:
                raise RtpError("header extension length must be a multiple of 4 octets")
            parts.append(struct.pack("!HH", self.extension_profile, len(self.extension) // 4))
            parts.append(self.extension)
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes([self.padding]))
        return b"".join(parts)
