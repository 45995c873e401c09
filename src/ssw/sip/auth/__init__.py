"""Digest authentication for SIP (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760).

Sans-I/O: values in, values out, time passed as `now`. The server side is `DigestServer`
(stateless HMAC nonces, optional `ReplayGuard`); the client side is `DigestClient`. The header
values are parsed and serialised by `DigestChallenge` / `DigestCredentials`; any scheme can be
read with `parse_auth_value` so an unknown one can be answered with a fresh challenge.
"""

from ssw.sip.auth.client import DigestClient, choose_challenge
from ssw.sip.auth.digest import (
    ALGORITHMS,
    Algorithm,
    UnsupportedAlgorithm,
    compute_ha1,
    compute_response,
    compute_userhash,
    find_algorithm,
)
from ssw.sip.auth.nonce import NonceCheck, NonceState, ReplayGuard, StatelessNonces
from ssw.sip.auth.params import (
    AuthError,
    AuthParam,
    AuthParseError,
    AuthValue,
    DigestChallenge,
    DigestCredentials,
    UnsupportedScheme,
    parse_auth_value,
)
from ssw.sip.auth.server import (
    AuthFailure,
    AuthOutcome,
    AuthResult,
    DigestRealms,
    DigestServer,
    same_resource,
)

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "AuthError",
    "AuthFailure",
    "AuthOutcome",
    "AuthParam",
    "AuthParseError",
    "AuthResult",
    "AuthValue",
    "DigestChallenge",
    "DigestClient",
    "DigestCredentials",
    "DigestRealms",
    "DigestServer",
    "NonceCheck",
    "NonceState",
    "ReplayGuard",
    "StatelessNonces",
    "UnsupportedAlgorithm",
    "UnsupportedScheme",
    "choose_challenge",
    "compute_ha1",
    "compute_response",
    "compute_userhash",
    "find_algorithm",
    "parse_auth_value",
    "same_resource",
]
