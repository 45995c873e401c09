"""RTP (RFC 3550 §5.1) and RTCP (§6.4-6.6) round trips and refusals."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssw.media.rtcp import (
    ReportBlock,
    RtcpBye,
    RtcpError,
    RtcpPacket,
    RtcpReceiverReport,
    RtcpSdes,
    RtcpSenderReport,
    RtcpUnknown,
    parse_compound,
    rewrite_sender_ssrc,
    serialize_compound,
)
from ssw.media.rtp import (
    RtpError,
    RtpPacket,
    looks_like_rtp,
    read_header_fields,
    rewrite_header,
)

# A PCMU packet as a softphone sends it: marker set, 160 octets of µ-law silence.
CAPTURED = bytes.fromhex("8080 1f40 0000 a000 1234 5678") + b"\xff" * 160


def test_captured_packet_fields_and_exact_round_trip() -> None:
    packet = RtpPacket.parse(CAPTURED)
    assert (packet.payload_type, packet.marker, packet.sequence_number) == (0, True, 8000)
    assert (packet.timestamp, packet.ssrc, len(packet.payload)) == (0xA000, 0x12345678, 160)
    assert packet.serialize() == CAPTURED


@given(
    payload_type=st.integers(0, 127).filter(lambda pt: not 64 <= pt <= 95),  # RFC 5761 §4,
    seq=st.integers(0, 0xFFFF),
    ts=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    payload=st.binary(max_size=200),
    marker=st.booleans(),
    csrcs=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15),
    extension=st.one_of(st.none(), st.binary(max_size=12).map(lambda b: b + bytes(-len(b) % 4))),
    padding=st.integers(0, 8),
)
def test_round_trip(payload_type: int, seq: int, ts: int, ssrc: int, payload: bytes,
                    marker: bool, csrcs: list[int], extension: bytes | None,
                    padding: int) -> None:
    packet = RtpPacket(payload_type, seq, ts, ssrc, payload, marker, csrcs,
                       None if extension is None else 0xBEDE, extension or b"", padding)
    assert RtpPacket.parse(packet.serialize()) == packet


@given(st.binary(max_size=64))
def test_garbage_is_refused_with_rtp_error_only(data: bytes) -> None:
    with contextlib.suppress(RtpError):
        RtpPacket.parse(data)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x80\x00\x00", "shorter than the 12-octet header"),
        (b"\x40" + bytes(11), "version 1"),
        (b"\x8f" + bytes(11), "15 CSRCs"),
        (b"\xa0\x00" + bytes(9) + b"\x20", "padding count 32"),
        (b"\x80\xc8" + bytes(10), "RTCP"),
    ],
)
def test_refusals_say_what_is_wrong(data: bytes, reason: str) -> None:
    with pytest.raises(RtpError, match=reason):
        RtpPacket.parse(data)


def test_in_place_rewrite_of_sequence_timestamp_ssrc() -> None:
    buffer = bytearray(CAPTURED)
    assert looks_like_rtp(buffer)
    rewrite_header(buffer, 0x1_0005, 7, 9)
    assert read_header_fields(buffer) == (5, 7, 9)
    assert buffer[12:] == CAPTURED[12:]
    assert not looks_like_rtp(b"\x00" * 20)


def test_rtcp_compound_round_trip() -> None:
    block = ReportBlock(0xAABBCCDD, 12, -3, 70000, 45, 0x11112222, 655)
    packets: list[RtcpPacket] = [
        RtcpSenderReport(1, 0x0123456789ABCDEF, 160, 10, 1600, [block]),
        RtcpSdes([(1, [(1, b"user@host"), (6, b"ssw")])]),
        RtcpReceiverReport(2, []),
        RtcpBye([1, 2], b"hangup"),
        RtcpUnknown(204, 3, b"abcdnamedata"),
    ]
    data = serialize_compound(packets)
    assert len(data) % 4 == 0
    assert parse_compound(data) == packets
    buffer = bytearray(data)
    rewrite_sender_ssrc(buffer, 77)
    first = parse_compound(buffer)[0]
    assert isinstance(first, RtcpSenderReport) and first.ssrc == 77


@given(st.binary(max_size=80))
def test_rtcp_garbage_raises_rtcp_error_only(data: bytes) -> None:
    with contextlib.suppress(RtcpError):
        parse_compound(data)


def test_rtcp_truncated_length_refused() -> None:
    data = serialize_compound([RtcpReceiverReport(5, [])])
    with pytest.raises(RtcpError, match="overruns"):
        parse_compound(data[:-1] + b"")
