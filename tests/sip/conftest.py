"""Shared material for the SIP message tests: a typical INVITE and the torture suites."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

# A typical INVITE from a desk phone, with an SDP offer (RFC 3261 §7, RFC 4566).
SDP = (
    b"v=0\r\n"
    b"o=- 20518 0 IN IP4 192.0.2.10\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.10\r\n"
    b"t=0 0\r\n"
    b"m=audio 11780 RTP/AVP 8 0 101\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-15\r\n"
    b"a=sendrecv\r\n"
)
TYPICAL_INVITE = (
    b"INVITE sip:+74951234567@ssw.example.net;user=phone SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1---a1f4c2b9e8d7;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"Contact: <sip:2001@192.0.2.10:5060;transport=udp>\r\n"
    b"To: <sip:+74951234567@ssw.example.net;user=phone>\r\n"
    b'From: "Reception 2001" <sip:2001@ssw.example.net>;tag=8a1c6f2e\r\n'
    b"Call-ID: 7d5c2f3a-91e4-4b0a-a8c6-3e1f0b9d2c47@192.0.2.10\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, OPTIONS, INFO, UPDATE\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Supported: replaces, timer, 100rel\r\n"
    b"User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
    b"Session-Expires: 1800;refresher=uac\r\n"
    b"Content-Length: " + str(len(SDP)).encode() + b"\r\n"
    b"\r\n" + SDP
)


@dataclass(frozen=True)
class TortureCase:
    """One message of a torture suite with its MANIFEST.tsv row."""

    suite: str
    name: str
    section: str
    klass: str
    expected: str
    sha256: str
    raw: bytes  # the archive file as published
    data: bytes  # as it goes on the wire

    @property
    def id(self) -> str:
        return f"{self.suite}/{self.name}"


def read_manifest(folder: Path) -> list[dict[str, str]]:
    with (folder / "MANIFEST.tsv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


_CONTENT_LENGTH = re.compile(rb"(?im)^((?:content-length|l)[ \t]*:[ \t]*)[0-9]+(?=[ \t]*\r$)")


def wire_form(raw: bytes) -> bytes:
    """An RFC 5118 archive file as it goes on the wire (see ../shared/conformance/README.md):
    bare LF turned into CRLF, Content-Length recomputed for the body, a missing final empty
    line added."""
    data = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return head.rstrip(b"\r\n") + b"\r\n\r\n"
    head = _CONTENT_LENGTH.sub(lambda m: m.group(1) + str(len(body)).encode(), head + b"\r\n")
    return head + b"\r\n" + body


def load_suite(shared_dir: Path, suite: str) -> list[TortureCase]:
    folder = shared_dir / "conformance" / suite
    cases = []
    for row in read_manifest(folder):
        raw = (folder / row["file"]).read_bytes()
        data = wire_form(raw) if suite == "rfc5118" else raw
        cases.append(
            TortureCase(
                suite, row["file"], row["section"], row["class"], row["expected"],
                row["sha256"], raw, data,
            )
        )
    return cases


@pytest.fixture(scope="session")
def torture_cases(shared_dir: Path) -> dict[str, TortureCase]:
    """Every RFC 4475 and RFC 5118 message, keyed "suite/file"."""
    cases = load_suite(shared_dir, "rfc4475") + load_suite(shared_dir, "rfc5118")
    return {case.id: case for case in cases}


@pytest.fixture
def invite_bytes() -> bytes:
    return TYPICAL_INVITE
