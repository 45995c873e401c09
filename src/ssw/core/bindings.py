"""Processing REGISTER bindings (RFC 3261 §10.3 steps 6-8), without I/O or a clock.

`apply_register` takes the bindings an address-of-record has now and one REGISTER, and says
what the AOR's bindings become, or which error the registrar answers with. The caller
(`ssw.core.registrar`) authenticates first and commits the result to `ssw.core.location`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from ssw.sip.errors import SipError
from ssw.sip.headers import Contact
from ssw.sip.message import Request
from ssw.sip.uri import SipUri, parse_uri
from ssw.storage.records import Binding

__all__ = [
    "DEFAULT_EXPIRES",
    "ExpiryLimits",
    "RegisterOutcome",
    "Source",
    "apply_register",
    "contact_header_values",
]

#: expiry when neither the Contact nor the request says (RFC 3261 §10.2.1.1 suggests 3600)
DEFAULT_EXPIRES = 3600


@dataclass(frozen=True, slots=True)
class ExpiryLimits:
    """`register-expire-min` / `register-expire-max` of a subscriber."""

    minimum: int = 60
    maximum: int = 3600


@dataclass(frozen=True, slots=True)
class RegisterOutcome:
    """Either the AOR's bindings after the REGISTER, or the error to answer with."""

    bindings: tuple[Binding, ...] = ()
    status: int = 200
    reason: str = "OK"
    min_expires: int | None = None  # for 423 Interval Too Brief (RFC 3261 §10.3 step 7)

    @property
    def ok(self) -> bool:
        return self.status == 200


_OUT_OF_ORDER = RegisterOutcome(status=500, reason="Server Internal Error: CSeq out of order")


@dataclass(frozen=True, slots=True)
class Source:
    host: str
    port: int
    transport: str


@lru_cache(maxsize=65536)
def _contact_key(contact: str) -> str:
    """Bindings are matched by URI equality (RFC 3261 §10.3 step 8, §19.1.4). Remembered
    per contact text: a phone sends the same Contact at every refresh, and the stored
    bindings are matched again at each."""
    try:
        uri = parse_uri(contact)
    except SipError:
        return contact
    if isinstance(uri, SipUri):
        return f"{uri.scheme}:{uri.user or ''}@{uri.host_lower}:{uri.port or ''}"
    return str(uri).lower()


def apply_register(
    request: Request,
    aor: str,
    current: Sequence[Binding],
    *,
    now: datetime,
    limits: ExpiryLimits,
    source: Source,
) -> RegisterOutcome:
    """The bindings of `aor` after `request` (RFC 3261 §10.3 steps 6-8)."""
    contacts = request.contacts
    header_expires = request.expires
    call_id = request.call_id
    cseq = request.cseq.seq
    user_agent = request.headers.get("user-agent") or ""

    if any(c.star for c in contacts):
        # Step 6: "*" only alone and with Expires: 0, else 400.
        if len(contacts) != 1 or header_expires != 0:
            return RegisterOutcome(status=400, reason="Bad Request: '*' needs Expires: 0 alone")
        for binding in current:
            if binding.call_id == call_id and binding.cseq >= cseq:
                return _OUT_OF_ORDER
        return RegisterOutcome(bindings=())

    by_key = {_contact_key(b.contact): b for b in current}
    too_brief = False
    for contact in contacts:
        expires = _expiry_of(contact, header_expires)
        if expires != 0 and expires < limits.minimum:
            too_brief = True
    if too_brief:
        return RegisterOutcome(status=423, reason="Interval Too Brief", min_expires=limits.minimum)

    for contact in contacts:
        key = _contact_key(contact.uri)
        expires = min(_expiry_of(contact, header_expires), limits.maximum)
        existing = by_key.get(key)
        if existing is not None and existing.call_id == call_id and existing.cseq >= cseq:
            # Step 7: a request older than the stored binding is out of order.
            return _OUT_OF_ORDER
        if expires == 0:
            by_key.pop(key, None)
            continue
        binding = Binding(
            aor=aor,
            contact=contact.uri,
            expires_at=now + timedelta(seconds=expires),
            q=contact.q if contact.q is not None else 1.0,
            call_id=call_id,
            cseq=cseq,
            source_host=source.host,
            source_port=source.port,
            transport=source.transport,
            user_agent=user_agent[:255],
            instance=(contact.params.get("+sip.instance") or "")[:255],
        )
        by_key[key] = binding
    live = [b for b in by_key.values() if b.expires_at > now]
    live.sort(key=lambda b: (-b.q, b.expires_at))
    return RegisterOutcome(bindings=tuple(live))


def _expiry_of(contact: Contact, header_expires: int | None) -> int:
    """Contact's expires param, else the Expires header, else the default (§10.3 step 7)."""
    value = contact.expires
    if value is None:
        value = header_expires
    return DEFAULT_EXPIRES if value is None else value


def contact_header_values(bindings: Sequence[Binding], now: datetime) -> list[str]:
    """The Contact values of a 200 OK to REGISTER: every binding with its remaining expiry."""
    values = []
    for binding in bindings:
        remaining = max(0, int((binding.expires_at - now).total_seconds()))
        q = "" if binding.q == 1.0 else f";q={binding.q:g}"
        values.append(f"<{binding.contact}>;expires={remaining}{q}")
    return values
