"""Requests and responses: parsing, serialization, typed access, mutation, builders."""

from __future__ import annotations

import pytest

from ssw.sip import (
    COMPACT_FORMS,
    AuthValue,
    FramingError,
    HeaderError,
    NameAddr,
    Request,
    Response,
    SipError,
    SipUri,
    StartLineError,
    VersionNotSupported,
    Via,
    make_response,
    new_request,
    parse_message,
)
from ssw.sip.rejection import rejection_for

OPTIONS = (
    b"OPTIONS sip:carol@chicago.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKhjhs8ass877\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: <sip:carol@chicago.example.com>\r\n"
    b"From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710\r\n"
    b"CSeq: 63104 OPTIONS\r\n"
    b"Contact: <sip:alice@pc33.example.com>\r\n"
    b"Accept: application/sdp\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)

RINGING = (
    b"SIP/2.0 180 Ringing\r\n"
    b"Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK77ef4c2312983.1\r\n"
    b"Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKnashds8;received=192.0.2.1\r\n"
    b"To: Bob <sip:bob@example.com>;tag=a6c85cf\r\n"
    b"From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710\r\n"
    b"Contact: <sip:bob@192.0.2.4>\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)


def request(data: bytes) -> Request:
    message = parse_message(data)
    assert isinstance(message, Request)
    return message


def with_headers(*lines: bytes, body: bytes = b"") -> bytes:
    """OPTIONS with extra header lines, before Content-Length."""
    head = OPTIONS.split(b"Content-Length: 0\r\n")[0]
    length = b"Content-Length: " + str(len(body)).encode() + b"\r\n"
    return head + b"".join(line + b"\r\n" for line in lines) + length + b"\r\n" + body


class TestParsing:
    def test_request_line_and_headers(self, invite_bytes: bytes) -> None:
        req = request(invite_bytes)
        assert req.method == "INVITE"
        assert req.uri == "sip:+74951234567@ssw.example.net;user=phone"
        assert req.version == "SIP/2.0"
        assert isinstance(req.ruri, SipUri)
        assert req.ruri.user == "+74951234567"
        assert req.headers.get("user-agent") == "Yealink SIP-T46S 66.86.0.15"
        assert req.body.startswith(b"v=0\r\n")
        assert len(req.body) == req.content_length

    def test_status_line(self) -> None:
        resp = parse_message(RINGING)
        assert isinstance(resp, Response)
        assert (resp.status, resp.reason, resp.version) == (180, "Ringing", "SIP/2.0")
        assert resp.is_provisional and not resp.is_final
        assert resp.to.tag == "a6c85cf"

    def test_unmodified_message_serializes_to_its_input(self, invite_bytes: bytes) -> None:
        assert bytes(request(invite_bytes)) == invite_bytes
        assert parse_message(RINGING).serialize() == RINGING

    def test_reading_typed_values_changes_nothing(self, invite_bytes: bytes) -> None:
        req = request(invite_bytes)
        req.top_via, req.from_, req.to, req.cseq, req.contacts, req.ruri  # noqa: B018
        assert bytes(req) == invite_bytes

    def test_crlf_before_start_line_is_skipped(self) -> None:
        # RFC 3261 §7.5
        msg = parse_message(b"\r\n\r\n" + OPTIONS)
        assert bytes(msg) == OPTIONS

    @pytest.mark.parametrize(("compact", "full"), sorted(COMPACT_FORMS.items()))
    def test_compact_forms(self, compact: str, full: str) -> None:
        value = "0" if full == "content-length" else "x-value"
        req = request(b"OPTIONS sip:a@b SIP/2.0\r\n%s: %s\r\n\r\n" % (
            compact.encode(), value.encode()))
        assert req.headers.get(full) == value
        assert req.headers.get(compact.upper()) == value
        assert [name for name, _ in req.headers] == [compact]

    def test_names_are_case_insensitive(self) -> None:
        req = request(with_headers(b"X-Custom-Thing: 1", b"x-CUSTOM-thing: 2"))
        assert req.headers.get_all("X-CUSTOM-THING") == ["1", "2"]
        assert req.headers.count("x-custom-thing") == 2
        assert "X-Custom-Thing" in req.headers
        assert "X-Other" not in req.headers

    def test_list_headers_split_across_and_within_lines(self) -> None:
        msg = parse_message(RINGING.replace(
            b"Contact: <sip:bob@192.0.2.4>\r\n",
            b'Contact: "A, B" <sip:a@h>;q=0.5, <sip:b@h>\r\nContact: sip:c@h\r\n',
        ))
        assert msg.headers.get_all("contact") == ['"A, B" <sip:a@h>;q=0.5', "<sip:b@h>", "sip:c@h"]
        assert msg.headers.get("m") == '"A, B" <sip:a@h>;q=0.5'
        assert [c.uri for c in msg.contacts] == ["sip:a@h", "sip:b@h", "sip:c@h"]
        assert msg.contacts[0].display_name == "A, B"
        assert [v.host for v in msg.vias] == ["proxy.example.com", "pc33.example.com"]

    def test_other_headers_are_never_split(self) -> None:
        req = request(with_headers(
            b"Date: Sat, 13 Nov 2010 23:29:00 GMT",
            b'WWW-Authenticate: Digest realm="a, b", nonce="x"',
        ))
        assert req.headers.get_all("date") == ["Sat, 13 Nov 2010 23:29:00 GMT"]
        assert req.www_authenticate == ['Digest realm="a, b", nonce="x"']

    def test_folded_lines_are_unfolded_and_kept(self) -> None:
        data = with_headers(b"Subject: first\r\n  second\r\n\tthird")
        req = request(data)
        assert req.headers.get("subject") == "first second third"
        assert bytes(req) == data
        req.headers.add("X-New", "1")
        assert b"Subject: first\r\n  second\r\n\tthird\r\n" in bytes(req)

    def test_empty_header_value(self) -> None:
        assert request(with_headers(b"Subject:")).headers.get("subject") == ""

    def test_no_content_length_in_a_datagram_takes_the_rest(self) -> None:
        data = OPTIONS.replace(b"Content-Length: 0\r\n", b"") + b"hello"
        assert request(data).body == b"hello"

    def test_octets_after_content_length_are_dropped(self) -> None:
        msg = parse_message(OPTIONS + b"garbage")
        assert bytes(msg) == OPTIONS

    @pytest.mark.parametrize(
        ("data", "error"),
        [
            (b"", StartLineError),
            (b"\r\n\r\n", StartLineError),
            (OPTIONS.replace(b" SIP/2.0\r\n", b" SIP/3.0\r\n", 1), VersionNotSupported),
            (OPTIONS.replace(b" SIP/2.0\r\n", b" HTTP/1.1\r\n", 1), StartLineError),
            (OPTIONS.replace(b"OPTIONS sip", b"OPTIONS  sip", 1), StartLineError),
            (OPTIONS.replace(b"OPTIONS sip", b"OPT IONS sip", 1), StartLineError),
            (OPTIONS.replace(b"sip:carol@chicago.example.com", b"<sip:c@h>", 1), StartLineError),
            (OPTIONS.replace(b"OPTIONS", b"OPT@ONS", 1), StartLineError),
            (RINGING.replace(b"180 Ringing", b"18 Ringing"), StartLineError),
            (RINGING.replace(b"180 Ringing", b"1800 Ringing"), StartLineError),
            (RINGING.replace(b"180 Ringing", b"780 Ringing"), StartLineError),
            (RINGING.replace(b"SIP/2.0 180", b"SIP/2.1 180"), VersionNotSupported),
            (with_headers(b"Bad Name: x"), HeaderError),
            (with_headers(b"NoColonHere"), HeaderError),
            (with_headers(b" Leading: folded into nothing").replace(b"\r\n ", b"\r\n\r\n ", 0)
             .replace(b"OPTIONS sip:carol@chicago.example.com SIP/2.0\r\n",
                      b"OPTIONS sip:carol@chicago.example.com SIP/2.0\r\n continued\r\n"),
             StartLineError),
            (b" RTP/AVP 31\r\na=rtpmap:31 LPC\r\n", SipError),  # found by the fuzz test
            (b" INVITE sip:a@b SIP/2.0\r\n\r\n", StartLineError),
            (OPTIONS.replace(b"Content-Length: 0", b"Content-Length: 5"), FramingError),
            (OPTIONS.replace(b"Content-Length: 0", b"Content-Length: -1"), FramingError),
            (OPTIONS.replace(b"Content-Length: 0", b"Content-Length: five"), FramingError),
            (OPTIONS.replace(b"Content-Length: 0", b"Content-Length: 0\r\nl: 3"), FramingError),
        ],
    )
    def test_malformed_input_raises_a_sip_error(self, data: bytes, error: type[SipError]) -> None:
        with pytest.raises(error):
            parse_message(data)

    def test_errors_carry_their_status(self) -> None:
        with pytest.raises(SipError) as raised:
            parse_message(OPTIONS.replace(b"SIP/2.0\r\n", b"SIP/7.0\r\n", 1))
        assert (raised.value.status, raised.value.reason) == (505, "Version Not Supported")

    def test_repeated_equal_content_length_is_accepted(self) -> None:
        data = OPTIONS.replace(b"Content-Length: 0", b"Content-Length: 0\r\nl: 0")
        assert request(data).body == b""


class TestTypedAccess:
    def test_dialog_fields(self, invite_bytes: bytes) -> None:
        req = request(invite_bytes)
        assert req.top_via.branch == "z9hG4bK-524287-1---a1f4c2b9e8d7"
        assert req.top_via.rport is True
        assert req.from_.tag == "8a1c6f2e"
        assert req.from_.display_name == "Reception 2001"
        assert req.to.tag is None
        assert req.call_id == "7d5c2f3a-91e4-4b0a-a8c6-3e1f0b9d2c47@192.0.2.10"
        assert (req.cseq.seq, req.cseq.method) == (1, "INVITE")
        assert req.max_forwards == 70
        assert req.supported == ["replaces", "timer", "100rel"]
        assert req.allow[:3] == ["INVITE", "ACK", "CANCEL"]
        assert req.content_type is not None and req.content_type.mime == "application/sdp"
        assert req.session_expires is not None
        assert (req.session_expires.delta, req.session_expires.refresher) == (1800, "uac")

    def test_values_are_cached_until_headers_change(self) -> None:
        req = request(OPTIONS)
        assert req.top_via is req.top_via
        req.headers.prepend("Via", "SIP/2.0/TCP proxy.example.com;branch=z9hG4bKnew")
        assert req.top_via.host == "proxy.example.com"
        assert len(req.vias) == 2

    @pytest.mark.parametrize("name", ["Via", "From", "To", "Call-ID", "CSeq"])
    def test_missing_mandatory_header(self, name: str) -> None:
        prefix = name.encode() + b":"
        lines = [line for line in OPTIONS.split(b"\r\n") if not line.startswith(prefix)]
        req = request(b"\r\n".join(lines))
        attribute = {"Via": "top_via", "From": "from_", "To": "to", "Call-ID": "call_id",
                     "CSeq": "cseq"}[name]
        with pytest.raises(HeaderError, match=name):
            getattr(req, attribute)

    @pytest.mark.parametrize(
        ("line", "attribute"),
        [
            (b"Call-ID: second", "call_id"),
            (b"CSeq: 1 OPTIONS", "cseq"),
            (b"To: <sip:x@y>", "to"),
            (b"f: <sip:x@y>;tag=2", "from_"),
            (b"Max-Forwards: 10", "max_forwards"),
        ],
    )
    def test_repeated_single_value_header(self, line: bytes, attribute: str) -> None:
        req = request(with_headers(line))
        with pytest.raises(HeaderError, match="more than one"):
            getattr(req, attribute)

    @pytest.mark.parametrize(
        ("line", "attribute"),
        [
            (b"Max-Forwards: 256", "max_forwards"),
            (b"Expires: 4294967296", "expires"),
            (b"Expires: soon", "expires"),
            (b"RSeq: 0x10", "rseq"),
            (b"RAck: 1 2", "rack"),
            (b"Session-Expires: -5", "session_expires"),
            (b"Min-SE: x", "min_se"),
            (b"Contact: *, <sip:a@b>", "contacts"),
            (b"Contact: <sip:a@b>,,", "contacts"),
            (b"Content-Type: sdp", "content_type"),
            (b"Require: a b", "require"),
            (b"Replaces: abc;to-tag=1", "replaces"),
        ],
    )
    def test_bad_values_raise_header_errors(self, line: bytes, attribute: str) -> None:
        if attribute == "max_forwards":
            data = with_headers(line).replace(b"Max-Forwards: 70\r\n", b"")
        else:
            data = with_headers(line)
        with pytest.raises(HeaderError):
            getattr(request(data), attribute)

    def test_extension_headers(self) -> None:
        req = request(with_headers(
            b"RSeq: 988789",
            b"RAck: 776656 1 INVITE",
            b"Min-SE: 90;x=1",
            b"Refer-To: <sip:carol@example.com?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>",
            b"b: <sip:alice@example.com>;cid=\"x@y\"",
            b"Replaces: 98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only",
            b"Require: 100rel",
            b"Proxy-Require: foo",
            b"Unsupported: bar",
            b"Expires: 300",
            b"Proxy-Authorization: Digest username=\"a\", realm=\"b\"",
            b"Authorization: Digest username=\"c\"",
            b"Proxy-Authenticate: Digest realm=\"p\"",
        ))
        assert req.rseq == 988789
        assert req.rack is not None and (req.rack.rseq, req.rack.cseq, req.rack.method) == (
            776656, 1, "INVITE")
        assert req.min_se == 90
        assert req.refer_to is not None and req.refer_to.uri.startswith("sip:carol@")
        assert req.referred_by is not None and req.referred_by.params["cid"] == '"x@y"'
        assert req.replaces is not None
        assert (req.replaces.call_id, req.replaces.to_tag, req.replaces.from_tag) == (
            "98732@sip.example.com", "ff87ff", "r33th4x0r")
        assert req.replaces.early_only
        assert (req.require, req.proxy_require, req.unsupported) == (["100rel"], ["foo"], ["bar"])
        assert req.expires == 300
        assert AuthValue.parse(req.proxy_authorization[0]).params == {"username": "a", "realm": "b"}
        assert req.authorization == ['Digest username="c"']
        assert req.proxy_authenticate == ['Digest realm="p"']
        assert [m.mime for m in req.accept] == ["application/sdp"]

    def test_optional_headers_absent(self) -> None:
        req = request(OPTIONS)
        assert (req.expires, req.rseq, req.rack, req.session_expires, req.min_se) == (
            None, None, None, None, None)
        assert (req.refer_to, req.referred_by, req.replaces, req.content_type) == (
            None, None, None, None)
        assert req.routes == [] and req.record_routes == [] and req.require == []
        assert req.content_length == 0

    def test_star_contact(self) -> None:
        req = request(with_headers(b"Expires: 0").replace(
            b"Contact: <sip:alice@pc33.example.com>", b"Contact: *"))
        assert len(req.contacts) == 1 and req.contacts[0].star


class TestMutation:
    def test_add_goes_after_the_same_header(self) -> None:
        msg = parse_message(RINGING)
        msg.headers.add("via", "SIP/2.0/UDP last.example.com;branch=z9hG4bKlast")
        assert [v.host for v in msg.vias][-1] == "last.example.com"
        lines = bytes(msg).split(b"\r\n")
        assert lines[3] == b"Via: SIP/2.0/UDP last.example.com;branch=z9hG4bKlast"

    def test_prepend_record_route(self) -> None:
        req = request(OPTIONS)
        req.headers.prepend("Record-Route", "<sip:p2.example.com;lr>")
        req.headers.prepend("Record-Route", "<sip:p1.example.com;lr>")
        uris = [r.uri for r in req.record_routes]
        assert uris == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
        reparsed = request(bytes(req))
        assert reparsed == req

    def test_set_replaces_every_line(self) -> None:
        req = request(with_headers(b"X-A: 1", b"X-B: 2", b"X-A: 3"))
        req.headers.set("x-a", "9")
        assert req.headers.get_all("X-A") == ["9"]
        names = [name for name, _ in req.headers]
        assert names.index("X-A") < names.index("X-B")

    def test_set_adds_when_absent(self) -> None:
        req = request(OPTIONS)
        req.headers.set("Subject", "hello")
        assert req.headers.get("s") == "hello"

    def test_remove(self) -> None:
        req = request(with_headers(b"X-A: 1", b"X-A: 2"))
        assert req.headers.remove("x-a") == 2
        assert req.headers.remove("x-a") == 0
        assert "x-a" not in req.headers

    def test_pop_first_takes_one_value(self) -> None:
        msg = parse_message(RINGING.replace(
            b"Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK77ef4c2312983.1\r\n"
            b"Via: SIP/2.0/UDP pc33",
            b"Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK77ef4c2312983.1, SIP/2.0/UDP pc33",
        ))
        top = msg.headers.pop_first("via")
        assert top == "SIP/2.0/UDP proxy.example.com;branch=z9hG4bK77ef4c2312983.1"
        assert [v.host for v in msg.vias] == ["pc33.example.com"]
        assert msg.headers.pop_first("via") is not None
        assert msg.headers.pop_first("via") is None
        assert msg.headers.pop_first("call-id") == "a84b4c76e66710"

    def test_replace_first_keeps_the_others(self) -> None:
        msg = parse_message(RINGING)
        via = msg.top_via.with_params(received="203.0.113.5")
        msg.headers.replace_first("via", str(via))
        assert msg.top_via.received == "203.0.113.5"
        assert msg.vias[1].host == "pc33.example.com"

    def test_unchanged_lines_stay_byte_exact(self) -> None:
        data = with_headers(b"x-weird:   value  ;;,,  ")
        req = request(data)
        req.headers.add("Record-Route", "<sip:p.example.com;lr>")
        assert b"x-weird:   value  ;;,,  \r\n" in bytes(req)

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("X-A", "a\r\nInjected: 1"),
            ("X-A", "a\nb"),
            ("Bad Name", "x"),
            ("", "x"),
            ("X-A", "a\x00"),
        ],
    )
    def test_bad_input_changes_nothing(self, name: str, value: str) -> None:
        req = request(OPTIONS)
        for method in (req.headers.add, req.headers.set, req.headers.prepend):
            with pytest.raises(ValueError):
                method(name, value)
        assert bytes(req) == OPTIONS

    def test_body_setter_updates_content_length(self) -> None:
        req = request(OPTIONS)
        req.set_body(b"v=0\r\n", "application/sdp")
        assert req.headers.get("content-length") == "5"
        assert request(bytes(req)).body == b"v=0\r\n"
        req.set_body(b"", None)
        assert "content-type" not in req.headers
        assert req.content_length == 0

    def test_retarget_request_uri(self) -> None:
        req = request(OPTIONS)
        assert isinstance(req.ruri, SipUri)
        req.uri = "sip:carol@192.0.2.7:5070"
        assert isinstance(req.ruri, SipUri) and req.ruri.port == 5070
        assert bytes(req).startswith(b"OPTIONS sip:carol@192.0.2.7:5070 SIP/2.0\r\n")
        with pytest.raises(ValueError):
            req.uri = "not a uri"

    def test_copy_is_independent(self) -> None:
        original = request(OPTIONS)
        clone = original.copy()
        assert clone == original and bytes(clone) == OPTIONS
        clone.headers.set("Max-Forwards", "69")
        assert original.max_forwards == 70 and clone.max_forwards == 69
        assert bytes(original) == OPTIONS

    def test_serialization_adds_content_length_when_missing(self) -> None:
        req = request(OPTIONS)
        req.headers.remove("content-length")
        assert b"\r\nContent-Length: 0\r\n\r\n" in bytes(req)


