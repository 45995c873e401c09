"""SDP bodies from the conformance material: RFC 4475, RFC 5118 and Eltex's QA scenarios."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ssw.sip.sdp import (
    Codec,
    Connection,
    MediaCapabilities,
    Origin,
    SessionDescription,
    build_answer,
    negotiate,
)

CAPABILITIES = MediaCapabilities(
    codecs=(
        Codec(8, "PCMA", 8000),
        Codec(0, "PCMU", 8000),
        Codec(18, "G729", 8000),
        Codec(101, "telephone-event", 8000),
    )
)
ORIGIN = Origin("ssw", "1", 1, "IN", "IP4", "192.0.2.10")


def body_of(message: bytes) -> bytes:
    separator = b"\r\n\r\n" if b"\r\n\r\n" in message else b"\n\n"
    return message.split(separator, 1)[1]


def test_rfc4475_sdp01(shared_dir: Path) -> None:
    # §3.3.7: an INVITE with an SDP body the UAS must process (Accept asks for another type).
    body = body_of((shared_dir / "conformance" / "rfc4475" / "sdp01.dat").read_bytes())
    sdp = SessionDescription.parse(body)
    assert sdp.serialize() == body
    audio, video = sdp.media
    assert [c.encoding for c in audio.codecs()] == ["PCMU", "QCELP"]
    # "a=rtpmap:31 LPC" has no clock rate: kept verbatim, but 31 reads as RFC 3551's H261.
    assert video.attribute("rtpmap") == "31 LPC"
    assert video.codecs()[0].encoding == "H261"
    answer = build_answer(
        sdp, [CAPABILITIES], address="192.0.2.10", ports=[4000, 4002], origin=ORIGIN
    )
    first, second = negotiate(sdp, answer)
    assert first.accepted and [c.encoding for c in first.codecs] == ["PCMU"]
    assert not second.accepted


@pytest.mark.parametrize("name", ["ipv6-in-sdp", "mult-ip-in-sdp", "ipv4-mapped-ipv6"])
def test_rfc5118_sdp_bodies(shared_dir: Path, name: str) -> None:
    body = body_of((shared_dir / "conformance" / "rfc5118" / name).read_bytes())
    sdp = SessionDescription.parse(body)
    assert sdp.serialize() == body  # LF endings kept as they came
    connections = [sdp.effective_connection(m) for m in sdp.media]
    assert all(c is not None for c in connections)
    if name == "ipv6-in-sdp":
        assert sdp.origin.addr_type == "IP6"
        assert connections[0] == Connection("2001:db8::20", "IP6")
    if name == "mult-ip-in-sdp":
        assert connections == [Connection("192.0.2.1"), Connection("2001:db8::1", "IP6")]


_PLACEHOLDER = re.compile(r"\[[^\]\[]*\]")


def _fill(match: re.Match[str]) -> str:
    name = match.group(0)
    if "ip_type" in name:
        return "4"
    if "ip" in name:
        return "192.0.2.1"
    if "port" in name:
        return "6000"
    return "1"


def qa_sdp_bodies(shared_dir: Path) -> list[tuple[str, bytes]]:
    """SDP bodies of the <send> messages of the QA scenarios, as SIPp would put them on the
    wire: placeholders filled in, each line's leading white space removed, CRLF endings."""
    found: list[tuple[str, bytes]] = []
    root = shared_dir / "conformance" / "ecss-qa"
    for path in sorted(root.rglob("*.xml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, section in enumerate(
            re.findall(r"<send[^>]*>\s*<!\[CDATA\[(.*?)\]\]>", text, re.S)
        ):
            lines = [ln.strip() for ln in section.splitlines()]
            if "v=0" not in lines:
                continue
            sdp_lines = [ln for ln in lines[lines.index("v=0") :] if ln]
            body = "".join(_PLACEHOLDER.sub(_fill, ln) + "\r\n" for ln in sdp_lines)
            found.append((f"{path.relative_to(root)}#{number}", body.encode()))
    return found


def test_every_qa_scenario_sdp_parses_round_trips_and_is_answered(shared_dir: Path) -> None:
    bodies = qa_sdp_bodies(shared_dir)
    assert len(bodies) >= 200
    for where, body in bodies:
        sdp = SessionDescription.parse(body)
        assert sdp.serialize() == body, where
        answer = build_answer(
            sdp, [CAPABILITIES], address="192.0.2.10", ports=[4000] * len(sdp.media), origin=ORIGIN
        )
        streams = negotiate(sdp, answer)
        # Every active audio stream of the suite offers PCMA, PCMU or G729, so it is accepted;
        # everything else (video, T.38 image, streams offered with port 0) is rejected.
        expected = [m.media == "audio" and not m.is_rejected for m in sdp.media]
        assert [s.accepted for s in streams] == expected, where
