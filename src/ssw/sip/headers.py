"""Typed header values (RFC 3261 §7.3, §20, §25.1) and the helpers under them.

`Via`, `NameAddr` (From, To, Route, Record-Route, Refer-To, Referred-By, ...), `Contact`,
`CSeq`, `RAck`, `SessionExpires`, `Replaces`, `MediaType` and `AuthValue` parse a single
header field value with `.parse(text)` and raise `HeaderError` (400) when it is malformed.
Treat them as values: a message caches the ones it decoded, and `with_params` makes a changed
copy. `str(value)` writes a value back (the original text when it was parsed). Parameter
names are lower-cased; parameter values are kept as written.

Header names (`header_key`, `canonical_name`, compact forms) and comma-list splitting live in
`ssw.sip.names`, parameters and quoted-strings in `ssw.sip.header_params`; both are
re-exported here. Via and name-addr values read in one step keep their parameter text and
split it into `params` when it is first read (`header_params.lazy_params`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ssw.sip.errors import HeaderError
from ssw.sip.header_params import (
    SIMPLE_TAIL,
    TOKEN,
    TOKEN_CHARS,
    lazy_params,
    parse_delta,
    parse_option_tags,
    parse_params,
    quote,
    split_simple_params,
    unquote,
)
from ssw.sip.names import (
    COMPACT_FORMS,
    LIST_HEADERS,
    canonical_name,
    header_key,
    split_comma_list,
)
from ssw.sip.uri import Uri, parse_uri

__all__ = [
    "COMPACT_FORMS",
    "LIST_HEADERS",
    "AuthValue",
    "CSeq",
    "Contact",
    "MediaType",
    "NameAddr",
    "RAck",
    "Replaces",
    "SessionExpires",
    "Via",
    "canonical_name",
    "header_key",
    "parse_delta",
    "parse_option_tags",
    "parse_params",
    "quote",
    "split_comma_list",
    "unquote",
]

_new = object.__new__
_LWS_RUN = re.compile(r"[ \t]+")


# The usual shape, read in one step: no blanks but the one after the protocol, simple params.
# Groups: transport, host, port, all the parameters, the branch when it comes first, the
# parameters after it.
_VIA_FAST = re.compile(
    r"SIP/2\.0/([A-Za-z]+) (\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-_.]+)(?::([0-9]{1,5}))?"
    f"((?:;branch=([{TOKEN_CHARS}]+))?{SIMPLE_TAIL})"
)
_VIA = re.compile(
    f"[ \\t]*([{TOKEN_CHARS}]+)[ \\t]*/[ \\t]*([{TOKEN_CHARS}]+)"
    f"[ \\t]*/[ \\t]*([{TOKEN_CHARS}]+)"
    r"[ \t]+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-_.]+)(?:[ \t]*:[ \t]*([0-9]{1,5}))?[ \t]*(.*)",
    re.S,
)


@lazy_params
@dataclass(slots=True)
class Via:
    """One Via value: sent-protocol, sent-by and via-params (RFC 3261 §20.42, §18.2.1).

    `host` keeps IPv6 references in brackets; `received` may be given with or without them
    (RFC 5118 §4.5). Treat it as a value (`with_params` makes a changed copy): a message
    caches the Via it decoded.
    """

    transport: str
    host: str
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    protocol: str = "SIP/2.0"
    raw: str = field(default="", compare=False)
    _tail: str | None = field(default=None, init=False, repr=False, compare=False)
    _branch: str | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> Via:
        fast = _VIA_FAST.fullmatch(text)
        if fast is not None:  # the usual shape, checked by the pattern
            transport, host, port_text, tail, branch, others = fast.groups()
            via = _new(cls)
            via.transport = transport if transport.isupper() else transport.upper()
            via.host = host
            via.protocol = "SIP/2.0"
            via.raw = text
            via._tail = tail  # the parameters are split when read (`_lazy_params`)
            via._branch = branch
            # Only flags after a leading branch (";rport", RFC 3581 §3) leave nothing to
            # check and the branch as matched; else split now (rport= is checked below).
            params = via.params if "=" in others or "ranch" in others.lower() else None
        else:
            match = _VIA.fullmatch(text)
            if match is None:
                raise HeaderError(f"malformed Via {text!r}", header="Via")
            name, version, transport, host, port_text, rest = match.groups()
            params = parse_params(rest.rstrip(), "Via") if rest else {}
            via = cls(transport.upper(), host, None, params, f"{name}/{version}".upper(), text)
        if port_text is None:
            via.port = None
        else:
            via.port = port = int(port_text)
            if port > 65535:
                raise HeaderError(f"Via port {port} out of range", header="Via")
        if params is not None:
            rport = params.get("rport")
            if rport is not None and not (rport.isdigit() and int(rport) <= 65535):
                raise HeaderError(f"invalid rport {rport!r} in Via", header="Via")
        return via

    @property
    def branch(self) -> str | None:
        if self._tail is not None:  # not split: the branch came first, alone of its name
            return self._branch
        return self.params.get("branch")

    @property
    def received(self) -> str | None:
        return self.params.get("received")

    @property
    def rport(self) -> int | bool | None:
        """None when absent, True when requested (empty), the port once filled (RFC 3581)."""
        if "rport" not in self.params:
            return None
        value = self.params["rport"]
        if value:  # two returns: `int(value) if value else True` is typed int, not int | bool
            return int(value)
        return True

    @property
    def maddr(self) -> str | None:
        return self.params.get("maddr")

    @property
    def sent_by(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def is_rfc3261_branch(self) -> bool:
        """The branch carries the magic cookie (RFC 3261 §8.1.1.7)."""
        branch = self.branch
        return branch is not None and branch.startswith("z9hG4bK")

    def with_params(self, **params: str | None) -> Via:
        """A copy with parameters set (e.g. received=, rport= per RFC 3261 §18.2.1, RFC 3581)."""
        merged = dict(self.params)
        merged.update(params)
        return Via(self.transport, self.host, self.port, merged, self.protocol)

    def __str__(self) -> str:
        if self.raw:
            return self.raw
        params = "".join(f";{k}" if v is None else f";{k}={v}" for k, v in self.params.items())
        return f"{self.protocol}/{self.transport} {self.sent_by}{params}"


_DISPLAY_TOKENS = re.compile(f"[{TOKEN_CHARS} \\t]*")
_QUOTED = re.compile(r'"((?:[^"\\]|\\[\x00-\x09\x0b\x0c\x0e-\x7f])*)"', re.S)
_URI_IN_ANGLES = re.compile(r"[^\s<>]+")
_ADDR_SPEC = re.compile(r"[^\s<>;,?\"]+")
# The usual shape, read in one step: a quoted (without quoted-pairs) or token display name,
# <URI>, then the parameters.
_NAME_ADDR_FAST = re.compile(
    f'(?:"([^"\\\\]*)"[ \\t]*|([{TOKEN_CHARS}]+(?: [{TOKEN_CHARS}]+)*)[ \\t]*)?'
    f'<([^\\s<>"]+)>' + SIMPLE_TAIL
)


@lazy_params
@dataclass(slots=True)
class NameAddr:
    """name-addr or addr-spec with header parameters: From, To, Route, Refer-To, ...

    `uri` is the URI text as written; `address` parses it on first use. `display_name` has
    quoted-pairs resolved (None when absent). Treat it as a value: `with_params` makes a
    changed copy.
    """

    uri: str
    display_name: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    raw: str = field(default="", compare=False)
    _address: Uri | None = field(default=None, init=False, repr=False, compare=False)
    _tail: str | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> NameAddr:
        fast = _NAME_ADDR_FAST.fullmatch(text)
        if fast is None:
            display, uri, params = _parse_name_addr(text)
            return cls(uri, display, params, text)
        value = _new(cls)
        quoted, tokens, value.uri, value._tail = fast.groups()
        value.display_name = quoted if quoted is not None else tokens
        value.raw = text
        value._address = None
        return value

    @property
    def address(self) -> Uri:
        """The parsed URI (raises `UriError`, a 400, when malformed)."""
        if self._address is None:
            self._address = parse_uri(self.uri)
        return self._address

    @property
    def tag(self) -> str | None:
        tail = self._tail
        if tail is not None:  # parameters not split yet (`_lazy_params`)
            if not tail:
                return None
            if tail[:5] == ";tag=" and ";" not in tail[5:]:  # the only parameter
                return tail[5:]
        return self.params.get("tag")

    def with_params(self, **params: str | None) -> NameAddr:
        merged = dict(self.params)
        merged.update(params)
        return NameAddr(self.uri, self.display_name, merged)

    def __str__(self) -> str:
        if self.raw:
            return self.raw
        params = "".join(f";{k}" if v is None else f";{k}={v}" for k, v in self.params.items())
        display = f"{quote(self.display_name)} " if self.display_name is not None else ""
        return f"{display}<{self.uri}>{params}"


def _parse_name_addr(text: str) -> tuple[str | None, str, dict[str, str | None]]:
    """(display name, URI text, parameters) of a name-addr / addr-spec (RFC 3261 §20.10)."""
    fast = _NAME_ADDR_FAST.fullmatch(text)
    if fast is not None:
        quoted, tokens, uri, rest = fast.groups()
        params = split_simple_params(rest) if rest else {}
        return (quoted if quoted is not None else tokens), uri, params
    display, uri, rest = _split_name_addr(text)
    return display, uri, parse_params(rest, "name-addr") if rest else {}


def _split_name_addr(text: str) -> tuple[str | None, str, str]:
    """(display name, URI text, parameter text) of a name-addr / addr-spec (RFC 3261 §20.10)."""
    value = text.strip()
    display: str | None = None
    if value.startswith('"'):
        match = _QUOTED.match(value)
        if match is None:
            raise HeaderError(f"unterminated or invalid quoted display name in {text!r}")
        display = unquote(match.group())
        value = value[match.end() :].lstrip(" \t")
        if not value.startswith("<"):
            raise HeaderError(f"quoted display name without <URI> in {text!r}")
    lt = value.find("<")
    if lt >= 0:
        if display is None:
            tokens = value[:lt]
            if _DISPLAY_TOKENS.fullmatch(tokens) is None:
                raise HeaderError(f"display name must be tokens or a quoted string in {text!r}")
            tokens = " ".join(tokens.split())
            display = tokens or None
        gt = value.find(">", lt)
        if gt < 0:
            raise HeaderError(f"missing '>' in {text!r}")
        uri = value[lt + 1 : gt]
        if _URI_IN_ANGLES.fullmatch(uri) is None:
            raise HeaderError(f"invalid URI (spaces or empty) in {text!r}")
        return display, uri, value[gt + 1 :].strip()
    # addr-spec: the URI may not hold ',', ';' or '?' (RFC 3261 §20): parameters follow ';'.
    uri, _, rest = value.partition(";")
    uri = uri.rstrip()
    if _ADDR_SPEC.fullmatch(uri) is None or ":" not in uri:
        raise HeaderError(
            f"invalid address {uri!r} (a URI with ',', ';' or '?' needs <>) in {text!r}"
        )
    return None, uri, (";" + rest if _ else "")


@dataclass(slots=True)
class Contact(NameAddr):
    """A Contact value (RFC 3261 §20.10); `star` for the wildcard "*" of REGISTER."""

    star: bool = False

    @classmethod
    def parse(cls, text: str) -> Contact:
        if "*" in text and text.strip() == "*":
            return cls("*", None, {}, text, star=True)
        fast = _NAME_ADDR_FAST.fullmatch(text)
        if fast is None:
            display, uri, params = _parse_name_addr(text)
            return cls(uri, display, params, text)
        contact = _new(cls)
        quoted, tokens, contact.uri, contact._tail = fast.groups()
        contact.display_name = quoted if quoted is not None else tokens
        contact.raw = text
        contact._address = None
        contact.star = False
        return contact

    @property
    def q(self) -> float | None:
        """The preference q-value in [0, 1] (RFC 3261 §20.10)."""
        value = self.params.get("q")
        if value is None:
            return None
        try:
            q = float(value)
        except ValueError:
            raise HeaderError(f"invalid q-value {value!r} in Contact", header="Contact") from None
        if not 0.0 <= q <= 1.0:
            raise HeaderError(f"q-value {value!r} out of range in Contact", header="Contact")
        return q

    @property
    def expires(self) -> int | None:
        """The contact's expires parameter in seconds (RFC 3261 §10.2.1.1)."""
        value = self.params.get("expires")
        return None if value is None else parse_delta(value, "Contact expires")

    def __str__(self) -> str:
        return "*" if self.star else NameAddr.__str__(self)


