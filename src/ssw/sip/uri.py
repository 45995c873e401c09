"""URIs in SIP: SIP/SIPS (RFC 3261 §19.1), tel (RFC 3966) and other absolute URIs (opaque).

`parse_uri(text)` returns a `SipUri`, `TelUri` or `AbsoluteUri`. Components of a SIP URI are
kept unescaped (§19.1.2: "%HH" is equivalent to the character it encodes), while `str(uri)`
gives back exactly the text that was parsed, so a proxy forwards what it received. Unescaping
is a single pass: "%2541" becomes "%41", never "A" (RFC 4475 §3.1.1.3).

Equality of SIP URIs follows §19.1.4: host, parameter names and the transport/user/ttl/maddr
values compare without regard to case; user, ttl, method, maddr and transport must appear in
both or neither; other parameters appearing in only one URI are ignored; headers must match.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ssw.sip.errors import UriError

__all__ = [
    "SIP_URI_USUAL",
    "AbsoluteUri",
    "SipUri",
    "TelUri",
    "Uri",
    "escape",
    "parse_uri",
    "unescape",
]

_HEX = "0123456789abcdefABCDEF"
_new = object.__new__
_set = object.__setattr__
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")

# RFC 3261 §25.1: the characters each URI component may hold unescaped. The user part also
# takes a raw '#': §19.1.2 wants it escaped, but phones send feature codes (`*21*156#`)
# unescaped and ECSS-10 accepts them, so SSW is liberal on receive (§19.1.2 is a SHOULD).
_UNRESERVED = "A-Za-z0-9\\-_.!~*'()"
_USER = re.compile(rf"[{_UNRESERVED}%&=+$,;?/#]+")
_PASSWORD = re.compile(rf"[{_UNRESERVED}%&=+$,]*")
_PARAM = re.compile(rf"[{_UNRESERVED}%\[\]/:&+$]+")
_HEADER = re.compile(rf"[{_UNRESERVED}%\[\]/?:+$]*")
_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-_.]*[A-Za-z0-9])?\.?")
_IPV6_REFERENCE = re.compile(r"\[[0-9A-Fa-f:.]+\]")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
_OPAQUE = re.compile(r"[^\s<>\"]*")
_TEL_NUMBER = re.compile(r"\+?[0-9A-Fa-f*#\-.()pPwW]+")

# Characters kept as they are when escaping each component (RFC 3261 §25.1).
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_SAFE_USER = frozenset(_ALNUM + "-_.!~*'()&=+$,;?/")
_SAFE_PASSWORD = frozenset(_ALNUM + "-_.!~*'()&=+$,")
_SAFE_PARAM = frozenset(_ALNUM + "-_.!~*'()[]/:&+$")
_SAFE_HEADER = frozenset(_ALNUM + "-_.!~*'()[]/?:+$")
_COMPONENT_SAFE = {
    "user": _SAFE_USER,
    "password": _SAFE_PASSWORD,
    "param": _SAFE_PARAM,
    "header": _SAFE_HEADER,
}


def unescape(text: str) -> str:
    """Decode %HH escapes once (RFC 3261 §19.1.2); the octets are read as UTF-8."""
    if "%" not in text:
        return text
    raw = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return raw


def escape(text: str, component: str = "user") -> str:
    """Escape `text` for a URI component: "user", "password", "param" or "header"."""
    safe = _COMPONENT_SAFE[component]
    out: list[str] = []
    for char in text:
        if char in safe:
            out.append(char)
        else:
            out.extend(f"%{octet:02X}" for octet in char.encode("utf-8"))
    return "".join(out)


def _check(pattern: re.Pattern[str], text: str, what: str, uri: str) -> None:
    if pattern.fullmatch(text) is None or _BAD_ESCAPE.search(text) is not None:
        raise UriError(f"invalid {what} {text!r} in URI {uri!r}")


def _split_params(text: str, uri: str, checker: re.Pattern[str]) -> dict[str, str | None]:
    """`;name[=value]` pairs (names unescaped and lower-cased, values unescaped)."""
    params: dict[str, str | None] = {}
    for item in text.split(";"):
        name, eq, value = item.partition("=")
        _check(checker, name, "parameter name", uri)
        key = unescape(name).lower()
        if eq:
            _check(checker, value, "parameter value", uri)
            params[key] = unescape(value)
        else:
            params[key] = None
    return params


def _split_host_port(hostport: str, uri: str) -> tuple[str, int | None]:
    """host [":" port] with IPv6 references in brackets (RFC 3261 §25.1, RFC 5118)."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise UriError(f"unterminated IPv6 reference in URI {uri!r}")
        host, rest = hostport[: end + 1], hostport[end + 1 :]
        if _IPV6_REFERENCE.fullmatch(host) is None:
            raise UriError(f"invalid IPv6 reference {host!r} in URI {uri!r}")
        if rest and not rest.startswith(":"):
            raise UriError(f"invalid text after IPv6 reference in URI {uri!r}")
        port_text = rest[1:] if rest else None
    else:
        host, colon, port_text_raw = hostport.partition(":")
        port_text = port_text_raw if colon else None
        if _HOSTNAME.fullmatch(host) is None:
            raise UriError(f"invalid host {host!r} in URI {uri!r}")
    if port_text is None:
        return host, None
    if not port_text.isdigit() or not port_text.isascii() or len(port_text) > 5:
        raise UriError(f"invalid port {port_text!r} in URI {uri!r}")
    port = int(port_text)
    if port > 65535:
        raise UriError(f"port {port} out of range in URI {uri!r}")
    return host, port


