"""DigestClient choices and counting; stateless nonces and the replay window."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssw.sip.auth import (
    AuthError,
    DigestChallenge,
    DigestClient,
    DigestCredentials,
    NonceState,
    ReplayGuard,
    StatelessNonces,
    choose_challenge,
    compute_userhash,
)

MD5 = 'Digest realm="r", nonce="n1", algorithm=MD5, qop="auth"'
SHA = 'Digest realm="r", nonce="n1", algorithm=SHA-256, qop="auth"'


def test_client_prefers_sha256_whatever_the_order() -> None:
    for values in ([MD5, SHA], [SHA, MD5]):
        challenge, algorithm = choose_challenge(values)
        assert algorithm.name == "SHA-256"
        assert challenge.algorithm == "SHA-256"


def test_server_order_policy_takes_the_first_usable() -> None:
    values = ["Basic realm=r", MD5, SHA]
    _, algorithm = choose_challenge(values, server_order=True)
    assert algorithm.name == "MD5"
    client = DigestClient("alice", "pw", server_order=True)
    assert client.credentials([SHA, MD5], "REGISTER", "sip:r").algorithm == "SHA-256"
    assert client.credentials([MD5, SHA], "REGISTER", "sip:r").algorithm == "MD5"


def test_client_skips_what_it_cannot_answer() -> None:
    values = ["Basic realm=r", 'Digest realm="r", nonce="x", algorithm=SHA-1', "Digest", MD5]
    _, algorithm = choose_challenge(values)
    assert algorithm.name == "MD5"
    with pytest.raises(AuthError, match="SHA-1"):
        choose_challenge(values[:3])
    with pytest.raises(AuthError, match="no challenge"):
        choose_challenge([])


def test_nonce_count_goes_up_per_nonce() -> None:
    client = DigestClient("alice", "pw")
    counts = [
        DigestCredentials.parse(client.authorization(MD5, "REGISTER", "sip:r")).nc for _ in range(3)
    ]
    assert counts == ["00000001", "00000002", "00000003"]
    other = MD5.replace("n1", "n2")
    assert DigestCredentials.parse(client.authorization(other, "INVITE", "sip:b@r")).nc == (
        "00000001"
    )
    assert DigestCredentials.parse(client.authorization(MD5, "BYE", "sip:b@r")).nc == "00000004"


def test_remembered_nonces_are_bounded() -> None:
    client = DigestClient("alice", "pw", remembered_nonces=2)
    for nonce in ("a", "b", "c"):
        client.authorization(MD5.replace("n1", nonce), "REGISTER", "sip:r")
    again = client.credentials(MD5.replace("n1", "a"), "REGISTER", "sip:r")
    assert again.nc == "00000001"  # "a" was forgotten: a fresh count, never a reused one


def test_no_qop_challenge_gives_rfc2069_credentials() -> None:
    creds = DigestClient("alice", "pw").credentials('Digest realm="r", nonce="n"', "INVITE", "u")
    assert (creds.qop, creds.nc, creds.cnonce, creds.algorithm) == (None, None, None, None)


def test_qop_choice() -> None:
    client = DigestClient("alice", "pw")
    only_int = 'Digest realm="r", nonce="n", qop="auth-int"'
    assert client.credentials(only_int, "INVITE", "u", b"body").qop == "auth-int"
    with pytest.raises(AuthError, match="auth-conf"):
        client.credentials('Digest realm="r", nonce="n", qop="auth-conf"', "INVITE", "u")


def test_userhash_is_sent_when_asked() -> None:
    value = 'Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth", userhash=true'
    creds = DigestClient("alice", "pw").credentials(value, "REGISTER", "sip:r")
    assert creds.userhash is True
    assert creds.username == compute_userhash("alice", "r", "SHA-256")


def test_parsed_challenge_can_be_answered_directly() -> None:
    challenge = DigestChallenge(realm="r", nonce="n", algorithm="SHA-256", qop=("auth",))
    creds = DigestClient("alice", "pw").credentials(challenge, "OPTIONS", "sip:r")
    assert creds.algorithm == "SHA-256"
    assert len(creds.response) == 64


# -- stateless nonces --------------------------------------------------------------------

SECRET = b"k" * 32


def test_nonce_lifecycle() -> None:
    nonces = StatelessNonces(SECRET, ttl=60.0)
    nonce = nonces.issue(1000.0, realm="r", qop=True)
    assert len(nonce) == 43 and nonce.isascii()
    check = nonces.check(nonce, 1030.0, realm="r")
    assert check.state is NonceState.VALID
    assert check.issued_at == 1000.0
    assert check.qop_offered is True
    assert nonces.check(nonce, 1060.0, realm="r").state is NonceState.VALID
    assert nonces.check(nonce, 1060.5, realm="r").state is NonceState.EXPIRED
    assert nonces.check(nonce, 1030.0, realm="s").state is NonceState.INVALID
    other_secret = StatelessNonces(b"j" * 32, ttl=60.0)
    assert other_secret.check(nonce, 1030.0, realm="r").state is NonceState.INVALID
    no_qop = nonces.issue(1000.0, realm="r", qop=False)
    assert nonces.check(no_qop, 1001.0, realm="r").qop_offered is False


def test_nonce_tampering_is_detected() -> None:
    nonces = StatelessNonces(SECRET, ttl=60.0)
    nonce = nonces.issue(1000.0, realm="r", qop=False)
    # 32 bytes leave two unused bits in the last character: setting one must not pass.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    noncanonical = nonce[:-1] + alphabet[alphabet.index(nonce[-1]) | 1]
    assert nonces.check(noncanonical, 1001.0, realm="r").state is NonceState.INVALID
    # Flipping the qop flag (to strip qop) or the timestamp breaks the tag.
    for index in range(len(nonce)):
        replacement = "A" if nonce[index] != "A" else "B"
        forged = nonce[:index] + replacement + nonce[index + 1 :]
        assert nonces.check(forged, 1001.0, realm="r").state is NonceState.INVALID


@given(st.text(max_size=80))
def test_nonce_check_never_crashes(text: str) -> None:
    nonces = StatelessNonces(SECRET, ttl=60.0)
    assert nonces.check(text, 0.0, realm="r").state is NonceState.INVALID


def test_nonce_configuration_errors() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        StatelessNonces(b"short", ttl=1.0)
    with pytest.raises(ValueError, match="positive"):
        StatelessNonces(SECRET, ttl=0.0)
    with pytest.raises(ValueError, match="negative"):
        StatelessNonces(SECRET, ttl=1.0).issue(-1.0, realm="r", qop=True)


def test_replay_window() -> None:
    guard = ReplayGuard()
    accept = [guard.accept("n", "c", nc, expires_at=100.0, now=0.0) for nc in (1, 3, 2, 3, 1, 70)]
    assert accept == [True, True, True, False, False, True]
    # 70 - 64 = 6: counts at or below 5 are now outside the window and refused.
    assert guard.accept("n", "c", 5, expires_at=100.0, now=0.0) is False
    assert guard.accept("n", "c", 6, expires_at=100.0, now=0.0) is True
    assert guard.accept("n", "c", 2**32, expires_at=100.0, now=0.0) is True
    assert guard.accept("n", "other-cnonce", 1, expires_at=100.0, now=0.0) is True


def test_replay_guard_is_bounded_and_forgets_expired() -> None:
    guard = ReplayGuard(max_entries=3)
    for index in range(5):
        guard.accept(f"n{index}", "c", 1, expires_at=100.0, now=0.0)
    assert len(guard) == 3
    guard.accept("late", "c", 1, expires_at=300.0, now=200.0)
    assert len(guard) == 1
    with pytest.raises(ValueError):
        ReplayGuard(max_entries=0)
