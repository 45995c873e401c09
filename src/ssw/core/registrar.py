"""The registrar (RFC 3261 §10.3, SPEC §6): REGISTER with digest, bindings in memory and storage.

Every REGISTER is answered here: 401 with a challenge (MD5 and SHA-256, `qop=auth` or none per
the subscriber's `<qop>` mode), 403 for wrong credentials, 404 for an unknown domain or number,
423 with Min-Expires under `register-expire-min`, 200 with the current bindings. The address
of record is the To URI (`number@domain`); phones send REGISTER to the switch's address, so
the Request-URI names no domain. Time comes in as `now` (epoch seconds).

Subscribers and domains come from a `Directory` (cached, see ssw.core.directory); bindings
from `Locations` (in memory, written through to storage with group commit, see
ssw.core.location). A 200 OK is built only after its bindings are committed. On the path
of a registered phone no storage is read; the write is shared with the REGISTERs that
arrive while the previous write is in flight.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from ssw.core.bindings import ExpiryLimits, Source, apply_register, contact_header_values
from ssw.core.directory import Directory
from ssw.core.location import Locations
from ssw.sip.address import Address
from ssw.sip.auth import AuthFailure, AuthOutcome, DigestRealms, DigestServer
from ssw.sip.errors import SipError
from ssw.sip.message import Request, Response, make_response
from ssw.sip.uri import SipUri
from ssw.storage import Storage
from ssw.storage.records import Subscriber

__all__ = ["Registrar", "RegistrarConfig"]

logger = logging.getLogger(__name__)

QOP_MODE_WITH_QOP = "qop_authentication"

#: subscriber records whose expiry limits are remembered (all forgotten beyond)
_LIMITS_KEPT = 100_000


@dataclass(frozen=True, slots=True)
class RegistrarConfig:
    """`auth_secret` keys the stateless nonces (the call core uses the same secret, so a
    nonce from a REGISTER challenge is good for an INVITE too)."""

    auth_secret: bytes
    digest_algorithms: tuple[str, ...] = ("MD5", "SHA-256")
    nonce_ttl: float = 300.0
    user_agent: str = "SSW"


class Registrar:
    """Answers REGISTER requests.

    The composition root passes the `directory` and `locations` it shares with the call core
    (and subscribes the directory to CoCon's changes). Without them the registrar makes its
    own: a directory that caches nothing (no change feed reaches it) and a location service
    loaded from storage before the first REGISTER.
    """

    def __init__(self, storage: Storage, config: RegistrarConfig, *,
                 directory: Directory | None = None,
                 locations: Locations | None = None) -> None:
        self.storage = storage
        self.config = config
        self.directory = Directory(storage, max_age=0.0) if directory is None else directory
        self._now_seen = 0.0
        if locations is None:
            locations = Locations(storage.registrations, lambda: self._now_seen)
        self.locations = locations
        self._limits: dict[int, tuple[Subscriber, ExpiryLimits]] = {}
        self._date: tuple[int, str] = (-1, "")
        self._realms = DigestRealms(config.auth_secret, nonce_ttl=config.nonce_ttl,
                                    algorithms=config.digest_algorithms)

    def _digest_server(self, realm: str) -> DigestServer:
        return self._realms.server(realm)

    def _answer(self, request: Request, status: int, reason: str | None = None,
                headers: list[tuple[str, str]] | None = None) -> Response:
        extra = [("Server", self.config.user_agent), *(headers or [])]
        return make_response(request, status, reason, to_tag=_tag_for(request), headers=extra)

    async def handle(self, request: Request, source: Address, now: float) -> Response:
        """The response to one REGISTER received from `source` at time `now`."""
        try:
            to_uri = request.to.address
        except SipError as exc:
            return self._answer(request, 400, f"Bad Request: {exc}")
        if not isinstance(to_uri, SipUri) or not to_uri.user:
            # RFC 3261 §10.3 step 5: the To header carries a SIP AOR.
            return self._answer(request, 400, "Bad Request: To is not a SIP address of record")
        domain = to_uri.host_lower
        number = to_uri.user
        self._now_seen = now
        if not self.locations.loaded:
            await self.locations.load()
        subscriber = await self.directory.subscriber(domain, number, now)
        if subscriber is None:
            if not await self.directory.domain_exists(domain, now):
                return self._answer(request, 404, "Not Found: unknown domain")
            return self._answer(request, 404, "Not Found: unknown subscriber")

        denied = self._authenticate(request, subscriber, now)
        if denied is not None:
            return denied

        aor = subscriber.address
        when = datetime.fromtimestamp(now, UTC)
        limits = self._limits_of(subscriber)
        # From reading the current bindings to `commit` nothing is awaited: two REGISTERs
        # of one AOR are ordered against each other in memory (RFC 3261 §10.3 step 7).
        current = self.locations.bindings_of(aor)
        try:
            outcome = apply_register(
                request, aor, current, now=when, limits=limits,
                source=Source(source.host, source.port, source.transport),
            )
        except SipError as exc:
            return self._answer(request, exc.status, f"{exc.reason}: {exc}")
        if outcome.status == 423:
            return self._answer(request, 423, outcome.reason,
                                [("Min-Expires", str(outcome.min_expires))])
        if not outcome.ok:
            return self._answer(request, outcome.status, outcome.reason)
        if not await self.locations.commit(aor, outcome.bindings):
            # removed by the console while this REGISTER was being handled
            return self._answer(request, 404, "Not Found: unknown subscriber")
        headers = [("Contact", value) for value in contact_header_values(outcome.bindings, when)]
        headers.append(("Date", self._date_header(now, when)))
        logger.info("registered %s: %d contact(s) from %s", aor, len(outcome.bindings), source)
        return self._answer(request, 200, "OK", headers)

    def _limits_of(self, subscriber: Subscriber) -> ExpiryLimits:
        """`register-expire-min` / `-max` of the subscriber, worked out once per record the
        directory hands out (it hands out the same record until the subscriber changes)."""
        kept = self._limits.get(id(subscriber))
        if kept is not None and kept[0] is subscriber:
            return kept[1]
        limits = ExpiryLimits(
            minimum=_int_setting(subscriber, "register-expire-min", 60),
            maximum=_int_setting(subscriber, "register-expire-max", 3600),
        )
        if len(self._limits) >= _LIMITS_KEPT:
            self._limits.clear()
        # the record is kept with its limits, so its id cannot be reused meanwhile
        self._limits[id(subscriber)] = (subscriber, limits)
        return limits

    def _date_header(self, now: float, when: datetime) -> str:
        """The Date of a 200 OK (RFC 3261 §10.3 step 8, §20.17), made once per second."""
        second = int(now)
        if self._date[0] != second:
            self._date = (second, when.strftime("%a, %d %b %Y %H:%M:%S GMT"))
        return self._date[1]

    def _authenticate(self, request: Request, subscriber: Subscriber,
                      now: float) -> Response | None:
        """None when the REGISTER carries good credentials; else the 401/403 to send.

        Every subscriber is authenticated with digest (SPEC §6); the `<auth>` mode of
        `sip/user/declare` is kept for the console but never turns authentication off.
        """
        server = self._digest_server(subscriber.domain)
        with_qop = subscriber.qop_mode == QOP_MODE_WITH_QOP
        stale = False
        for value in request.authorization:
            password, ha1 = _secret_of(subscriber)
            result = server.verify(
                value, method="REGISTER", now=now, password=password, ha1=ha1,
                username=subscriber.login, require_qop=with_qop,
            )
            if result.ok:
                return None
            if result.failure is AuthFailure.REALM_MISMATCH:
                continue
            if result.failure in (AuthFailure.WRONG_RESPONSE, AuthFailure.USERNAME_MISMATCH):
                logger.info("REGISTER for %s: wrong credentials", subscriber.address)
                return self._answer(request, 403, "Forbidden: wrong credentials")
            stale = result.outcome is AuthOutcome.STALE
            break
        challenges = server.challenge(now, qop=with_qop, stale=stale)
        return self._answer(request, 401, None, [("WWW-Authenticate", c) for c in challenges])

    async def purge_expired(self, now: float) -> int:
        """Drop bindings whose time is up, from memory and from storage (run periodically by
        the composition root); returns how many were dropped from memory."""
        dropped = self.locations.purge(now)
        await self.storage.registrations.purge_expired(datetime.fromtimestamp(now, UTC))
        return dropped


def _secret_of(subscriber: Subscriber) -> tuple[str | None, dict[str, str] | None]:
    """The plaintext password, or else the stored HA1 digests by algorithm."""
    if subscriber.password is not None:
        return subscriber.password, None
    ha1 = {}
    if subscriber.ha1_md5:
        ha1["MD5"] = subscriber.ha1_md5
    if subscriber.ha1_sha256:
        ha1["SHA-256"] = subscriber.ha1_sha256
    return None, ha1


def _int_setting(subscriber: Subscriber, name: str, default: int) -> int:
    try:
        value = subscriber.setting(name)
    except KeyError:
        return default
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _tag_for(request: Request) -> str:
    """A To tag for responses to REGISTER: stable per request so retransmits match."""
    return hashlib.blake2s(request.call_id.encode() + str(request.cseq.seq).encode(),
                           digest_size=6).hexdigest()