_COMMON_METHODS = frozenset({
    "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE", "NOTIFY",
    "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE",
})


@dataclass(slots=True)
class CSeq:
    """CSeq: sequence number and method (RFC 3261 §20.16; number < 2**31, §8.1.1.5)."""

    seq: int
    method: str

    @classmethod
    def parse(cls, text: str) -> CSeq:
        parts = text.split()
        if len(parts) != 2 or (
            parts[1] not in _COMMON_METHODS and TOKEN.fullmatch(parts[1]) is None
        ):
            raise HeaderError(f"malformed CSeq {text!r}", header="CSeq")
        number = parts[0]
        if number.isdecimal() and number.isascii() and len(number) < 10:
            return cls(int(number), parts[1])  # fewer than 10 digits: below 2**31
        return cls(parse_delta(number, "CSeq", 2**31 - 1), parts[1])

    def __str__(self) -> str:
        return f"{self.seq} {self.method}"


@dataclass(slots=True)
class RAck:
    """RAck: response number, CSeq number and method (RFC 3262 §7.2)."""

    rseq: int
    cseq: int
    method: str

    @classmethod
    def parse(cls, text: str) -> RAck:
        parts = text.split()
        if len(parts) != 3 or TOKEN.fullmatch(parts[2]) is None:
            raise HeaderError(f"malformed RAck {text!r}", header="RAck")
        return cls(
            parse_delta(parts[0], "RAck", 2**32 - 1),
            parse_delta(parts[1], "RAck", 2**31 - 1),
            parts[2],
        )

    def __str__(self) -> str:
        return f"{self.rseq} {self.cseq} {self.method}"


