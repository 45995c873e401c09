"""Typed command arguments: how each kind of argument is written, parsed and documented.

A command declares its arguments as a tuple of `Arg(name, kind, help)`. Most kinds take one word;
`Words`, `KeyValues` and `RawText` take the rest of the line and must come last. Each kind turns the
operator's text into a Python value or raises `ValueError` with a message naming what was wrong; the
parser turns that into `Invalid command's arguments` with the message on the next line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .lexer import LexError, Word, split_words
from .ranges import RangeError, expand

__all__ = [
    "AddressSet",
    "Arg",
    "ArgKind",
    "Boolean",
    "Choice",
    "Flag",
    "Integer",
    "ItemList",
    "KeyValues",
    "Numbers",
    "RawText",
    "Selection",
    "Text",
    "UserAddresses",
    "Words",
]

_NUMBER = re.compile(r"^[A-Za-z0-9_.+*#-]+$")
_NAME = re.compile(r"^[A-Za-z0-9_.@:+\\/-]+$")
_TRUE = {"true", "yes", "on", "1", "enabled"}
_FALSE = {"false", "no", "off", "0", "disabled"}


class ArgKind:
    """How one argument is written. `consumes` is "one" (a word), "rest" (words) or "raw" (text)."""

    consumes: ClassVar[str] = "one"
    metavar: str = "value"

    def parse(self, text: str) -> Any:
        return text

    def parse_rest(self, words: Sequence[Word], raw: str) -> Any:
        raise TypeError(f"{type(self).__name__} takes one word")

    def describe(self) -> str:
        """A short phrase for the reference: what values are accepted."""
        return "text"


@dataclass(frozen=True)
class Text(ArgKind):
    """Any single word; with `pattern`, it must match (e.g. names)."""

    metavar: str = "text"
    pattern: str | None = None
    what: str = "value"

    def parse(self, text: str) -> str:
        if not text:
            raise ValueError(f"empty {self.what}")
        if self.pattern is not None and re.fullmatch(self.pattern, text) is None:
            raise ValueError(f"bad {self.what} {text!r}")
        return text

    def describe(self) -> str:
        return self.what if self.pattern is None else f"{self.what} ({self.pattern})"


@dataclass(frozen=True)
class Integer(ArgKind):
    metavar: str = "number"
    minimum: int | None = None
    maximum: int | None = None

    def parse(self, text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"{value} is below the minimum {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"{value} is above the maximum {self.maximum}")
        return value

    def describe(self) -> str:
        low = "" if self.minimum is None else str(self.minimum)
        high = "" if self.maximum is None else str(self.maximum)
        return f"integer {low}..{high}" if low or high else "integer"


@dataclass(frozen=True)
class Boolean(ArgKind):
    metavar: str = "true|false"

    def parse(self, text: str) -> bool:
        return parse_bool(text)

    def describe(self) -> str:
        return "true or false"


def parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{text!r} is not true or false")


@dataclass(frozen=True)
class Choice(ArgKind):
    """One of a fixed set of words (compared case-insensitively, returned as declared)."""

    values: tuple[str, ...] = ()
    metavar: str = "choice"

    def parse(self, text: str) -> str:
        for value in self.values:
            if value.lower() == text.lower():
                return value
        raise ValueError(f"{text!r} is not one of: {', '.join(self.values)}")

    def describe(self) -> str:
        return " | ".join(self.values)


@dataclass(frozen=True)
class Selection:
    """Numbers named by a `Numbers` argument: explicit values, or every one (`*`)."""

    values: tuple[str, ...]
    everything: bool = False


@dataclass(frozen=True)
class Numbers(ArgKind):
    """A number, a range (`{2001-2020}`, `20{01-20}`) or, when allowed, `*` for all."""

    metavar: str = "N|range|*"
    allow_all: bool = True

    def parse(self, text: str) -> Selection:
        if text == "*":
            if not self.allow_all:
                raise ValueError("'*' is not allowed here")
            return Selection((), everything=True)
        values = _expand(text)
        for value in values:
            if _NUMBER.match(value) is None:
                raise ValueError(f"bad number {value!r}")
        return Selection(tuple(values))

    def describe(self) -> str:
        return "number, range {a-b} or *" if self.allow_all else "number or range {a-b}"


@dataclass(frozen=True)
class AddressSet:
    """`N@D` with N possibly a range: the numbers, in order, and the one domain."""

    numbers: tuple[str, ...]
    domain: str


@dataclass(frozen=True)
class UserAddresses(ArgKind):
    """A subscriber address `N@D`; N may be a range (`{100000-109999}@D`) when `many`."""

    metavar: str = "N@D"
    many: bool = True

    def parse(self, text: str) -> AddressSet:
        number_part, at, domain = text.rpartition("@")
        if not at or not number_part or not domain:
            raise ValueError(f"{text!r} is not an address number@domain")
        numbers = _expand(number_part)
        if not self.many and len(numbers) != 1:
            raise ValueError(f"{text!r} names {len(numbers)} subscribers, one is expected")
        for number in numbers:
            if _NUMBER.match(number) is None:
                raise ValueError(f"bad number {number!r} in {text!r}")
        return AddressSet(tuple(numbers), domain)

    def describe(self) -> str:
        return "number@domain, the number may be a range {a-b}" if self.many else "number@domain"


@dataclass(frozen=True)
class ItemList(ArgKind):
    """`[a,b,c]` (or a single bare item); ranges inside items are expanded."""

    metavar: str = "[a,b,...]"

    def parse(self, text: str) -> tuple[str, ...]:
        return parse_list(text)

    def describe(self) -> str:
        return "list [a,b,...]"


def parse_list(text: str) -> tuple[str, ...]:
    body = text.strip()
    if body.startswith("["):
        if not body.endswith("]"):
            raise ValueError(f"unclosed list {text!r}")
        body = body[1:-1]
    items: list[str] = []
    for item in _split_top_level(body, ","):
        item = _unquote(item.strip())
        if item:
            items.extend(_expand(item))
    return tuple(items)


@dataclass(frozen=True)
class Words(ArgKind):
    """The remaining words (at least `minimum`); lists written `[a,b]` are flattened."""

    consumes: ClassVar[str] = "rest"
    metavar: str = "value..."
    minimum: int = 1

    def parse_rest(self, words: Sequence[Word], raw: str) -> tuple[str, ...]:
        values: list[str] = []
        for word in words:
            if word.text.startswith("[") and not word.quoted:
                values.extend(parse_list(word.text))
            else:
                values.append(word.text)
        if len(values) < self.minimum:
            raise ValueError(f"at least {self.minimum} value(s) expected")
        return tuple(values)

    def describe(self) -> str:
        return "one or more words"


@dataclass(frozen=True)
class KeyValues(ArgKind):
    """`name = value, name2 = [a,b], ...` to the end of the line (possibly empty)."""

    consumes: ClassVar[str] = "raw"
    metavar: str = "name = value, ..."

    def parse_rest(self, words: Sequence[Word], raw: str) -> dict[str, str | tuple[str, ...]]:
        return parse_key_values(raw)

    def describe(self) -> str:
        return "name = value pairs separated by commas; a value may be a list [a,b]"


def parse_key_values(raw: str) -> dict[str, str | tuple[str, ...]]:
    pairs: dict[str, str | tuple[str, ...]] = {}
    for piece in _split_top_level(raw, ","):
        if not piece.strip():
            if raw.strip():
                raise ValueError("empty item in the name = value list")
            continue
        name, equals, value = piece.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name or _NAME.match(name) is None:
            raise ValueError(f"{piece.strip()!r} is not name = value")
        if name in pairs:
            raise ValueError(f"{name!r} is given twice")
        pairs[name] = parse_list(value) if value.startswith("[") else _unquote(value)
    return pairs


@dataclass(frozen=True)
class RawText(ArgKind):
    """The rest of the line exactly as typed (e.g. an XML document)."""

    consumes: ClassVar[str] = "raw"
    metavar: str = "text"

    def parse_rest(self, words: Sequence[Word], raw: str) -> str:
        if not raw.strip():
            raise ValueError("text expected")
        return raw.strip()

    def describe(self) -> str:
        return "the rest of the line"


@dataclass(frozen=True)
class Arg:
    """One argument of a command."""

    name: str
    kind: ArgKind = field(default_factory=Text)
    help: str = ""
    optional: bool = False
    default: Any = None

    def usage(self) -> str:
        text = f"<{self.name}>" if self.kind.consumes == "one" else f"<{self.name}...>"
        return f"[{text}]" if self.optional else text


@dataclass(frozen=True)
class Flag:
    """An option written `--name` anywhere among the arguments (e.g. `--force`)."""

    name: str
    help: str = ""


def _expand(text: str) -> list[str]:
    try:
        return expand(text)
    except RangeError as exc:
        raise ValueError(str(exc)) from None


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        try:
            words = split_words(text)
        except LexError as exc:
            raise ValueError(str(exc)) from None
        return words[0].text if len(words) == 1 else text
    return text


def _split_top_level(text: str, separator: str) -> list[str]:
    """Split on `separator` outside quotes and brackets."""
    pieces: list[str] = []
    depth, quote = 0, ""
    current: list[str] = []
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == separator and depth == 0:
            pieces.append("".join(current))
            current = []
            continue
        current.append(char)
    pieces.append("".join(current))
    return pieces