class TestEquality:
    def test_equal_after_round_trip(self, invite_bytes: bytes) -> None:
        req = request(invite_bytes)
        assert request(bytes(req)) == req
        assert req != parse_message(RINGING)

    def test_differences_count(self) -> None:
        a, b = request(OPTIONS), request(OPTIONS)
        b.headers.set("Max-Forwards", "69")
        assert a != b
        c = request(OPTIONS)
        c.body = b"x"
        assert a != c

    def test_messages_are_not_hashable(self) -> None:
        with pytest.raises(TypeError):
            hash(request(OPTIONS))


class TestMakeResponse:
    def test_copies_the_rfc_3261_8_2_6_fields(self, invite_bytes: bytes) -> None:
        req = request(invite_bytes)
        resp = make_response(req, 180, to_tag="as9f8")
        assert (resp.status, resp.reason) == (180, "Ringing")
        assert resp.headers.get_all("via") == req.headers.get_all("via")
        assert resp.headers.get("from") == req.headers.get("from")
        assert resp.to.tag == "as9f8"
        assert resp.to.uri == req.to.uri
        assert resp.call_id == req.call_id
        assert resp.cseq == req.cseq
        assert resp.headers.get("content-length") == "0"
        assert parse_message(bytes(resp)) == resp

    def test_keeps_an_existing_to_tag(self) -> None:
        req = request(OPTIONS.replace(b"To: <sip:carol@chicago.example.com>",
                                      b"To: <sip:carol@chicago.example.com>;tag=old"))
        assert make_response(req, 200, to_tag="new").to.tag == "old"

    def test_100_trying_has_no_tag_and_copies_timestamp(self) -> None:
        req = request(with_headers(b"Timestamp: 54"))
        resp = make_response(req, 100, to_tag="x")
        assert resp.to.tag is None
        assert resp.headers.get("timestamp") == "54"

    def test_all_vias_in_order(self) -> None:
        req = request(OPTIONS.replace(
            b"Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKhjhs8ass877\r\n",
            b"Via: SIP/2.0/UDP p1;branch=z9hG4bK1, SIP/2.0/UDP p2;branch=z9hG4bK2\r\n"
            b"v: SIP/2.0/UDP p3;branch=z9hG4bK3\r\n",
        ))
        resp = make_response(req, 486)
        assert [v.host for v in resp.vias] == ["p1", "p2", "p3"]
        assert resp.reason == "Busy Here"

    def test_custom_reason_headers_and_body(self) -> None:
        resp = make_response(request(OPTIONS), 200, "Fine", headers=[("Allow", "INVITE, BYE")],
                             body=b"v=0\r\n", content_type="application/sdp")
        assert resp.reason == "Fine"
        assert resp.allow == ["INVITE", "BYE"]
        assert resp.body == b"v=0\r\n" and resp.content_length == 5

    @pytest.mark.parametrize("status", [99, 700])
    def test_status_range(self, status: int) -> None:
        with pytest.raises(ValueError):
            make_response(request(OPTIONS), status)

    def test_copies_a_quoted_pair_holding_nul(self) -> None:
        # RFC 4475 §3.1.1.2: a quoted-pair may hold NUL; answering must not fail on it.
        req = request(OPTIONS.replace(b"To: <sip:carol", b'To: "\\\x00 x" <sip:carol'))
        resp = make_response(req, 200, to_tag="t1")
        assert resp.to.display_name == "\x00 x" and resp.to.tag == "t1"
        assert parse_message(bytes(resp)).to == resp.to

    def test_copied_fields_are_the_requests_values(self) -> None:
        req = request(OPTIONS.replace(b"CSeq: 63104 OPTIONS", b"cseq:   63104 OPTIONS \r\n\t"))
        resp = make_response(req, 200)
        assert resp.headers.get_lines("cseq") == ["63104 OPTIONS"]
        assert b"\r\nCSeq: 63104 OPTIONS\r\n" in bytes(resp)


