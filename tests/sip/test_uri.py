"""SIP, SIPS, tel and other URIs (RFC 3261 §19.1, RFC 3966)."""

from __future__ import annotations

import pytest

from ssw.sip import AbsoluteUri, SipUri, TelUri, UriError, escape, parse_uri, unescape


class TestSipUri:
    def test_all_components(self) -> None:
        text = "sips:alice:secret@atlanta.example.com:5061;transport=tcp;lr?subject=x&to=y"
        uri = parse_uri(text)
        assert isinstance(uri, SipUri)
        assert (uri.scheme, uri.user, uri.password) == ("sips", "alice", "secret")
        assert (uri.host, uri.port) == ("atlanta.example.com", 5061)
        assert uri.params == {"transport": "tcp", "lr": None}
        assert uri.headers == {"subject": "x", "to": "y"}
        assert uri.transport == "tcp" and uri.lr

    def test_host_only(self) -> None:
        uri = parse_uri("sip:registrar.example.com")
        assert isinstance(uri, SipUri)
        assert (uri.user, uri.host, uri.port) == (None, "registrar.example.com", None)
        assert uri.params == {} and uri.headers == {}

    @pytest.mark.parametrize(
        ("text", "host", "port"),
        [
            ("sip:user@[2001:db8::10]", "[2001:db8::10]", None),
            ("sip:user@[2001:db8::10]:5070", "[2001:db8::10]", 5070),
            ("sip:[2001:db8::10:5070]", "[2001:db8::10:5070]", None),  # RFC 5118 §4.3
            ("sip:user@[2001:db8:::192.0.2.1]", "[2001:db8:::192.0.2.1]", None),  # §4.10
            ("sip:user@[::ffff:192.0.2.2]", "[::ffff:192.0.2.2]", None),
            ("sip:192.0.2.1:5060", "192.0.2.1", 5060),
        ],
    )
    def test_hosts(self, text: str, host: str, port: int | None) -> None:
        uri = parse_uri(text)
        assert isinstance(uri, SipUri)
        assert (uri.host, uri.port) == (host, port)

    def test_scheme_is_case_insensitive_and_text_is_kept(self) -> None:
        uri = parse_uri("SIP:ALICE@AtLanTa.CoM;Transport=UDP")
        assert isinstance(uri, SipUri)
        assert uri.scheme == "sip" and uri.transport == "udp"
        assert str(uri) == "SIP:ALICE@AtLanTa.CoM;Transport=UDP"

    def test_user_with_unusual_characters(self) -> None:
        # RFC 4475 §3.1.1.2
        text = ("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:"
                "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com")
        uri = parse_uri(text)
        assert isinstance(uri, SipUri)
        assert uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
        assert uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
        assert uri.host == "example.com"

    def test_components_are_unescaped_once(self) -> None:
        uri = parse_uri("sip:%61lice%2541@example.com;n%61me=v%61lue%25%34%31?h%65ader=%3Cx%3E")
        assert isinstance(uri, SipUri)
        assert uri.user == "alice%41"
        assert uri.params == {"name": "value%41"}
        assert uri.headers == {"header": "<x>"}

    def test_built_uri_is_escaped(self) -> None:
        uri = SipUri("sip", "example.com", user="a b@c", params={"x": "1 2"},
                     headers={"Subject": "hi there"})
        assert str(uri) == "sip:a%20b%40c@example.com;x=1%202?Subject=hi%20there"
        assert parse_uri(str(uri)) == uri

    @pytest.mark.parametrize(
        ("text", "user"),
        [
            ("sip:*21*156#@pv.ssw3", "*21*156#"),  # usual shape (fast path)
            ("sip:*21*156#@pv.ssw3;user=phone", "*21*156#"),
            ("sip:#31#@pv.ssw3:5060", "#31#"),
            ("sip:*21*%31%35%36#@pv.ssw3", "*21*156#"),  # escapes too (slow path)
            ("sip:*21*156%23@pv.ssw3", "*21*156#"),  # the escaped form is the same user
        ],
    )
    def test_raw_hash_in_user(self, text: str, user: str) -> None:
        """§19.1.2 asks for '#' escaped; phones send feature codes raw: accepted on receive."""
        uri = parse_uri(text)
        assert isinstance(uri, SipUri)
        assert uri.user == user and uri.host == "pv.ssw3"
        assert str(uri) == text  # forwarded as received

    def test_raw_hash_only_in_user(self) -> None:
        with pytest.raises(UriError):
            parse_uri("sip:alice@host#frag")
        with pytest.raises(UriError):
            parse_uri("sip:alice@host;x=#1")

    def test_derived_copies(self) -> None:
        uri = parse_uri("sip:bob@biloxi.example.com?Subject=x")
        assert isinstance(uri, SipUri)
        routed = uri.with_params(lr=None, transport="tcp")
        assert str(routed) == "sip:bob@biloxi.example.com;lr;transport=tcp?Subject=x"
        assert str(routed.without_params("lr").without_headers()) == (
            "sip:bob@biloxi.example.com;transport=tcp")

    @pytest.mark.parametrize(
        "text",
        [
            "sip:",
            "sip:user@",
            "sip:user@host:99999",
            "sip:user@host:5o60",
            "sip:user@[2001:db8::10",
            "sip:user@2001:db8::10",  # RFC 5118 §4.2: IPv6 without brackets
            "sip:user name@host",
            "sip:user@host;=x",
            "sip:user@host;a=b c",
            "sip:user@host?noequals",
            "sip:us%ZZer@host",
            "sip:user@ho st",
            "sip:user@-host",
        ],
    )
    def test_malformed(self, text: str) -> None:
        with pytest.raises(UriError):
            parse_uri(text)

    def test_error_is_a_400(self) -> None:
        with pytest.raises(UriError) as raised:
            parse_uri("sip:user@2001:db8::10")
        assert raised.value.status == 400


