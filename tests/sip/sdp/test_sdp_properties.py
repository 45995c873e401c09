"""Property tests: any description the model can hold survives serialise → parse exactly."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from ssw.sip.sdp import (
    Attribute,
    Bandwidth,
    Connection,
    Direction,
    MediaCapabilities,
    MediaDescription,
    Origin,
    SdpError,
    SessionDescription,
    Timing,
    build_answer,
    negotiate,
)
from ssw.sip.sdp.fields import Codec

# A field that sits between single spaces: printable, no space, no line break.
word = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters="\x7f"),
    min_size=1,
    max_size=12,
)
# A free-text value (s=, i=, a= value): anything but CR, LF and NUL.
free_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\0"),
    max_size=30,
)
number = st.integers(min_value=0, max_value=2**40)
letters = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=10)

connections = st.builds(
    Connection,
    address=st.sampled_from(["192.0.2.1", "2001:db8::1", "0.0.0.0", "host.example", "224.2.1.1"]),
    addr_type=st.sampled_from(["IP4", "IP6"]),
    net_type=st.just("IN"),
    multicast_suffix=st.sampled_from(["", "/127", "/127/3"]),
)
bandwidths = st.builds(Bandwidth, bw_type=st.sampled_from(["AS", "CT", "TIAS"]), bandwidth=number)
attributes = st.builds(
    Attribute,
    name=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12),
    value=st.none() | free_text,
)
media_descriptions = st.builds(
    MediaDescription,
    media=st.sampled_from(["audio", "video", "image", "application"]),
    port=st.integers(min_value=0, max_value=65535),
    proto=st.sampled_from(["RTP/AVP", "RTP/SAVP", "udptl", "UDP/TLS/RTP/SAVPF"]),
    formats=st.lists(
        st.integers(min_value=0, max_value=127).map(str) | st.just("t38"), min_size=1, max_size=8
    ),
    port_count=st.none() | st.integers(min_value=1, max_value=8),
    title=st.none() | free_text,
    connections=st.lists(connections, max_size=2),
    bandwidths=st.lists(bandwidths, max_size=2),
    key=st.none() | free_text,
    attributes=st.lists(attributes, max_size=6),
    extra_lines=st.lists(free_text.map(lambda v: "x=" + v), max_size=2),
)
sessions = st.builds(
    SessionDescription,
    origin=st.builds(
        Origin,
        username=word,
        session_id=number.map(str),
        session_version=number,
        net_type=st.just("IN"),
        addr_type=st.sampled_from(["IP4", "IP6"]),
        address=word,
    ),
    session_name=st.none() | free_text,
    information=st.none() | free_text,
    uri=st.none() | free_text,
    emails=st.lists(free_text, max_size=2),
    phones=st.lists(free_text, max_size=2),
    connection=st.none() | connections,
    bandwidths=st.lists(bandwidths, max_size=2),
    timings=st.lists(
        st.builds(Timing, start=number, stop=number, repeats=st.lists(free_text, max_size=2)),
        max_size=2,
    ),
    time_zones=st.none() | free_text,
    key=st.none() | free_text,
    attributes=st.lists(attributes, max_size=4),
    media=st.lists(media_descriptions, max_size=4),
    extra_lines=st.lists(free_text.map(lambda v: "y=" + v), max_size=2),
    line_ending=st.sampled_from(["\r\n", "\n"]),
)


@given(sessions)
@settings(max_examples=300, deadline=None)
def test_serialise_parse_round_trip(sdp: SessionDescription) -> None:
    data = sdp.serialize()
    parsed = SessionDescription.parse(data)
    assert parsed == sdp
    assert parsed.serialize() == data


@given(st.binary(max_size=400))
def test_parser_never_crashes_on_bytes(data: bytes) -> None:
    with contextlib.suppress(SdpError):
        SessionDescription.parse(b"v=0\r\no=- 1 1 IN IP4 h\r\n" + data)


@given(sessions)
@settings(deadline=None)
def test_answering_any_offer_gives_a_consistent_answer(offer: SessionDescription) -> None:
    caps = MediaCapabilities(
        codecs=(Codec(8, "PCMA", 8000), Codec(0, "PCMU", 8000), Codec(101, "telephone-event", 8000))
    )
    try:
        answer = build_answer(
            offer,
            [caps],
            address="192.0.2.10",
            ports=[4000] * len(offer.media),
            origin=Origin("-", "1", 1, "IN", "IP4", "192.0.2.10"),
        )
    except SdpError:
        return  # an offer with a malformed rtpmap: a clear error is the right answer
    assert len(answer.media) == len(offer.media)
    for stream in negotiate(offer, answer):
        if stream.accepted:
            assert stream.codecs
            assert stream.direction in set(Direction)
    assert SessionDescription.parse(answer.serialize()) == answer


SESSION_GROUPS = ["s=-", "c=IN IP4 192.0.2.1", "b=AS:64", "t=0 0\r\nr=7d 1h 0 25h", "a=tool:x"]
MEDIA_GROUPS = ["c=IN IP4 192.0.2.2", "b=TIAS:64000", "a=rtpmap:8 PCMA/8000\r\na=ptime:20"]


@given(st.permutations(SESSION_GROUPS), st.permutations(MEDIA_GROUPS))
def test_any_order_of_line_types_round_trips(session: list[str], media: list[str]) -> None:
    text = "\r\n".join(
        ["v=0", "o=- 1 1 IN IP4 192.0.2.1", *session, "m=audio 4000 RTP/AVP 8", *media, ""]
    )
    sdp = SessionDescription.parse(text)
    assert sdp.to_text() == text
    assert sdp.media[0].ptime == 20 and sdp.connection == Connection("192.0.2.1")
