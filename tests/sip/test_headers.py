"""Typed header values and the helpers under them (RFC 3261 §7.3, §20, §25.1)."""

from __future__ import annotations

import pytest

from ssw.sip import (
    AuthValue,
    Contact,
    CSeq,
    HeaderError,
    MediaType,
    NameAddr,
    RAck,
    Replaces,
    SessionExpires,
    SipUri,
    Via,
    canonical_name,
    header_key,
    parse_params,
    split_comma_list,
)
from ssw.sip.headers import parse_delta, parse_option_tags, quote, unquote


class TestNames:
    @pytest.mark.parametrize(
        ("name", "key"),
        [("Via", "via"), ("v", "via"), ("V", "via"), ("CALL-ID", "call-id"), ("i", "call-id"),
         ("x", "session-expires"), ("o", "event"), ("X-Custom", "x-custom"), ("To ", "to")],
    )
    def test_header_key(self, name: str, key: str) -> None:
        assert header_key(name) == key

    @pytest.mark.parametrize(
        ("name", "written"),
        [("call-id", "Call-ID"), ("i", "Call-ID"), ("cseq", "CSeq"), ("www-authenticate",
         "WWW-Authenticate"), ("x-my-header", "X-My-Header"), ("X-SomeThing", "X-SomeThing")],
    )
    def test_canonical_name(self, name: str, written: str) -> None:
        assert canonical_name(name) == written


class TestParams:
    def test_simple(self) -> None:
        assert parse_params(";branch=z9hG4bK1;rport;Received=192.0.2.1") == {
            "branch": "z9hG4bK1", "rport": None, "received": "192.0.2.1"}

    def test_whitespace_and_quotes(self) -> None:
        assert parse_params(' ; a = 1 ;b ; c="x;y, z"') == {"a": "1", "b": None, "c": '"x;y, z"'}

    @pytest.mark.parametrize("text", [";;", ";a=1;;b", "a=1", ";a=", ";=1", ';a="open', ";a b"])
    def test_malformed(self, text: str) -> None:
        with pytest.raises(HeaderError):
            parse_params(text)

    def test_empty(self) -> None:
        assert parse_params("") == {}


class TestLists:
    def test_split_respects_quotes_and_angles(self) -> None:
        assert split_comma_list('a, "b,c" <sip:x>, <sip:y,z>;p=1 ,d') == [
            "a", '"b,c" <sip:x>', "<sip:y,z>;p=1", "d"]

    def test_empty_elements(self) -> None:
        assert split_comma_list("a,,b, ") == ["a", "b"]
        assert split_comma_list("a,,b", keep_empty=True) == ["a", "", "b"]
        assert split_comma_list("") == []

    def test_escaped_quote_inside_quotes(self) -> None:
        assert split_comma_list(r'"a\",b" <sip:x>, c') == [r'"a\",b" <sip:x>', "c"]

    def test_unterminated_quote(self) -> None:
        with pytest.raises(HeaderError):
            split_comma_list('"a, b')

    def test_option_tags(self) -> None:
        assert parse_option_tags("100rel, timer ,replaces") == ["100rel", "timer", "replaces"]
        with pytest.raises(HeaderError):
            parse_option_tags("good, b@d")

    @pytest.mark.parametrize(("text", "value"), [("0", 0), (" 3600 ", 3600), ("0068", 68)])
    def test_delta(self, text: str, value: int) -> None:
        assert parse_delta(text, "Expires") == value

    @pytest.mark.parametrize("text", ["-1", "1.5", "", "x", "4294967296", "9" * 100, "٣"])
    def test_bad_delta(self, text: str) -> None:
        with pytest.raises(HeaderError):
            parse_delta(text, "Expires")

    def test_quote_round_trip(self) -> None:
        text = 'say "hi" \\ bye'
        assert quote(text) == '"say \\"hi\\" \\\\ bye"'
        assert unquote(quote(text)) == text
        assert unquote("token") == "token"