@dataclass(slots=True)
class SessionExpires:
    """Session-Expires / Min-SE: interval and parameters (RFC 4028 §4, §5)."""

    delta: int
    params: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> SessionExpires:
        number, _, rest = text.strip().partition(";")
        params = parse_params(";" + rest, "Session-Expires") if _ else {}
        return cls(parse_delta(number, "Session-Expires"), params)

    @property
    def refresher(self) -> str | None:
        """"uac" or "uas" when given."""
        value = self.params.get("refresher")
        return value.lower() if value else None

    def __str__(self) -> str:
        params = "".join(f";{k}" if v is None else f";{k}={v}" for k, v in self.params.items())
        return f"{self.delta}{params}"


@dataclass(slots=True)
class Replaces:
    """Replaces: the dialog to replace (RFC 3891 §6.1)."""

    call_id: str
    to_tag: str
    from_tag: str
    early_only: bool = False
    params: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Replaces:
        call_id, semi, rest = text.strip().partition(";")
        call_id = call_id.strip()
        params = parse_params(";" + rest, "Replaces") if semi else {}
        to_tag, from_tag = params.get("to-tag"), params.get("from-tag")
        if not call_id or to_tag is None or from_tag is None:
            raise HeaderError(
                f"Replaces needs a Call-ID, to-tag and from-tag: {text!r}", header="Replaces"
            )
        return cls(call_id, to_tag, from_tag, "early-only" in params, params)

    def __str__(self) -> str:
        early = ";early-only" if self.early_only else ""
        return f"{self.call_id};to-tag={self.to_tag};from-tag={self.from_tag}{early}"


