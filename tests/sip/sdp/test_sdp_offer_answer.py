"""Offer/answer (RFC 3264): answers, directions, rejections, negotiation results."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from ssw.sip.sdp import (
    ANSWER_DIRECTION,
    Codec,
    Connection,
    Direction,
    MediaCapabilities,
    Origin,
    SdpError,
    SessionDescription,
    answer_direction,
    build_answer,
    build_offer,
    negotiate,
)

DATA = Path(__file__).parent / "data"
ORIGIN = Origin("ssw", "4242", 1, "IN", "IP4", "192.0.2.10")
PCMA = Codec(8, "PCMA", 8000)
PCMU = Codec(0, "PCMU", 8000)
DTMF = Codec(101, "telephone-event", 8000, None, "0-15")
G729 = Codec(18, "G729", 8000)
AUDIO = MediaCapabilities(codecs=(PCMA, PCMU, DTMF))


def load(name: str) -> SessionDescription:
    return SessionDescription.parse((DATA / name).read_bytes())


def answer_to(offer: SessionDescription, *caps: MediaCapabilities) -> SessionDescription:
    return build_answer(
        offer,
        caps or (AUDIO,),
        address="192.0.2.10",
        ports=[40000 + 2 * i for i in range(len(offer.media))],
        origin=ORIGIN,
    )


def test_answer_to_baresip_keeps_offerer_order_and_payload_types() -> None:
    offer = load("baresip_offer.sdp")
    before = offer.serialize()
    answer = answer_to(offer)
    assert offer.serialize() == before  # the offer is not touched
    (audio,) = answer.media
    # Offered 96 9 0 8 101; shared: PCMU, PCMA (offer order, not local order) and DTMF.
    assert audio.formats == ["0", "8", "101"]
    assert audio.port == 40000
    assert answer.connection == Connection("192.0.2.10")
    assert audio.fmtps() == {"101": "0-15"}
    assert audio.direction is Direction.SENDRECV
    assert answer.origin == ORIGIN
    text = answer.to_text()
    assert "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000" in (
        text
    )


def test_answer_uses_offered_dynamic_payload_type_for_telephone_event() -> None:
    offer = load("polycom_offer.sdp")  # telephone-event is 127 there
    (audio,) = answer_to(offer).media
    assert audio.formats == ["0", "8", "127"]
    assert audio.codecs()[-1] == Codec(127, "telephone-event", 8000, None, "0-15")


def test_telephone_event_dropped_when_not_supported_locally() -> None:
    offer = load("baresip_offer.sdp")
    (audio,) = answer_to(offer, MediaCapabilities(codecs=(PCMA,))).media
    assert audio.formats == ["8"]


def test_telephone_event_alone_is_not_a_codec() -> None:
    offer = load("baresip_offer.sdp")
    (audio,) = answer_to(offer, MediaCapabilities(codecs=(G729, DTMF))).media
    assert audio.is_rejected
    assert audio.formats == offer.media[0].formats


def test_single_codec_answer() -> None:
    offer = load("cisco_offer.sdp")
    caps = MediaCapabilities(codecs=(PCMA, PCMU, G729, DTMF), max_codecs=1, ptime=20)
    audio, video = answer_to(offer, caps).media
    assert audio.formats == ["0", "101"]  # PCMU is first in the offer
    assert audio.ptime == 20
    assert video.is_rejected and video.media == "video" and video.port == 0


def test_local_fmtp_replaces_the_offered_one() -> None:
    offer = load("polycom_offer.sdp")
    caps = MediaCapabilities(codecs=(Codec(18, "g729", 8000, None, "annexb=yes"),))
    (audio,) = answer_to(offer, caps).media
    assert audio.fmtps() == {"18": "annexb=yes"}


def test_rejections_keep_one_line_per_offered_stream() -> None:
    offer = load("rfc4566_example.sdp")  # audio PCMU + video h263 on multicast
    answer = answer_to(offer)
    assert len(answer.media) == 2
    audio, video = answer.media
    assert audio.formats == ["0"] and not audio.is_rejected
    assert video.is_rejected and video.formats == ["99"]
    # The offer was recvonly at session level: the answer sends only.
    assert audio.direction is Direction.SENDONLY


def test_offered_port_zero_stays_rejected() -> None:
    offer = load("sipp_offer.sdp")
    offer.media[0].port = 0
    assert answer_to(offer).media[0].is_rejected


def test_unknown_transport_is_rejected() -> None:
    offer = load("sipp_offer.sdp")
    offer.media[0].proto = "RTP/SAVP"
    assert answer_to(offer).media[0].is_rejected
    srtp = MediaCapabilities(codecs=(PCMU,), protos=("RTP/AVP", "RTP/SAVP"))
    assert not answer_to(offer, srtp).media[0].is_rejected


def test_ports_must_cover_every_stream() -> None:
    with pytest.raises(SdpError, match="2 streams offered but 1"):
        build_answer(
            load("cisco_offer.sdp"), [AUDIO], address="192.0.2.10", ports=[4000], origin=ORIGIN
        )


def test_ipv6_answer_address() -> None:
    answer = build_answer(
        load("sipp_offer.sdp"), [AUDIO], address="2001:db8::10", ports=[4000], origin=ORIGIN
    )
    assert answer.connection == Connection("2001:db8::10", "IP6")


# -- directions (RFC 3264 §6.1) ---------------------------------------------------------


def test_direction_table_is_complete_and_follows_the_rule() -> None:
    for offered, wanted in itertools.product(Direction, Direction):
        answered = ANSWER_DIRECTION[(offered, wanted)]
        # The answerer sends only if the offerer receives and it wants to send; and so on.
        assert answered.sends == (offered.receives and wanted.sends)
        assert answered.receives == (offered.sends and wanted.receives)
    assert len(ANSWER_DIRECTION) == 16


@pytest.mark.parametrize(
    ("offered", "answered"),
    [
        ("sendrecv", Direction.SENDRECV),
        ("sendonly", Direction.RECVONLY),
        ("recvonly", Direction.SENDONLY),
        ("inactive", Direction.INACTIVE),
    ],
)
def test_answer_directions(offered: str, answered: Direction) -> None:
    offer = load("sipp_offer.sdp")
    offer.media[0].direction = Direction(offered)
    assert answer_to(offer).media[0].direction is answered


def test_rfc2543_hold_offer_is_answered_recvonly() -> None:
    offer = load("sipp_offer.sdp")
    offer.connection = Connection("0.0.0.0")
    assert answer_to(offer).media[0].direction is Direction.RECVONLY


def test_local_direction_restricts_the_answer() -> None:
    offer = load("sipp_offer.sdp")
    held = MediaCapabilities(codecs=(PCMU,), direction=Direction.SENDONLY)
    assert answer_to(offer, held).media[0].direction is Direction.SENDONLY
    assert answer_direction(Direction.SENDONLY, Direction.SENDONLY) is Direction.INACTIVE


# -- offers and negotiation -------------------------------------------------------------


def test_build_offer_assigns_payload_types() -> None:
    opus = Codec(0, "opus", 48000, 2)  # no static type: gets a dynamic one
    caps = MediaCapabilities(codecs=(PCMA, opus, Codec(13, "CN", 8000), DTMF), ptime=20)
    offer = build_offer([caps], address="192.0.2.10", ports=[5004], origin=ORIGIN)
    (audio,) = offer.media
    assert audio.formats == ["8", "96", "13", "101"]
    assert audio.codecs()[1] == Codec(96, "opus", 48000, 2)
    assert audio.fmtps() == {"101": "0-15"}
    again = SessionDescription.parse(offer.serialize())
    assert again == offer
    with pytest.raises(SdpError, match="ports"):
        build_offer([caps], address="192.0.2.10", ports=[], origin=ORIGIN)


def test_build_offer_refuses_too_many_dynamic_types() -> None:
    many = tuple(Codec(0, f"x{i}", 8000) for i in range(33))
    with pytest.raises(SdpError, match="dynamic payload types"):
        build_offer([MediaCapabilities(codecs=many)], address="192.0.2.1", ports=[1], origin=ORIGIN)


def test_negotiate_reports_what_each_stream_became() -> None:
    offer = load("cisco_offer.sdp")
    answer = answer_to(offer)
    audio, video = negotiate(offer, answer)
    assert audio.accepted and not video.accepted
    assert [c.encoding for c in audio.codecs] == ["PCMU", "PCMA", "telephone-event"]
    assert (audio.remote_address, audio.remote_port) == ("192.0.2.10", 40000)
    assert audio.direction is Direction.SENDRECV


def test_negotiate_rejects_a_broken_answer() -> None:
    offer = load("cisco_offer.sdp")
    answer = answer_to(offer)
    short = answer.copy()
    short.media.pop()
    with pytest.raises(SdpError, match="2 offered"):
        negotiate(offer, short)
    swapped = answer.copy()
    swapped.media[0].media = "video"
    with pytest.raises(SdpError, match="video answers audio"):
        negotiate(offer, swapped)
    foreign = answer.copy()
    foreign.media[0].formats = ["3"]
    with pytest.raises(SdpError, match="payload type 3 was not offered"):
        negotiate(offer, foreign)


def test_negotiate_with_a_real_peer_answer() -> None:
    # A baresip-style answer to the SIPp offer: PCMU only, its own ports and attributes.
    offer = load("sipp_offer.sdp")
    answer = SessionDescription.parse(
        "v=0\r\no=- 1 2 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n"
        "m=audio 7022 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\na=ptime:20\r\n"
    )
    (stream,) = negotiate(offer, answer)
    assert stream.codecs == (PCMU,)
    assert (stream.remote_address, stream.remote_port) == ("192.0.2.2", 7022)


@pytest.mark.parametrize(
    ("offered", "answered", "effective"),
    [
        (Direction.SENDRECV, Direction.SENDONLY, Direction.SENDONLY),
        (Direction.SENDONLY, Direction.RECVONLY, Direction.RECVONLY),
        # §6.1 violations are read as if the answer had obeyed:
        (Direction.SENDONLY, Direction.SENDRECV, Direction.RECVONLY),
        (Direction.RECVONLY, Direction.SENDRECV, Direction.SENDONLY),
        (Direction.INACTIVE, Direction.SENDRECV, Direction.INACTIVE),
    ],
)
def test_negotiated_direction_stays_within_the_offer(
    offered: Direction, answered: Direction, effective: Direction
) -> None:
    offer = load("sipp_offer.sdp")
    offer.media[0].direction = offered
    answer = answer_to(offer)
    answer.media[0].direction = answered
    (stream,) = negotiate(offer, answer)
    assert stream.direction is effective


def test_answer_holding_with_a_null_address_does_not_receive() -> None:
    offer = load("sipp_offer.sdp")
    answer = answer_to(offer)
    answer.connection = Connection("0.0.0.0")
    (stream,) = negotiate(offer, answer)
    assert stream.direction is Direction.SENDONLY