class TestVia:
    def test_full(self) -> None:
        via = Via.parse("SIP/2.0/UDP [2001:db8::9:1]:5070;branch=z9hG4bKas3-111;"
                        "received=[2001:db8::9:255];rport=5080")
        assert (via.protocol, via.transport, via.host, via.port) == (
            "SIP/2.0", "UDP", "[2001:db8::9:1]", 5070)
        assert via.branch == "z9hG4bKas3-111" and via.is_rfc3261_branch
        assert via.received == "[2001:db8::9:255]"
        assert via.rport == 5080
        assert via.sent_by == "[2001:db8::9:1]:5070"

    def test_whitespace_everywhere(self) -> None:
        text = "SIP  /   2.0 / tcp   host.example.com  :  5060 ; branch = z9hG4bKx ; rport"
        via = Via.parse(text)
        assert (via.transport, via.host, via.port, via.branch, via.rport) == (
            "TCP", "host.example.com", 5060, "z9hG4bKx", True)

    def test_without_params(self) -> None:
        via = Via.parse("SIP/2.0/UDP 192.0.2.1")
        assert (via.branch, via.rport, via.received, via.maddr) == (None, None, None, None)
        assert not via.is_rfc3261_branch

    def test_maddr_and_ttl(self) -> None:
        via = Via.parse("SIP/2.0/UDP host;maddr=224.2.0.1;ttl=16")
        assert via.maddr == "224.2.0.1" and via.params["ttl"] == "16"

    def test_build_and_derive(self) -> None:
        via = Via("UDP", "192.0.2.1", 5060, {"branch": "z9hG4bKabc", "rport": None})
        assert str(via) == "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;rport"
        stamped = via.with_params(received="203.0.113.9", rport="40000")
        assert str(stamped) == (
            "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;rport=40000;received=203.0.113.9")
        assert via.rport is True and stamped.rport == 40000
        assert Via.parse(str(stamped)) == stamped

    def test_parsed_text_is_kept(self) -> None:
        text = "SIP / 2.0 / UDP host ;branch=z9hG4bK1"
        assert str(Via.parse(text)) == text

    @pytest.mark.parametrize(
        "text",
        ["SIP/2.0/UDP", "SIP/2.0 UDP host", "SIP/2.0/UDP host:70000", "SIP/2.0/UDP host;rport=x",
         "SIP/2.0/UDP 192.0.2.15;;", "SIP/2.0/UDP host junk", "SIP/2.0/U@P host",
         "SIP/2.0/UDP [2001:db8::1", ""],
    )
    def test_malformed(self, text: str) -> None:
        with pytest.raises(HeaderError):
            Via.parse(text)