class TestLoneLineBreaks:
    """CR and LF only ever come as the CRLF ending a line (RFC 3261 §7.3.1): a lone one is a
    400 at parse time, so nothing built from the message can carry it on."""

    @pytest.mark.parametrize("value", [b"sip:a\r@example.com", b"<sip:a@example.com>\rX: y",
                                       b"<sip:a@example.com>\nX: y", b"\r<sip:a@example.com>"])
    def test_in_a_header_value(self, value: bytes) -> None:
        data = OPTIONS.replace(b"To: <sip:carol@chicago.example.com>", b"To: " + value)
        with pytest.raises(HeaderError) as caught:
            parse_message(data)
        assert caught.value.status == 400 and "To" in str(caught.value)

    def test_in_the_start_line(self) -> None:
        with pytest.raises(StartLineError):
            parse_message(OPTIONS.replace(b" SIP/2.0\r\n", b" SIP/2.0\r\r\n", 1))

    def test_other_line_separators_in_a_value_are_kept(self) -> None:
        # U+2028 and VT are text to SIP, although str.splitlines breaks lines at them.
        data = OPTIONS.replace(b"Call-ID: a84b4c76e66710", "Call-ID: a84b\u2028\x0b".encode())
        message = parse_message(data)
        assert message.headers.get("call-id") == "a84b\u2028\x0b"
        assert bytes(message) == data

    def test_the_answer_does_not_carry_the_broken_value(self) -> None:
        data = OPTIONS.replace(b"To: <sip:carol@chicago.example.com>", b"To: <sip:a@b>\nX: y")
        with pytest.raises(SipError) as caught:
            parse_message(data)
        answer = rejection_for(data, caught.value)
        assert answer is not None
        response = parse_message(answer)
        assert isinstance(response, Response) and response.status == 400
        assert "x" not in response.headers and "to" not in response.headers
        assert response.call_id == "a84b4c76e66710"

    def test_leading_space_before_a_status_line_is_a_sip_error(self) -> None:
        with pytest.raises(SipError) as caught:
            parse_message(b" SIP/2.0 200 OK\r\nCSeq: 1 A\r\n\r\n")
        assert caught.value.status == 400


