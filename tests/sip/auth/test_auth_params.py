"""Parsing and serialising authentication header values (RFC 3261 §25.1, RFC 7616 §3.3–3.4)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssw.sip.auth import (
    AuthParam,
    AuthParseError,
    AuthValue,
    DigestChallenge,
    DigestCredentials,
    UnsupportedScheme,
    parse_auth_value,
)
from ssw.sip.auth.params import MAX_PARAMS, MAX_VALUE_LENGTH, AuthError

RFC3261_CHALLENGE = (
    'Digest realm="atlanta.com", domain="sip:boxesbybob.com", qop="auth", '
    'nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5'
)
RFC3261_CREDENTIALS = (
    'Digest username="Alice", realm="atlanta.com", nonce="84a4cc6f3082121f32b42a2187831a9e", '
    'response="7587245234b3434cc3412213e5f113a5432"'
)


def test_rfc3261_challenge_example_parses() -> None:
    challenge = DigestChallenge.parse(RFC3261_CHALLENGE)
    assert challenge.realm == "atlanta.com"
    assert challenge.domain == "sip:boxesbybob.com"
    assert challenge.qop == ("auth",)
    assert challenge.nonce == "f84f1cec41e6cbe5aea9c8e88d359"
    assert challenge.opaque == ""
    assert challenge.stale is False
    assert challenge.algorithm == "MD5"


def test_credentials_without_uri_are_rejected() -> None:
    # The RFC 3261 §20.7 example omits uri; a server cannot check such credentials.
    with pytest.raises(AuthParseError, match="no uri"):
        DigestCredentials.parse(RFC3261_CREDENTIALS)
    with_uri = DigestCredentials.parse(RFC3261_CREDENTIALS + ', uri="sip:bob@biloxi.com"')
    assert (with_uri.username, with_uri.realm) == ("Alice", "atlanta.com")
    assert with_uri.response == "7587245234b3434cc3412213e5f113a5432"


@pytest.fixture
def full_credentials() -> str:
    return (
        'Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
        'uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", '
        'response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )


def test_credentials_round_trip(full_credentials: str) -> None:
    creds = DigestCredentials.parse(full_credentials)
    assert creds.qop == "auth"
    assert creds.nc == "00000001"
    assert creds.nonce_count == 1
    assert DigestCredentials.parse(creds.serialize()) == creds


def test_quoted_string_escapes_are_decoded_and_encoded() -> None:
    value = r'Digest realm="a \"quoted\" realm \\ here", nonce="n"'
    challenge = DigestChallenge.parse(value)
    assert challenge.realm == 'a "quoted" realm \\ here'
    assert DigestChallenge.parse(challenge.serialize()) == challenge
    assert r"\"quoted\"" in challenge.serialize()


def test_unknown_parameters_are_kept_in_order() -> None:
    value = 'Digest realm="r", nonce="n", x-vendor="one", x-flag=two, qop="auth,auth-int"'
    challenge = DigestChallenge.parse(value)
    assert challenge.qop == ("auth", "auth-int")
    assert challenge.extra == (AuthParam("x-vendor", "one"), AuthParam("x-flag", "two", False))
    again = DigestChallenge.parse(challenge.serialize())
    assert again.extra == challenge.extra


def test_lenient_spacing_and_case() -> None:
    value = 'digest   realm = "r" ,nonce="n",ALGORITHM=sha-256 ,  Stale=TRUE'
    challenge = DigestChallenge.parse(value)
    assert (challenge.realm, challenge.nonce, challenge.algorithm) == ("r", "n", "sha-256")
    assert challenge.stale is True


def test_empty_list_elements_are_ignored() -> None:
    challenge = DigestChallenge.parse('Digest realm="r",, nonce="n",')
    assert (challenge.realm, challenge.nonce) == ("r", "n")


def test_unquoted_base64_nonce_is_accepted() -> None:
    challenge = DigestChallenge.parse("Digest realm=r, nonce=ab/cd+ef==")
    assert challenge.nonce == "ab/cd+ef=="


def test_unknown_scheme_is_reported_as_such(shared_dir: Path) -> None:
    # RFC 4475 §3.1.2.9 regaut01: the element should answer with a 401 and a Digest challenge.
    raw = (shared_dir / "conformance" / "rfc4475" / "regaut01.dat").read_bytes()
    line = next(
        ln for ln in raw.decode("ascii").split("\r\n") if ln.lower().startswith("authorization:")
    )
    value = line.split(":", 1)[1]
    parsed = parse_auth_value(value)
    assert parsed.scheme == "NoOneKnowsThisScheme"
    assert parsed.is_digest is False
    assert parsed.get("opaque-data") == "here"
    with pytest.raises(UnsupportedScheme) as caught:
        DigestCredentials.parse(value)
    assert caught.value.scheme == "NoOneKnowsThisScheme"


def test_token68_of_other_schemes_is_kept() -> None:
    parsed = parse_auth_value("Bearer mF_9.B5f-4.1JqM==")
    assert parsed.scheme == "Bearer"
    assert parsed.params == (AuthParam("", "mF_9.B5f-4.1JqM==", quoted=False),)
    assert parsed.serialize() == "Bearer mF_9.B5f-4.1JqM=="


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "scheme"),
        ("   ", "scheme"),
        ('"Digest" realm="r"', "scheme"),
        ("Digest,realm=r", "after scheme"),
        ('Digest realm="r", nonce="n', "not terminated"),
        ('Digest realm="r" nonce="n"', "expected ','"),
        ('Digest realm="r", nonce', "no '='"),
        ('Digest realm="r", nonce=', "empty value"),
        ('Digest realm="r", realm="s", nonce="n"', "twice"),
        ('Digest realm="r", =n', "parameter name"),
        ('Digest realm="r\r\n", nonce="n"', "CR, LF"),
        ('Digest nonce="n"', "no realm"),
        ('Digest realm="r"', "no nonce"),
        ("Digest", "no realm"),
    ],
)
def test_malformed_challenges_raise_clear_errors(value: str, message: str) -> None:
    with pytest.raises(AuthParseError, match=message):
        DigestChallenge.parse(value)


def test_bounds_are_enforced() -> None:
    with pytest.raises(AuthParseError, match="characters"):
        parse_auth_value("Digest realm=" + "a" * MAX_VALUE_LENGTH)
    many = ", ".join(f"p{i}=v" for i in range(MAX_PARAMS + 1))
    with pytest.raises(AuthParseError, match="more than"):
        parse_auth_value("Digest " + many)


def test_serialising_refuses_header_injection() -> None:
    creds = DigestCredentials("bob\r\nVia: evil", "r", "n", "sip:x", "00")
    with pytest.raises(AuthError, match="CR, LF"):
        creds.serialize()
    with pytest.raises(AuthError, match="must be quoted"):
        AuthValue("Digest", (AuthParam("nc", "a b", quoted=False),)).serialize()


_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\0"),
    max_size=40,
)


@given(
    username=_text,
    realm=_text,
    nonce=_text,
    uri=_text,
    response=st.text(alphabet="0123456789abcdef", min_size=1, max_size=64),
    cnonce=st.none() | _text,
    opaque=st.none() | _text,
)
def test_credentials_round_trip_property(
    username: str,
    realm: str,
    nonce: str,
    uri: str,
    response: str,
    cnonce: str | None,
    opaque: str | None,
) -> None:
    creds = DigestCredentials(
        username, realm, nonce, uri, response, "SHA-256", cnonce, opaque, "auth", "0000000a"
    )
    assert DigestCredentials.parse(creds.serialize()) == creds


@given(st.text(max_size=200))
def test_parser_never_crashes(value: str) -> None:
    with contextlib.suppress(AuthParseError):
        parse_auth_value(value)


_param_names = st.sampled_from(
    ["username", "realm", "nonce", "uri", "response", "algorithm", "cnonce", "opaque", "qop",
     "nc", "userhash", "Username", "NONCE", "x-extra", "stale"])
_param_values = st.text(alphabet=st.sampled_from(list('ab0= ,"\\\t/:@.-')), max_size=8)


@given(
    scheme=st.sampled_from(["Digest", "digest", "DIGEST", "Basic", "Digest\t"]),
    params=st.lists(st.tuples(_param_names, _param_values, st.booleans()), max_size=12),
    separator=st.sampled_from([",", ", ", " ,", ",,"]),
    padding=st.sampled_from(["", " ", "\t "]),
)
def test_credentials_shortcut_agrees_with_the_full_reader(
    scheme: str, params: list[tuple[str, str, bool]], separator: str, padding: str
) -> None:
    """Credentials in the usual shape are read by one pattern; anything the pattern takes
    must read the same as through `parse_auth_value`, and anything else the same error."""
    value = padding + scheme + " " + separator.join(
        f'{name}="{text}"' if quoted else f"{name}={text}" for name, text, quoted in params
    ) + padding

    def read(given: str | AuthValue) -> DigestCredentials | str:
        try:
            return DigestCredentials.parse(given)
        except AuthError as exc:
            return type(exc).__name__

    try:
        full: DigestCredentials | str = read(parse_auth_value(value))
    except AuthParseError as exc:
        full = type(exc).__name__
    assert read(value) == full