# The usual SIP URI, checked in one step: lower-case scheme, user without password, host,
# port, parameters; no escapes ('%') and no headers ('?' after the host). Its five groups
# (scheme, user, host, port, parameters) are what `SipUri` is made of; `ssw.sip.message`
# embeds the pattern in the one it reads the usual Request-Line with.
SIP_URI_USUAL = (
    rf"(sips?):(?:([{_UNRESERVED}&=+$,;?/#]+)@)?"
    r"([A-Za-z0-9](?:[A-Za-z0-9\-_.]*[A-Za-z0-9])?\.?|\[[0-9A-Fa-f:.]+\])"
    r"(?::([0-9]{1,5}))?"
    rf"((?:;[{_UNRESERVED}\[\]/:&+$]+(?:=[{_UNRESERVED}\[\]/:&+$]+)?)*)"
)
_SIP_FAST = re.compile(SIP_URI_USUAL)

# §19.1.4: these parameters must appear in both URIs or in neither (transport too: "a URI
# omitting any component with a default value will not match a URI explicitly containing
# that component", as the section's example sip:bob@biloxi.com;transport=udp shows).
_PARAMS_IN_BOTH = ("user", "ttl", "method", "maddr", "transport")
# Values compared without regard to case (transport names, host names, the user type).
_CASELESS_PARAMS = frozenset({"transport", "user", "maddr", "ttl", "lr"})


