"""The header fields of a message: the ordered container and typed access (RFC 3261 §7.3).

`Headers` keeps every header line as it was received, next to its lookup key (lower-case,
compact forms expanded, §7.3.3) and its unfolded value, so an unchanged message is forwarded
byte-exact and a changed one rewrites only the lines that changed. `TypedAccess` is the part
of `Message` that decodes typed values (`top_via`, `cseq`, `from_`, ...) on first access and
caches them in the container until it changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from ssw.sip.errors import FramingError, HeaderError, StartLineError
from ssw.sip.headers import (
    Contact,
    CSeq,
    MediaType,
    NameAddr,
    RAck,
    Replaces,
    SessionExpires,
    Via,
    parse_delta,
    parse_option_tags,
)
from ssw.sip.names import COMPACT_FORMS, LIST_HEADERS, canonical_name, header_key, split_comma_list

__all__ = ["Headers", "TypedAccess"]

_T = TypeVar("_T")

_FOLD = re.compile(r"\r\n[ \t]+")
_HEADER_NAME = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
# Header name as written (up to the colon) -> lookup key, for names already checked: a
# bounded memo that `ssw.sip.message` reads too.
NAME_KEYS: dict[str, str] = {}
_NAME_KEYS_LIMIT = 4096


def _key_of(name: str) -> str:
    """The lookup key of a received header name; HeaderError when it is not a token."""
    key = NAME_KEYS.get(name)
    if key is not None:
        return key
    stripped = name.rstrip(" \t")  # HCOLON allows LWS before ':' (RFC 3261 §25.1)
    if _HEADER_NAME.fullmatch(stripped) is None:
        raise HeaderError(f"invalid header name {name[:40]!r}")
    key = stripped.lower()
    key = COMPACT_FORMS.get(key, key)
    if len(NAME_KEYS) < _NAME_KEYS_LIMIT:
        NAME_KEYS[name] = key
    return key


def _content_length(value: str, previous: int | None) -> int:
    """Content-Length (RFC 3261 §20.14); bad or conflicting values lose framing (§18.3)."""
    if not value.isdigit() or not value.isascii() or len(value) > 10:
        raise FramingError(f"invalid Content-Length {value[:20]!r}")
    length = int(value)
    if previous is not None and previous != length:
        raise FramingError("conflicting Content-Length values")
    return length


# A header line split at its first colon: (name as written, ":", value as written). Joined,
# it is the line again; the value's folding and surrounding blanks are removed on reading.
Line = tuple[str, str, str]


def _value(line: Line) -> str:
    """The value of a line: unfolded (RFC 3261 §7.3.1) and without surrounding blanks."""
    raw = line[2]
    if "\r" in raw:
        raw = _FOLD.sub(" ", raw)
    return raw.strip(" \t")


class Headers:
    """The header fields of a message in order, each kept as the line it was received as.

    Names are matched case-insensitively and compact forms are accepted (`get("v")` finds
    Via). For list headers (RFC 3261 §7.3.1: Via, Route, Contact, Supported, ...) the values
    are the comma-separated elements across all lines; for every other header, each line's
    whole value (so Date or WWW-Authenticate commas are never split).
    """

    __slots__ = ("_cache", "_keys", "_lines", "modified")

    def __init__(
        self,
        lines: list[Line] | None = None,
        keys: list[str] | None = None,
        modified: bool = False,
    ) -> None:
        """Empty, or the given lines with their lookup keys (taken as they are, unchecked)."""
        self._lines: list[Line] = [] if lines is None else lines
        # the lookup key of each line, for searches at C speed
        self._keys: list[str] = [] if keys is None else keys
        self._cache: dict[str, Any] = {}
        self.modified = modified

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Headers:
        headers = cls()
        for name, value in pairs:
            key, line = _new_line(name, value)
            headers._keys.append(key)
            headers._lines.append(line)
        headers.modified = True
        return headers

    @classmethod
    def parse_lines(cls, lines: list[str]) -> tuple[Headers, int | None]:
        """Headers from a message head split at CRLF (start line first) and its Content-Length.

        Continuation lines (header folding, RFC 3261 §7.3.1) are joined to the line they
        continue; a folded start line is a `StartLineError`.
        """
        known = NAME_KEYS.get
        parts = [line.partition(":") for line in lines[1:]]
        found = [known(name) if colon else None for name, colon, _ in parts]
        if None in found:  # a name seen for the first time, a folded line, or no colon
            parts, keys = _parse_lines_slowly(lines)
        else:
            keys = found  # type: ignore[assignment]
        headers = cls(parts, keys)
        content_length = None
        count = keys.count("content-length")
        if count == 1:
            content_length = _content_length(_value(parts[keys.index("content-length")]), None)
        elif count:
            for key, line in zip(keys, parts, strict=True):
                if key == "content-length":
                    content_length = _content_length(_value(line), content_length)
        return headers, content_length

    # -- reading ----------------------------------------------------------------------------

    def _values(self, key: str) -> list[str]:
        keys = self._keys
        count = keys.count(key)
        if count < 2:
            return [_value(self._lines[keys.index(key)])] if count else []
        return [_value(line) for k, line in zip(keys, self._lines, strict=True) if k == key]

    def get(self, name: str) -> str | None:
        """The first value of header `name` (first list element for list headers)."""
        key = header_key(name)
        for value in self._values(key):
            if key not in LIST_HEADERS:
                return value
            elements = split_comma_list(value)
            if elements:
                return elements[0]
        return None

    def get_all(self, name: str) -> list[str]:
        """Every value of header `name` in order (list headers split at commas)."""
        key = header_key(name)
        values = self._values(key)
        if key not in LIST_HEADERS:
            return values
        return [element for value in values for element in split_comma_list(value)]

    def get_lines(self, name: str) -> list[str]:
        """The value of each line of header `name`, unsplit."""
        return self._values(header_key(name))

    def count(self, name: str) -> int:
        """How many lines carry header `name`."""
        return self._keys.count(header_key(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and header_key(name) in self._keys

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """(name as written, value) for each line, in order."""
        for line in self._lines:
            yield line[0].strip(" \t"), _value(line)

    def __len__(self) -> int:
        return len(self._lines)

    def __eq__(self, other: object) -> bool:
        """Same fields in the same order, by lookup key and value (spelling aside).

        Content-Length is left out: it is framing, and messages compare their bodies.
        """
        if not isinstance(other, Headers):
            return NotImplemented
        return self._fields() == other._fields()

    def _fields(self) -> list[tuple[str, str]]:
        return [
            (key, _value(line))
            for key, line in zip(self._keys, self._lines, strict=True)
            if key != "content-length"
        ]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({list(self)!r})"

    def copy(self) -> Headers:
        clone = Headers(list(self._lines), list(self._keys), self.modified)
        clone._cache = dict(self._cache)
        return clone

    def serialize(self) -> str:
        """The header lines as text, each ended by CRLF."""
        if not self._lines:
            return ""
        return "\r\n".join(map("".join, self._lines)) + "\r\n"

    # -- changing (proxies and B2BUAs) ------------------------------------------------------

    def _changed(self, key: str) -> None:
        """Header `key` changed: forget the typed values read from it (the others stay)."""
        cache = self._cache
        if cache:
            for cached in _CACHED_FROM.get(key, (key,)):
                cache.pop(cached, None)
        self.modified = True

    def _insert(self, index: int, key: str, line: Line) -> None:
        self._keys.insert(index, key)
        self._lines.insert(index, line)
        self._changed(key)

    def add(self, name: str, value: str) -> None:
        """Add a line after the last line of the same header (or at the end)."""
        key, line = _new_line(name, value)
        keys = self._keys
        position = len(keys) - keys[::-1].index(key) if key in keys else len(keys)
        self._insert(position, key, line)

    def prepend(self, name: str, value: str) -> None:
        """Add a line before the first line of the same header (or at the top): a new Via,
        Record-Route (RFC 3261 §16.6 step 4) or Route."""
        key, line = _new_line(name, value)
        self._insert(self._keys.index(key) if key in self._keys else 0, key, line)

    def set(self, name: str, value: str) -> None:
        """Replace every line of the header with one line (where the first one was)."""
        key, line = _new_line(name, value)
        if key not in self._keys:
            self._insert(len(self._keys), key, line)
            return
        first = self._keys.index(key)
        pairs = [(k, x) for i, (k, x) in enumerate(zip(self._keys, self._lines, strict=True))
                 if k != key or i == first]
        self._keys = [k for k, _ in pairs]
        self._lines = [line if k == key else x for k, x in pairs]
        self._changed(key)

    def remove(self, name: str) -> int:
        """Remove every line of the header; returns how many lines were removed."""
        key = header_key(name)
        removed = self._keys.count(key)
        if removed:
            pairs = [(k, x) for k, x in zip(self._keys, self._lines, strict=True) if k != key]
            self._keys = [k for k, _ in pairs]
            self._lines = [x for _, x in pairs]
            self._changed(key)
        return removed

    def pop_first(self, name: str) -> str | None:
        """Remove and return the first value (the top Via when forwarding a response,
        RFC 3261 §16.7 step 3; the first Route, §16.4)."""
        key = header_key(name)
        if key not in self._keys:
            return None
        index = self._keys.index(key)
        line = self._lines[index]
        value = _value(line)
        if key in LIST_HEADERS:
            elements = split_comma_list(value)
            if len(elements) > 1:
                self._lines[index] = _new_line(line[0].strip(" \t"), ", ".join(elements[1:]))[1]
                self._changed(key)
                return elements[0]
            value = elements[0] if elements else ""
        del self._keys[index]
        del self._lines[index]
        self._changed(key)
        return value

    def replace_first(self, name: str, value: str) -> None:
        """Replace the first value (e.g. the top Via with received= added, §18.2.1)."""
        key, new_line = _new_line(name, value)
        if key not in self._keys:
            self._insert(0, key, new_line)
            return
        index = self._keys.index(key)
        old = self._lines[index]
        if key in LIST_HEADERS and ("," in old[2] or "\r" in old[2]):  # others on the line
            elements = split_comma_list(_value(old))
            new_line = _new_line(name, ", ".join([_value(new_line), *elements[1:]]))[1]
        self._lines[index] = (old[0].strip(" \t"), ":", new_line[2])
        self._changed(key)


def _parse_lines_slowly(lines: list[str]) -> tuple[list[Line], list[str]]:
    """Header lines with folding joined and every name checked (RFC 3261 §7.3.1, §25.1)."""
    joined: list[str] = []
    for text in lines:
        if text[:1] in (" ", "\t") and joined:
            if len(joined) == 1:
                raise StartLineError("the start line is folded")
            joined[-1] += "\r\n" + text
        else:
            joined.append(text)
    parts: list[Line] = []
    keys: list[str] = []
    for text in joined[1:]:
        name, colon, value = text.partition(":")
        if not colon:
            raise HeaderError(f"header line without ':': {text[:60]!r}")
        keys.append(_key_of(name))
        parts.append((name, colon, value))
    return parts, keys


# The typed values `TypedAccess` caches under a name other than their header's key.
_CACHED_FROM = {"via": ("top_via", "vias")}
_CHECKED_NAMES: dict[str, tuple[str, str]] = {}  # name -> (key, spelling); a bounded memo


def _new_line(name: str, value: str) -> tuple[str, Line]:
    """(key, line) for a header line made here; name and value are checked (no CR/LF/NUL)."""
    known = _CHECKED_NAMES.get(name)
    if known is None:
        if _HEADER_NAME.fullmatch(name.strip()) is None:
            raise ValueError(f"invalid header name {name!r}")
        known = (header_key(name), canonical_name(name))
        if len(_CHECKED_NAMES) < _NAME_KEYS_LIMIT:
            _CHECKED_NAMES[name] = known
    text = value if type(value) is str else str(value)
    if "\r" in text or "\n" in text or "\x00" in text:
        raise ValueError(f"header value of {name!r} contains CR, LF or NUL")
    return known[0], (known[1], ":", " " + text.strip(" \t"))


class TypedAccess:
    """Typed header values, decoded on first access and cached until the headers change.

    Mandatory headers (Via, From, To, Call-ID, CSeq) raise `HeaderError` (400) when absent;
    optional ones return None or an empty list. Headers allowed once raise `HeaderError`
    when repeated (RFC 4475 §3.3.8).
    """

    __slots__ = ()
    headers: Headers

    def _single(self, key: str) -> str | None:
        headers = self.headers
        keys = headers._keys
        count = keys.count(key)
        if count == 1:
            return _value(headers._lines[keys.index(key)])
        if count == 0:
            return None
        raise HeaderError(f"more than one {canonical_name(key)} header", header=key)

    def _required(self, key: str) -> str:
        """The value of a header that must appear exactly once (RFC 3261 §8.1.1, §20)."""
        headers = self.headers
        keys = headers._keys
        if keys.count(key) != 1:
            if key in keys:
                raise HeaderError(f"more than one {canonical_name(key)} header", header=key)
            raise HeaderError(f"missing {canonical_name(key)} header", header=key)
        raw = headers._lines[keys.index(key)][2]
        return raw.strip(" \t") if "\r" not in raw else _value(headers._lines[keys.index(key)])

    def _name_addr(self, key: str) -> NameAddr:
        """From or To, decoded and cached (the usual case in as few steps as it takes)."""
        headers = self.headers
        keys = headers._keys
        if keys.count(key) == 1:
            raw = headers._lines[keys.index(key)][2]
            text = raw.strip(" \t") if "\r" not in raw else _value(headers._lines[keys.index(key)])
        else:
            text = self._required(key)  # raises
        value = headers._cache[key] = NameAddr.parse(text)
        return value

    def _list(self, key: str) -> list[str]:
        values: list[str] = []
        for value in self.headers._values(key):
            items = split_comma_list(value, keep_empty=True)
            if "" in items:
                raise HeaderError(f"empty value in {canonical_name(key)}", header=key)
            values.extend(items)
        return values

    @property
    def top_via(self) -> Via:
        headers = self.headers
        via = headers._cache.get("top_via")
        if via is None:
            vias = headers._cache.get("vias")
            if vias:  # all of them are decoded already: the first is the top one
                top: Via = vias[0]
                headers._cache["top_via"] = top
                return top
            try:
                line = headers._lines[headers._keys.index("via")]
            except ValueError:
                raise HeaderError("missing Via header", header="via") from None
            value = line[2].strip(" \t") if "\r" not in line[2] else _value(line)
            if "," in value:  # the first of several values on the line
                first = split_comma_list(value)[0] if '"' in value else value.partition(",")[0]
                value = first.strip()
            via = headers._cache["top_via"] = Via.parse(value)
        return via

    @property
    def vias(self) -> list[Via]:
        cache = self.headers._cache
        vias = cache.get("vias")
        if vias is None:
            values = self._list("via")
            top = cache.get("top_via")
            if top is not None and values:  # decoded from the same first value: not again
                vias = [top, *[Via.parse(value) for value in values[1:]]]
            else:
                vias = [Via.parse(value) for value in values]
            cache["vias"] = vias
        return vias

    @property
    def call_id(self) -> str:
        value = self._required("call-id")
        if not value or " " in value or "\t" in value:
            raise HeaderError(f"invalid Call-ID {value!r}", header="call-id")
        return value

    @property
    def cseq(self) -> CSeq:
        value = self.headers._cache.get("cseq")
        if value is None:
            value = self.headers._cache["cseq"] = CSeq.parse(self._required("cseq"))
        return value

    @property
    def from_(self) -> NameAddr:
        value = self.headers._cache.get("from")
        return self._name_addr("from") if value is None else value

    @property
    def to(self) -> NameAddr:
        value = self.headers._cache.get("to")
        return self._name_addr("to") if value is None else value

    @property
    def contacts(self) -> list[Contact]:
        """Contact values; a single `Contact.star` for "*" (RFC 3261 §10.2.2)."""
        cache = self.headers._cache
        value = cache.get("contact")
        if value is None:
            keys = self.headers._keys
            if keys.count("contact") == 1:  # the usual case: one line, one value
                raw = self.headers._lines[keys.index("contact")][2]
                if "," not in raw and "\r" not in raw and raw.strip(" \t"):
                    value = cache["contact"] = [Contact.parse(raw.strip(" \t"))]
                    return value
            value = [Contact.parse(text) for text in self._list("contact")]
            if len(value) > 1 and any(contact.star for contact in value):
                raise HeaderError("Contact '*' must be the only value", header="contact")
            cache["contact"] = value
        return value

    def _cached(self, key: str, decode: Callable[[], _T]) -> _T:
        cache = self.headers._cache
        if key in cache:
            return cache[key]  # type: ignore[no-any-return]
        value = cache[key] = decode()
        return value

    @property
    def routes(self) -> list[NameAddr]:
        return self._cached(
            "route", lambda: [NameAddr.parse(v) for v in self._list("route")]
        )

    @property
    def record_routes(self) -> list[NameAddr]:
        return self._cached(
            "record-route", lambda: [NameAddr.parse(v) for v in self._list("record-route")]
        )

    def _optional_int(self, key: str, maximum: int) -> int | None:
        value = self._single(key)
        return None if value is None else parse_delta(value, canonical_name(key), maximum)

    @property
    def max_forwards(self) -> int | None:
        """Max-Forwards in 0..255 (RFC 3261 §20.22)."""
        return self._optional_int("max-forwards", 255)

    @property
    def expires(self) -> int | None:
        """Expires in seconds, 0..2**32-1 (RFC 3261 §20.19)."""
        return self._optional_int("expires", 2**32 - 1)

    @property
    def content_length(self) -> int | None:
        return self._optional_int("content-length", 2**32 - 1)

    @property
    def rseq(self) -> int | None:
        """RSeq in 1..2**31-1 (RFC 3262 §7.1)."""
        return self._optional_int("rseq", 2**31 - 1)

    @property
    def min_se(self) -> int | None:
        """Min-SE seconds (RFC 4028 §5); its parameters are ignored."""
        value = self._single("min-se")
        if value is None:
            return None
        return parse_delta(value.partition(";")[0], "Min-SE")

    @property
    def content_type(self) -> MediaType | None:
        value = self._single("content-type")
        return None if value is None else MediaType.parse(value)

    @property
    def accept(self) -> list[MediaType]:
        return [MediaType.parse(v) for v in self._list("accept")]

    def _tags(self, key: str) -> list[str]:
        return [tag for line in self.headers.get_lines(key) for tag in parse_option_tags(line)]

    @property
    def require(self) -> list[str]:
        return self._tags("require")

    @property
    def proxy_require(self) -> list[str]:
        return self._tags("proxy-require")

    @property
    def supported(self) -> list[str]:
        return self._tags("supported")

    @property
    def unsupported(self) -> list[str]:
        return self._tags("unsupported")

    @property
    def allow(self) -> list[str]:
        return self._tags("allow")

    @property
    def rack(self) -> RAck | None:
        value = self._single("rack")
        return None if value is None else RAck.parse(value)

    @property
    def session_expires(self) -> SessionExpires | None:
        value = self._single("session-expires")
        return None if value is None else SessionExpires.parse(value)

    @property
    def refer_to(self) -> NameAddr | None:
        value = self._single("refer-to")
        return None if value is None else NameAddr.parse(value)

    @property
    def referred_by(self) -> NameAddr | None:
        value = self._single("referred-by")
        return None if value is None else NameAddr.parse(value)

    @property
    def replaces(self) -> Replaces | None:
        value = self._single("replaces")
        return None if value is None else Replaces.parse(value)

    @property
    def www_authenticate(self) -> list[str]:
        """Challenges as written; `AuthValue.parse` reads one (RFC 3261 §20.44)."""
        return self.headers.get_lines("www-authenticate")

    @property
    def proxy_authenticate(self) -> list[str]:
        return self.headers.get_lines("proxy-authenticate")

    @property
    def authorization(self) -> list[str]:
        return self.headers.get_lines("authorization")

    @property
    def proxy_authorization(self) -> list[str]:
        return self.headers.get_lines("proxy-authorization")
