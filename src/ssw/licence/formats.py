"""Passport and licence blobs: signed text that pastes into one console line.

A blob is ``<payload>.<signature>``, both parts base64url without padding (RFC 4648 §5):

* the payload is canonical JSON (sorted keys, no spaces, ASCII only) of one document;
* the signature is Ed25519 (RFC 8032) over the payload bytes, made by an issuer key.

A *passport* binds a system id (``ssw_id``) to a token serial and says how many storage (ds)
instances may run. A *licence* carries limits for one ``ssw_id`` (subscribers, simultaneous calls,
conferences by type, service packages such as ``package.ECSS-ADV``, any later limit) and is bound
to a hostname. The switch trusts a set of issuer public keys; verification here checks only what a
blob says about itself (encoding, issuer, signature, fields). Whether it fits *this* switch (token,
hostname, passport, expiry at ``now``) is decided by :mod:`ssw.licence.manager`.

Every refusal is a :class:`LicenceError` subclass with a ``cause`` code and a message that says
what was wrong and what to do.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "FORMAT_VERSION",
    "LIMIT_NAME",
    "BadEncoding",
    "BadSignature",
    "IssuerKey",
    "Licence",
    "LicenceError",
    "Passport",
    "TrustedIssuers",
    "UnknownIssuer",
    "WrongKind",
    "canonical_json",
    "decode_blob",
    "decode_licence",
    "decode_passport",
    "key_id_of",
    "sign_licence",
    "sign_passport",
]

FORMAT_VERSION = 1
SIGNATURE_SIZE = 64  # Ed25519 signatures are 64 octets (RFC 8032 §5.1.6)
MAX_BLOB_CHARS = 16_384

#: A limit name: ``subscribers``, ``calls``, ``conference.meet_me``, ``package.ECSS-ADV``, ...
LIMIT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9][A-Za-z0-9_-]*)*")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_TEXT_FIELD = re.compile(r"[^\x00-\x1f\x7f]{1,200}")


class LicenceError(Exception):
    """A passport or licence was refused; ``cause`` is a stable code for scripts and HTTP."""

    cause = "licence_error"


class BadEncoding(LicenceError):
    cause = "bad_encoding"


class BadSignature(LicenceError):
    cause = "bad_signature"


class UnknownIssuer(LicenceError):
    cause = "unknown_issuer"


class WrongKind(LicenceError):
    cause = "wrong_kind"


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str, what: str) -> bytes:
    """Decode strict base64url: alphabet only, no padding, and canonical (re-encodes identically).

    The canonical check matters: the last character of a base64 group carries spare bits, so a
    one-character change there could decode to the same bytes; such text is refused.
    """
    if not _B64URL.fullmatch(text):
        raise BadEncoding(f"the {what} is not base64url text (letters, digits, '-' and '_' only)")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadEncoding(f"the {what} is not valid base64url: {exc}") from None
    if _b64url_encode(data) != text:
        raise BadEncoding(f"the {what} is not canonical base64url (it was altered)")
    return data


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """The one byte form of a document that gets signed."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """A short stable name for an issuer key: the first 8 octets of SHA-256 of the raw key, hex."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class IssuerKey:
    """A trusted issuer's public key as configured on the switch."""

    public_key: Ed25519PublicKey
    key_id: str

    @classmethod
    def from_public_key(cls, public_key: Ed25519PublicKey) -> IssuerKey:
        return cls(public_key, key_id_of(public_key))

    @classmethod
    def from_pem(cls, pem: bytes) -> IssuerKey:
        """Load a PEM ``PUBLIC KEY`` (as written by ``ssw licence keygen``)."""
        try:
            key = serialization.load_pem_public_key(pem)
        except ValueError as exc:
            raise ValueError(f"not a PEM public key: {exc}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the issuer key must be an Ed25519 public key")
        return cls.from_public_key(key)


