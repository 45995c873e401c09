"""Properties of the message layer: round trips (Hypothesis) and robustness (seeded fuzzing).

Message equality (`Request.__eq__`, `Response.__eq__`): same start line, the same header
fields in the same order compared by lookup key (case-insensitive, compact forms expanded)
and unfolded value, and the same body. How a line was spelled is not part of equality, nor
is Content-Length (framing: the bodies are compared).
"""

from __future__ import annotations

import contextlib
import random
import string
import time
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssw.sip import (
    KNOWN_METHODS,
    NameAddr,
    Request,
    Response,
    SipError,
    SipUri,
    Via,
    check_request,
    check_response,
    parse_message,
    parse_uri,
    rejection_for,
)
from ssw.sip.framer import Frame, StreamFramer

if TYPE_CHECKING:
    from conftest import TortureCase

TOKEN_CHARS = string.ascii_letters + string.digits + "-.!%*_+`'~"
tokens = st.text(TOKEN_CHARS, min_size=1, max_size=12)
host_labels = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10)
hosts = st.one_of(
    st.lists(host_labels, min_size=1, max_size=4).map(".".join),
    st.tuples(*[st.integers(0, 255)] * 4).map(lambda parts: ".".join(map(str, parts))),
    st.just("[2001:db8::10]"),
)
ports = st.one_of(st.none(), st.integers(1, 65535))
# Header values as stored: no CR/LF, no surrounding blanks (RFC 3261 §7.3.1 strips LWS).
value_chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\n")
header_values = st.text(value_chars, max_size=40).map(lambda text: text.strip(" \t"))
extension_names = st.sampled_from(
    ["Subject", "User-Agent", "X-Trace", "Organization", "P-Asserted-Identity", "Date",
     "Warning", "Allow", "Supported", "Accept", "Priority", "X-Unusual"]
)
# Parameters whose values have a syntax of their own (rport = 1*DIGIT, RFC 3581 §3; q-value,
# RFC 3261 §20.10) are rejected with other values, so they are not drawn as free tokens.
CHECKED_PARAMS = frozenset({"rport", "q"})
param_dicts = st.dictionaries(
    tokens.map(str.lower).filter(lambda name: name not in CHECKED_PARAMS),
    st.one_of(st.none(), tokens), max_size=3
)


@st.composite
def sip_uris(draw: st.DrawFn) -> SipUri:
    user_chars = string.ascii_letters + string.digits + " @:;%é"
    user = draw(st.one_of(st.none(), st.text(user_chars, min_size=1, max_size=10)))
    params = draw(
        st.dictionaries(st.text(string.ascii_lowercase, min_size=1, max_size=6),
                        st.one_of(st.none(), st.text(user_chars, min_size=1, max_size=6)),
                        max_size=3)
    )
    return SipUri(draw(st.sampled_from(["sip", "sips"])), draw(hosts), user, None,
                  draw(ports), params)


@st.composite
def vias(draw: st.DrawFn) -> Via:
    params = draw(param_dicts)
    params["branch"] = "z9hG4bK" + draw(tokens)
    return Via(draw(st.sampled_from(["UDP", "TCP", "TLS", "WS"])), draw(hosts), draw(ports), params)


@st.composite
def name_addrs(draw: st.DrawFn) -> NameAddr:
    display = draw(st.one_of(st.none(), st.text(value_chars, max_size=12)))
    return NameAddr(str(draw(sip_uris())), display, draw(param_dicts))


@st.composite
def header_lists(draw: st.DrawFn) -> list[tuple[str, str]]:
    headers = [
        ("Via", str(draw(vias()))),
        ("From", str(draw(name_addrs()))),
        ("To", str(draw(name_addrs()))),
        ("Call-ID", draw(tokens) + "@" + draw(hosts)),
        ("Max-Forwards", str(draw(st.integers(0, 255)))),
    ]
    extra = draw(st.lists(st.tuples(extension_names, header_values), max_size=6))
    return headers + extra


@st.composite
def requests(draw: st.DrawFn) -> Request:
    method = draw(st.one_of(st.sampled_from(sorted(KNOWN_METHODS)), tokens))
    headers = draw(header_lists())
    headers.insert(4, ("CSeq", f"{draw(st.integers(0, 2**31 - 1))} {method}"))
    return Request(method, str(draw(sip_uris())), headers, draw(st.binary(max_size=64)))


@st.composite
def responses(draw: st.DrawFn) -> Response:
    status = draw(st.integers(100, 699))
    reason = draw(st.one_of(st.none(), header_values))
    headers = draw(header_lists())
    headers.insert(4, ("CSeq", f"{draw(st.integers(0, 2**31 - 1))} INVITE"))
    return Response(status, reason, headers, draw(st.binary(max_size=64)))


