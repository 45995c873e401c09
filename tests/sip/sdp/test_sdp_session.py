"""SessionDescription: parsing, typed access, exact round trips, clear errors (RFC 4566).

Fixtures in data/: baresip_offer.sdp and sipp_offer.sdp are INVITE bodies captured on loopback
from baresip 1.0.0 and SIPp 3.6.1 (`sipp -sn uac`); polycom_offer.sdp and cisco_offer.sdp are
written in the style of those vendors' offers (many codecs, G.722.1 with fmtp, H.264 video,
a=rtcp); rfc4566_example.sdp is RFC 4566 §5's example, every line type in use.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest

from ssw.sip.sdp import (
    MAX_LINES,
    MAX_MEDIA,
    MAX_SDP_SIZE,
    Attribute,
    Bandwidth,
    Codec,
    Connection,
    Direction,
    MediaDescription,
    Origin,
    RtpMap,
    SdpError,
    SessionDescription,
)

DATA = Path(__file__).parent / "data"
FIXTURES = sorted(p.name for p in DATA.glob("*.sdp"))
BASE = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_fixtures_are_present() -> None:
    assert {"baresip_offer.sdp", "sipp_offer.sdp", "polycom_offer.sdp", "cisco_offer.sdp"} <= set(
        FIXTURES
    )


@pytest.mark.parametrize("name", FIXTURES)
def test_real_world_round_trip_is_exact(name: str) -> None:
    raw = load(name)
    sdp = SessionDescription.parse(raw)
    assert sdp.serialize() == raw
    assert SessionDescription.parse(raw.decode()) == sdp


def test_baresip_offer() -> None:
    sdp = SessionDescription.parse(load("baresip_offer.sdp"))
    assert sdp.origin.username == "-"
    assert sdp.attribute("tool") == "baresip 1.0.0"
    (audio,) = sdp.media
    assert (audio.media, audio.port, audio.proto) == ("audio", 7022, "RTP/AVP")
    assert audio.formats == ["96", "9", "0", "8", "101"]
    codecs = audio.codecs()
    assert codecs[0] == Codec(
        96, "opus", 48000, 2, "stereo=1;sprop-stereo=1;maxaveragebitrate=28000"
    )
    assert [c.encoding for c in codecs] == ["opus", "G722", "PCMU", "PCMA", "telephone-event"]
    assert codecs[-1].fmtp == "0-15"
    assert audio.ptime == 20
    assert audio.direction is Direction.SENDRECV
    assert sdp.effective_connection(audio) == Connection("192.0.2.2")


def test_sipp_offer() -> None:
    sdp = SessionDescription.parse(load("sipp_offer.sdp"))
    assert sdp.origin == Origin("user1", "53655765", 2353687637, "IN", "IP4", "127.0.0.1")
    assert sdp.media[0].codecs() == [Codec(0, "PCMU", 8000)]
    assert sdp.effective_direction(sdp.media[0]) is Direction.SENDRECV


def test_cisco_offer_with_video() -> None:
    sdp = SessionDescription.parse(load("cisco_offer.sdp"))
    assert sdp.bandwidths == [Bandwidth("TIAS", 6000000), Bandwidth("AS", 6000)]
    audio, video = sdp.media
    assert len(audio.codecs()) == 8
    assert audio.rtpmaps()[116] == RtpMap(116, "iLBC", 8000)
    assert video.codecs()[0].encoding == "H264"
    assert video.attribute_values("rtcp-fb") == ["* nack pli", "* ccm fir"]
    assert sdp.effective_direction(audio) is Direction.SENDRECV


def test_session_level_direction_applies_to_media() -> None:
    sdp = SessionDescription.parse(load("polycom_offer.sdp"))
    (audio,) = sdp.media
    assert audio.direction is None
    assert sdp.direction is Direction.SENDRECV
    assert sdp.effective_direction(audio) is Direction.SENDRECV
    assert audio.codecs()[1] == Codec(102, "G7221", 16000, None, "bitrate=32000")


def test_every_line_type_of_rfc4566() -> None:
    sdp = SessionDescription.parse(load("rfc4566_example.sdp"))
    assert sdp.information == "A Seminar on the session description protocol"
    assert sdp.uri == "http://www.example.com/seminars/sdp.pdf"
    assert sdp.emails == ["j.doe@example.com (Jane Doe)"]
    assert sdp.phones == ["+1 617 555-6011"]
    assert sdp.connection == Connection("224.2.17.12", "IP4", "IN", "/127")
    assert sdp.timings[0].repeats == ["604800 3600 0 90000"]
    assert sdp.time_zones == "2882844526 -1h 2898848070 0"
    assert sdp.key == "prompt"
    audio, video = sdp.media
    assert audio.title == "Audio stream"
    assert (video.port, video.port_count) == (51372, 2)
    assert video.key == "prompt"
    assert video.bandwidths == [Bandwidth("AS", 256)]
    assert sdp.effective_direction(video) is Direction.RECVONLY


def test_lf_line_endings_are_kept() -> None:
    text = load("sipp_offer.sdp").decode().replace("\r\n", "\n")
    sdp = SessionDescription.parse(text)
    assert sdp.line_ending == "\n"
    assert sdp.to_text() == text


def test_unknown_lines_and_attributes_are_kept() -> None:
    text = (
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
        "a=x-vendor:some thing\r\ny=unknown session line\r\n"
        "m=audio 4000 RTP/AVP 0\r\na=x-flag\r\na=empty:\r\nx=unknown media line\r\n"
    )
    sdp = SessionDescription.parse(text)
    assert sdp.extra_lines == ["y=unknown session line"]
    assert sdp.media[0].extra_lines == ["x=unknown media line"]
    assert sdp.media[0].attributes == [Attribute("x-flag"), Attribute("empty", "")]
    assert sdp.to_text() == text


def test_attribute_helpers_keep_positions() -> None:
    sdp = SessionDescription.parse(load("baresip_offer.sdp"))
    audio = sdp.media[0]
    position = [a.name for a in audio.attributes].index("sendrecv")
    audio.direction = Direction.SENDONLY
    assert audio.attributes[position] == Attribute("sendonly")
    audio.set_attribute("ptime", "30")
    assert audio.attribute_values("ptime") == ["30"]
    audio.remove_attributes("ssrc")
    assert not audio.has_attribute("ssrc")
    audio.direction = None
    assert audio.direction is None and sdp.effective_direction(audio) is Direction.SENDRECV
    audio.set_attribute("rtcp-mux")
    assert audio.attributes[-1] == Attribute("rtcp-mux")


def test_minimal_description_is_built_and_parsed() -> None:
    sdp = SessionDescription(origin=Origin("-", "1", 1, "IN", "IP4", "192.0.2.1"))
    assert sdp.to_text() == "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
    assert SessionDescription.parse(sdp.serialize()) == sdp


def test_lenient_reading_of_common_deviations() -> None:
    # No s= and no t= (seen from old gateways), a trailing blank line, no final newline.
    text = "v=0\no=- 1 1 IN IP4 192.0.2.1\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 8\n\n"
    sdp = SessionDescription.parse(text)
    assert sdp.session_name is None and sdp.timings == []
    assert sdp.media[0].codecs() == [Codec(8, "PCMA", 8000)]
    assert SessionDescription.parse(text.rstrip("\n")) == sdp


def test_rejected_stream_and_formats_without_rtpmap() -> None:
    text = BASE + "m=video 0 RTP/AVP 31 98\r\nm=image 0 udptl t38\r\n"
    sdp = SessionDescription.parse(text)
    video, image = sdp.media
    assert video.is_rejected and image.is_rejected
    assert video.codecs() == [Codec(31, "H261", 90000), Codec(98, "", 0)]
    assert image.codecs() == []
    assert sdp.to_text() == text


def test_copy_is_deep() -> None:
    sdp = SessionDescription.parse(load("baresip_offer.sdp"))
    clone = sdp.copy()
    clone.media[0].port = 1
    clone.origin.session_version += 1
    assert sdp.media[0].port == 7022
    assert sdp != clone


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.sdp")))
def test_copy_equals_a_deepcopy_and_shares_nothing_mutable(name: str) -> None:
    sdp = SessionDescription.parse(load(name))
    clone = sdp.copy()
    assert clone == copy.deepcopy(sdp)
    assert clone.line_order == sdp.line_order and clone.to_text() == sdp.to_text()
    for original, copied in _mutable_parts(sdp, clone):
        assert original is not copied


def test_copy_knows_every_field() -> None:
    # `copy` is written field by field: a new field must be added there too.
    assert [f.name for f in dataclasses.fields(SessionDescription)] == [
        "origin", "session_name", "version", "information", "uri", "emails", "phones",
        "connection", "bandwidths", "timings", "time_zones", "key", "attributes", "media",
        "extra_lines", "line_ending", "line_order"]
    assert [f.name for f in dataclasses.fields(MediaDescription)] == [
        "media", "port", "proto", "formats", "port_count", "title", "connections",
        "bandwidths", "key", "attributes", "extra_lines", "line_order"]


def _mutable_parts(a: object, b: object) -> list[tuple[object, object]]:
    """Pairs of lists and dataclass instances found at the same place in `a` and `b`."""
    if isinstance(a, list) and isinstance(b, list):
        pairs: list[tuple[object, object]] = [(a, b)]
        for x, y in zip(a, b, strict=True):
            pairs += _mutable_parts(x, y)
        return pairs
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        pairs = [(a, b)]
        for f in dataclasses.fields(a):
            pairs += _mutable_parts(getattr(a, f.name), getattr(b, f.name))
        return pairs
    return []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("\r\n\r\n", "empty"),
        ("v=1\r\n", "start with 'v=0'"),
        ("o=- 1 1 IN IP4 h\r\nv=0\r\n", "start with 'v=0'"),
        ("v=0\r\ns=-\r\n", "no o= line"),
        ("v=0\r\no=- 1 IN IP4 h\r\n", "line 2: o= needs 6 space-separated fields"),
        ("v=0\r\no=- 1 x IN IP4 h\r\n", "session version must be a decimal"),
        ("v=0\r\no=- 1 1 IN IP4 h extra\r\n", "6 space-separated fields"),
        (BASE + "v=0\r\n", "v= appears twice"),
        (BASE + "s=again\r\n", "s= appears twice"),
        (BASE + "garbage\r\n", "line 5: expected '<letter>=<value>'"),
        (BASE + "A=upper\r\n", "expected '<letter>=<value>'"),
        (BASE + "c=IN IP4\r\n", "c= needs 3 space-separated fields"),
        (BASE + "c=IN IP4 /127\r\n", "empty address"),
        (BASE + "b=AS\r\n", "<type>:<bandwidth>"),
        (BASE + "b=AS:lots\r\n", "bandwidth must be a decimal"),
        ("v=0\r\no=- 1 1 IN IP4 h\r\nr=1 2 3\r\n", "must follow a t= line"),
        (BASE + "t=now later\r\n", "start time"),
        (BASE + "a=\r\n", "no attribute name"),
        (BASE + "a=:value\r\n", "no attribute name"),
        (BASE + "m=audio\r\n", "m= needs"),
        (BASE + "m=audio 70000 RTP/AVP 0\r\n", "port 70000 is out of range"),
        (BASE + "m=audio x RTP/AVP 0\r\n", "port must be a decimal"),
        (BASE + "m=audio 4000/0 RTP/AVP 0\r\n", "port count 0"),
        (BASE + "m=audio 4000 RTP/AVP 0\r\no=- 1 1 IN IP4 h\r\n", "not allowed inside a media"),
        (BASE + "m=audio 4000 RTP/AVP 0\r\nt=0 0\r\n", "not allowed inside a media"),
        (BASE + "m=audio 4000 RTP/AVP 0\r\ni=a\r\ni=b\r\n", "i= appears twice"),
        (BASE + "a=x\rb\r\n", "CR that does not end it"),
        (BASE + "a=x\0\r\n", "NUL"),
    ],
)
def test_malformed_input_raises_clear_errors(text: str, message: str) -> None:
    with pytest.raises(SdpError, match=message):
        SessionDescription.parse(text)


def test_malformed_rtpmap_is_skipped_or_reported() -> None:
    sdp = SessionDescription.parse(BASE + "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus\r\n")
    with pytest.raises(SdpError, match="rtpmap must be"):
        sdp.media[0].rtpmaps(strict=True)
    assert sdp.media[0].codecs() == [Codec(96, "", 0)]  # unusable, not fatal
    bad_pt = SessionDescription.parse(BASE + "m=audio 4000 RTP/AVP 0\r\na=rtpmap:300 x/8000\r\n")
    with pytest.raises(SdpError, match="payload type 300"):
        bad_pt.media[0].rtpmaps(strict=True)
    assert bad_pt.media[0].codecs() == [Codec(0, "PCMU", 8000)]


def test_ptime_that_is_not_a_number_reads_as_absent() -> None:
    sdp = SessionDescription.parse(BASE + "m=audio 4000 RTP/AVP 0\r\na=ptime:abc\r\n")
    assert sdp.media[0].ptime is None


def test_non_utf8_bytes_are_kept_exactly() -> None:
    raw = b"v=0\r\no=- 1 1 IN IP4 h\r\ns=Gespr\xe4ch\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    sdp = SessionDescription.parse(raw)
    assert sdp.serialize() == raw
    assert sdp.media[0].port == 4000


def test_extra_spaces_are_tolerated_and_normalised() -> None:
    text = BASE + "c=IN  IP4 192.0.2.1 \r\nm=audio 4000  RTP/AVP 0 8 \r\n"
    sdp = SessionDescription.parse(text)
    assert sdp.connection == Connection("192.0.2.1")
    assert sdp.media[0].formats == ["0", "8"]
    assert "m=audio 4000 RTP/AVP 0 8\r\n" in sdp.to_text()


def test_sizes_are_bounded() -> None:
    with pytest.raises(SdpError, match="over the"):
        SessionDescription.parse(BASE + "a=x\r\n" * (MAX_SDP_SIZE // 5))
    with pytest.raises(SdpError, match="lines"):
        SessionDescription.parse(BASE + "a=x\r\n" * MAX_LINES)
    with pytest.raises(SdpError, match="media descriptions"):
        SessionDescription.parse(BASE + "m=audio 0 RTP/AVP 0\r\n" * (MAX_MEDIA + 1))
    with pytest.raises(SdpError, match="characters"):
        SessionDescription.parse(BASE + "a=" + "x" * 5000 + "\r\n")
    with pytest.raises(SdpError, match="20 digits"):
        SessionDescription.parse("v=0\r\no=- 1 " + "9" * 30 + " IN IP4 h\r\n")


def test_serialising_refuses_line_breaks_in_values() -> None:
    sdp = SessionDescription(origin=Origin("-", "1", 1, "IN", "IP4", "h"))
    sdp.session_name = "evil\r\na=injected"
    with pytest.raises(SdpError, match="CR, LF"):
        sdp.serialize()
    sdp.session_name = "\ud800"
    with pytest.raises(SdpError, match="cannot be encoded"):
        sdp.serialize()


def test_line_type_order_of_the_sender_is_kept() -> None:
    # Seen in the QA suite: t= before c=; and a= before c= inside a media description.
    text = (
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=Test1\r\nt=0 0\r\nc=IN IP4 192.0.2.1\r\n"
        "m=audio 4000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\nc=IN IP4 192.0.2.2\r\nb=AS:64\r\n"
    )
    sdp = SessionDescription.parse(text)
    assert sdp.to_text() == text
    canonical = SessionDescription.parse(text)
    canonical.line_order = canonical.media[0].line_order = ""
    assert canonical == sdp  # the order is presentation, not content
    assert canonical.to_text().splitlines()[3:5] == ["c=IN IP4 192.0.2.1", "t=0 0"]


def test_new_content_goes_where_rfc4566_puts_it() -> None:
    text = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\na=x\r\nm=audio 4000 RTP/AVP 8\r\na=y\r\n"
    sdp = SessionDescription.parse(text)
    sdp.connection = Connection("192.0.2.1")
    sdp.information = "info"
    sdp.media[0].connections.append(Connection("192.0.2.2"))
    assert sdp.to_text().splitlines() == [
        "v=0",
        "o=- 1 1 IN IP4 h",
        "s=-",
        "i=info",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "a=x",
        "m=audio 4000 RTP/AVP 8",
        "c=IN IP4 192.0.2.2",
        "a=y",
    ]