@dataclass(frozen=True)
class TrustedIssuers:
    """The issuer keys a switch trusts. Empty means licensing is off (the open edition)."""

    keys: tuple[IssuerKey, ...] = ()

    @classmethod
    def of(cls, keys: Iterable[IssuerKey]) -> TrustedIssuers:
        return cls(tuple(keys))

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def by_id(self, key_id: str) -> IssuerKey | None:
        return next((k for k in self.keys if k.key_id == key_id), None)


def _date(value: Any, name: str) -> dt.date:
    if not isinstance(value, str):
        raise BadEncoding(f"field {name!r} must be a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadEncoding(f"field {name!r} is not a date YYYY-MM-DD: {value!r}") from None


def _text(document: Mapping[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not _TEXT_FIELD.fullmatch(value):
        raise BadEncoding(f"field {name!r} must be non-empty printable text (up to 200 characters)")
    return value


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadEncoding(f"{name} must be a whole number >= 0")
    return value


def _start_of_day(day: dt.date) -> float:
    return float(calendar.timegm(day.timetuple()))


@dataclass(frozen=True)
class Passport:
    """Binds ``ssw_id`` to a token serial; limits the storage (ds) instances."""

    ssw_id: str
    token_serial: str
    max_ds_instances: int
    issuer: str
    issued: dt.date
    key_id: str = ""
    blob: str = field(default="", compare=False, repr=False)

    def document(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "kind": "passport",
            "ssw_id": self.ssw_id,
            "token_serial": self.token_serial,
            "max_ds_instances": self.max_ds_instances,
            "issuer": self.issuer,
            "issued": self.issued.isoformat(),
            "key_id": self.key_id,
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any], blob: str) -> Passport:
        return cls(
            ssw_id=_text(doc, "ssw_id"),
            token_serial=_text(doc, "token_serial"),
            max_ds_instances=_count(doc.get("max_ds_instances"), "max_ds_instances"),
            issuer=_text(doc, "issuer"),
            issued=_date(doc.get("issued"), "issued"),
            key_id=_text(doc, "key_id"),
            blob=blob,
        )


@dataclass(frozen=True)
class Licence:
    """Limits for one ``ssw_id`` on one host, valid through the end of ``expires`` (UTC)."""

    ssw_id: str
    hostname: str
    issued: dt.date
    expires: dt.date | None
    limits: Mapping[str, int]
    issuer: str
    key_id: str = ""
    blob: str = field(default="", compare=False, repr=False)

    @property
    def licence_id(self) -> str:
        """A short identity for `list` and `remove`: a digest of the signed payload."""
        return hashlib.sha256(canonical_json(self.document())).hexdigest()[:12]

    def expires_at(self) -> float | None:
        """POSIX time when the licence stops being valid: the day after ``expires``, 00:00 UTC."""
        if self.expires is None:
            return None
        return _start_of_day(self.expires + dt.timedelta(days=1))

    def is_expired(self, now: float) -> bool:
        end = self.expires_at()
        return end is not None and now >= end

    def document(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "kind": "licence",
            "ssw_id": self.ssw_id,
            "hostname": self.hostname,
            "issued": self.issued.isoformat(),
            "expires": None if self.expires is None else self.expires.isoformat(),
            "limits": dict(sorted(self.limits.items())),
            "issuer": self.issuer,
            "key_id": self.key_id,
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any], blob: str) -> Licence:
        raw_limits = doc.get("limits")
        if not isinstance(raw_limits, dict):
            raise BadEncoding("field 'limits' must be an object of name: count")
        limits: dict[str, int] = {}
        for name, value in raw_limits.items():
            if not LIMIT_NAME.fullmatch(name):
                raise BadEncoding(f"limit name {name!r} is not valid")
            limits[name] = _count(value, f"limit {name!r}")
        expires = doc.get("expires")
        return cls(
            ssw_id=_text(doc, "ssw_id"),
            hostname=_text(doc, "hostname"),
            issued=_date(doc.get("issued"), "issued"),
            expires=None if expires is None else _date(expires, "expires"),
            limits=limits,
            issuer=_text(doc, "issuer"),
            key_id=_text(doc, "key_id"),
            blob=blob,
        )


def _sign(document: dict[str, Any], private_key: Ed25519PrivateKey) -> str:
    payload = canonical_json(document)
    return f"{_b64url_encode(payload)}.{_b64url_encode(private_key.sign(payload))}"


def sign_passport(passport: Passport, private_key: Ed25519PrivateKey) -> str:
    """The passport blob, signed by ``private_key`` (its key id is written into the payload)."""
    doc = passport.document()
    doc["key_id"] = key_id_of(private_key.public_key())
    return _sign(doc, private_key)


def sign_licence(licence: Licence, private_key: Ed25519PrivateKey) -> str:
    """The licence blob, signed by ``private_key``."""
    for name, value in licence.limits.items():
        if not LIMIT_NAME.fullmatch(name):
            raise ValueError(f"limit name {name!r} is not valid")
        _count(value, f"limit {name!r}")
    doc = licence.document()
    doc["key_id"] = key_id_of(private_key.public_key())
    return _sign(doc, private_key)


def _split(blob: str) -> tuple[bytes, bytes, str]:
    text = blob.strip()
    if not text:
        raise BadEncoding("the text is empty: paste the whole passport or licence")
    if len(text) > MAX_BLOB_CHARS:
        raise BadEncoding(f"the text is longer than {MAX_BLOB_CHARS} characters")
    parts = text.split(".")
    if len(parts) != 2:
        raise BadEncoding("expected '<payload>.<signature>': paste the whole text on one line")
    payload = _b64url_decode(parts[0], "payload")
    signature = _b64url_decode(parts[1], "signature")
    if len(signature) != SIGNATURE_SIZE:
        raise BadEncoding(f"the signature must be {SIGNATURE_SIZE} octets, not {len(signature)}")
    return payload, signature, text


def _parse_json(payload: bytes) -> dict[str, Any] | None:
    try:
        doc = json.loads(payload.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def decode_blob(blob: str, trusted: TrustedIssuers) -> Passport | Licence:
    """Check a blob's encoding and its signature against the trusted issuers; return the document.

    The signature is checked before any field is believed: a payload that no trusted key signed
    is refused as an unknown issuer when it names a key the switch does not trust, and as a bad
    signature otherwise (altered text, or a key id copied into a forged payload).
    """
    payload, signature, text = _split(blob)
    signer: IssuerKey | None = None
    for key in trusted.keys:
        try:
            key.public_key.verify(signature, payload)
        except InvalidSignature:
            continue
        signer = key
        break
    doc = _parse_json(payload)
    if signer is None:
        named = doc.get("key_id") if doc is not None else None
        if isinstance(named, str) and trusted.by_id(named) is None:
            issuer = doc.get("issuer") if doc is not None else None
            raise UnknownIssuer(
                f"issued by {issuer!r} with key {named}, which this switch does not trust: "
                "configure that issuer's public key or ask for a blob signed by a trusted issuer"
            )
        raise BadSignature("the signature does not match the text (altered or truncated copy)")
    if doc is None:
        raise BadEncoding("the signed payload is not a JSON object")
    if canonical_json(doc) != payload:
        raise BadEncoding("the signed payload is not in canonical form")
    if doc.get("format") != FORMAT_VERSION:
        raise BadEncoding(f"unsupported format {doc.get('format')!r} (this switch reads format 1)")
    if _text(doc, "key_id") != signer.key_id:
        raise BadSignature("the payload names a different key than the one that signed it")
    kind = doc.get("kind")
    if kind == "passport":
        return Passport.from_document(doc, text)
    if kind == "licence":
        return Licence.from_document(doc, text)
    raise BadEncoding(f"unknown document kind {kind!r} (expected passport or licence)")


def decode_passport(blob: str, trusted: TrustedIssuers) -> Passport:
    document = decode_blob(blob, trusted)
    if not isinstance(document, Passport):
        raise WrongKind("this is a licence, not a passport: use licence/add for it")
    return document


def decode_licence(blob: str, trusted: TrustedIssuers) -> Licence:
    document = decode_blob(blob, trusted)
    if not isinstance(document, Licence):
        raise WrongKind("this is a passport, not a licence: use licence/set-passport for it")
    return document