PROPERTY_SETTINGS = settings(max_examples=200, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(st.one_of(requests(), responses()))
def test_parse_of_serialize_is_identity(message: Request | Response) -> None:
    data = message.serialize()
    parsed = parse_message(data)
    assert parsed == message
    assert parsed.serialize() == data
    assert parsed.top_via == message.top_via
    assert parsed.from_ == message.from_ and parsed.to == message.to
    assert parsed.cseq == message.cseq and parsed.body == message.body


@PROPERTY_SETTINGS
@given(sip_uris())
def test_uri_round_trip(uri: SipUri) -> None:
    parsed = parse_uri(str(uri))
    assert parsed == uri
    assert isinstance(parsed, SipUri)
    assert (parsed.user, parsed.host, parsed.port, parsed.params) == (
        uri.user, uri.host, uri.port, uri.params)


@PROPERTY_SETTINGS
@given(vias(), name_addrs())
def test_header_value_round_trip(via: Via, address: NameAddr) -> None:
    assert Via.parse(str(via)) == via
    assert NameAddr.parse(str(address)) == address


# -- robustness: only SipError may escape -----------------------------------------------------

SPECIALS = [b":", b";", b",", b"\r\n", b"\r\n ", b" ", b"<", b">", b'"', b"\\", b"%", b"\x00",
            b"[", b"]", b"=", b"@", b"\r\n\r\n", b"\xff", b"\xd0", b"SIP/2.0", b"l: 99\r\n",
            b"Content-Length: 4294967296\r\n", b"v: SIP/2.0/UDP h\r\n", b"99999999999999999999"]
TYPED = ("vias", "top_via", "call_id", "cseq", "from_", "to", "contacts", "max_forwards",
         "routes", "record_routes", "expires", "require", "supported", "proxy_require",
         "content_type", "content_length", "accept", "allow", "rseq", "rack",
         "session_expires", "min_se", "refer_to", "referred_by", "replaces")


def mutate(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        where = rng.randrange(len(out) + 1)
        choice = rng.randrange(7)
        if choice == 0 and out:
            out[min(where, len(out) - 1)] = rng.randrange(256)
        elif choice == 1:
            out[where:where] = rng.choice(SPECIALS)
        elif choice == 2:
            del out[where : where + rng.randint(1, 20)]
        elif choice == 3:
            span = out[where : where + rng.randint(1, 40)]
            out[where:where] = span * rng.randint(1, 3)
        elif choice == 4:
            del out[where:]
        elif choice == 5:
            other = rng.choice(corpus)
            cut = rng.randrange(len(other) + 1)
            out[where:] = other[cut:]
        else:
            out[where:where] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(out)


def exercise(data: bytes, rng: random.Random) -> None:
    """Everything a receiving element does with untrusted bytes; only SipError may escape."""
    try:
        message = parse_message(data)
    except SipError as error:
        answer = rejection_for(data, error)
        if answer is not None:
            parse_message(answer)
        return
    for name in TYPED:
        with contextlib.suppress(SipError):
            getattr(message, name)
    with contextlib.suppress(SipError):
        if isinstance(message, Request):
            message.ruri  # noqa: B018
            check_request(message, acting_as=rng.choice(["uas", "proxy"]),
                          accepted_types={"application/sdp"})
        else:
            check_response(message)
    parse_message(message.serialize())


def frame(data: bytes, rng: random.Random) -> None:
    framer = StreamFramer(max_header_size=2048, max_body_size=2048)
    with contextlib.suppress(SipError):
        position = 0
        while position < len(data):
            step = rng.randint(1, 300)
            framer.receive_data(data[position : position + step])
            position += step
            while (event := framer.next_event()) is not None:
                if isinstance(event, Frame):
                    assert len(event.data) <= 2048 + 2048
                    with contextlib.suppress(SipError):
                        parse_message(event.data)
        framer.receive_eof()


@pytest.mark.slow
def test_random_and_mutated_input_raises_only_sip_errors(
    torture_cases: dict[str, TortureCase], invite_bytes: bytes
) -> None:
    rng = random.Random(4475)
    corpus = [case.data for case in torture_cases.values()] + [invite_bytes] * 20
    started = time.monotonic()
    count = 0
    for count in range(1, 100_001):
        if count % 10 == 0:
            data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
        else:
            data = mutate(rng, rng.choice(corpus), corpus)
        try:
            exercise(data, rng)
            frame(data + rng.choice(corpus) if count % 2 else data, rng)
        except Exception as exc:  # pragma: no cover - the failure report
            raise AssertionError(f"input #{count} {data!r} raised {exc!r}") from exc
    assert count == 100_000
    assert time.monotonic() - started < 120
