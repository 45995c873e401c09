"""Passport and licence blobs: round trips, and every kind of refusal with its own message."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from licence_support import HOST, SSW_ID, Issuer

from ssw.licence.formats import (
    BadEncoding,
    BadSignature,
    IssuerKey,
    Licence,
    LicenceError,
    Passport,
    TrustedIssuers,
    UnknownIssuer,
    WrongKind,
    canonical_json,
    decode_blob,
    decode_licence,
    decode_passport,
    sign_licence,
)

FIXED_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
FIXED = Issuer(FIXED_KEY)
FIXED_LICENCE = FIXED.licence(subscribers=1000, calls=100)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_passport_round_trip(issuer: Issuer) -> None:
    passport = decode_passport(issuer.passport("0e25d9b17ab7a54b"), issuer.trusted)
    assert (passport.ssw_id, passport.token_serial, passport.max_ds_instances) == (
        SSW_ID, "0e25d9b17ab7a54b", 2,
    )
    assert passport.issuer == "Eltex"
    assert passport.issued == dt.date(2026, 1, 10)
    assert passport.key_id == issuer.trusted.keys[0].key_id


def test_licence_round_trip_keeps_every_limit(issuer: Issuer) -> None:
    limits = {"subscribers": 5000, "calls": 300, "conference.meet_me": 4,
              "package.ECSS-ADV": 500, "future_feature": 7}
    blob = issuer.licence(limits)
    licence = decode_licence(blob, issuer.trusted)
    assert dict(licence.limits) == limits
    assert (licence.ssw_id, licence.hostname, licence.expires) == (
        SSW_ID, HOST, dt.date(2027, 1, 31),
    )
    assert licence.blob == blob
    assert len(licence.licence_id) == 12


def test_blob_is_one_console_word(issuer: Issuer) -> None:
    blob = issuer.licence(subscribers=1, calls=1)
    assert " " not in blob and "," not in blob and "=" not in blob
    assert blob.count(".") == 1


def test_signing_is_deterministic_and_canonical() -> None:
    payload = base64.urlsafe_b64decode(FIXED_LICENCE.split(".")[0] + "==")
    assert payload == canonical_json(json.loads(payload))
    assert FIXED.licence(subscribers=1000, calls=100) == FIXED_LICENCE


def test_expiry_is_through_the_end_of_the_day() -> None:
    licence = decode_licence(FIXED_LICENCE, FIXED.trusted)
    end = dt.datetime(2027, 2, 1, tzinfo=dt.UTC).timestamp()
    assert licence.expires_at() == end
    assert not licence.is_expired(end - 1)
    assert licence.is_expired(end)


def test_never_expiring_licence(issuer: Issuer) -> None:
    licence = decode_licence(issuer.licence(expires=None, calls=1), issuer.trusted)
    assert licence.expires_at() is None
    assert not licence.is_expired(10.0**12)


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0), replacement=st.sampled_from(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ "
))
def test_any_one_character_changed_is_refused(position: int, replacement: str) -> None:
    index = position % len(FIXED_LICENCE)
    if FIXED_LICENCE[index] == replacement:
        return
    tampered = FIXED_LICENCE[:index] + replacement + FIXED_LICENCE[index + 1:]
    with pytest.raises(LicenceError):
        decode_blob(tampered, FIXED.trusted)


def test_a_byte_changed_in_the_payload_is_a_bad_signature() -> None:
    payload, signature = FIXED_LICENCE.split(".")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=="))
    raw[raw.index(b"1000")] = ord("9")  # subscribers 1000 -> 9000
    with pytest.raises(BadSignature, match="does not match"):
        decode_blob(f"{_b64(bytes(raw))}.{signature}", FIXED.trusted)


def test_unknown_issuer(issuer: Issuer, other_issuer: Issuer) -> None:
    with pytest.raises(UnknownIssuer, match=r"Someone else.*does not trust"):
        decode_blob(other_issuer.licence(calls=5), issuer.trusted)


def test_forged_key_id_is_a_bad_signature(issuer: Issuer, other_issuer: Issuer) -> None:
    trusted_id = issuer.trusted.keys[0].key_id
    doc = Licence(SSW_ID, HOST, dt.date(2026, 1, 1), None, {"calls": 10**6}, "forger",
                  key_id=trusted_id).document()
    payload = canonical_json(doc)
    forged = f"{_b64(payload)}.{_b64(other_issuer.private_key.sign(payload))}"
    with pytest.raises(BadSignature):
        decode_blob(forged, issuer.trusted)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("abc", "expected '<payload>.<signature>'"),
        ("a.b.c", "expected '<payload>.<signature>'"),
        ("ab$.cd", "not base64url"),
        ("YWJj.YWJj", "signature must be 64 octets"),
        ("x" * 20_000, "longer than"),
    ],
)
def test_bad_encoding(text: str, message: str, issuer: Issuer) -> None:
    with pytest.raises(BadEncoding, match=message):
        decode_blob(text, issuer.trusted)


def test_signed_garbage_is_bad_encoding(issuer: Issuer) -> None:
    payload = b'{"format":1,"kind":"licence"}'
    blob = f"{_b64(payload)}.{_b64(issuer.private_key.sign(payload))}"
    with pytest.raises(BadEncoding):
        decode_blob(blob, issuer.trusted)
    not_canonical = b'{ "format": 1 }'
    blob = f"{_b64(not_canonical)}.{_b64(issuer.private_key.sign(not_canonical))}"
    with pytest.raises(BadEncoding, match="canonical"):
        decode_blob(blob, issuer.trusted)


def test_wrong_kind(issuer: Issuer) -> None:
    with pytest.raises(WrongKind, match="licence/add"):
        decode_passport(issuer.licence(calls=1), issuer.trusted)
    with pytest.raises(WrongKind, match="set-passport"):
        decode_licence(issuer.passport("123"), issuer.trusted)


def test_bad_limits_are_refused_when_signing(issuer: Issuer) -> None:
    with pytest.raises(ValueError, match="limit name"):
        sign_licence(Licence(SSW_ID, HOST, dt.date(2026, 1, 1), None, {"bad name": 1}, "x"),
                     issuer.private_key)
    with pytest.raises(BadEncoding, match=">= 0"):
        sign_licence(Licence(SSW_ID, HOST, dt.date(2026, 1, 1), None, {"calls": -1}, "x"),
                     issuer.private_key)


def test_issuer_key_from_pem(issuer: Issuer) -> None:
    from cryptography.hazmat.primitives import serialization

    pem = issuer.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert IssuerKey.from_pem(pem).key_id == issuer.trusted.keys[0].key_id
    with pytest.raises(ValueError, match="not a PEM public key"):
        IssuerKey.from_pem(b"nonsense")


def test_no_trusted_keys_trusts_nothing(issuer: Issuer) -> None:
    assert not TrustedIssuers().enabled
    with pytest.raises(UnknownIssuer):
        decode_blob(issuer.passport("1"), TrustedIssuers())


def test_passport_document_fields() -> None:
    passport = Passport(SSW_ID, "42", 3, "Eltex", dt.date(2026, 5, 1))
    assert set(passport.document()) == {
        "format", "kind", "ssw_id", "token_serial", "max_ds_instances", "issuer", "issued",
        "key_id",
    }


_names = st.from_regex(r"[a-z][a-z0-9_]{0,10}(\.[A-Za-z0-9][A-Za-z0-9_-]{0,10})?", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(
    limits=st.dictionaries(_names, st.integers(min_value=0, max_value=10**9), max_size=8),
    hostname=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    expires=st.none() | st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)),
)
def test_any_licence_round_trips(
    limits: dict[str, int], hostname: str, expires: dt.date | None
) -> None:
    licence = Licence(SSW_ID, hostname, dt.date(2026, 1, 1), expires, limits, "Eltex")
    decoded = decode_licence(sign_licence(licence, FIXED_KEY), FIXED.trusted)
    assert dict(decoded.limits) == limits
    assert (decoded.hostname, decoded.expires) == (hostname, expires)