@dataclass(frozen=True, eq=False)
class SipUri:
    """A sip: or sips: URI; components unescaped, `str()` is the original text."""

    scheme: str
    host: str
    user: str | None = None
    password: str | None = None
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    raw: str = ""

    @classmethod
    def parse(cls, text: str) -> SipUri:
        fast = _SIP_FAST.fullmatch(text)
        if fast is not None:
            return cls._from_parts(fast, text)
        scheme, colon, rest = text.partition(":")
        lowered = scheme.lower()
        if not colon or lowered not in ("sip", "sips"):
            raise UriError(f"not a SIP URI: {text!r}")
        user = password = None
        at = rest.find("@")
        if at >= 0:
            userinfo, rest = rest[:at], rest[at + 1 :]
            user_text, has_password, password_text = userinfo.partition(":")
            _check(_USER, user_text, "user", text)
            user = unescape(user_text)
            if has_password:
                _check(_PASSWORD, password_text, "password", text)
                password = unescape(password_text)
        rest, question, header_text = rest.partition("?")
        hostport, semi, param_text = rest.partition(";")
        host, port = _split_host_port(hostport, text)
        params = _split_params(param_text, text, _PARAM) if semi else {}
        headers: dict[str, str] = {}
        if question:
            for item in header_text.split("&"):
                name, eq, value = item.partition("=")
                if not eq or not name:
                    raise UriError(f"invalid header {item!r} in URI {text!r}")
                _check(_HEADER, name, "header name", text)
                _check(_HEADER, value, "header value", text)
                headers[unescape(name)] = unescape(value)
        return cls(lowered, host, user, password, port, params, headers, text)

    @classmethod
    def _from_parts(cls, fast: re.Match[str], text: str) -> SipUri:
        """The usual shape, matched and checked by `_SIP_FAST`: nothing to unescape."""
        return cls.from_usual(fast.groups(), text)

    @classmethod
    def from_usual(
        cls, parts: Sequence[str | None], text: str
    ) -> SipUri:
        """A URI from the five groups of `SIP_URI_USUAL` matched against `text`.

        The parameters are split when first read (`_sip_uri_params`): a Request-URI is parsed
        on every request, its parameters read on few.
        """
        scheme, user, host, port_text, param_text = parts
        port = None
        if port_text is not None:
            port = int(port_text)
            if port > 65535:
                raise UriError(f"port {port} out of range in URI {text!r}")
        uri = _new(cls)
        # A frozen dataclass: its fields are set once, here, in one step instead of eight.
        fields: dict[str, object] = {
            "scheme": scheme, "host": host, "user": user, "password": None, "port": port,
            "headers": {}, "raw": text,
        }
        if param_text:
            fields["_param_text"] = param_text
        else:
            fields["params"] = {}
        _set(uri, "__dict__", fields)
        return uri

    @property
    def transport(self) -> str | None:
        value = self.params.get("transport")
        return value.lower() if value else None

    @property
    def maddr(self) -> str | None:
        return self.params.get("maddr")

    @property
    def lr(self) -> bool:
        """Loose routing flag (RFC 3261 §19.1.1, §16.4)."""
        return "lr" in self.params

    @property
    def host_lower(self) -> str:
        return self.host.lower()

    def with_params(self, **params: str | None) -> SipUri:
        """A copy with the given URI parameters set (None means a flag without value)."""
        merged = dict(self.params)
        merged.update(params)
        return self._replace(params=merged)

    def without_params(self, *names: str) -> SipUri:
        kept = {k: v for k, v in self.params.items() if k not in names}
        return self._replace(params=kept)

    def without_headers(self) -> SipUri:
        """The URI as it may appear in a Request-URI (§19.1.5: no headers there)."""
        if not self.headers:
            return self
        return self._replace(headers={})

    def _replace(self, **changes: object) -> SipUri:
        """A copy with some fields changed; it is written anew by `str()`."""
        return dataclasses.replace(self, raw="", **changes)  # type: ignore[arg-type]

    def __str__(self) -> str:
        if self.raw:
            return self.raw
        out = [self.scheme, ":"]
        if self.user is not None:
            out.append(escape(self.user, "user"))
            if self.password is not None:
                out += [":", escape(self.password, "password")]
            out.append("@")
        out.append(self.host)
        if self.port is not None:
            out += [":", str(self.port)]
        for name, value in self.params.items():
            out += [";", escape(name, "param")]
            if value is not None:
                out += ["=", escape(value, "param")]
        if self.headers:
            hdrs = self.headers.items()
            out.append("?")
            out.append("&".join(f"{escape(k, 'header')}={escape(v, 'header')}" for k, v in hdrs))
        return "".join(out)

    def __repr__(self) -> str:
        return f"SipUri({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        """RFC 3261 §19.1.4 URI comparison."""
        if not isinstance(other, SipUri):
            return NotImplemented
        if (self.scheme, self.user, self.password, self.port) != (
            other.scheme,
            other.user,
            other.password,
            other.port,
        ) or self.host.lower() != other.host.lower():
            return False
        for name in _PARAMS_IN_BOTH:
            if (name in self.params) != (name in other.params):
                return False
        for name, value in self.params.items():
            if name in other.params and not _param_values_equal(name, value, other.params[name]):
                return False
        mine = {k.lower(): v for k, v in self.headers.items()}
        theirs = {k.lower(): v for k, v in other.headers.items()}
        return mine == theirs

    def __hash__(self) -> int:
        return hash((self.scheme, self.user, self.password, self.host.lower(), self.port))


def _sip_uri_params(uri: SipUri) -> dict[str, str | None]:
    """`SipUri.params`: made by `from_usual`, the parameter text is split on first reading."""
    fields = uri.__dict__
    params: dict[str, str | None] | None = fields.get("params")
    if params is None:
        params = {}
        for item in fields.pop("_param_text", ";")[1:].split(";"):
            key, eq, value = item.partition("=")
            params[key.lower()] = value if eq else None
        fields["params"] = params
    return params


def _set_sip_uri_params(uri: SipUri, params: dict[str, str | None]) -> None:
    uri.__dict__["params"] = params


SipUri.params = property(_sip_uri_params, _set_sip_uri_params)  # type: ignore[assignment]


def _param_values_equal(name: str, a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is b
    if name in _CASELESS_PARAMS:
        return a.lower() == b.lower()
    return a == b


_VISUAL_SEPARATORS = str.maketrans("", "", "-.()")


@dataclass(frozen=True, eq=False)
class TelUri:
    """A tel: URI (RFC 3966): `number` as written, `params` with lower-cased names."""

    number: str
    params: dict[str, str | None] = field(default_factory=dict)
    raw: str = ""

    scheme = "tel"

    @classmethod
    def parse(cls, text: str) -> TelUri:
        scheme, colon, rest = text.partition(":")
        if not colon or scheme.lower() != "tel":
            raise UriError(f"not a tel URI: {text!r}")
        number, semi, param_text = rest.partition(";")
        if _TEL_NUMBER.fullmatch(number) is None:
            raise UriError(f"invalid telephone number {number!r} in {text!r}")
        # RFC 3966 §5.1.5 wants a phone-context on local numbers; most equipment omits it,
        # so local numbers without one are accepted.
        params = _split_params(param_text, text, _PARAM) if semi else {}
        return cls(number, params, text)

    @property
    def is_global(self) -> bool:
        return self.number.startswith("+")

    @property
    def digits(self) -> str:
        """The number without visual separators (RFC 3966 §5.1.1)."""
        return self.number.translate(_VISUAL_SEPARATORS)

    def __str__(self) -> str:
        if self.raw:
            return self.raw
        params = "".join(f";{k}" if v is None else f";{k}={v}" for k, v in self.params.items())
        return f"tel:{self.number}{params}"

    def __repr__(self) -> str:
        return f"TelUri({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        """RFC 3966 §4: separators ignored, parameters compared regardless of order/case."""
        if not isinstance(other, TelUri):
            return NotImplemented
        mine = {k: (v.lower() if v else v) for k, v in self.params.items()}
        theirs = {k: (v.lower() if v else v) for k, v in other.params.items()}
        return self.digits.lower() == other.digits.lower() and mine == theirs

    def __hash__(self) -> int:
        return hash(self.digits.lower())


@dataclass(frozen=True)
class AbsoluteUri:
    """Any other absolute URI (RFC 3986), kept opaque: scheme plus the rest as written."""

    scheme: str
    opaque: str

    @classmethod
    def parse(cls, text: str) -> AbsoluteUri:
        scheme, colon, rest = text.partition(":")
        if not colon or _SCHEME.fullmatch(scheme) is None or _OPAQUE.fullmatch(rest) is None:
            raise UriError(f"invalid URI {text!r}")
        return cls(scheme.lower(), rest)

    def __str__(self) -> str:
        return f"{self.scheme}:{self.opaque}"


Uri = SipUri | TelUri | AbsoluteUri


def parse_uri(text: str) -> Uri:
    """Parse any URI that may appear in SIP; raises `UriError` when malformed."""
    if text.startswith("sip:"):
        fast = _SIP_FAST.fullmatch(text)
        if fast is not None:
            return SipUri.from_usual(fast.groups(), text)
        return SipUri.parse(text)
    scheme = text[:5].lower()
    if scheme.startswith("sip:") or scheme == "sips:":
        return SipUri.parse(text)
    if scheme.startswith("tel:"):
        return TelUri.parse(text)
    return AbsoluteUri.parse(text)
