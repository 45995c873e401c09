"""The server (UAS / registrar) side of Digest: challenge, then verify (RFC 3261 §22.1–§22.4).

    server = DigestServer(secret, realm="pv.ssw3")
    for value in server.challenge(now, qop=True):       # one value per algorithm (RFC 8760)
        response.headers.add("WWW-Authenticate", value)
    ...
    creds = DigestCredentials.parse(request.headers.get("authorization"))
    result = server.verify(creds, method="REGISTER", now=now, password=lookup(creds.username))
    if result.outcome is AuthOutcome.STALE: re-challenge with stale=True
    elif not result.ok: re-challenge (or 403), `result.failure` says why

Nothing is stored per challenge (see `ssw.sip.auth.nonce`). Secrets and responses are compared
with `hmac.compare_digest`. The password lookup happens between parsing and verifying so the
caller can fetch it asynchronously; a stored HA1 per algorithm may be given instead.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from ssw.sip.auth.digest import (
    QOP_AUTH,
    QOP_AUTH_INT,
    Algorithm,
    UnsupportedAlgorithm,
    compute_ha1,
    compute_response,
    find_algorithm,
)
from ssw.sip.auth.nonce import NonceState, ReplayGuard, StatelessNonces
from ssw.sip.auth.params import (
    AuthError,
    AuthParam,
    DigestChallenge,
    DigestCredentials,
    UnsupportedScheme,
)

__all__ = [
    "AuthFailure",
    "AuthOutcome",
    "AuthResult",
    "DigestRealms",
    "DigestServer",
    "same_resource",
]


#: stands for the nonce while the rest of a challenge is serialized (never sent)
_NONCE_PLACEHOLDER = "\x01nonce\x01"

class AuthOutcome(Enum):
    OK = "ok"
    STALE = "stale"  # right password, expired nonce: re-challenge with stale=true
    FAILED = "failed"


class AuthFailure(Enum):
    """Why verification failed; the caller chooses the answer (usually a new 401)."""

    MALFORMED = "malformed"
    UNSUPPORTED_SCHEME = "unsupported-scheme"
    UNSUPPORTED_ALGORITHM = "unsupported-algorithm"
    UNSUPPORTED_QOP = "unsupported-qop"
    REALM_MISMATCH = "realm-mismatch"
    USERNAME_MISMATCH = "username-mismatch"
    URI_MISMATCH = "uri-mismatch"
    OPAQUE_MISMATCH = "opaque-mismatch"
    QOP_REQUIRED = "qop-required"
    BAD_NONCE = "bad-nonce"
    NO_CREDENTIAL = "no-credential"
    WRONG_RESPONSE = "wrong-response"
    REPLAYED = "replayed"


@dataclass(frozen=True, slots=True)
class AuthResult:
    outcome: AuthOutcome
    reason: str
    failure: AuthFailure | None = None
    credentials: DigestCredentials | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is AuthOutcome.OK

    @property
    def username(self) -> str | None:
        return self.credentials.username if self.credentials is not None else None


def _failed(
    failure: AuthFailure, reason: str, creds: DigestCredentials | None = None
) -> AuthResult:
    return AuthResult(AuthOutcome.FAILED, reason, failure, creds)


class DigestServer:
    """Challenges and verifies Digest credentials for one realm, statelessly.

    `algorithms` are those accepted in answers. `offer` are those a challenge names by
    default, one WWW-Authenticate value each, in that order (RFC 8760 §2.4: most preferred
    first); `challenge(algorithm=...)` chooses per request, e.g. per subscriber. The default
    offer is MD5 alone because deployed clients fail otherwise: SIPp reads only the first
    WWW-Authenticate and knows only MD5, and baresip 1.0 gives up on the whole 401 as soon
    as any value names SHA-256. Offer ("SHA-256", "MD5") to clients known to cope.
    `auth_int` offers qop="auth,auth-int" instead of "auth" and accepts auth-int answers
    (RFC 2617 §3.2.2.3: the body is then covered; SIPp picks auth-int when it is offered).
    """

    def __init__(
        self,
        secret: bytes,
        realm: str,
        nonce_ttl: float = 300.0,
        algorithms: Sequence[str] = ("SHA-256", "MD5"),
        *,
        offer: Sequence[str] = ("MD5",),
        replay_guard: ReplayGuard | None = None,
        auth_int: bool = False,
        opaque: str | None = None,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if not realm:
            raise ValueError("realm must not be empty")
        if not algorithms:
            raise ValueError("at least one digest algorithm is needed")
        self.realm = realm
        self.algorithms: tuple[Algorithm, ...] = tuple(find_algorithm(a) for a in algorithms)
        self.offer = self._enabled(offer)
        self.nonces = StatelessNonces(secret, ttl=nonce_ttl, random_bytes=random_bytes)
        self.replay_guard = replay_guard
        self.auth_int = auth_int
        self.opaque = opaque
        # (algorithm, qop offered, stale) -> the challenge's text around its nonce: every
        # challenge but its nonce is the same, so it is serialized once.
        self._challenge_texts: dict[tuple[str, tuple[str, ...], bool], tuple[str, str]] = {}

    def _enabled(self, names: str | Sequence[str]) -> tuple[Algorithm, ...]:
        chosen = tuple(find_algorithm(n) for n in ([names] if isinstance(names, str) else names))
        if not chosen:
            raise ValueError("a challenge needs at least one algorithm")
        for algorithm in chosen:
            if algorithm not in self.algorithms:
                raise ValueError(f"algorithm {algorithm.name!r} is not enabled on this server")
        return chosen

    # -- challenge (RFC 3261 §22.1, §22.4) ------------------------------------------------

    def challenge(
        self,
        now: float,
        *,
        qop: bool,
        stale: bool = False,
        algorithm: str | Sequence[str] | None = None,
        binding: bytes = b"",
    ) -> list[str]:
        """WWW-Authenticate (or Proxy-Authenticate) values: one per algorithm, in order.

        `algorithm` names one or several (each among `algorithms`); by default `offer`.
        All values share one fresh nonce. `qop=False` gives RFC 2069-style challenges.
        """
        chosen = self.offer if algorithm is None else self._enabled(algorithm)
        nonce = self.nonces.issue(now, realm=self.realm, qop=qop, binding=binding)
        offered: tuple[str, ...] = ()
        if qop:
            offered = (QOP_AUTH, QOP_AUTH_INT) if self.auth_int else (QOP_AUTH,)
        texts = self._challenge_texts
        values = []
        for alg in chosen:
            around = texts.get((alg.name, offered, stale))
            if around is None:
                around = texts[(alg.name, offered, stale)] = self._challenge_around_nonce(
                    alg.name, offered, stale)
            values.append(f'{around[0]}nonce="{nonce}"{around[1]}')  # base64url: no escapes
        return values

    def _challenge_around_nonce(self, algorithm: str, qop: tuple[str, ...],
                                stale: bool) -> tuple[str, str]:
        text = DigestChallenge(realm=self.realm, nonce=_NONCE_PLACEHOLDER, algorithm=algorithm,
                               qop=qop, opaque=self.opaque, stale=stale).serialize()
        head, found, tail = text.partition(f'nonce="{_NONCE_PLACEHOLDER}"')
        assert found, "a challenge always carries its nonce"
        return head, tail

    # -- verify (RFC 3261 §22.4, RFC 7616 §3.4) -------------------------------------------

    def credentials_for(self, values: Sequence[str]) -> DigestCredentials | None:
        """The Digest credentials meant for this realm among a request's header values.

        RFC 3261 §22.3: a request may carry one Authorization (or Proxy-Authorization) per
        realm. Values of other schemes or realms, and malformed ones, are skipped; None
        means there is nothing to verify here, so the answer is a (new) challenge — also
        for RFC 4475 §3.1.2.9's unknown scheme.
        """
        for value in values:
            try:
                creds = DigestCredentials.parse(value)
            except AuthError:
                continue
            if creds.realm == self.realm:
                return creds
        return None

    def verify(
        self,
        authorization: str | DigestCredentials,
        *,
        method: str,
        now: float,
        password: str | None = None,
        ha1: Mapping[str, str] | None = None,
        body: bytes = b"",
        request_uri: str | None = None,
        username: str | None = None,
        require_qop: bool = False,
        binding: bytes = b"",
    ) -> AuthResult:
        """Check an Authorization (or Proxy-Authorization) value for one request.

        Give the plaintext `password`, or `ha1` mapping algorithm names ("MD5", "SHA-256")
        to the stored H(username:realm:password). `username`, if given, is the identity
        the credentials must name; `request_uri`, if given, must name the same resource as
        the digest-uri (see `same_resource`).
        `require_qop` refuses RFC 2069 answers even to a nonce issued without qop.
        """
        if (password is None) == (ha1 is None):
            raise TypeError("give exactly one of password or ha1")
        if isinstance(authorization, DigestCredentials):
            creds = authorization
        else:
            try:
                creds = DigestCredentials.parse(authorization)
            except UnsupportedScheme as exc:
                return _failed(AuthFailure.UNSUPPORTED_SCHEME, str(exc))
            except AuthError as exc:
                return _failed(AuthFailure.MALFORMED, str(exc))
        try:
            algorithm = find_algorithm(creds.algorithm)
        except UnsupportedAlgorithm as exc:
            return _failed(AuthFailure.UNSUPPORTED_ALGORITHM, str(exc), creds)
        problem = self._check_fields(creds, algorithm, username, request_uri)
        if problem is not None:
            return problem

        nonce = self.nonces.check(creds.nonce, now, realm=self.realm, binding=binding)
        if nonce.state is NonceState.INVALID:
            return _failed(AuthFailure.BAD_NONCE, "nonce was not issued by this server", creds)
        if creds.qop is None and (require_qop or nonce.qop_offered):
            return _failed(AuthFailure.QOP_REQUIRED, "qop was offered but not used", creds)

        stored = self._stored_ha1(creds, algorithm, password, ha1)
        if stored is None:
            return _failed(
                AuthFailure.NO_CREDENTIAL, f"no stored HA1 for algorithm {algorithm.base}", creds
            )
        expected = compute_response(
            algorithm=algorithm,
            ha1=stored,
            nonce=creds.nonce,
            method=method,
            uri=creds.uri,
            qop=creds.qop,
            nc=creds.nc,
            cnonce=creds.cnonce,
            body=body,
        )
        if not _equal(creds.response.lower(), expected):
            return _failed(AuthFailure.WRONG_RESPONSE, "response does not match", creds)
        # RFC 2617 §3.2.1: stale only once the response proved the password.
        if nonce.state is NonceState.EXPIRED:
            return AuthResult(AuthOutcome.STALE, "nonce expired", None, creds)
        if self.replay_guard is not None and creds.qop is not None:
            fresh = self.replay_guard.accept(
                creds.nonce,
                creds.cnonce or "",
                creds.nonce_count or 0,
                expires_at=nonce.issued_at + self.nonces.ttl,
                now=now,
            )
            if not fresh:
                return _failed(
                    AuthFailure.REPLAYED, f"nonce count {creds.nc} was used before", creds
                )
        return AuthResult(AuthOutcome.OK, "authenticated", None, creds)

    # -- Authentication-Info (RFC 2617 §3.2.3, RFC 3261 §20.6) ----------------------------

    def authentication_info(
        self,
        result: AuthResult,
        *,
        now: float,
        password: str | None = None,
        ha1: Mapping[str, str] | None = None,
        response_body: bytes = b"",
        next_nonce: bool = True,
        binding: bytes = b"",
    ) -> str:
        """The Authentication-Info value for the 2xx answering a verified request.

        `nextnonce` lets the client go on without a new 401 when the current nonce ages
        out. With qop, `rspauth` proves the server knows the secret too: the digest of the
        request's own values with an empty method (and the response body for auth-int).
        Give the same `password` or `ha1` as to `verify`.
        """
        creds = result.credentials
        if not result.ok or creds is None:
            raise ValueError("Authentication-Info answers an authenticated request only")
        if (password is None) == (ha1 is None):
            raise TypeError("give exactly one of password or ha1")
        params: list[AuthParam] = []
        if next_nonce:
            nonce = self.nonces.issue(
                now, realm=self.realm, qop=creds.qop is not None, binding=binding
            )
            params.append(AuthParam("nextnonce", nonce))
        if creds.qop is not None:
            algorithm = find_algorithm(creds.algorithm)
            stored = self._stored_ha1(creds, algorithm, password, ha1)
            if stored is None:
                raise ValueError(f"no stored HA1 for algorithm {algorithm.base}")
            rspauth = compute_response(
                algorithm=algorithm,
                ha1=stored,
                nonce=creds.nonce,
                method="",
                uri=creds.uri,
                qop=creds.qop,
                nc=creds.nc,
                cnonce=creds.cnonce,
                body=response_body,
            )
            params += [
                AuthParam("qop", creds.qop, quoted=False),
                AuthParam("rspauth", rspauth),
                AuthParam("cnonce", creds.cnonce or ""),
                AuthParam("nc", creds.nc or "", quoted=False),
            ]
        return ", ".join(param.serialize() for param in params)

    def _check_fields(
        self,
        creds: DigestCredentials,
        algorithm: Algorithm,
        username: str | None,
        request_uri: str | None,
    ) -> AuthResult | None:
        """The checks that need no secret: algorithm, realm, identity, uri, opaque, qop."""
        if algorithm not in self.algorithms:
            return _failed(
                AuthFailure.UNSUPPORTED_ALGORITHM,
                f"algorithm {algorithm.name} is not enabled here",
                creds,
            )
        if creds.realm != self.realm:
            return _failed(
                AuthFailure.REALM_MISMATCH, f"realm {creds.realm!r} is not {self.realm!r}", creds
            )
        if creds.userhash:
            return _failed(AuthFailure.MALFORMED, "userhash was not offered", creds)
        if username is not None and creds.username != username:
            return _failed(
                AuthFailure.USERNAME_MISMATCH,
                f"credentials are for {creds.username!r}, not {username!r}",
                creds,
            )
        if request_uri is not None and not same_resource(creds.uri, request_uri):
            return _failed(
                AuthFailure.URI_MISMATCH,
                f"digest uri {creds.uri!r} differs from the Request-URI {request_uri!r}",
                creds,
            )
        if self.opaque is not None and not _equal(creds.opaque or "", self.opaque):
            return _failed(AuthFailure.OPAQUE_MISMATCH, "opaque was not echoed", creds)
        return self._check_qop(creds, algorithm)

    def _check_qop(self, creds: DigestCredentials, algorithm: Algorithm) -> AuthResult | None:
        if creds.qop is None:
            if algorithm.session:
                return _failed(AuthFailure.MALFORMED, f"{algorithm.name} needs qop", creds)
            return None
        if creds.qop not in (QOP_AUTH, QOP_AUTH_INT) or (
            creds.qop == QOP_AUTH_INT and not self.auth_int
        ):
            return _failed(AuthFailure.UNSUPPORTED_QOP, f"qop {creds.qop!r} was not offered", creds)
        # RFC 2617 §3.2.2: with qop, cnonce and nc (8LHEX) must be present.
        if not creds.cnonce:
            return _failed(AuthFailure.MALFORMED, "qop is set but cnonce is missing", creds)
        if creds.nc is None or len(creds.nc) != 8 or creds.nonce_count is None:
            return _failed(AuthFailure.MALFORMED, "qop is set but nc is not 8 hex digits", creds)
        return None

    def _stored_ha1(
        self,
        creds: DigestCredentials,
        algorithm: Algorithm,
        password: str | None,
        ha1: Mapping[str, str] | None,
    ) -> str | None:
        if password is not None:
            return compute_ha1(creds.username, self.realm, password, find_algorithm(algorithm.base))
        assert ha1 is not None  # verify() checked that exactly one is given
        for name, value in ha1.items():
            if name.upper() == algorithm.base.upper():
                return value.lower()
        return None


def _equal(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode("utf-8"), right.encode("utf-8"))


def same_resource(digest_uri: str, request_uri: str) -> bool:
    """Whether the digest-uri "identifies the same resource" as the Request-URI.

    RFC 2617 §3.2.2.5 asks the server to check this, not for string equality. The scheme,
    user and host (case-insensitive) must match; URI parameters and headers are ignored,
    and a port present on one side only matches, because deployed clients differ there:
    SIPp answers with uri "sip:<host>:<port>" for a REGISTER sent to "sip:<host>".
    """
    left, right = _resource(digest_uri), _resource(request_uri)
    if left is None or right is None:
        return digest_uri == request_uri
    (scheme_a, user_a, host_a, port_a), (scheme_b, user_b, host_b, port_b) = left, right
    if (scheme_a, user_a, host_a) != (scheme_b, user_b, host_b):
        return False
    return port_a is None or port_b is None or port_a == port_b


def _resource(uri: str) -> tuple[str, str, str, str | None] | None:
    """(scheme, user, host, port) of a sip/sips/tel URI, or None if it is not one."""
    text = uri.strip().removeprefix("<").removesuffix(">")
    scheme, colon, rest = text.partition(":")
    if not colon or scheme.lower() not in ("sip", "sips", "tel"):
        return None
    for stop in ";?":
        rest = rest.split(stop, 1)[0]
    user, at, hostport = rest.rpartition("@")
    if not at:
        user, hostport = "", rest
    if hostport.startswith("["):
        host, bracket, tail = hostport.partition("]")
        host += bracket
        port = tail.removeprefix(":") or None
    else:
        host, _, port_text = hostport.partition(":")
        port = port_text or None
    return scheme.lower(), user, host.lower(), port


class DigestRealms:
    """One `DigestServer` per realm (a domain), all keyed by one secret, made on first use.

    The registrar and the call core each hold one; as the nonces are stateless HMACs of the
    same secret, a nonce one of them issued is good for the other.
    """

    def __init__(self, secret: bytes, *, nonce_ttl: float = 300.0,
                 algorithms: Sequence[str] = ("SHA-256", "MD5")) -> None:
        self.secret = secret
        self.nonce_ttl = nonce_ttl
        self.algorithms = tuple(algorithms)
        self._servers: dict[str, DigestServer] = {}

    def server(self, realm: str) -> DigestServer:
        found = self._servers.get(realm)
        if found is None:
            found = DigestServer(self.secret, realm, nonce_ttl=self.nonce_ttl,
                                 algorithms=self.algorithms)
            self._servers[realm] = found
        return found