class TestComparison:
    """The examples of RFC 3261 §19.1.4."""

    @pytest.mark.parametrize(
        ("a", "b"),
        [
            ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
            ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
            ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
            ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
            (
                "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
                "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
            ),
            (
                "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
                "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
            ),
        ],
    )
    def test_equivalent(self, a: str, b: str) -> None:
        assert parse_uri(a) == parse_uri(b)
        assert hash(parse_uri(a)) == hash(parse_uri(b))

    @pytest.mark.parametrize(
        ("a", "b"),
        [
            ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
            ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
            ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
            ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"),
            ("sip:alice@atlanta.com", "sips:alice@atlanta.com"),
            ("sip:alice@atlanta.com", "sip:alice@atlanta.com;maddr=239.255.255.1"),
            ("sip:alice@atlanta.com;user=phone", "sip:alice@atlanta.com"),
            ("sip:alice:a@atlanta.com", "sip:alice:b@atlanta.com"),
        ],
    )
    def test_not_equivalent(self, a: str, b: str) -> None:
        assert parse_uri(a) != parse_uri(b)

    def test_other_types_do_not_compare_equal(self) -> None:
        assert parse_uri("sip:1234@h") != parse_uri("tel:1234;phone-context=h")


class TestTelUri:
    def test_global_number(self) -> None:
        uri = parse_uri("tel:+1-201-555-0123;ext=1234")
        assert isinstance(uri, TelUri)
        assert uri.is_global and uri.digits == "+12015550123"
        assert uri.params == {"ext": "1234"}
        assert str(uri) == "tel:+1-201-555-0123;ext=1234"

    def test_local_number_with_context(self) -> None:
        uri = parse_uri("tel:7042;phone-context=example.com")
        assert isinstance(uri, TelUri)
        assert not uri.is_global
        assert uri.params["phone-context"] == "example.com"

    def test_comparison_ignores_visual_separators_and_order(self) -> None:
        # RFC 3966 §4
        assert parse_uri("tel:+1-201-555-0123") == parse_uri("tel:+1(201)555.0123")
        assert parse_uri("tel:1;a=1;B=2") == parse_uri("TEL:1;b=2;a=1")
        assert parse_uri("tel:+1-201-555-0123") != parse_uri("tel:+1-201-555-0124")
        assert parse_uri("tel:1;a=1") != parse_uri("tel:1")

    @pytest.mark.parametrize("text", ["tel:", "tel:abc$", "tel:+1 201", "tel:1;=x"])
    def test_malformed(self, text: str) -> None:
        with pytest.raises(UriError):
            parse_uri(text)


class TestAbsoluteUri:
    @pytest.mark.parametrize(
        "text",
        ["mailto:watson@bell-telephone.com", "http://www.example.com/x?y", "soap.beep://192.0.2.4",
         "urn:service:sos", "nobodyknowsthisscheme:totallyopaquecontent"],
    )
    def test_kept_opaque(self, text: str) -> None:
        uri = parse_uri(text)
        assert isinstance(uri, AbsoluteUri)
        assert str(uri) == text.replace(text.split(":")[0], text.split(":")[0].lower(), 1)

    @pytest.mark.parametrize("text", ["noscheme", "1http://x", "http://a b", "http://<x>", ":x"])
    def test_malformed(self, text: str) -> None:
        with pytest.raises(UriError):
            parse_uri(text)


class TestEscaping:
    def test_escape_by_component(self) -> None:
        assert escape("a b@c;d", "user") == "a%20b%40c;d"
        assert escape("a;b", "param") == "a%3Bb"
        assert escape("<sip:x>", "header") == "%3Csip:x%3E"
        assert escape("ж", "user") == "%D0%B6"

    def test_unescape_once(self) -> None:
        assert unescape("%2541") == "%41"
        assert unescape("%D0%B6") == "ж"
        assert unescape("%00") == "\x00"
        assert unescape("plain") == "plain"

    @pytest.mark.parametrize("text", ["a b", "@;?&=", "ж%", "x\x00y", ""])
    def test_round_trip(self, text: str) -> None:
        for component in ("user", "password", "param", "header"):
            assert unescape(escape(text, component)) == text


class TestUsualShapeParsedLazily:
    """The usual SIP URI is read in one step and its parameters split when first read."""

    @pytest.mark.parametrize("text", [
        "sip:alice@example.com", "sip:alice@example.com;transport=TCP;lr",
        "sips:[2001:db8::1]:5061;maddr=192.0.2.1;Method=INVITE", "sip:h;x;x=2",
    ])
    def test_same_as_the_careful_parser(self, text: str) -> None:
        fast = parse_uri(text)
        careful = SipUri.parse(text.replace("sip", "SIP", 1))  # not the usual shape
        assert isinstance(fast, SipUri) and isinstance(careful, SipUri)
        assert fast.params == careful.params
        assert (fast.user, fast.host, fast.port) == (careful.user, careful.host, careful.port)
        assert fast == careful and str(fast) == text

    def test_copies_and_changes(self) -> None:
        uri = parse_uri("sip:bob@example.com;transport=udp")
        assert isinstance(uri, SipUri)
        changed = uri.with_params(lr=None)
        assert changed.params == {"transport": "udp", "lr": None}
        assert str(changed) == "sip:bob@example.com;transport=udp;lr"
        assert uri.transport == "udp" and not uri.lr
