"""Header values of HTTP/SIP authentication: challenges and credentials.

The grammar is RFC 3261 §25.1 (`challenge`, `credentials`, `digest-cln`, `dig-resp`) which
follows RFC 2617 §1.2 / §3.2: a scheme token, linear white space, then comma-separated
`auth-param`s of the form `name = token / quoted-string`.

This module knows the syntax only. `parse_auth_value` turns any scheme's value into an
`AuthValue` (the scheme and its parameters, unknown ones kept in order), so a caller can see a
scheme it does not implement (RFC 4475 §3.1.2.9 `regaut01`: "NoOneKnowsThisScheme") and answer
with a fresh challenge. `DigestChallenge` and `DigestCredentials` are the typed views of the
Digest scheme (RFC 7616 §3.3 and §3.4) and serialise back to header values.

Every value is bounded (`MAX_VALUE_LENGTH`, `MAX_PARAMS`) and every syntax error raises
`AuthParseError` with a message saying what was wrong and where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "MAX_PARAMS",
    "MAX_VALUE_LENGTH",
    "AuthError",
    "AuthParam",
    "AuthParseError",
    "AuthValue",
    "DigestChallenge",
    "DigestCredentials",
    "UnsupportedScheme",
    "parse_auth_value",
]

MAX_VALUE_LENGTH = 8192
MAX_PARAMS = 64

# RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~")
# Unquoted parameter values: a token, widened to what deployed stacks send unquoted
# (base64 nonces with "/" "=" ":" "@"), i.e. anything but separators of the auth-param list.
_BARE_VALUE_STOP = frozenset(' \t\r\n,"')
_LWS = " \t"
# The same token characters as a regular-expression class.
_TOKEN_CLASS = "-A-Za-z0-9.!%*_+`'~"
# One auth-param of the usual shape: a token name, `=`, then a quoted-string without
# quoted-pairs or a bare value (groups: name, quoted value, bare value).
_SIMPLE_PARAM = (
    f'[ \t]*([{_TOKEN_CLASS}]+)[ \t]*=[ \t]*(?:"([^"\\\\]*)"|([^ \t\r\n,"]+))[ \t]*'
)
_SCHEME = re.compile(f"[{_TOKEN_CLASS}]+")
_SIMPLE_PARAM_RE = re.compile(_SIMPLE_PARAM)
_SIMPLE_PARAM_LIST = re.compile(f"{_SIMPLE_PARAM}(?:,{_SIMPLE_PARAM})*")
# The Digest scheme and the white space after it.
_DIGEST_SCHEME = re.compile("[ \t]*(?i:digest)[ \t]+")


class AuthError(ValueError):
    """An authentication header value cannot be used; the message says why."""


class AuthParseError(AuthError):
    """The value does not follow the auth-param grammar (RFC 3261 §25.1)."""


class UnsupportedScheme(AuthError):
    """The value uses a scheme other than Digest (RFC 4475 §3.1.2.9): re-challenge."""

    def __init__(self, scheme: str) -> None:
        super().__init__(f"authentication scheme {scheme!r} is not supported; use Digest")
        self.scheme = scheme


@dataclass(frozen=True, slots=True)
class AuthParam:
    """One `name=value`; `quoted` records whether the value was a quoted-string."""

    name: str
    value: str
    quoted: bool = True

    def serialize(self) -> str:
        if any(ch in self.value for ch in "\r\n\0"):
            raise AuthError(f"value of {self.name!r} contains CR, LF or NUL")
        if not self.quoted:
            if not self.value or any(ch in _BARE_VALUE_STOP for ch in self.value):
                raise AuthError(f"value of {self.name!r} must be quoted: {self.value!r}")
            return f"{self.name}={self.value}" if self.name else self.value
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}="{escaped}"'


@dataclass(frozen=True, slots=True)
class AuthValue:
    """A challenge or credentials of any scheme: the scheme and its parameters in order."""

    scheme: str
    params: tuple[AuthParam, ...] = ()

    @property
    def is_digest(self) -> bool:
        return self.scheme.lower() == "digest"

    def get(self, name: str) -> str | None:
        """The value of parameter `name` (case-insensitive), or None."""
        wanted = name.lower()
        for param in self.params:
            if param.name.lower() == wanted:
                return param.value
        return None

    def serialize(self) -> str:
        if not self.params:
            return self.scheme
        return self.scheme + " " + ", ".join(p.serialize() for p in self.params)


def parse_auth_value(value: str) -> AuthValue:
    """Parse one WWW-Authenticate / Authorization (or Proxy-) header value.

    Raises `AuthParseError` for a value that is empty, too long, or not `scheme *auth-param`.
    A scheme other than Digest may carry a token68 blob (RFC 7235 §2.1) instead of
    parameters; it is kept as a single parameter with an empty name.
    """
    if len(value) > MAX_VALUE_LENGTH:
        raise AuthParseError(
            f"authentication value is {len(value)} characters, over {MAX_VALUE_LENGTH}"
        )
    if "\r" in value or "\n" in value or "\0" in value:
        raise AuthParseError("authentication value contains CR, LF or NUL")
    text = value.strip(_LWS)
    scheme_match = _SCHEME.match(text)
    end = scheme_match.end() if scheme_match is not None else 0
    scheme = text[:end]
    if not scheme:
        raise AuthParseError("authentication value must start with a scheme token (e.g. Digest)")
    if end < len(text) and text[end] not in _LWS:
        raise AuthParseError(f"unexpected {text[end]!r} after scheme {scheme!r}")
    rest = text[end:].strip(_LWS)
    if not rest:
        return AuthValue(scheme)
    if scheme.lower() != "digest" and _is_token68(rest):
        return AuthValue(scheme, (AuthParam("", rest, quoted=False),))
    return AuthValue(scheme, _parse_params(rest))


def _is_token68(text: str) -> bool:
    # RFC 7235 §2.1: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    body = text.rstrip("=")
    allowed = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/")
    return bool(body) and all(ch in allowed for ch in body)




def _parse_simple_params(text: str) -> tuple[AuthParam, ...] | None:
    """The parameters of a list in the usual shape, read with one pattern; None when the
    list is not of that shape (escapes, empty elements, repeats, too many) and the full
    reader must say what is wrong or read it."""
    if _SIMPLE_PARAM_LIST.fullmatch(text) is None:
        return None
    params = tuple(
        AuthParam(name, bare, False) if quoted is None else AuthParam(name, quoted, True)
        for name, quoted, bare in (
            match.group(1, 2, 3) for match in _SIMPLE_PARAM_RE.finditer(text)
        )
    )
    if len(params) > MAX_PARAMS or len({p.name.lower() for p in params}) != len(params):
        return None
    return params


def _parse_params(text: str) -> tuple[AuthParam, ...]:
    simple = _parse_simple_params(text)
    if simple is not None:
        return simple
    params: list[AuthParam] = []
    seen: set[str] = set()
    pos = 0
    length = len(text)
    while True:
        # RFC 7230 §7: empty list elements ("a=1,,b=2", a trailing ",") are ignored.
        while pos < length and text[pos] in " \t,":
            pos += 1
        if pos >= length:
            return tuple(params)
        start = pos
        while pos < length and text[pos] in _TOKEN_CHARS:
            pos += 1
        name = text[start:pos]
        if not name:
            raise AuthParseError(f"expected a parameter name at offset {start}")
        pos = _skip_lws(text, pos)
        if pos >= length or text[pos] != "=":
            raise AuthParseError(f"parameter {name!r} has no '=' and no value")
        pos = _skip_lws(text, pos + 1)
        if pos < length and text[pos] == '"':
            value, pos = _read_quoted(text, pos, name)
            quoted = True
        else:
            start = pos
            while pos < length and text[pos] not in _BARE_VALUE_STOP:
                pos += 1
            value = text[start:pos]
            quoted = False
            if not value:
                raise AuthParseError(f"parameter {name!r} has an empty value")
        key = name.lower()
        if key in seen:
            raise AuthParseError(f"parameter {name!r} appears twice")
        seen.add(key)
        params.append(AuthParam(name, value, quoted))
        if len(params) > MAX_PARAMS:
            raise AuthParseError(f"more than {MAX_PARAMS} parameters")
        pos = _skip_lws(text, pos)
        if pos >= length:
            return tuple(params)
        if text[pos] != ",":
            raise AuthParseError(f"expected ',' after parameter {name!r}, found {text[pos]!r}")
        pos += 1


def _skip_lws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _LWS:
        pos += 1
    return pos


def _read_quoted(text: str, pos: int, name: str) -> tuple[str, int]:
    """Read a quoted-string starting at the opening quote; RFC 3261 §25.1 quoted-pair."""
    out: list[str] = []
    pos += 1
    while pos < len(text):
        ch = text[pos]
        if ch == '"':
            return "".join(out), pos + 1
        if ch == "\\":
            if pos + 1 >= len(text):
                break
            out.append(text[pos + 1])
            pos += 2
            continue
        out.append(ch)
        pos += 1
    raise AuthParseError(f"quoted value of parameter {name!r} is not terminated")


_CHALLENGE_PARAMS = frozenset(
    {"realm", "nonce", "algorithm", "qop", "opaque", "stale", "domain", "userhash"}
)
_CREDENTIALS_REQUIRED = ("username", "realm", "nonce", "uri", "response")
_CREDENTIALS_PARAMS = frozenset(
    {*_CREDENTIALS_REQUIRED, "algorithm", "cnonce", "opaque", "qop", "nc", "userhash"}
)


def _flag(value: str | None) -> bool:
    return value is not None and value.lower() == "true"


@dataclass(frozen=True, slots=True)
class DigestChallenge:
    """A Digest challenge (RFC 7616 §3.3; RFC 3261 §22.4; RFC 8760 §2.2).

    `qop` lists the offered options (empty means RFC 2069 compatibility, no qop).
    `algorithm` is None when the challenge did not name one (MD5 is then implied).
    Parameters this class does not model are kept in `extra` and serialised back.
    """

    realm: str
    nonce: str
    algorithm: str | None = None
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False
    domain: str | None = None
    userhash: bool = False
    extra: tuple[AuthParam, ...] = field(default=())

    @classmethod
    def parse(cls, value: str | AuthValue) -> DigestChallenge:
        parsed = value if isinstance(value, AuthValue) else parse_auth_value(value)
        if not parsed.is_digest:
            raise UnsupportedScheme(parsed.scheme)
        realm = parsed.get("realm")
        nonce = parsed.get("nonce")
        if realm is None:
            raise AuthParseError("Digest challenge has no realm")
        if nonce is None:
            raise AuthParseError("Digest challenge has no nonce")
        qop_text = parsed.get("qop")
        qop = tuple(q.strip() for q in qop_text.split(",") if q.strip()) if qop_text else ()
        return cls(
            realm=realm,
            nonce=nonce,
            algorithm=parsed.get("algorithm"),
            qop=qop,
            opaque=parsed.get("opaque"),
            stale=_flag(parsed.get("stale")),
            domain=parsed.get("domain"),
            userhash=_flag(parsed.get("userhash")),
            extra=tuple(p for p in parsed.params if p.name.lower() not in _CHALLENGE_PARAMS),
        )

    def serialize(self) -> str:
        params = [AuthParam("realm", self.realm)]
        if self.domain is not None:
            params.append(AuthParam("domain", self.domain))
        params.append(AuthParam("nonce", self.nonce))
        if self.opaque is not None:
            params.append(AuthParam("opaque", self.opaque))
        if self.stale:
            params.append(AuthParam("stale", "true", quoted=False))
        if self.algorithm is not None:
            params.append(AuthParam("algorithm", self.algorithm, quoted=False))
        if self.qop:
            params.append(AuthParam("qop", ",".join(self.qop)))
        if self.userhash:
            params.append(AuthParam("userhash", "true", quoted=False))
        params.extend(self.extra)
        return AuthValue("Digest", tuple(params)).serialize()


@dataclass(frozen=True, slots=True)
class DigestCredentials:
    """Digest credentials (RFC 7616 §3.4; RFC 3261 §22.4 `digest-response`).

    `nc` is kept as sent (8 hex digits, RFC 2617 §3.2.2); `nonce_count` decodes it.
    """

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str | None = None
    cnonce: str | None = None
    opaque: str | None = None
    qop: str | None = None
    nc: str | None = None
    userhash: bool = False
    extra: tuple[AuthParam, ...] = field(default=())

    @property
    def nonce_count(self) -> int | None:
        """`nc` as an integer, or None when absent or not 1–8 hex digits."""
        if self.nc is None or not 1 <= len(self.nc) <= 8:
            return None
        try:
            return int(self.nc, 16)
        except ValueError:
            return None

    @classmethod
    def parse(cls, value: str | AuthValue) -> DigestCredentials:
        if isinstance(value, str):
            usual = _parse_usual_credentials(value)
            if usual is not None:
                return usual
        parsed = value if isinstance(value, AuthValue) else parse_auth_value(value)
        if not parsed.is_digest:
            raise UnsupportedScheme(parsed.scheme)
        # Each name looked up once (the first of a repeated name wins, as in `AuthValue.get`).
        values = {param.name.lower(): param.value for param in reversed(parsed.params)}
        for name in _CREDENTIALS_REQUIRED:
            if name not in values:
                raise AuthParseError(f"Digest credentials have no {name}")
        return cls._from_values(
            values, tuple(p for p in parsed.params if p.name.lower() not in _CREDENTIALS_PARAMS))

    @classmethod
    def _from_values(cls, values: dict[str, str],
                     extra: tuple[AuthParam, ...]) -> DigestCredentials:
        return cls(
            username=values["username"],
            realm=values["realm"],
            nonce=values["nonce"],
            uri=values["uri"],
            response=values["response"],
            algorithm=values.get("algorithm"),
            cnonce=values.get("cnonce"),
            opaque=values.get("opaque"),
            qop=values.get("qop"),
            nc=values.get("nc"),
            userhash=_flag(values.get("userhash")),
            extra=extra,
        )

    def serialize(self) -> str:
        params = [
            AuthParam("username", self.username),
            AuthParam("realm", self.realm),
            AuthParam("nonce", self.nonce),
            AuthParam("uri", self.uri),
            AuthParam("response", self.response),
        ]
        if self.algorithm is not None:
            params.append(AuthParam("algorithm", self.algorithm, quoted=False))
        if self.cnonce is not None:
            params.append(AuthParam("cnonce", self.cnonce))
        if self.opaque is not None:
            params.append(AuthParam("opaque", self.opaque))
        if self.qop is not None:
            params.append(AuthParam("qop", self.qop, quoted=False))
        if self.nc is not None:
            params.append(AuthParam("nc", self.nc, quoted=False))
        if self.userhash:
            params.append(AuthParam("userhash", "true", quoted=False))
        params.extend(self.extra)
        return AuthValue("Digest", tuple(params)).serialize()


def _parse_usual_credentials(value: str) -> DigestCredentials | None:
    """Digest credentials in the shape every client sends (no quoted-pairs, no empty or
    repeated parameters), read parameter by parameter with one pattern and no intermediate
    `AuthValue`; None when the value is not of that shape, and the full reader must say
    what is wrong or read it. Every REGISTER and INVITE of a registered phone comes this
    way."""
    if len(value) > MAX_VALUE_LENGTH or "\r" in value or "\n" in value or "\0" in value:
        return None
    text = value.rstrip(_LWS)
    start = _DIGEST_SCHEME.match(text)
    if start is None:
        return None
    values: dict[str, str] = {}
    extra: list[AuthParam] = []
    pos = start.end()
    end = len(text)
    match_param = _SIMPLE_PARAM_RE.match
    while True:
        param = match_param(text, pos)
        if param is None:
            return None
        name, quoted, bare = param.groups()
        key = name.lower()
        if key in values or len(values) == MAX_PARAMS:
            return None
        values[key] = quoted if bare is None else bare
        if key not in _CREDENTIALS_PARAMS:
            extra.append(AuthParam(name, quoted, True) if bare is None
                         else AuthParam(name, bare, False))
        pos = param.end()
        if pos == end:
            break
        if text[pos] != ",":
            return None
        pos += 1
    for name in _CREDENTIALS_REQUIRED:
        if name not in values:
            return None
    return DigestCredentials._from_values(values, tuple(extra))
