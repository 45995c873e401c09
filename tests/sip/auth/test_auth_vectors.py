"""Known answers: the worked examples of RFC 2617 §3.5 and RFC 7616 §3.9."""

from __future__ import annotations

import pytest

from ssw.sip.auth import (
    ALGORITHMS,
    DigestChallenge,
    DigestClient,
    DigestCredentials,
    UnsupportedAlgorithm,
    compute_ha1,
    compute_response,
    compute_userhash,
    find_algorithm,
)
from ssw.sip.auth.params import AuthError

# RFC 2617 §3.5: the challenge, the password "Circle Of Life" and the expected credentials.
RFC2617_CHALLENGE = (
    'Digest realm="testrealm@host.com", qop="auth,auth-int", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)
RFC2617_RESPONSE = "6629fae49393a05397450978507c4ef1"

# RFC 7616 §3.9.1 (password "Circle of Life", erratum 4495).
RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
RFC7616_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
RFC7616_RESPONSES = {
    "MD5": "8ca523f5e9506fed4657c9700eebdbec",
    "SHA-256": "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
}


def test_rfc2617_section_3_5() -> None:
    challenge = DigestChallenge.parse(RFC2617_CHALLENGE)
    md5 = find_algorithm(challenge.algorithm)
    assert md5.name == "MD5"  # no algorithm parameter means MD5
    ha1 = compute_ha1("Mufasa", challenge.realm, "Circle Of Life", md5)
    response = compute_response(
        algorithm=md5,
        ha1=ha1,
        nonce=challenge.nonce,
        method="GET",
        uri="/dir/index.html",
        qop="auth",
        nc="00000001",
        cnonce="0a4f113b",
    )
    assert response == RFC2617_RESPONSE


def test_rfc2617_section_3_5_through_the_client() -> None:
    client = DigestClient("Mufasa", "Circle Of Life", make_cnonce=lambda: "0a4f113b")
    creds = client.credentials(RFC2617_CHALLENGE, "GET", "/dir/index.html")
    assert creds == DigestCredentials(
        username="Mufasa",
        realm="testrealm@host.com",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        uri="/dir/index.html",
        response=RFC2617_RESPONSE,
        algorithm=None,  # not named in the challenge, so not echoed
        cnonce="0a4f113b",
        opaque="5ccc069c403ebaf9f0171e9517f40e41",
        qop="auth",
        nc="00000001",
    )


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_rfc7616_section_3_9_1_through_the_client(algorithm: str) -> None:
    challenges = [
        'Digest realm="http-auth@example.org", qop="auth, auth-int", '
        f'algorithm={alg}, nonce="{RFC7616_NONCE}", opaque="{RFC7616_OPAQUE}"'
        for alg in ("MD5", "SHA-256")  # MD5 listed first: the client still prefers SHA-256
        if alg == algorithm or algorithm == "SHA-256"
    ]
    client = DigestClient("Mufasa", "Circle of Life", make_cnonce=lambda: RFC7616_CNONCE)
    creds = client.credentials(challenges, "GET", "/dir/index.html")
    assert creds.algorithm == algorithm
    assert creds.response == RFC7616_RESPONSES[algorithm]
    assert creds.opaque == RFC7616_OPAQUE


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_rfc7616_section_3_9_1(algorithm: str) -> None:
    alg = find_algorithm(algorithm)
    response = compute_response(
        algorithm=alg,
        ha1=compute_ha1("Mufasa", "http-auth@example.org", "Circle of Life", alg),
        nonce=RFC7616_NONCE,
        method="GET",
        uri="/dir/index.html",
        qop="auth",
        nc="00000001",
        cnonce=RFC7616_CNONCE,
    )
    assert response == RFC7616_RESPONSES[algorithm]


def test_rfc7616_section_3_9_1_challenge_values_parse() -> None:
    value = (
        'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
        f'nonce="{RFC7616_NONCE}", opaque="{RFC7616_OPAQUE}"'
    )
    challenge = DigestChallenge.parse(value)
    assert challenge.qop == ("auth", "auth-int")
    assert challenge.algorithm == "SHA-256"
    assert challenge.nonce == RFC7616_NONCE


@pytest.mark.skipif("SHA-512-256" not in ALGORITHMS, reason="OpenSSL lacks SHA-512/256")
def test_rfc7616_section_3_9_2_userhash() -> None:
    # The userhash of RFC 7616 §3.9.2 (its response value is disputed by erratum 4897).
    assert (
        compute_userhash("J\u00e4s\u00f8n Doe", "api@example.org", "SHA-512-256")
        == "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b"
    )


def test_rfc2069_response_without_qop() -> None:
    # RFC 2069 §2.1.2: response = H(H(A1) ":" nonce ":" H(A2)); checked against hashlib.
    import hashlib

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1 = md5("bob:biloxi.com:zanzibar")
    expected = md5(f"{ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:{md5('INVITE:sip:bob@biloxi.com')}")
    got = compute_response(
        algorithm=ALGORITHMS["MD5"],
        ha1=ha1,
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        method="INVITE",
        uri="sip:bob@biloxi.com",
    )
    assert got == expected


def test_auth_int_hashes_the_body() -> None:
    def response(body: bytes, qop: str) -> str:
        return compute_response(
            algorithm=ALGORITHMS["MD5"],
            ha1=compute_ha1("bob", "r", "pw"),
            nonce="n",
            method="INVITE",
            uri="sip:bob@r",
            qop=qop,
            nc="00000001",
            cnonce="c",
            body=body,
        )

    assert response(b"v=0\r\n", "auth-int") != response(b"", "auth-int")
    assert response(b"v=0\r\n", "auth") == response(b"", "auth")


def test_sess_variant_differs_from_plain() -> None:
    ha1 = compute_ha1("bob", "r", "pw")

    def response(algorithm: str, qop: str | None, cnonce: str | None) -> str:
        return compute_response(
            algorithm=ALGORITHMS[algorithm],
            ha1=ha1,
            nonce="n",
            method="REGISTER",
            uri="sip:r",
            qop=qop,
            nc="00000001" if qop else None,
            cnonce=cnonce,
        )

    assert response("MD5", "auth", "c") != response("MD5-SESS", "auth", "c")
    assert response("MD5-SESS", "auth", "c") != response("MD5-SESS", "auth", "d")
    with pytest.raises(AuthError, match="cnonce"):
        response("MD5-SESS", None, None)


def test_unknown_algorithm_and_qop() -> None:
    with pytest.raises(UnsupportedAlgorithm, match="SHA-1"):
        find_algorithm("SHA-1")
    assert find_algorithm("md5").name == "MD5"
    assert find_algorithm("sha-256").name == "SHA-256"
    with pytest.raises(AuthError, match="qop"):
        compute_response(
            algorithm=ALGORITHMS["MD5"], ha1="0", nonce="n", method="M", uri="u", qop="auth-conf"
        )
