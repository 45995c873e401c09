"""Catalogues of what may be set: per-subscriber SIP settings, domain properties, modes,
supplementary services. Each entry knows its default and turns operator text ("true",
"15", "find-me-with-q previous-stop") into a typed value, or refuses it with a reason.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

from ssw.storage.errors import InvalidValue
from ssw.storage.records import PropertyValue

__all__ = [
    "AUTH_MODES",
    "LOGIN_AS_NUMBER",
    "PROPERTY_SECTIONS",
    "QOP_MODES",
    "SERVICES",
    "SUBSCRIBER_SETTINGS",
    "Setting",
    "check_choice",
]

#: `<auth>` of ``sip/user/declare`` (the QA suite declares with ``none``)
AUTH_MODES = ("none", "register", "invite", "register_and_invite")
#: `<qop>` of ``sip/user/declare``: offer ``qop=auth`` (RFC 7616 §3.3) or challenge without qop
QOP_MODES = ("qop_authentication", "no_qop_authentication")
#: the `<login>` keyword meaning "the digest user name is the number"
LOGIN_AS_NUMBER = "login-as-number"

#: supplementary services by their ECSS names (SPEC §7)
SERVICES = frozenset(
    (
        "cfu",
        "cfu_type2",
        "cfb",
        "cfnr",
        "cfnr_type2",
        "cfos",
        "cft",
        "cf_sip",
        "follow_me",
        "follow_me_no_response",
        "find_me",
        "find_me_no_response",
        "chold",
        "ctr",
        "cw",
        "3way",
        "conference",
        "meet_me_conference",
        "teleconference",
        "dnd",
        "clip",
        "cnip",
        "clir",
        "acb",
        "rbp",
        "sca",
        "scr",
        "sco_white",
        "sco_black",
        "rfc",
        "mcid",
        "pickup",
        "park",
        "chunt",
        "cgg",
        "ml",
        "auto_redial",
        "auto_redial_with_callback",
        "callback",
        "redial",
        "speed_dial",
        "alarm",
        "voicemail",
        "call_recording",
        "fax_to_email",
        "direct_call",
        "intervention",
        "remote_phone",
        "voice_page",
        "zone_page",
        "blf",
        "presence",
        "cc_agent",
        "dialer",
        "ivr",
    )
)


_INTEGER = re.compile(r"-?[0-9]{1,12}")


def check_choice(kind: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidValue(f"{kind} {value!r} is not one of: {', '.join(choices)}")
    return value


def _as_bool(name: str, value: PropertyValue) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InvalidValue(f"{name} takes true or false, not {value!r}")


def _as_int(name: str, value: PropertyValue, minimum: int, maximum: int) -> int:
    if isinstance(value, bool):
        raise InvalidValue(f"{name} takes a whole number, not {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip(" \t")):
        number = int(value.strip(" \t"))
    else:
        raise InvalidValue(f"{name} takes a whole number, not {value!r}")
    if not minimum <= number <= maximum:
        raise InvalidValue(f"{name} must be between {minimum} and {maximum}, not {number}")
    return number


def _as_ip_list(name: str, value: PropertyValue) -> str:
    if not isinstance(value, str):
        raise InvalidValue(f"{name} takes addresses or networks separated by ',', not {value!r}")
    parts = [part.strip() for part in value.split(",") if part.strip()]
    for part in parts:
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise InvalidValue(f"{name}: {part!r} is not an IP address or network") from None
    return ",".join(parts)


@dataclass(frozen=True, slots=True)
class Setting:
    """One settable value: its name, default and how operator text becomes a value."""

    name: str
    default: PropertyValue
    parse: Callable[[str, PropertyValue], PropertyValue]
    help: str

    def coerce(self, value: PropertyValue) -> PropertyValue:
        return self.parse(self.name, value)


def _boolean(name: str, default: bool, help: str) -> Setting:
    return Setting(name, default, _as_bool, help)


def _integer(name: str, default: int, minimum: int, maximum: int, help: str) -> Setting:
    return Setting(name, default, lambda n, v: _as_int(n, v, minimum, maximum), help)


def _choice(name: str, default: str, choices: tuple[str, ...], help: str) -> Setting:
    def parse(n: str, v: PropertyValue) -> PropertyValue:
        if isinstance(v, bool):
            v = "true" if v else "false"
        if not isinstance(v, str):
            raise InvalidValue(f"{n} takes one of: {', '.join(choices)}")
        return check_choice(n, " ".join(v.split()), choices)

    return Setting(name, default, parse, help)


def _text(name: str, default: str, help: str) -> Setting:
    def parse(n: str, v: PropertyValue) -> PropertyValue:
        if not isinstance(v, str) or len(v) > 255:
            raise InvalidValue(f"{n} takes text of up to 255 characters, not {v!r}")
        return v

    return Setting(name, default, parse, help)


FORK_MODES = (
    "all-contacts",
    "disable",
    "find-me-one-by-one previous-stop",
    "find-me-one-by-one previous-continue",
    "find-me-with-q previous-stop",
    "find-me-with-q previous-continue",
)

_SUBSCRIBER_SETTINGS = (
    _choice(
        "fork-mode",
        "all-contacts",
        FORK_MODES,
        "how a call reaches several contacts: in parallel, one by one, or by q",
    ),
    _boolean("req100rel", False, "require reliable provisional responses (RFC 3262)"),
    _choice(
        "rfc-4028-control",
        "true",
        ("true", "false", "force"),
        "session timers (RFC 4028): use when offered, never, or always",
    ),
    _boolean("rfc-4028-force", False, "refresh sessions even when the peer does not support it"),
    _integer(
        "options_control",
        0,
        0,
        86_400,
        "seconds between OPTIONS keep-alive requests to the contacts (0: off)",
    ),
    _choice(
        "dtmf-relay",
        "rfc2833",
        ("rfc2833", "info", "inband", "auto"),
        "how DTMF digits are carried (RFC 4733 events, SIP INFO or in band)",
    ),
    _boolean("nat_traversal", False, "send to the source address of REGISTER (latching)"),
    _integer(
        "register-expire-min",
        60,
        1,
        86_400,
        "shortest registration accepted; shorter gets 423 with Min-Expires",
    ),
    _integer("register-expire-max", 3600, 1, 604_800, "longest registration granted"),
    Setting("trusted-ip", "", _as_ip_list, "addresses whose requests are not challenged"),
    _choice(
        "terminal_type",
        "smart",
        ("basic", "smart"),
        "basic terminals get mid-call services by flash and digits",
    ),
    _integer("max-contacts", 10, 1, 100, "contacts one subscriber may register at once"),
    _text("display-name", "", "display name put in the From of calls from this subscriber"),
)

#: per-subscriber SIP settings (``sip/user/set <group> N@D <param> <value>``)
SUBSCRIBER_SETTINGS: dict[str, Setting] = {s.name: s for s in _SUBSCRIBER_SETTINGS}

_CORE_TIMERS = (
    _integer("conversation_timeout", 0, 0, 604_800, "longest call in seconds (0: unlimited)"),
    _integer("no_answer_timeout", 120, 1, 3600, "seconds a call may ring before it fails"),
    _integer("response_timeout", 32, 1, 600, "seconds to wait for any answer to INVITE"),
    _integer("find_me", 20, 1, 600, "seconds each find-me step rings"),
)

_SIP_TIMERS = (
    _integer("T1", 500, 10, 10_000, "RFC 3261 T1, round-trip estimate, milliseconds"),
    _integer("T2", 4000, 100, 60_000, "RFC 3261 T2, longest retransmit interval, milliseconds"),
    _integer("T4", 5000, 100, 60_000, "RFC 3261 T4, how long a message lives, milliseconds"),
    _integer("rfc4028_min_se", 90, 90, 86_400, "RFC 4028 Min-SE, seconds"),
    _integer("rfc4028_use_se", 1800, 90, 86_400, "RFC 4028 Session-Expires offered, seconds"),
)

_SIP_PROPERTIES = (
    _choice(
        "sip_transport",
        "udp_prefer",
        ("udp_only", "udp_prefer", "tcp_only", "tcp_prefer"),
        "transports used towards the subscribers of the domain",
    ),
)

_MEDIA_PROPERTIES = (
    _boolean("call_recording", False, "record every call of the domain (docs/MEDIA.md)"),
    _text("meet_me_number", "", "number of the domain's meet-me conference (empty: none)"),
    _text("meet_me_pin", "", "PIN (digits) to enter the meet-me conference (empty: none)"),
)

#: known keys of each property section; sections not listed take any key
PROPERTY_SECTIONS: dict[str, dict[str, Setting]] = {
    "timers": {s.name: s for s in _CORE_TIMERS},
    "sip_timers": {s.name: s for s in _SIP_TIMERS},
    "sip": {s.name: s for s in _SIP_PROPERTIES},
    "media": {s.name: s for s in _MEDIA_PROPERTIES},
}