class TestNameAddr:
    @pytest.mark.parametrize(
        ("text", "display", "uri", "params"),
        [
            ("<sip:a@b>", None, "sip:a@b", {}),
            ('"Alice" <sip:alice@h>;tag=1', "Alice", "sip:alice@h", {"tag": "1"}),
            ('"Bob \\"the\\" builder" <sip:bob@h>', 'Bob "the" builder', "sip:bob@h", {}),
            ("caller<sip:caller@example.com>;tag=323", "caller", "sip:caller@example.com",
             {"tag": "323"}),
            ("Bob  Smith <sip:b@h>", "Bob Smith", "sip:b@h", {}),
            ("sip:a@b;tag=1;x", None, "sip:a@b", {"tag": "1", "x": None}),
            ("  sip:a@b  ", None, "sip:a@b", {}),
            (' "Ж юникод"  <sip:a@b> ;tag = x ', "Ж юникод", "sip:a@b", {"tag": "x"}),
            ("<tel:+12015550123>", None, "tel:+12015550123", {}),
            ('"" <sip:a@b>', "", "sip:a@b", {}),
        ],
    )
    def test_forms(self, text: str, display: str | None, uri: str, params: dict[str, str]) -> None:
        value = NameAddr.parse(text)
        assert (value.display_name, value.uri, value.params) == (display, uri, params)
        assert str(value) == text

    def test_address_is_parsed_once(self) -> None:
        value = NameAddr.parse("<sip:alice@atlanta.example.com;transport=tcp>;tag=9")
        assert isinstance(value.address, SipUri)
        assert value.address is value.address
        assert value.address.transport == "tcp"
        assert value.tag == "9"

    def test_build(self) -> None:
        value = NameAddr("sip:a@b", 'Say "x"', {"tag": "1"})
        assert str(value) == '"Say \\"x\\"" <sip:a@b>;tag=1'
        assert NameAddr.parse(str(value)) == value
        assert str(NameAddr("sip:a@b").with_params(tag="t")) == "<sip:a@b>;tag=t"

    @pytest.mark.parametrize(
        "text",
        ['"unterminated <sip:a@b>', "Bell, Alexander <sip:a@b>", "sip:a@b?x=y", "<sip:a@b",
         "< sip:a@b >", '"A" sip:a@b', "<sip:a@b> garbage", "<>", "no-scheme", ""],
    )
    def test_malformed(self, text: str) -> None:
        with pytest.raises(HeaderError):
            NameAddr.parse(text)


class TestContact:
    def test_params(self) -> None:
        text = '"Phone" <sip:2001@192.0.2.10>;expires=3600;q=0.7;+sip.instance="<urn:x>"'
        contact = Contact.parse(text)
        assert (contact.expires, contact.q, contact.star) == (3600, 0.7, False)
        assert contact.params["+sip.instance"] == '"<urn:x>"'

    def test_star(self) -> None:
        contact = Contact.parse("*")
        assert contact.star and str(contact) == "*"
        assert (contact.q, contact.expires) == (None, None)

    @pytest.mark.parametrize("text", ["<sip:a@b>;q=1.5", "<sip:a@b>;q=x", "<sip:a@b>;expires=-1"])
    def test_bad_params(self, text: str) -> None:
        contact = Contact.parse(text)
        with pytest.raises(HeaderError):
            contact.q if "q=" in text else contact.expires  # noqa: B018


class TestSmallValues:
    def test_cseq(self) -> None:
        assert CSeq.parse(" 0009  INVITE ") == CSeq(9, "INVITE")
        assert str(CSeq(2**31 - 1, "BYE")) == "2147483647 BYE"

    @pytest.mark.parametrize("text", ["INVITE", "1", "1 2 3", "-1 INVITE", "2147483648 INVITE",
                                      "36893488147419103232 REGISTER", "1 INV@TE", "x INVITE"])
    def test_bad_cseq(self, text: str) -> None:
        with pytest.raises(HeaderError):
            CSeq.parse(text)

    def test_rack(self) -> None:
        assert RAck.parse("776656 1 INVITE") == RAck(776656, 1, "INVITE")
        assert str(RAck(1, 2, "INVITE")) == "1 2 INVITE"
        with pytest.raises(HeaderError):
            RAck.parse("1 INVITE")

    def test_session_expires(self) -> None:
        value = SessionExpires.parse("1800 ; refresher = UAS")
        assert (value.delta, value.refresher) == (1800, "uas")
        assert str(value) == "1800;refresher=UAS"
        assert SessionExpires.parse("90").refresher is None

    def test_replaces(self) -> None:
        value = Replaces.parse("425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only")
        assert (value.call_id, value.to_tag, value.from_tag, value.early_only) == (
            "425928@bobster.example.org", "7743", "6472", True)
        assert str(value) == "425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only"
        with pytest.raises(HeaderError):
            Replaces.parse(";to-tag=1;from-tag=2")

    def test_media_type(self) -> None:
        value = MediaType.parse("Multipart/Mixed ; boundary=7a9cbec02ceef655")
        assert value.mime == "multipart/mixed"
        assert value.params == {"boundary": "7a9cbec02ceef655"}
        assert MediaType.parse("application/*").matches("application/sdp")
        assert MediaType.parse("*/*").matches("text/plain")
        assert not MediaType.parse("text/plain").matches("application/sdp")
        with pytest.raises(HeaderError):
            MediaType.parse("sdp")