class TestNewRequest:
    def test_builds_a_valid_request(self) -> None:
        req = new_request(
            "INVITE", "sip:bob@example.com",
            via="SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds",
            from_='"Alice" <sip:alice@example.com>;tag=1928301774',
            to="<sip:bob@example.com>",
            call_id="a84b4c76e66710@192.0.2.1",
            cseq=314159,
            contact="<sip:alice@192.0.2.1>",
            headers=[("Supported", "100rel")],
            body=b"v=0\r\n",
            content_type="application/sdp",
        )
        data = bytes(req)
        assert data.startswith(b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP")
        parsed = request(data)
        assert parsed == req
        assert (parsed.cseq.seq, parsed.cseq.method, parsed.max_forwards) == (314159, "INVITE", 70)
        assert parsed.body == b"v=0\r\n"
        assert parsed.supported == ["100rel"]

    def test_accepts_typed_addresses(self) -> None:
        req = new_request(
            "OPTIONS", "sip:bob@example.com",
            via=Via("UDP", "192.0.2.1", None, {"branch": "z9hG4bKx"}),
            from_=NameAddr("sip:alice@example.com", "Alice", {"tag": "1"}),
            to=NameAddr("sip:bob@example.com"),
            call_id="c@h",
            cseq=2,
            contact=NameAddr("sip:alice@192.0.2.1"),
        )
        parsed = request(bytes(req))
        assert (parsed.from_.display_name, parsed.from_.tag) == ("Alice", "1")
        assert parsed.contacts[0].uri == "sip:alice@192.0.2.1"
        assert parsed.top_via.branch == "z9hG4bKx"

    @pytest.mark.parametrize(("method", "uri"), [("IN VITE", "sip:a@b"), ("INVITE", "a b"),
                                                 ("INVITE", "<sip:a@b>")])
    def test_rejects_bad_start_lines(self, method: str, uri: str) -> None:
        with pytest.raises(ValueError):
            Request(method, uri)

    def test_response_reason_may_not_break_lines(self) -> None:
        with pytest.raises(ValueError):
            Response(200, "OK\r\nX: y")


class TestTypedCacheAfterChanges:
    """A change forgets only the typed values read from the header it changed."""

    def test_changing_via_keeps_from_to_cseq(self) -> None:
        req = request(OPTIONS)
        from_, to, cseq = req.from_, req.to, req.cseq
        assert req.top_via.host == "pc33.example.com"
        req.headers.replace_first("via", "SIP/2.0/UDP pc33.example.com;branch=z9hG4bKx;rport=1")
        assert req.top_via.branch == "z9hG4bKx" and req.vias[0].rport == 1
        assert req.from_ is from_ and req.to is to and req.cseq is cseq

    @pytest.mark.parametrize("change", ["set", "remove", "add", "prepend", "pop_first"])
    def test_every_change_forgets_what_it_touches(self, change: str) -> None:
        req = request(OPTIONS)
        assert req.to.tag is None and len(req.vias) == 1
        headers = req.headers
        if change == "set":
            headers.set("To", "<sip:carol@chicago.example.com>;tag=new")
            assert req.to.tag == "new"
        elif change == "remove":
            headers.remove("t")
            with pytest.raises(HeaderError):
                req.to  # noqa: B018
        elif change == "add":
            headers.add("Via", "SIP/2.0/TCP p2;branch=z9hG4bK2")
            assert [v.host for v in req.vias] == ["pc33.example.com", "p2"]
        elif change == "prepend":
            headers.prepend("v", "SIP/2.0/TCP p0;branch=z9hG4bK0")
            assert req.top_via.host == "p0" and len(req.vias) == 2
        else:
            headers.pop_first("via")
            with pytest.raises(HeaderError):
                req.top_via  # noqa: B018


def test_feature_code_with_raw_hash_is_parsed() -> None:
    """RFC 3261 §19.1.2 wants '#' escaped; ECSS feature codes (`*21*156#`) arrive raw."""
    data = (
        b"INVITE sip:*21*156#@pv.ssw3 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKfc1\r\n"
        b"Max-Forwards: 70\r\n"
        b"To: <sip:*21*156#@pv.ssw3>\r\n"
        b"From: <sip:155@pv.ssw3>;tag=1\r\n"
        b"Call-ID: fc1@127.0.0.1\r\n"
        b"CSeq: 1 INVITE\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    request = parse_message(data)
    assert isinstance(request, Request)
    assert isinstance(request.ruri, SipUri) and request.ruri.user == "*21*156#"
    assert str(request.ruri) == "sip:*21*156#@pv.ssw3"
    to_uri = request.to.address
    assert isinstance(to_uri, SipUri) and to_uri.user == "*21*156#"


def test_response_to_a_request_whose_to_does_not_parse() -> None:
    """The 400 for `To: <uri>tag=x` (no ';') copies the To as written, with a tag (§8.2.6.2)."""
    data = (
        b"BYE sip:156@127.0.0.1:5060 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKbadto\r\n"
        b"From: <sip:155@pv.ssw3>;tag=1\r\n"
        b"To: <sip:156@pv.ssw3>tag=abc\r\n"
        b"Call-ID: badto@127.0.0.1\r\n"
        b"CSeq: 2 BYE\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    request = parse_message(data)
    assert isinstance(request, Request)
    with pytest.raises(SipError):
        request.to.address  # noqa: B018
    response = make_response(request, 400, None, to_tag="local")
    assert response.headers.get("To") == "<sip:156@pv.ssw3>tag=abc;tag=local"
    assert response.call_id == "badto@127.0.0.1" and response.status == 400
    tagged = data.replace(b">tag=abc", b">tag=abc;tag=x;=")
    request = parse_message(tagged)
    assert isinstance(request, Request)
    response = make_response(request, 400, None, to_tag="local")
    assert response.headers.get("To") == "<sip:156@pv.ssw3>tag=abc;tag=x;="
