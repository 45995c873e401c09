"""RFC 4475 (SIP torture tests) and RFC 5118 (IPv6 torture tests) through the message layer.

Each message goes the way a received datagram goes: `parse_message`, then `check_request` (as
a UAS and as a proxy) or `check_response`; any `SipError` is answered by `rejection_for`. The
table below is this element's decision for each file, following the MANIFEST's `expected`
column; where the RFC leaves a choice ("may reject") the comment says which one is taken.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import TYPE_CHECKING, Literal

import pytest

from ssw.sip import (
    KNOWN_METHODS,
    Request,
    Response,
    SipError,
    SipUri,
    check_request,
    check_response,
    parse_message,
    rejection_for,
)

SUPPORTED = {"100rel", "timer", "replaces", "path", "outbound"}
ACCEPTED_TYPES = {"application/sdp", "multipart/mixed", "text/plain"}

Outcome = tuple[str, int | None]
ACCEPT: Outcome = ("accepted", None)
DROP: Outcome = ("dropped", None)


def reject(status: int) -> Outcome:
    return ("rejected", status)


# What this element does with each file as a UAS, and (second column) as a proxy.
EXPECTED: dict[str, tuple[Outcome, Outcome]] = {
    "rfc4475/wsinv.dat": (ACCEPT, ACCEPT),
    "rfc4475/intmeth.dat": (reject(501), ACCEPT),  # unknown method: UAS 501 + Allow
    "rfc4475/esc01.dat": (ACCEPT, ACCEPT),
    "rfc4475/escnull.dat": (ACCEPT, ACCEPT),
    "rfc4475/esc02.dat": (reject(501), ACCEPT),  # RE%47IST%45R is not REGISTER
    "rfc4475/lwsdisp.dat": (ACCEPT, ACCEPT),
    "rfc4475/longreq.dat": (ACCEPT, ACCEPT),
    "rfc4475/dblreq.dat": (ACCEPT, ACCEPT),
    "rfc4475/semiuri.dat": (ACCEPT, ACCEPT),
    "rfc4475/transports.dat": (ACCEPT, ACCEPT),
    "rfc4475/mpart01.dat": (ACCEPT, ACCEPT),
    "rfc4475/unreason.dat": (ACCEPT, ACCEPT),
    "rfc4475/noreason.dat": (ACCEPT, ACCEPT),
    "rfc4475/badinv01.dat": (reject(400), reject(400)),
    "rfc4475/clerr.dat": (reject(400), reject(400)),
    "rfc4475/ncl.dat": (reject(400), reject(400)),
    "rfc4475/scalar02.dat": (reject(400), reject(400)),
    "rfc4475/scalarlg.dat": (DROP, DROP),
    "rfc4475/quotbal.dat": (reject(400), reject(400)),
    "rfc4475/ltgtruri.dat": (reject(400), reject(400)),
    "rfc4475/lwsruri.dat": (reject(400), reject(400)),
    "rfc4475/lwsstart.dat": (reject(400), reject(400)),  # "may reject": rejected
    "rfc4475/trws.dat": (reject(400), reject(400)),  # "may reject": rejected
    "rfc4475/escruri.dat": (reject(400), reject(400)),  # "may reject": rejected
    "rfc4475/baddate.dat": (ACCEPT, ACCEPT),  # Date is never used here, so it is ignored
    "rfc4475/regbadct.dat": (reject(400), reject(400)),
    "rfc4475/badaspec.dat": (reject(400), reject(400)),
    "rfc4475/baddn.dat": (reject(400), reject(400)),
    "rfc4475/badvers.dat": (reject(505), reject(505)),
    "rfc4475/mismatch01.dat": (reject(400), reject(400)),
    "rfc4475/mismatch02.dat": (reject(501), reject(501)),
    "rfc4475/bigcode.dat": (DROP, DROP),
    "rfc4475/badbranch.dat": (ACCEPT, ACCEPT),  # RFC 2543 matching is the transactions' job
    "rfc4475/insuf.dat": (reject(400), reject(400)),
    "rfc4475/unkscm.dat": (reject(416), reject(416)),
    "rfc4475/novelsc.dat": (reject(416), reject(416)),
    "rfc4475/unksm2.dat": (ACCEPT, ACCEPT),  # a registrar would refuse; OPTIONS is fine
    "rfc4475/bext01.dat": (reject(420), reject(420)),
    "rfc4475/invut.dat": (reject(415), ACCEPT),
    "rfc4475/regaut01.dat": (ACCEPT, ACCEPT),
    "rfc4475/multi01.dat": (reject(400), reject(400)),
    "rfc4475/mcl01.dat": (reject(400), reject(400)),
    "rfc4475/bcast.dat": (ACCEPT, ACCEPT),  # the proxy's forwarding logic drops it
    "rfc4475/zeromf.dat": (ACCEPT, reject(483)),
    "rfc4475/cparam01.dat": (ACCEPT, ACCEPT),
    "rfc4475/cparam02.dat": (ACCEPT, ACCEPT),
    "rfc4475/regescrt.dat": (ACCEPT, ACCEPT),
    "rfc4475/sdp01.dat": (reject(406), ACCEPT),
    "rfc4475/inv2543.dat": (ACCEPT, ACCEPT),
    "rfc4475/test.dat": (DROP, DROP),  # no SIP-Version, no Via: nowhere to answer
    "rfc5118/ipv6-good": (ACCEPT, ACCEPT),
    "rfc5118/ipv6-bad": (reject(400), reject(400)),
    "rfc5118/port-ambiguous": (ACCEPT, ACCEPT),
    "rfc5118/port-unambiguous": (ACCEPT, ACCEPT),
    "rfc5118/via-received-param-with-delim": (ACCEPT, ACCEPT),
    "rfc5118/via-received-param-no-delim": (ACCEPT, ACCEPT),
    "rfc5118/ipv6-in-sdp": (ACCEPT, ACCEPT),
    "rfc5118/mult-ip-in-header": (ACCEPT, ACCEPT),
    "rfc5118/mult-ip-in-sdp": (ACCEPT, ACCEPT),
    "rfc5118/ipv4-mapped-ipv6": (ACCEPT, ACCEPT),
    "rfc5118/ipv6-bug-abnf-3-colons": (ACCEPT, ACCEPT),
    "rfc5118/ipv6-correct-abnf-2-colons": (ACCEPT, ACCEPT),
}

if TYPE_CHECKING:
    from conftest import TortureCase

CASE_IDS = sorted(EXPECTED)


def process(data: bytes, acting_as: Literal["uas", "proxy"]) -> tuple[Outcome, bytes | None]:
    """What a receiving element does with a datagram: accept, answer with a status, or drop."""
    try:
        message = parse_message(data)
        if isinstance(message, Response):
            check_response(message)
        else:
            check_request(
                message,
                supported=SUPPORTED,
                allowed_methods=KNOWN_METHODS,
                acting_as=acting_as,
                accepted_types=ACCEPTED_TYPES,
            )
        return ACCEPT, None
    except SipError as error:
        answer = rejection_for(data, error)
        if answer is None:
            return DROP, None
        return reject(error.status), answer


@pytest.fixture
def case(request: pytest.FixtureRequest, torture_cases: dict[str, TortureCase]) -> TortureCase:
    return torture_cases[request.param]


def test_every_manifest_entry_has_a_decision(torture_cases: dict[str, TortureCase]) -> None:
    assert set(torture_cases) == set(EXPECTED)


def test_files_are_the_published_ones(torture_cases: dict[str, TortureCase]) -> None:
    for case in torture_cases.values():
        assert hashlib.sha256(case.raw).hexdigest() == case.sha256, case.id


@pytest.mark.parametrize("case", CASE_IDS, indirect=True)
@pytest.mark.parametrize("role", ["uas", "proxy"])
def test_outcome(case: TortureCase, role: Literal["uas", "proxy"]) -> None:
    expected = EXPECTED[case.id][0 if role == "uas" else 1]
    outcome, answer = process(case.data, role)
    assert outcome == expected, f"{case.id} as {role}: {case.expected}"
    if answer is not None:
        response = parse_message(answer)
        assert isinstance(response, Response)
        assert response.status == expected[1]
        assert response.top_via.branch is not None or response.top_via.host
        assert response.headers.get("content-length") == "0"


@pytest.mark.parametrize("case", [c for c in CASE_IDS if EXPECTED[c][1] == ACCEPT], indirect=True)
def test_accepted_messages_round_trip(case: TortureCase) -> None:
    message = parse_message(case.data)
    if case.name == "dblreq.dat":
        # RFC 3261 §18.3: the octets after Content-Length are not part of the message.
        assert case.data.startswith(bytes(message))
        assert bytes(message).endswith(b"Content-Length: 0\r\n\r\n")
    else:
        assert bytes(message) == case.data
    assert parse_message(bytes(message)) == message


@pytest.mark.parametrize("case", CASE_IDS, indirect=True)
def test_nothing_but_sip_errors_escape_typed_access(case: TortureCase) -> None:
    try:
        message = parse_message(case.data)
    except SipError:
        return
    for name in (
        "vias", "top_via", "call_id", "cseq", "from_", "to", "contacts", "max_forwards",
        "routes", "record_routes", "expires", "require", "supported", "proxy_require",
        "content_type", "content_length", "accept", "allow", "rseq", "rack",
        "session_expires", "min_se", "refer_to", "referred_by", "replaces",
    ):
        with contextlib.suppress(SipError):
            getattr(message, name)
    if isinstance(message, Request):
        with contextlib.suppress(SipError):
            message.ruri  # noqa: B018
            message.from_.address  # noqa: B018
            message.to.address  # noqa: B018


# Details the RFCs call out, checked on the parsed values.


def test_wsinv_folding_and_whitespace(torture_cases: dict[str, TortureCase]) -> None:
    msg = parse_message(torture_cases["rfc4475/wsinv.dat"].data)
    assert isinstance(msg, Request)
    assert msg.to.tag == "1918181833n"
    assert msg.from_.tag == "98asjd8"
    assert msg.from_.display_name == 'J Rosenberg \\"'
    assert msg.max_forwards == 68
    assert (msg.cseq.seq, msg.cseq.method) == (9, "INVITE")
    assert [(v.transport, v.host, v.branch) for v in msg.vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    assert msg.headers.get("subject") == ""
    assert msg.headers.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    assert msg.headers.get("newfangledheader") == "newfangled value continued newfangled value"
    contact = msg.contacts[0]
    assert contact.display_name == 'Quoted string ""'
    assert contact.params["newparam"] == "newvalue"
    assert contact.q == 0.33
    assert msg.routes[0].uri == "sip:services.example.com;lr;unknownwith=value;unknown-no-value"


def test_intmeth_unusual_characters(torture_cases: dict[str, TortureCase]) -> None:
    msg = parse_message(torture_cases["rfc4475/intmeth.dat"].data)
    assert isinstance(msg, Request)
    assert msg.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert msg.to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert isinstance(msg.ruri, SipUri)
    with pytest.raises(SipError) as raised:
        check_request(msg, allowed_methods={"INVITE", "ACK", "BYE"})
    assert raised.value.status == 501
    assert ("Allow", "ACK, BYE, INVITE") in raised.value.headers


def test_escaping_is_not_recursive(torture_cases: dict[str, TortureCase]) -> None:
    msg = parse_message(torture_cases["rfc4475/esc01.dat"].data)
    assert isinstance(msg, Request)
    ruri = msg.ruri
    assert isinstance(ruri, SipUri)
    assert ruri.user == "sips:user@example.com"
    assert msg.to.address == parse_message(msg.serialize()).to.address
    contact_uri = msg.contacts[0].address
    assert isinstance(contact_uri, SipUri)
    assert contact_uri.user == "caller"
    assert contact_uri.params["name"] == "value%41"
    assert contact_uri.lr


def test_escaped_nulls_are_distinct_contacts(torture_cases: dict[str, TortureCase]) -> None:
    msg = parse_message(torture_cases["rfc4475/escnull.dat"].data)
    users = [c.address.user for c in msg.contacts if isinstance(c.address, SipUri)]
    assert users == ["\x00", "\x00\x00"]
    assert isinstance(msg.to.address, SipUri)
    assert msg.to.address.user == "null-\x00-null"


def test_percent_not_an_escape_in_method(torture_cases: dict[str, TortureCase]) -> None:
    msg = parse_message(torture_cases["rfc4475/esc02.dat"].data)
    assert isinstance(msg, Request)
    assert msg.method == "RE%47IST%45R"
    assert len(msg.contacts) == 2
    assert msg.headers.get("C%6Fntact") is not None


def test_semicolon_in_user_part(torture_cases: dict[str, TortureCase]) -> None:
    msg = parse_message(torture_cases["rfc4475/semiuri.dat"].data)
    assert isinstance(msg, Request)
    assert isinstance(msg.ruri, SipUri)
    assert msg.ruri.user == "user;par=u@example.net"


def test_trailing_octets_of_a_datagram_are_ignored(torture_cases: dict[str, TortureCase]) -> None:
    msg = parse_message(torture_cases["rfc4475/dblreq.dat"].data)
    assert isinstance(msg, Request)
    assert msg.method == "REGISTER"
    assert msg.body == b""


def test_multipart_body_with_nul_octets(torture_cases: dict[str, TortureCase]) -> None:
    msg = parse_message(torture_cases["rfc4475/mpart01.dat"].data)
    assert b"\x00" in msg.body
    assert len(msg.body) == msg.content_length


def test_unusual_and_empty_reason_phrases(torture_cases: dict[str, TortureCase]) -> None:
    unusual = parse_message(torture_cases["rfc4475/unreason.dat"].data)
    assert isinstance(unusual, Response)
    assert unusual.status == 200
    assert "простое" in unusual.reason
    empty = parse_message(torture_cases["rfc4475/noreason.dat"].data)
    assert isinstance(empty, Response)
    assert (empty.status, empty.reason) == (100, "")


def test_transports_of_each_via(torture_cases: dict[str, TortureCase]) -> None:
    msg = parse_message(torture_cases["rfc4475/transports.dat"].data)
    assert [via.transport for via in msg.vias] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]


def test_contact_params_versus_uri_params(torture_cases: dict[str, TortureCase]) -> None:
    outside = parse_message(torture_cases["rfc4475/cparam01.dat"].data).contacts[0]
    inside = parse_message(torture_cases["rfc4475/cparam02.dat"].data).contacts[0]
    assert "unknownparam" in outside.params
    assert isinstance(outside.address, SipUri) and "unknownparam" not in outside.address.params
    assert "unknownparam" not in inside.params
    assert isinstance(inside.address, SipUri) and "unknownparam" in inside.address.params


def test_escaped_route_header_in_contact_is_kept(torture_cases: dict[str, TortureCase]) -> None:
    contact = parse_message(torture_cases["rfc4475/regescrt.dat"].data).contacts[0]
    assert isinstance(contact.address, SipUri)
    assert contact.address.headers == {"Route": "<sip:sip.example.com>"}
    assert str(contact.address) == "sip:user@example.com?Route=%3Csip:sip.example.com%3E"


def test_bad_extension_lists_the_unknown_tags(torture_cases: dict[str, TortureCase]) -> None:
    data = torture_cases["rfc4475/bext01.dat"].data
    for role, tags in (
        ("uas", "nothingSupportsThis, nothingSupportsThisEither"),
        ("proxy", "noProxiesSupportThis, norDoAnyProxiesSupportThis"),
    ):
        _, answer = process(data, role)  # type: ignore[arg-type]
        assert answer is not None
        assert parse_message(answer).headers.get_lines("unsupported") == [tags]


def test_unsupported_media_type_lists_accept(torture_cases: dict[str, TortureCase]) -> None:
    _, answer = process(torture_cases["rfc4475/invut.dat"].data, "uas")
    assert answer is not None
    response = parse_message(answer)
    assert response.headers.get_all("accept") == sorted(ACCEPTED_TYPES)


def test_rejection_copies_the_dialog_fields(torture_cases: dict[str, TortureCase]) -> None:
    data = torture_cases["rfc4475/mismatch01.dat"].data
    request_lines = data.split(b"\r\n\r\n")[0].split(b"\r\n")
    _, answer = process(data, "uas")
    assert answer is not None
    response = parse_message(answer)
    for name in (b"Via", b"From", b"Call-ID", b"CSeq"):
        line = next(x for x in request_lines if x.lower().startswith(name.lower() + b":"))
        assert line.split(b":", 1)[1].strip().decode() in response.headers.get_lines(name.decode())
    assert response.to.tag is not None
    # The same datagram again (a retransmission) gets the same To tag.
    assert process(data, "uas")[1] == answer


def test_broken_via_is_answered_with_what_can_be_read(
    torture_cases: dict[str, TortureCase],
) -> None:
    _, answer = process(torture_cases["rfc4475/badinv01.dat"].data, "uas")
    assert answer is not None
    response = parse_message(answer)
    assert [str(via) for via in response.vias] == ["SIP/2.0/UDP 192.0.2.15"]


def test_ipv6_references(torture_cases: dict[str, TortureCase]) -> None:
    ambiguous = parse_message(torture_cases["rfc5118/port-ambiguous"].data)
    assert isinstance(ambiguous, Request) and isinstance(ambiguous.ruri, SipUri)
    assert (ambiguous.ruri.host, ambiguous.ruri.port) == ("[2001:db8::10:5070]", None)
    plain = parse_message(torture_cases["rfc5118/port-unambiguous"].data)
    assert isinstance(plain, Request) and isinstance(plain.ruri, SipUri)
    assert (plain.ruri.host, plain.ruri.port) == ("[2001:db8::10]", 5070)
    with_delim = parse_message(torture_cases["rfc5118/via-received-param-with-delim"].data)
    assert with_delim.top_via.received == "[2001:db8::9:255]"
    no_delim = parse_message(torture_cases["rfc5118/via-received-param-no-delim"].data)
    assert no_delim.top_via.received == "2001:db8::9:255"
    hops = parse_message(torture_cases["rfc5118/mult-ip-in-header"].data).vias
    assert len(hops) == 3


def test_missing_final_empty_line_is_tolerated(torture_cases: dict[str, TortureCase]) -> None:
    data = torture_cases["rfc5118/ipv6-bug-abnf-3-colons"].raw.replace(b"\n", b"\r\n")
    assert not data.endswith(b"\r\n\r\n")
    msg = parse_message(data)
    assert isinstance(msg, Request)
    assert msg.method == "OPTIONS"
    assert bytes(msg) == data + b"\r\n"


# check_request / check_response / rejection_for beyond the torture files.

BASE = (
    b"OPTIONS sip:bob@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKbase\r\n"
    b"Max-Forwards: 1\r\n"
    b"To: <sip:bob@example.com>\r\n"
    b"From: <sip:alice@example.com>;tag=a1\r\n"
    b"Call-ID: base@192.0.2.1\r\n"
    b"CSeq: 1 OPTIONS\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)


def checked(data: bytes, **options: object) -> int | None:
    """The status check_request answers `data` with, None when it may be processed."""
    message = parse_message(data)
    assert isinstance(message, Request)
    try:
        check_request(message, **options)  # type: ignore[arg-type]
    except SipError as error:
        return error.status
    return None


def test_known_but_disallowed_method_is_405_with_allow() -> None:
    message = parse_message(BASE)
    assert isinstance(message, Request)
    with pytest.raises(SipError) as raised:
        check_request(message, allowed_methods={"INVITE", "BYE"})
    assert raised.value.status == 405
    assert raised.value.headers == (("Allow", "BYE, INVITE"),)


def test_require_is_not_checked_for_ack_and_cancel() -> None:
    for method in (b"ACK", b"CANCEL"):
        data = BASE.replace(b"OPTIONS", method).replace(
            b"Content-Length", b"Require: unknown-thing\r\nContent-Length")
        assert checked(data) is None
    assert checked(BASE.replace(b"Content-Length", b"Require: x\r\nContent-Length")) == 420


def test_proxy_checks() -> None:
    assert checked(BASE, acting_as="proxy") is None
    zero = BASE.replace(b"Max-Forwards: 1", b"Max-Forwards: 0")
    assert checked(zero, acting_as="proxy") == 483
    assert checked(zero, acting_as="uas") is None
    require = BASE.replace(b"Content-Length", b"Require: x\r\nContent-Length")
    assert checked(require, acting_as="proxy") is None
    assert checked(require, acting_as="proxy", supported={"x"}) is None


def test_max_forwards_may_be_required() -> None:
    without = BASE.replace(b"Max-Forwards: 1\r\n", b"")
    assert checked(without) is None
    assert checked(without, rfc2543_compat=False) == 400


def test_uri_schemes_are_configurable() -> None:
    tel = BASE.replace(b"OPTIONS sip:bob@example.com", b"OPTIONS tel:+12015550123")
    assert checked(tel) is None
    assert checked(tel, uri_schemes={"sip", "sips"}) == 416


def test_bodies_at_a_uas() -> None:
    body = b"hello"
    data = BASE.replace(b"Content-Length: 0", b"Content-Type: text/plain\r\nContent-Length: 5")
    assert checked(data + body, accepted_types={"text/plain"}) is None
    assert checked(data + body, accepted_types={"application/sdp"}) == 415
    assert checked(data + body) is None  # accepted_types None: not checked
    encoded = data.replace(b"Content-Length", b"Content-Encoding: gzip\r\nContent-Length")
    message = parse_message(encoded + body)
    assert isinstance(message, Request)
    with pytest.raises(SipError) as raised:
        check_request(message, accepted_types={"text/plain"})
    assert raised.value.status == 415
    assert raised.value.headers == (("Accept-Encoding", "identity"),)
    untyped = BASE.replace(b"Content-Length: 0", b"Content-Length: 5") + body
    assert checked(untyped, accepted_types={"text/plain"}) == 415


def test_accept_for_invite() -> None:
    invite = BASE.replace(b"OPTIONS", b"INVITE")
    assert checked(invite) is None
    for accept, status in ((b"application/*", None), (b"*/*", None), (b"text/html", 406),
                           (b"application/sdp;level=1, text/html", None)):
        data = invite.replace(b"Content-Length", b"Accept: " + accept + b"\r\nContent-Length")
        assert checked(data) == status, accept


def test_check_response() -> None:
    response = b"SIP/2.0 200 OK\r\n" + BASE.split(b"\r\n", 1)[1]
    message = parse_message(response)
    assert isinstance(message, Response)
    check_response(message)
    doubled = parse_message(response.replace(b"Call-ID:", b"i: x\r\nCall-ID:"))
    assert isinstance(doubled, Response)
    with pytest.raises(SipError):
        check_response(doubled)


def test_rejection_for_what_cannot_be_answered() -> None:
    error = SipError("bad")
    assert rejection_for(b"", error) is None
    assert rejection_for(b"\x00\xff garbage", error) is None
    assert rejection_for(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n\r\n", error) is None
    assert rejection_for(BASE.replace(b"OPTIONS sip", b"ACK sip"), error) is None
    no_via = BASE.replace(b"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKbase\r\n", b"")
    assert rejection_for(no_via, error) is None


def test_rejection_tags_and_extra_headers() -> None:
    from ssw.sip import BadExtension

    answer = rejection_for(BASE, BadExtension(["foo", "bar"]), to_tag="given")
    assert answer is not None
    response = parse_message(answer)
    assert isinstance(response, Response)
    assert (response.status, response.reason) == (420, "Bad Extension")
    assert response.to.tag == "given"
    assert response.unsupported == ["foo", "bar"]
    assert response.cseq.method == "OPTIONS" and response.from_.tag == "a1"
    for written in (b";tag=kept", b" ; TAG = kept"):
        tagged = BASE.replace(b"To: <sip:bob@example.com>", b"To: <sip:bob@example.com>" + written)
        again = rejection_for(tagged, SipError("bad"))
        assert again is not None
        assert parse_message(again).to.tag == "kept"
