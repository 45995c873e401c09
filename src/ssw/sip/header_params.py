"""Header field parameters and the small scalar values under typed headers (RFC 3261 §25.1).

`parse_params` reads `*( SEMI generic-param )`, `quote`/`unquote` write and read
quoted-strings, `parse_option_tags` and `parse_delta` read option-tag lists and
delta-seconds. `lazy_params` lets a typed header value keep its parameter text and split it
into the `params` dict only when someone reads it. `ssw.sip.headers` re-exports the public
names.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from ssw.sip.errors import HeaderError
from ssw.sip.names import split_comma_list

__all__ = [
    "SIMPLE_TAIL",
    "TOKEN",
    "TOKEN_CHARS",
    "lazy_params",
    "parse_delta",
    "parse_option_tags",
    "parse_params",
    "quote",
    "split_simple_params",
    "unquote",
]

_V = TypeVar("_V")

# RFC 3261 §25.1 token and the characters a generic-param value may hold (token / host).
TOKEN_CHARS = "A-Za-z0-9\\-.!%*_+`'~"
TOKEN = re.compile(f"[{TOKEN_CHARS}]+")
SIMPLE_TAIL = f"((?:;[{TOKEN_CHARS}]+(?:=[{TOKEN_CHARS}:\\[\\]]+)?)*)"
_SIMPLE_PARAMS = re.compile(SIMPLE_TAIL)
_PARAM_NAME = re.compile(f"[{TOKEN_CHARS}]+")
_PARAM_VALUE = re.compile(f"[{TOKEN_CHARS}:\\[\\]]+|\"(?:[^\"\\\\]|\\\\.)*\"", re.S)


def unquote(text: str) -> str:
    """The content of a quoted-string with quoted-pairs resolved; other text unchanged."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        inner = text[1:-1]
        if "\\" in inner:
            return re.sub(r"\\(.)", r"\1", inner, flags=re.S)
        return inner
    return text


def quote(text: str) -> str:
    """A quoted-string holding `text` (RFC 3261 §25.1 quoted-pair for '"' and '\\')."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_params(text: str, where: str = "header") -> dict[str, str | None]:
    """`*( SEMI generic-param )` with LWS allowed around ';' and '=' (RFC 3261 §25.1).

    Names are lower-cased; values are kept as written (quoted strings keep their quotes).
    An empty parameter (";;") or a stray character is a `HeaderError`.
    """
    if not text:
        return {}
    if _SIMPLE_PARAMS.fullmatch(text) is not None:
        return split_simple_params(text)
    return _parse_params_slow(text, where)


def split_simple_params(text: str) -> dict[str, str | None]:
    """Parameters already matched by `_SIMPLE_PARAMS` (no blanks, no quotes)."""
    params: dict[str, str | None] = {}
    for item in text[1:].split(";"):
        name, eq, value = item.partition("=")
        params[name.lower()] = value if eq else None
    return params


def lazy_params(cls: type[_V]) -> type[_V]:
    """Make the `params` field of a slotted dataclass split its text when first read.

    A parser that matched the parameters with `_SIMPLE_PARAMS` leaves the `params` slot
    unset and the text in `_tail` (None once `params` holds the parameters); reading
    `params` splits it once, so a value whose parameters nobody reads never builds the dict.
    Assigning `params` works as for any field.
    """
    slot = cls.__dict__["params"]
    get, put = slot.__get__, slot.__set__

    def params(self: Any) -> dict[str, str | None]:
        tail = self._tail
        if tail is None:
            return get(self)  # type: ignore[no-any-return]
        value = split_simple_params(tail) if tail else {}
        put(self, value)
        self._tail = None
        return value

    def set_params(self: Any, value: dict[str, str | None]) -> None:
        put(self, value)
        self._tail = None

    cls.params = property(params, set_params)  # type: ignore[attr-defined]
    return cls


def _skip_blanks(text: str, pos: int) -> int:
    end = len(text)
    while pos < end and text[pos] in " \t":
        pos += 1
    return pos


def _parse_params_slow(text: str, where: str) -> dict[str, str | None]:
    params: dict[str, str | None] = {}
    pos = _skip_blanks(text, 0)
    end = len(text)
    while pos < end:
        if text[pos] != ";":
            raise HeaderError(
                f"unexpected {text[pos:pos + 10]!r} in {where} parameters", header=where
            )
        pos = _skip_blanks(text, pos + 1)
        match = _PARAM_NAME.match(text, pos)
        if match is None:
            raise HeaderError(f"empty or invalid parameter in {where}: {text!r}", header=where)
        name = match.group().lower()
        pos = _skip_blanks(text, match.end())
        value: str | None = None
        if pos < end and text[pos] == "=":
            pos = _skip_blanks(text, pos + 1)
            vmatch = _PARAM_VALUE.match(text, pos)
            if vmatch is None:
                raise HeaderError(f"invalid value of parameter {name!r} in {where}", header=where)
            value = vmatch.group()
            pos = _skip_blanks(text, vmatch.end())
        params[name] = value
    return params


def parse_option_tags(value: str) -> list[str]:
    """Option tags of Require/Supported/Unsupported/Proxy-Require (RFC 3261 §20.32)."""
    tags = []
    for tag in split_comma_list(value):
        if TOKEN.fullmatch(tag) is None:
            raise HeaderError(f"invalid option tag {tag!r}")
        tags.append(tag)
    return tags


def parse_delta(value: str, header: str, maximum: int = 2**32 - 1) -> int:
    """delta-seconds / a decimal scalar within [0, maximum] (RFC 3261 §25.1, RFC 4475 §3.1.2.4)."""
    text = value.strip()
    if not text.isdigit() or not text.isascii():
        raise HeaderError(f"{header}: {value!r} is not a decimal number", header=header)
    number = int(text) if len(text) < 20 else maximum + 1
    if number > maximum:
        raise HeaderError(f"{header}: {text[:20]} exceeds {maximum}", header=header)
    return number