_MEDIA_TYPE = re.compile(
    f"[ \\t]*([{TOKEN_CHARS}]+)[ \\t]*/[ \\t]*([{TOKEN_CHARS}]+)[ \\t]*(.*)", re.S
)


@dataclass(slots=True)
class MediaType:
    """Content-Type / an Accept entry: type/subtype;params (RFC 3261 §20.15)."""

    type: str
    subtype: str
    params: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> MediaType:
        match = _MEDIA_TYPE.fullmatch(text)
        if match is None:
            raise HeaderError(f"malformed media type {text!r}", header="Content-Type")
        rest = match.group(3).rstrip()
        params = parse_params(rest, "Content-Type") if rest else {}
        return cls(match.group(1).lower(), match.group(2).lower(), params)

    @property
    def mime(self) -> str:
        return f"{self.type}/{self.subtype}"

    def matches(self, mime: str) -> bool:
        """Whether `mime` ("application/sdp") falls under this range ("application/*")."""
        kind, _, sub = mime.lower().partition("/")
        return (self.type in ("*", kind)) and (self.subtype in ("*", sub))

    def __str__(self) -> str:
        params = "".join(f";{k}" if v is None else f";{k}={v}" for k, v in self.params.items())
        return f"{self.type}/{self.subtype}{params}"


