"""Hold and resume (RFC 3264 §8.4), o= versions (§8), the relay rewrite."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssw.sip.sdp import (
    HOLD_DIRECTION,
    ICE_ATTRIBUTES,
    Attribute,
    Connection,
    Direction,
    HoldStyle,
    SdpError,
    SessionDescription,
    bump_version,
    is_on_hold,
    is_stream_on_hold,
    make_hold_offer,
    make_resume_offer,
    next_version,
    rewrite_for_relay,
)

DATA = Path(__file__).parent / "data"


def load(name: str) -> SessionDescription:
    return SessionDescription.parse((DATA / name).read_bytes())


def test_hold_rule_of_rfc3264() -> None:
    assert HOLD_DIRECTION[Direction.SENDRECV] is Direction.SENDONLY
    assert HOLD_DIRECTION[Direction.RECVONLY] is Direction.INACTIVE
    for before, after in HOLD_DIRECTION.items():
        assert not after.receives and after.sends == before.sends


def test_hold_and_resume_round_trip() -> None:
    sdp = load("baresip_offer.sdp")
    original = sdp.serialize()
    assert not is_on_hold(sdp)
    held = make_hold_offer(sdp)
    assert sdp.serialize() == original
    assert held.media[0].direction is Direction.SENDONLY
    assert held.origin.session_version == sdp.origin.session_version + 1
    assert is_on_hold(held)
    resumed = make_resume_offer(held)
    assert resumed.media[0].direction is Direction.SENDRECV
    assert resumed.origin.session_version == sdp.origin.session_version + 2
    assert not is_on_hold(resumed)
    # Apart from the version, resuming gives back the SDP from before the hold.
    resumed.origin.session_version = sdp.origin.session_version
    assert resumed.serialize() == original


def test_hold_of_a_session_level_direction() -> None:
    sdp = load("polycom_offer.sdp")  # a=sendrecv at session level only
    held = make_hold_offer(sdp)
    assert held.media[0].direction is Direction.SENDONLY
    assert held.effective_direction(held.media[0]) is Direction.SENDONLY
    assert is_on_hold(held)


def test_hold_styles() -> None:
    sdp = load("sipp_offer.sdp")
    sdp.media[0].direction = Direction.RECVONLY
    assert make_hold_offer(sdp).media[0].direction is Direction.INACTIVE
    inactive = make_hold_offer(load("sipp_offer.sdp"), HoldStyle.INACTIVE)
    assert inactive.media[0].direction is Direction.INACTIVE
    legacy = make_hold_offer(load("sipp_offer.sdp"), HoldStyle.NULL_ADDRESS)
    assert legacy.connection == Connection("0.0.0.0")
    assert legacy.media[0].direction is None
    assert is_on_hold(legacy)


def test_resume_from_rfc2543_hold_needs_the_address() -> None:
    legacy = make_hold_offer(load("sipp_offer.sdp"), HoldStyle.NULL_ADDRESS)
    with pytest.raises(SdpError, match=r"c=0\.0\.0\.0"):
        make_resume_offer(legacy)
    resumed = make_resume_offer(legacy, address="127.0.0.1")
    assert resumed.connection == Connection("127.0.0.1")
    assert not is_on_hold(resumed)


def test_ipv6_null_hold() -> None:
    sdp = SessionDescription.parse(
        "v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 0\r\n"
    )
    legacy = make_hold_offer(sdp, HoldStyle.NULL_ADDRESS)
    assert legacy.connection == Connection("::", "IP6")
    assert is_on_hold(legacy)


def test_rejected_streams_are_left_alone_by_hold() -> None:
    sdp = load("cisco_offer.sdp")
    sdp.media[1].port = 0
    held = make_hold_offer(sdp)
    assert held.media[1].direction is Direction.SENDRECV  # unchanged, still rejected
    assert is_on_hold(held)
    assert not is_stream_on_hold(sdp, sdp.media[0])


def test_no_active_stream_is_not_hold() -> None:
    sdp = load("sipp_offer.sdp")
    sdp.media[0].port = 0
    assert not is_on_hold(sdp)


def test_versions() -> None:
    sent = load("sipp_offer.sdp")
    assert bump_version(sent).origin.session_version == sent.origin.session_version + 1
    same = sent.copy()
    same.origin.session_id = "999"  # o= identity comes from the previous SDP anyway
    unchanged = next_version(sent, same)
    assert unchanged.origin == sent.origin
    changed = sent.copy()
    changed.media[0].port = 6002
    bumped = next_version(sent, changed)
    assert bumped.origin.session_version == sent.origin.session_version + 1
    assert bumped.origin.session_id == sent.origin.session_id
    assert changed.origin.session_version == sent.origin.session_version


def test_relay_rewrite_changes_addresses_and_ports_only() -> None:
    sdp = load("cisco_offer.sdp")
    relayed = rewrite_for_relay(sdp, address="198.51.100.7", ports=[30000, 30002])
    assert relayed.connection == Connection("198.51.100.7")
    assert relayed.origin.address == "198.51.100.7"
    assert [m.port for m in relayed.media] == [30000, 30002]
    assert relayed.media[0].attribute("rtcp") == "30001 IN IP4 198.51.100.7"
    assert relayed.origin.session_version == sdp.origin.session_version
    # Everything else is the same, line for line.
    before = sdp.to_text().splitlines()
    after = relayed.to_text().splitlines()
    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert [b[:2] for b, _ in changed] == ["o=", "c=", "m=", "a=", "m="]
    assert sdp.media[0].port == 24580  # the input is untouched


def test_relay_rewrite_details() -> None:
    sdp = SessionDescription.parse(
        "v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
        "a=ice-lite\r\n"
        "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.0.2.5\r\na=rtcp:4000\r\na=rtcp-mux\r\n"
        "a=candidate:1 1 UDP 2130706431 192.0.2.5 4000 typ host\r\n"
        "m=video 0 RTP/AVP 31\r\n"
        "m=audio 5000 RTP/AVP 8\r\n"
    )
    relayed = rewrite_for_relay(
        sdp, address="2001:db8::7", ports=[30000, 30002, None], origin_address=False, strip_ice=True
    )
    assert relayed.origin.address == "192.0.2.5"
    assert relayed.connection == Connection("0.0.0.0")  # a null (hold) address stays null
    first, rejected, kept = relayed.media
    assert first.connections == [Connection("2001:db8::7", "IP6")]
    assert first.attribute("rtcp") == "30000"  # multiplexed RTCP stays on the RTP port
    assert not any(a.name in ICE_ATTRIBUTES for a in first.attributes)
    assert not relayed.has_attribute("ice-lite")
    assert rejected.port == 0
    assert kept.port == 5000
    with pytest.raises(SdpError, match="relay ports"):
        rewrite_for_relay(sdp, address="192.0.2.1", ports=[1])


def test_relay_rewrite_keeps_ice_unless_asked() -> None:
    sdp = load("sipp_offer.sdp")
    sdp.media[0].attributes.append(Attribute("ice-ufrag", "abcd"))
    relayed = rewrite_for_relay(sdp, address="192.0.2.1", ports=[7000])
    assert relayed.media[0].attribute("ice-ufrag") == "abcd"
