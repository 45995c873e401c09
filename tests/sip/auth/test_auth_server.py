"""DigestServer with DigestClient: challenge, answer, verify (RFC 3261 §22, RFC 7616)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssw.sip.auth import (
    AuthFailure,
    AuthOutcome,
    DigestChallenge,
    DigestClient,
    DigestCredentials,
    DigestServer,
    ReplayGuard,
    compute_ha1,
    parse_auth_value,
)
from ssw.sip.auth.server import same_resource

SECRET = b"0123456789abcdef-test-secret"
REALM = "pv.ssw3"
URI = "sip:pv.ssw3"
T0 = 1_700_000_000.0


def make_server(**kwargs: object) -> DigestServer:
    return DigestServer(SECRET, REALM, **kwargs)  # type: ignore[arg-type]


def answer(
    challenges: list[str],
    method: str = "REGISTER",
    uri: str = URI,
    body: bytes = b"",
    password: str = "123",
) -> str:
    return DigestClient("156", password).authorization(challenges, method, uri, body)


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
@pytest.mark.parametrize("qop", [True, False])
def test_round_trip(algorithm: str, qop: bool) -> None:
    server = make_server()
    challenges = server.challenge(T0, qop=qop, algorithm=algorithm)
    assert len(challenges) == 1
    value = answer(challenges)
    creds = DigestCredentials.parse(value)
    assert creds.algorithm == algorithm
    assert (creds.qop == "auth") is qop
    result = server.verify(value, method="REGISTER", now=T0 + 1, password="123")
    assert result.outcome is AuthOutcome.OK, result.reason
    assert result.ok and result.username == "156"


def test_default_offer_is_md5_alone() -> None:
    (value,) = make_server().challenge(T0, qop=True)
    assert DigestChallenge.parse(value).algorithm == "MD5"


def test_one_challenge_per_algorithm_in_configured_order() -> None:
    server = make_server(offer=("MD5", "SHA-256"), auth_int=True)
    values = server.challenge(T0, qop=True)
    assert len(server.challenge(T0, qop=True, algorithm=("SHA-256", "MD5"))) == 2
    parsed = [DigestChallenge.parse(v) for v in values]
    assert [c.algorithm for c in parsed] == ["MD5", "SHA-256"]
    assert parsed[0].nonce == parsed[1].nonce
    assert parsed[0].qop == ("auth", "auth-int")
    # The client answers the strongest; the server accepts it.
    creds = DigestCredentials.parse(answer(values))
    assert creds.algorithm == "SHA-256"
    assert server.verify(creds, method="REGISTER", now=T0, password="123").ok


def test_challenge_rejects_algorithm_not_enabled() -> None:
    with pytest.raises(ValueError, match="not enabled"):
        make_server(algorithms=("MD5",)).challenge(T0, qop=True, algorithm="SHA-256")
    with pytest.raises(ValueError, match="not enabled"):
        make_server(algorithms=("SHA-256",))
    with pytest.raises(ValueError, match="at least one"):
        make_server().challenge(T0, qop=True, algorithm=())


def test_nonces_are_fresh_each_time() -> None:
    server = make_server()
    first = DigestChallenge.parse(server.challenge(T0, qop=True)[0]).nonce
    second = DigestChallenge.parse(server.challenge(T0, qop=True)[0]).nonce
    assert first != second


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_stored_ha1_instead_of_password(algorithm: str) -> None:
    server = make_server()
    value = answer(server.challenge(T0, qop=True, algorithm=algorithm))
    ha1 = {name: compute_ha1("156", REALM, "123", name) for name in ("MD5", "SHA-256")}
    assert server.verify(value, method="REGISTER", now=T0, ha1=ha1).ok
    only_md5 = {"MD5": ha1["MD5"]}
    result = server.verify(value, method="REGISTER", now=T0, ha1=only_md5)
    assert result.ok is (algorithm == "MD5")
    if algorithm != "MD5":
        assert result.failure is AuthFailure.NO_CREDENTIAL


def test_password_and_ha1_are_exclusive() -> None:
    server = make_server()
    value = answer(server.challenge(T0, qop=True))
    with pytest.raises(TypeError):
        server.verify(value, method="REGISTER", now=T0)
    with pytest.raises(TypeError):
        server.verify(value, method="REGISTER", now=T0, password="1", ha1={"MD5": "00"})


def test_expired_nonce_is_stale_only_with_the_right_password() -> None:
    server = make_server(nonce_ttl=30.0)
    value = answer(server.challenge(T0, qop=True))
    later = T0 + 31
    stale = server.verify(value, method="REGISTER", now=later, password="123")
    assert stale.outcome is AuthOutcome.STALE
    wrong = server.verify(value, method="REGISTER", now=later, password="124")
    assert wrong.failure is AuthFailure.WRONG_RESPONSE
    rechallenge = DigestChallenge.parse(server.challenge(later, qop=True, stale=True)[0])
    assert rechallenge.stale is True


def test_nonce_from_the_future_is_stale() -> None:
    server = make_server()
    value = answer(server.challenge(T0 + 3600, qop=True))
    result = server.verify(value, method="REGISTER", now=T0, password="123")
    assert result.outcome is AuthOutcome.STALE


def test_tampered_response_fails() -> None:
    server = make_server()
    creds = DigestCredentials.parse(answer(server.challenge(T0, qop=True)))
    flipped = ("0" if creds.response[0] != "0" else "1") + creds.response[1:]
    result = server.verify(
        replace(creds, response=flipped), method="REGISTER", now=T0, password="123"
    )
    assert result.failure is AuthFailure.WRONG_RESPONSE
    assert result.outcome is AuthOutcome.FAILED


def test_upper_case_hex_response_is_accepted() -> None:
    server = make_server()
    creds = DigestCredentials.parse(answer(server.challenge(T0, qop=True)))
    upper = replace(creds, response=creds.response.upper())
    assert server.verify(upper, method="REGISTER", now=T0, password="123").ok


@pytest.mark.parametrize(
    ("change", "failure"),
    [
        ({"realm": "other.realm"}, AuthFailure.REALM_MISMATCH),
        ({"nonce": "AAAA" * 10 + "AAA"}, AuthFailure.BAD_NONCE),
        ({"nonce": "not-a-nonce"}, AuthFailure.BAD_NONCE),
        ({"algorithm": "SHA-1"}, AuthFailure.UNSUPPORTED_ALGORITHM),
        ({"qop": "auth-conf"}, AuthFailure.UNSUPPORTED_QOP),
        ({"qop": "auth-int"}, AuthFailure.UNSUPPORTED_QOP),
        ({"nc": "1"}, AuthFailure.MALFORMED),
        ({"nc": "0000000g"}, AuthFailure.MALFORMED),
        ({"cnonce": None}, AuthFailure.MALFORMED),
        ({"qop": None, "nc": None, "cnonce": None}, AuthFailure.QOP_REQUIRED),
        ({"userhash": True}, AuthFailure.MALFORMED),
        ({"method_is": "INVITE"}, AuthFailure.WRONG_RESPONSE),
    ],
)
def test_rejections(change: dict[str, object], failure: AuthFailure) -> None:
    server = make_server()
    creds = DigestCredentials.parse(answer(server.challenge(T0, qop=True, algorithm="MD5")))
    method = str(change.pop("method_is", "REGISTER"))
    result = server.verify(
        replace(creds, **change),  # type: ignore[arg-type]
        method=method,
        now=T0,
        password="123",
    )
    assert result.failure is failure, result.reason
    assert result.reason


def test_nonce_of_another_realm_or_binding_is_not_accepted() -> None:
    other = DigestServer(SECRET, "other.realm")
    server = make_server()
    foreign_nonce = DigestChallenge.parse(other.challenge(T0, qop=True)[0]).nonce
    creds = DigestCredentials.parse(answer(server.challenge(T0, qop=True)))
    result = server.verify(
        replace(creds, nonce=foreign_nonce), method="REGISTER", now=T0, password="123"
    )
    assert result.failure is AuthFailure.BAD_NONCE
    bound = answer(server.challenge(T0, qop=True, binding=b"192.0.2.1:5060"))
    ok = server.verify(bound, method="REGISTER", now=T0, password="123", binding=b"192.0.2.1:5060")
    assert ok.ok
    moved = server.verify(bound, method="REGISTER", now=T0, password="123", binding=b"192.0.2.9")
    assert moved.failure is AuthFailure.BAD_NONCE


def test_username_and_uri_must_match_when_given() -> None:
    server = make_server()
    value = answer(server.challenge(T0, qop=True))
    mismatch = server.verify(value, method="REGISTER", now=T0, password="123", username="157")
    assert mismatch.failure is AuthFailure.USERNAME_MISMATCH
    other_uri = server.verify(
        value, method="REGISTER", now=T0, password="123", request_uri="sip:other"
    )
    assert other_uri.failure is AuthFailure.URI_MISMATCH
    good = server.verify(
        value, method="REGISTER", now=T0, password="123", username="156", request_uri=URI
    )
    assert good.ok


def test_no_qop_answer_to_qop_less_nonce_can_be_refused() -> None:
    server = make_server()
    value = answer(server.challenge(T0, qop=False))
    assert server.verify(value, method="REGISTER", now=T0, password="123").ok
    strict = server.verify(value, method="REGISTER", now=T0, password="123", require_qop=True)
    assert strict.failure is AuthFailure.QOP_REQUIRED


def test_auth_int_covers_the_body() -> None:
    assert DigestChallenge.parse(make_server().challenge(T0, qop=True)[0]).qop == ("auth",)
    server = make_server(auth_int=True)
    challenge = DigestChallenge.parse(server.challenge(T0, qop=True)[0])
    assert challenge.qop == ("auth", "auth-int")
    only_int = replace(challenge, qop=("auth-int",))
    body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n"
    creds = DigestClient("156", "123").credentials(only_int, "INVITE", "sip:157@pv.ssw3", body)
    assert creds.qop == "auth-int"
    assert server.verify(creds, method="INVITE", now=T0, password="123", body=body).ok
    tampered = server.verify(creds, method="INVITE", now=T0, password="123", body=body + b"x")
    assert tampered.failure is AuthFailure.WRONG_RESPONSE
    no_int = make_server(auth_int=False)
    assert no_int.verify(creds, method="INVITE", now=T0, password="123", body=body).failure is (
        AuthFailure.UNSUPPORTED_QOP
    )


def test_sess_algorithm_round_trip() -> None:
    server = make_server(algorithms=("SHA-256-sess", "MD5"), offer=("SHA-256-sess",))
    values = server.challenge(T0, qop=True, algorithm="SHA-256-sess")
    value = answer(values)
    assert DigestCredentials.parse(value).algorithm == "SHA-256-sess"
    ha1 = {"SHA-256": compute_ha1("156", REALM, "123", "SHA-256")}
    assert server.verify(value, method="REGISTER", now=T0, ha1=ha1).ok


def test_opaque_must_be_echoed() -> None:
    server = make_server(opaque="o-123")
    creds = DigestCredentials.parse(answer(server.challenge(T0, qop=True)))
    assert creds.opaque == "o-123"
    assert server.verify(creds, method="REGISTER", now=T0, password="123").ok
    dropped = server.verify(replace(creds, opaque=None), method="REGISTER", now=T0, password="123")
    assert dropped.failure is AuthFailure.OPAQUE_MISMATCH


def test_replay_guard_rejects_a_reused_nonce_count() -> None:
    server = make_server(replay_guard=ReplayGuard(max_entries=8))
    client = DigestClient("156", "123")
    challenges = server.challenge(T0, qop=True)
    first = client.authorization(challenges, "REGISTER", URI)
    second = client.authorization(challenges, "REGISTER", URI)
    assert DigestCredentials.parse(second).nc == "00000002"
    assert server.verify(second, method="REGISTER", now=T0, password="123").ok
    # nc=1 arrives after nc=2 (parallel requests): still accepted once.
    assert server.verify(first, method="REGISTER", now=T0, password="123").ok
    replayed = server.verify(first, method="REGISTER", now=T0 + 1, password="123")
    assert replayed.failure is AuthFailure.REPLAYED


def test_without_replay_guard_a_replay_within_the_lifetime_is_accepted() -> None:
    # The documented limit of a stateless nonce.
    server = make_server()
    value = answer(server.challenge(T0, qop=True))
    assert server.verify(value, method="REGISTER", now=T0, password="123").ok
    assert server.verify(value, method="REGISTER", now=T0 + 5, password="123").ok


@pytest.mark.parametrize(
    ("value", "failure"),
    [
        ("NoOneKnowsThisScheme opaque-data=here", AuthFailure.UNSUPPORTED_SCHEME),
        ("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", AuthFailure.UNSUPPORTED_SCHEME),
        ("", AuthFailure.MALFORMED),
        ('Digest username="156", realm="pv.ssw3"', AuthFailure.MALFORMED),
        ('Digest username="156, realm=pv.ssw3', AuthFailure.MALFORMED),
        ("Digest username", AuthFailure.MALFORMED),
    ],
)
def test_malformed_or_foreign_values_fail_cleanly(value: str, failure: AuthFailure) -> None:
    result = make_server().verify(value, method="REGISTER", now=T0, password="123")
    assert result.failure is failure
    assert result.credentials is None
    assert result.reason


def test_server_configuration_errors() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        DigestServer(b"short", REALM)
    with pytest.raises(ValueError, match="realm"):
        DigestServer(SECRET, "")
    with pytest.raises(ValueError, match="algorithm"):
        DigestServer(SECRET, REALM, algorithms=())


@pytest.mark.parametrize(
    ("digest_uri", "request_uri", "same"),
    [
        ("sip:pv.ssw3", "sip:pv.ssw3", True),
        ("sip:127.0.0.1:5060", "sip:127.0.0.1", True),  # SIPp's REGISTER answers
        ("sip:156@PV.ssw3;transport=udp", "sip:156@pv.ssw3", True),
        ("sip:[2001:db8::1]:5070", "sip:[2001:db8::1]", True),
        ("sip:127.0.0.1:5061", "sip:127.0.0.1:5060", False),
        ("sip:157@pv.ssw3", "sip:156@pv.ssw3", False),
        ("sips:pv.ssw3", "sip:pv.ssw3", False),
        ("sip:other", "sip:pv.ssw3", False),
        ("/dir/index.html", "/dir/index.html", True),
        ("/dir/index.html", "/dir/other.html", False),
    ],
)
def test_same_resource(digest_uri: str, request_uri: str, same: bool) -> None:
    assert same_resource(digest_uri, request_uri) is same


def test_credentials_for_this_realm_are_picked_out() -> None:
    server = make_server()
    mine = answer(server.challenge(T0, qop=True))
    other = DigestServer(SECRET, "proxy.example").challenge(T0, qop=True)
    theirs = DigestClient("156", "x").authorization(other, "INVITE", URI)
    values = ["NoOneKnowsThisScheme opaque-data=here", "Digest garbage", theirs, mine]
    creds = server.credentials_for(values)
    assert creds is not None and creds.realm == REALM
    assert server.verify(creds, method="REGISTER", now=T0, password="123").ok
    assert server.credentials_for(values[:3]) is None
    assert server.credentials_for([]) is None


def test_authentication_info_gives_rspauth_and_a_next_nonce() -> None:
    import hashlib

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    server = make_server()
    creds = DigestCredentials.parse(answer(server.challenge(T0, qop=True)))
    result = server.verify(creds, method="REGISTER", now=T0, password="123")
    value = server.authentication_info(result, now=T0 + 1, password="123")
    params = parse_auth_value("Digest " + value)
    # RFC 2617 §3.2.3: rspauth is the request-digest with an empty method.
    ha1 = md5(f"156:{REALM}:123")
    expected = md5(f"{ha1}:{creds.nonce}:{creds.nc}:{creds.cnonce}:auth:{md5(':' + URI)}")
    assert params.get("rspauth") == expected
    assert (params.get("qop"), params.get("nc"), params.get("cnonce")) == (
        "auth",
        creds.nc,
        creds.cnonce,
    )
    # The next nonce is good for the next request without a new challenge.
    next_nonce = params.get("nextnonce")
    assert next_nonce is not None
    following = DigestClient("156", "123").credentials(
        DigestChallenge(REALM, next_nonce, "MD5", ("auth",)), "REGISTER", URI
    )
    assert server.verify(following, method="REGISTER", now=T0 + 2, password="123").ok


def test_authentication_info_only_for_success() -> None:
    server = make_server()
    value = answer(server.challenge(T0, qop=False))
    ok = server.verify(value, method="REGISTER", now=T0, password="123")
    info = server.authentication_info(ok, now=T0, ha1={"MD5": compute_ha1("156", REALM, "123")})
    assert info.startswith("nextnonce=") and "rspauth" not in info
    assert server.authentication_info(ok, now=T0, password="123", next_nonce=False) == ""
    failed = server.verify(value, method="REGISTER", now=T0, password="999")
    with pytest.raises(ValueError, match="authenticated request only"):
        server.authentication_info(failed, now=T0, password="999")


_printable = st.text(
    alphabet=st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=24
)


@given(
    username=_printable,
    password=st.text(max_size=24),
    method=st.sampled_from(["REGISTER", "INVITE", "BYE", "MESSAGE", "SUBSCRIBE"]),
    uri=_printable,
    algorithm=st.sampled_from(["MD5", "SHA-256", "MD5-sess", "SHA-256-sess"]),
    qop=st.booleans(),
    body=st.binary(max_size=64),
)
@settings(max_examples=150, deadline=None)
def test_client_and_server_agree_on_anything(
    username: str,
    password: str,
    method: str,
    uri: str,
    algorithm: str,
    qop: bool,
    body: bytes,
) -> None:
    if algorithm.endswith("-sess"):
        qop = True  # the -sess variants need a cnonce, hence qop
    server = DigestServer(
        SECRET, 'realm "with" \\ quotes', algorithms=(algorithm,), offer=(algorithm,), auth_int=True
    )
    challenge = DigestChallenge.parse(server.challenge(T0, qop=qop)[0])
    if qop:
        challenge = replace(challenge, qop=("auth-int",))  # cover the body as well
    value = DigestClient(username, password).authorization(challenge, method, uri, body)
    result = server.verify(value, method=method, now=T0, password=password, body=body)
    assert result.ok, result.reason
    assert result.username == username
    wrong = server.verify(value, method=method, now=T0, password=password + "x", body=body)
    assert wrong.failure is AuthFailure.WRONG_RESPONSE


@pytest.mark.parametrize("qop", [True, False])
@pytest.mark.parametrize("stale", [True, False])
def test_challenges_differ_only_in_their_nonce_and_read_back(qop: bool, stale: bool) -> None:
    # The text around the nonce is serialized once and reused: it must stay a whole,
    # correct challenge for every nonce.
    server = make_server(offer=("SHA-256", "MD5"), opaque="op\"aque")
    first = server.challenge(1000.0, qop=qop, stale=stale)
    second = server.challenge(1000.0, qop=qop, stale=stale)
    for one, two, algorithm in zip(first, second, ("SHA-256", "MD5"), strict=True):
        a, b = DigestChallenge.parse(one), DigestChallenge.parse(two)
        assert a.nonce != b.nonce and replace(a, nonce=b.nonce) == b
        assert DigestChallenge(realm=REALM, nonce=a.nonce, algorithm=algorithm,
                               qop=("auth",) if qop else (), opaque="op\"aque",
                               stale=stale).serialize() == one
