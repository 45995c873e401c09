"""Number ranges in command arguments: `{2001-2020}`, `20{01-20}`, `{1,5,7-9}@domain` (SPEC §5).

A token may hold any number of brace groups; each group is a comma-separated list of numbers or
`start-end` ranges, and the token expands to the product of its groups, in order. When the two ends
of a range are written with the same number of digits, the numbers keep that width (`{01-20}` gives
`01`, `02`, ... `20`), which is what `20{01-20}` relies on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["MAX_EXPANSION", "RangeError", "expand", "has_range"]

#: Upper bound on how many values one token may expand to (a typo must not allocate millions).
MAX_EXPANSION = 100_000

_GROUP = re.compile(r"\{([^{}]*)\}")
_ITEM = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


class RangeError(ValueError):
    """A brace group that is not a valid list of numbers and ranges."""


def has_range(token: str) -> bool:
    """True when the token holds at least one brace group."""
    return "{" in token or "}" in token


def _group_values(body: str, token: str) -> list[str]:
    values: list[str] = []
    if not body.strip():
        raise RangeError(f"empty range {{}} in {token!r}")
    for item in body.split(","):
        match = _ITEM.match(item)
        if match is None:
            raise RangeError(f"bad number range {{{body}}} in {token!r}: expected {{start-end}}")
        start_text, end_text = match.group(1), match.group(2)
        if end_text is None:
            values.append(start_text)
            continue
        start, end = int(start_text), int(end_text)
        if end < start:
            raise RangeError(f"bad number range {{{body}}}: the end {end_text} is below the start")
        width = len(start_text) if len(start_text) == len(end_text) else 0
        if end - start + 1 + len(values) > MAX_EXPANSION:
            raise RangeError(f"range {{{body}}} is too large (at most {MAX_EXPANSION} values)")
        values.extend(str(n).zfill(width) for n in range(start, end + 1))
    return values


def _split(token: str) -> tuple[list[str], list[list[str]]]:
    """Literal pieces and the value lists of the groups between them."""
    literals: list[str] = []
    groups: list[list[str]] = []
    position = 0
    for match in _GROUP.finditer(token):
        literals.append(token[position : match.start()])
        groups.append(_group_values(match.group(1), token))
        position = match.end()
    literals.append(token[position:])
    if any("{" in piece or "}" in piece for piece in literals):
        raise RangeError(f"unbalanced braces in {token!r}")
    return literals, groups


def expand(token: str) -> list[str]:
    """Every value the token stands for; a token without braces stands for itself."""
    if not has_range(token):
        return [token]
    literals, groups = _split(token)
    total = 1
    for values in groups:
        total *= len(values)
    if total > MAX_EXPANSION:
        raise RangeError(f"{token!r} expands to {total} values (at most {MAX_EXPANSION})")
    return list(_product(literals, groups))


def _product(literals: list[str], groups: list[list[str]]) -> Iterator[str]:
    if not groups:
        yield literals[0]
        return
    head, rest_literals = literals[0], literals[1:]
    for value in groups[0]:
        for tail in _product(rest_literals, groups[1:]):
            yield head + value + tail