_AUTH_PARAM = re.compile(
    f"[ \\t]*([{TOKEN_CHARS}]+)[ \\t]*=[ \\t]*"
    f"(\"(?:[^\"\\\\]|\\\\.)*\"|[^\\s,\"]*)[ \\t]*(,|$)",
    re.S,
)


@dataclass(slots=True)
class AuthValue:
    """A challenge or credentials: scheme plus auth-params (RFC 3261 §25.1, RFC 7235 §2.1).

    Parameter values are unquoted; `tokens` names the parameters written without quotes
    (RFC 7616 writes algorithm, qop and nc bare in credentials but qop quoted in challenges),
    so `str()` writes each the way it came. `token68` holds a non-parameter credential.
    """

    scheme: str
    params: dict[str, str] = field(default_factory=dict)
    token68: str | None = None
    tokens: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> AuthValue:
        parts = _LWS_RUN.split(text.strip(), maxsplit=1)
        scheme, rest = parts[0], (parts[1].strip() if len(parts) > 1 else "")
        if TOKEN.fullmatch(scheme) is None:
            raise HeaderError(f"invalid authentication scheme in {text!r}", header="Authorization")
        if rest and "=" not in rest.split(",")[0].rstrip("="):
            return cls(scheme, {}, rest)
        params: dict[str, str] = {}
        tokens = set()
        pos = 0
        while pos < len(rest):
            match = _AUTH_PARAM.match(rest, pos)
            if match is None:
                raise HeaderError(f"malformed auth-param in {text!r}", header="Authorization")
            name, value = match.group(1).lower(), match.group(2)
            if not value.startswith('"'):
                tokens.add(name)
            params[name] = unquote(value)
            pos = match.end()
            while pos < len(rest) and rest[pos] in " \t,":
                pos += 1
        return cls(scheme, params, None, frozenset(tokens))

    def __str__(self) -> str:
        if self.token68 is not None:
            return f"{self.scheme} {self.token68}"
        return f"{self.scheme} " + ", ".join(
            f"{k}={v}" if k in self.tokens and TOKEN.fullmatch(v) else f"{k}={quote(v)}"
            for k, v in self.params.items()
        )
