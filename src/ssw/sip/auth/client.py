"""The client (UAC) side of Digest: answer a 401/407 challenge (RFC 3261 §22.2, §22.3).

    client = DigestClient("156", "secret")
    values = response.headers.get_all("www-authenticate")
    request.headers.add("Authorization", client.authorization(values, "REGISTER", "sip:pv.ssw3"))

Given several challenges (RFC 8760 §2.4 lets a server offer one per algorithm, most preferred
first) the client takes the strongest algorithm it supports: SHA-512-256, then SHA-256, then
MD5, each before its "-sess" variant. RFC 8760 §2.4 has a UAC use the topmost challenge it
supports "unless a local policy dictates otherwise"; strongest-first is that local policy, and
`server_order=True` follows the server's order instead. The client answers with qop=auth
when offered (auth-int if that is all there is), and in RFC 2069 style when no qop is offered.
The nonce-count goes up by one for every request answered with the same nonce (RFC 7616
§3.4), remembered for the last few nonces only.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Sequence

from ssw.sip.auth.digest import (
    ALGORITHMS,
    QOP_AUTH,
    QOP_AUTH_INT,
    Algorithm,
    UnsupportedAlgorithm,
    compute_ha1,
    compute_response,
    compute_userhash,
    find_algorithm,
)
from ssw.sip.auth.params import (
    AuthError,
    AuthParseError,
    DigestChallenge,
    DigestCredentials,
    UnsupportedScheme,
)

__all__ = ["DigestClient", "choose_challenge"]


def choose_challenge(
    values: str | Sequence[str], *, server_order: bool = False
) -> tuple[DigestChallenge, Algorithm]:
    """The challenge to answer among `values`, and its algorithm.

    The strongest algorithm wins, or with `server_order` the first usable value. Values of
    other schemes, unknown algorithms and malformed values are skipped; if none is usable,
    `AuthError` says what was offered.
    """
    candidates = [values] if isinstance(values, str) else list(values)
    best: tuple[DigestChallenge, Algorithm] | None = None
    problems: list[str] = []
    for value in candidates:
        try:
            challenge = DigestChallenge.parse(value)
            algorithm = find_algorithm(challenge.algorithm)
        except (AuthParseError, UnsupportedScheme, UnsupportedAlgorithm) as exc:
            problems.append(str(exc))
            continue
        if best is None or algorithm.strength > best[1].strength:
            best = (challenge, algorithm)
        if server_order:
            break
    if best is None:
        detail = "; ".join(problems) if problems else "no challenge was given"
        raise AuthError(f"no usable Digest challenge: {detail}")
    return best


def _choose_qop(challenge: DigestChallenge) -> str | None:
    if not challenge.qop:
        return None
    if QOP_AUTH in challenge.qop:
        return QOP_AUTH
    if QOP_AUTH_INT in challenge.qop:
        return QOP_AUTH_INT
    raise AuthError(f"none of the offered qop values {list(challenge.qop)} is supported")


class DigestClient:
    """Answers Digest challenges for one username and password.

    `make_cnonce` supplies the client nonce (random by default; fixed in tests);
    `server_order` takes the first usable challenge rather than the strongest.
    """

    def __init__(
        self,
        username: str,
        password: str,
        *,
        make_cnonce: Callable[[], str] = lambda: os.urandom(12).hex(),
        remembered_nonces: int = 16,
        server_order: bool = False,
    ) -> None:
        self.server_order = server_order
        self.username = username
        self._password = password
        self._make_cnonce = make_cnonce
        self._remembered = remembered_nonces
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._ha1: dict[tuple[str, str], str] = {}

    def authorization(
        self,
        challenge: str | Sequence[str] | DigestChallenge,
        method: str,
        uri: str,
        body: bytes = b"",
    ) -> str:
        """The Authorization (or Proxy-Authorization) value answering `challenge`.

        `challenge` is one WWW-Authenticate/Proxy-Authenticate value, all of them in order, or
        an already parsed challenge. Raises `AuthError` when nothing offered can be answered.
        """
        return self.credentials(challenge, method, uri, body).serialize()

    def credentials(
        self,
        challenge: str | Sequence[str] | DigestChallenge,
        method: str,
        uri: str,
        body: bytes = b"",
    ) -> DigestCredentials:
        """Like `authorization`, returning the typed credentials."""
        if isinstance(challenge, DigestChallenge):
            chosen, algorithm = challenge, find_algorithm(challenge.algorithm)
        else:
            chosen, algorithm = choose_challenge(challenge, server_order=self.server_order)
        qop = _choose_qop(chosen)
        cnonce: str | None = None
        nc: str | None = None
        if qop is not None or algorithm.session:
            cnonce = self._make_cnonce()
        if qop is not None:
            nc = f"{self._next_count(chosen.nonce):08x}"
        response = compute_response(
            algorithm=algorithm,
            ha1=self._base_ha1(algorithm, chosen.realm),
            nonce=chosen.nonce,
            method=method,
            uri=uri,
            qop=qop,
            nc=nc,
            cnonce=cnonce,
            body=body,
        )
        username = self.username
        if chosen.userhash:
            username = compute_userhash(self.username, chosen.realm, algorithm.base)
        return DigestCredentials(
            username=username,
            realm=chosen.realm,
            nonce=chosen.nonce,
            uri=uri,
            response=response,
            # RFC 2617 §3.2.2: echo the algorithm; omit it when the challenge implied MD5.
            algorithm=chosen.algorithm,
            cnonce=cnonce,
            opaque=chosen.opaque,
            qop=qop,
            nc=nc,
            userhash=chosen.userhash,
        )

    def _base_ha1(self, algorithm: Algorithm, realm: str) -> str:
        key = (algorithm.base, realm)
        ha1 = self._ha1.get(key)
        if ha1 is None:
            ha1 = compute_ha1(
                self.username, realm, self._password, ALGORITHMS[algorithm.base.upper()]
            )
            if len(self._ha1) >= self._remembered:
                self._ha1.clear()
            self._ha1[key] = ha1
        return ha1

    def _next_count(self, nonce: str) -> int:
        count = self._counts.pop(nonce, 0) + 1
        self._counts[nonce] = count
        while len(self._counts) > self._remembered:
            self._counts.popitem(last=False)
        return count