class TestAuth:
    def test_digest_credentials(self) -> None:
        text = ('Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f6",'
                ' uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b",'
                ' response="6629fae49393a05397450978507c4ef1", algorithm=MD5')
        value = AuthValue.parse(text)
        assert value.scheme == "Digest"
        assert value.params["username"] == "bob"
        assert value.params["uri"] == "sip:bob@biloxi.com"
        assert (value.params["qop"], value.params["nc"]) == ("auth", "00000001")
        assert value.tokens == {"qop", "nc", "algorithm"}
        assert AuthValue.parse(str(value)) == value
        assert "qop=auth," in str(value) and 'username="bob"' in str(value)

    def test_challenge_with_commas_in_quotes(self) -> None:
        value = AuthValue.parse('Digest realm="a, b", qop="auth,auth-int", stale=FALSE')
        assert value.params == {"realm": "a, b", "qop": "auth,auth-int", "stale": "FALSE"}

    def test_token68_and_unknown_schemes(self) -> None:
        assert AuthValue.parse("Bearer abc.def==").token68 == "abc.def=="
        unknown = AuthValue.parse("NoOneKnowsThisScheme opaque-data=here")
        assert unknown.scheme == "NoOneKnowsThisScheme"
        assert unknown.params == {"opaque-data": "here"}

    @pytest.mark.parametrize("text", ['Digest realm="a,b", x', "B@d realm=x", 'Digest a="open'])
    def test_malformed(self, text: str) -> None:
        with pytest.raises(HeaderError):
            AuthValue.parse(text)


class TestParametersReadLazily:
    """Via and name-addr values split their parameters only when read; what is read must be
    what splitting all of them gives (the last of a repeated name, names in any case)."""

    @pytest.mark.parametrize("params", [
        "", ";branch=z9hG4bKa", ";branch=z9hG4bKa;rport", ";rport;branch=z9hG4bKa",
        ";branch=z9hG4bKa;BRANCH=z9hG4bKb", ";branch=z9hG4bKa;Branch", ";branch=z9hG4bKa;branchx",
        ";branch=z9hG4bKa;rport=5060;received=192.0.2.1", ";BRANCH=z9hG4bKc;lr",
    ])
    def test_via(self, params: str) -> None:
        via = Via.parse("SIP/2.0/UDP 192.0.2.10:5060" + params)
        expected = parse_params(params)
        assert via.branch == expected.get("branch")
        assert via.params == expected
        assert via == Via("UDP", "192.0.2.10", 5060, expected)

    @pytest.mark.parametrize("params", [
        "", ";tag=a1", ";tag=a1;tag=b2", ";TAG=a1", ";tag=a1;x", ";x;tag=a1", ";tag=a1;Tag",
    ])
    def test_name_addr(self, params: str) -> None:
        value = NameAddr.parse('"A" <sip:a@example.com>' + params)
        expected = parse_params(params)
        assert value.tag == expected.get("tag")
        assert value.params == expected
        assert value == NameAddr("sip:a@example.com", "A", expected)

    def test_invalid_rport_after_a_branch_is_refused(self) -> None:
        with pytest.raises(HeaderError):
            Via.parse("SIP/2.0/UDP h;branch=z9hG4bKa;rport=99999")

    def test_assigned_params_are_read(self) -> None:
        via = Via.parse("SIP/2.0/UDP h;branch=z9hG4bKa;rport")
        via.params = {"branch": "z9hG4bKb"}
        assert via.branch == "z9hG4bKb"
        contact = Contact.parse("<sip:a@h>;expires=60")
        contact.params["expires"] = "30"
        assert contact.expires == 30
