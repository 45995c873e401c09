"""The Digest computation: algorithms, HA1, HA2 and the request-digest.

RFC 7616 §3.4.1–§3.4.3 (with RFC 2617 §3.2.2 and RFC 2069 for the no-qop form) as used by
SIP (RFC 3261 §22.4, RFC 8760):

    HA1 = H(username ":" realm ":" password)                    algorithm X
    HA1 = H(H(username ":" realm ":" password) ":" nonce ":" cnonce)   algorithm X-sess
    HA2 = H(method ":" digest-uri)                              qop absent or "auth"
    HA2 = H(method ":" digest-uri ":" H(entity-body))           qop "auth-int"
    response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)      with qop
    response = H(HA1 ":" nonce ":" HA2)                         without qop (RFC 2069)

Strings are encoded as UTF-8 (RFC 7616 §4, charset=UTF-8). All digests are lower-case hex.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ssw.sip.auth.params import AuthError

__all__ = [
    "ALGORITHMS",
    "QOP_AUTH",
    "QOP_AUTH_INT",
    "Algorithm",
    "UnsupportedAlgorithm",
    "compute_ha1",
    "compute_response",
    "compute_userhash",
    "find_algorithm",
    "hash_hex",
    "session_ha1",
]

QOP_AUTH = "auth"
QOP_AUTH_INT = "auth-int"


class UnsupportedAlgorithm(AuthError):
    """The challenge or credentials name a digest algorithm this side does not implement."""

    def __init__(self, name: str) -> None:
        super().__init__(f"digest algorithm {name!r} is not supported (use SHA-256 or MD5)")
        self.name = name


@dataclass(frozen=True, slots=True)
class Algorithm:
    """One digest algorithm of the IANA registry (RFC 7616 §6.1).

    `name` is the registered spelling; `hashlib_name` the hash behind it; `session` marks the
    "-sess" variants whose HA1 also covers nonce and cnonce; `strength` ranks algorithms for
    a client that picks the strongest of several challenges (see `ssw.sip.auth.client`).
    """

    name: str
    hashlib_name: str
    session: bool
    strength: int

    @property
    def base(self) -> str:
        """The name without "-sess": the algorithm a stored HA1 belongs to."""
        return self.name.removesuffix("-sess")


def _available(hashlib_name: str) -> bool:
    try:
        hashlib.new(hashlib_name)
    except ValueError:
        return False
    return True


def _registry() -> dict[str, Algorithm]:
    table = [
        Algorithm("MD5", "md5", session=False, strength=1),
        Algorithm("MD5-sess", "md5", session=True, strength=0),
        Algorithm("SHA-256", "sha256", session=False, strength=3),
        Algorithm("SHA-256-sess", "sha256", session=True, strength=2),
        Algorithm("SHA-512-256", "sha512_256", session=False, strength=5),
        Algorithm("SHA-512-256-sess", "sha512_256", session=True, strength=4),
    ]
    return {alg.name.upper(): alg for alg in table if _available(alg.hashlib_name)}


# Keyed by the upper-case name: algorithm values are compared case-insensitively.
ALGORITHMS: dict[str, Algorithm] = _registry()


def find_algorithm(name: str | None) -> Algorithm:
    """The algorithm called `name`; None (absent parameter) means MD5 (RFC 7616 §3.3)."""
    if name is None:
        return ALGORITHMS["MD5"]
    found = ALGORITHMS.get(name.strip().upper())
    if found is None:
        raise UnsupportedAlgorithm(name)
    return found


def hash_hex(algorithm: Algorithm, data: str | bytes) -> str:
    """H(data) as lower-case hex."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.new(algorithm.hashlib_name, raw).hexdigest()


def compute_ha1(
    username: str, realm: str, password: str, algorithm: str | Algorithm = "MD5"
) -> str:
    """H(username:realm:password): the value a registrar may store instead of the password.

    For a "-sess" algorithm this is the stored part; `session_ha1` derives the per-nonce HA1.
    """
    alg = algorithm if isinstance(algorithm, Algorithm) else find_algorithm(algorithm)
    return hash_hex(alg, f"{username}:{realm}:{password}")


def session_ha1(algorithm: Algorithm, ha1: str, nonce: str, cnonce: str) -> str:
    """HA1 of a "-sess" algorithm (RFC 7616 §3.4.2); the plain HA1 otherwise."""
    if not algorithm.session:
        return ha1
    return hash_hex(algorithm, f"{ha1}:{nonce}:{cnonce}")


def compute_userhash(username: str, realm: str, algorithm: str | Algorithm = "SHA-256") -> str:
    """H(username:realm), sent instead of the username when userhash=true (RFC 7616 §3.4.4)."""
    alg = algorithm if isinstance(algorithm, Algorithm) else find_algorithm(algorithm)
    return hash_hex(alg, f"{username}:{realm}")


def compute_response(
    *,
    algorithm: Algorithm,
    ha1: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
    body: bytes = b"",
) -> str:
    """The request-digest (RFC 7616 §3.4.1), from a stored or computed (non-session) HA1.

    `method` is empty for the `rspauth` of Authentication-Info (RFC 2617 §3.2.3).
    Raises `AuthError` if qop is unknown, or if qop or a "-sess" algorithm lacks nc/cnonce.
    """
    if qop is not None and qop not in (QOP_AUTH, QOP_AUTH_INT):
        raise AuthError(f"qop {qop!r} is not supported (use auth or auth-int)")
    if (qop is not None or algorithm.session) and (not cnonce or (qop is not None and not nc)):
        raise AuthError("qop and -sess algorithms need both nc and cnonce")
    effective_ha1 = session_ha1(algorithm, ha1.lower(), nonce, cnonce or "")
    if qop == QOP_AUTH_INT:
        ha2 = hash_hex(algorithm, f"{method}:{uri}:{hash_hex(algorithm, body)}")
    else:
        ha2 = hash_hex(algorithm, f"{method}:{uri}")
    if qop is None:
        return hash_hex(algorithm, f"{effective_ha1}:{nonce}:{ha2}")
    return hash_hex(algorithm, f"{effective_ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
