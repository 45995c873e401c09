"""The values the repositories take and return: plain frozen dataclasses, never ORM rows.

Times are timezone-aware `datetime` in UTC (millisecond precision is kept); a naive time is
refused, so that a local-time bug can never land in a CDR.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

__all__ = [
    "Alarm",
    "Alias",
    "AuditEntry",
    "Binding",
    "Cdr",
    "Domain",
    "LicenceBlob",
    "MediaProfile",
    "PropertyValue",
    "ServiceState",
    "SipGroup",
    "Subscriber",
    "Trunk",
    "User",
]

#: what a property, a subscriber setting or a service parameter may hold
PropertyValue = str | int | float | bool | None | list[Any] | dict[str, Any]


@dataclass(frozen=True, slots=True)
class Domain:
    name: str
    digitmap: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SipGroup:
    domain: str
    name: str


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A SIP subscriber (SPEC §6). `password` is None when only the HA1 digests are kept."""

    domain: str
    number: str
    group: str
    login: str
    password: str | None
    ha1_md5: str | None
    ha1_sha256: str | None
    auth_mode: str
    qop_mode: str
    login_mode: str
    routing_context: str
    settings: Mapping[str, PropertyValue]
    created_at: datetime

    @property
    def address(self) -> str:
        """``number@domain``, as CoCon prints and takes it."""
        return f"{self.number}@{self.domain}"

    def setting(self, name: str) -> PropertyValue:
        """The subscriber's value of `name`, or its default (see ssw.storage.settings)."""
        from ssw.storage.settings import SUBSCRIBER_SETTINGS

        if name in self.settings:
            return self.settings[name]
        return SUBSCRIBER_SETTINGS[name].default


@dataclass(frozen=True, slots=True)
class Alias:
    """A number bound to an interface (a SIP user ``N@D``, a trunk, ...) with its attributes."""

    domain: str
    number: str
    iface: str
    category: int = 1
    display_name: str = ""
    clir: bool = False
    cdr_group: str = ""
    properties: Mapping[str, PropertyValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServiceState:
    """The supplementary services of one number: enabled ones, and activated ones with
    their parameters (an activated service is always enabled)."""

    domain: str
    number: str
    enabled: frozenset[str]
    activated: Mapping[str, Mapping[str, PropertyValue]]


@dataclass(frozen=True, slots=True)
class Binding:
    """One registered contact of an address-of-record ``number@domain`` (RFC 3261 §10)."""

    aor: str
    contact: str
    expires_at: datetime
    q: float = 1.0
    call_id: str = ""
    cseq: int = 0
    source_host: str = ""
    source_port: int = 0
    transport: str = "udp"
    user_agent: str = ""
    path: tuple[str, ...] = ()
    instance: str = ""
    reg_id: int | None = None


@dataclass(frozen=True, slots=True)
class Cdr:
    """One call attempt. `answer_at` is None for an unanswered call; answer delay and
    duration are derived from the times, so they can never disagree with them."""

    domain: str
    connection_id: str
    caller: str
    callee: str
    setup_at: datetime
    answer_at: datetime | None
    end_at: datetime
    release_cause: int
    release_side: str
    cdr_group: str = ""
    recording_file: str = ""
    incoming_call_id: str = ""
    outgoing_call_id: str = ""
    id: int | None = None

    @property
    def answer_delay_ms(self) -> int | None:
        if self.answer_at is None:
            return None
        return _milliseconds(self.answer_at - self.setup_at)

    @property
    def duration_ms(self) -> int:
        if self.answer_at is None:
            return 0
        return _milliseconds(self.end_at - self.answer_at)


def _milliseconds(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    user: str
    source: str
    front_end: str
    command: str
    result: str
    success: bool = True
    id: int | None = None


@dataclass(frozen=True, slots=True)
class User:
    """A CoCon user. The password hash never leaves the repository."""

    name: str
    role: str
    privileges: frozenset[str]
    created_at: datetime
    password_changed_at: datetime


@dataclass(frozen=True, slots=True)
class Alarm:
    name: str
    source: str
    severity: str
    text: str
    raised_at: datetime


@dataclass(frozen=True, slots=True)
class LicenceBlob:
    id: int
    kind: str
    content: str
    added_at: datetime


@dataclass(frozen=True, slots=True)
class MediaProfile:
    domain: str
    name: str
    codecs: tuple[str, ...]
    properties: Mapping[str, PropertyValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Trunk:
    """A SIP trunk (``trunk/sip/declare <ctx> <group> <name> <ipset> static <ip> <port>
    sip-proxy <listen_port>``)."""

    domain: str
    name: str
    routing_context: str
    trunk_group: str
    ipset: str
    mode: str
    host: str
    port: int
    listen_port: int
    blocked: bool = False
    settings: Mapping[str, PropertyValue] = field(default_factory=dict)
