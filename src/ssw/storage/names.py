"""Naming rules for what the storage keeps: domains, numbers, logins, groups, digit maps.

The rules for domain names and digit maps are those of SPEC §6; the others keep names safe
to print in the console, to put in a SIP URI user part and to use as a file name (CDR CSV
files are named after the domain).
"""

from __future__ import annotations

import re

from ssw.storage.errors import InvalidName, InvalidValue

__all__ = [
    "RESERVED_DOMAIN_NAMES",
    "check_digitmap",
    "check_domain_name",
    "check_identifier",
    "check_login",
    "check_number",
    "split_address",
]

#: names a domain may not take (SPEC §6)
RESERVED_DOMAIN_NAMES = frozenset({"undefined", "calendar", "properties"})

_DOMAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
_NUMBER = re.compile(r"\+?[0-9A-Za-z*#_.\-]{1,64}")
_LOGIN = re.compile(r"[A-Za-z0-9_.!~*'()&=+$,;?/\-]{1,64}")
_IDENTIFIER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@\-]{0,127}")
# One digit-map element: a digit, A-D, X (any digit), * or #, "." (repeat the previous
# element) or a bracketed set of digits and digit ranges such as [1-5,7] (SPEC §6).
_DIGITMAP_ELEMENT = re.compile(r"[0-9A-Da-dXx*#.T]|\[[0-9A-Da-d*#,\-]+\]")


def check_domain_name(name: str) -> str:
    """Return `name` if it may name a domain, else raise InvalidName saying why."""
    if not isinstance(name, str) or not name:
        raise InvalidName("a domain name may not be empty")
    if name in RESERVED_DOMAIN_NAMES:
        raise InvalidName(f"{name!r} is reserved and cannot name a domain")
    if name[0] in ".-":
        raise InvalidName(f"domain name {name!r} may not start with '.' or '-'")
    if not _DOMAIN.fullmatch(name):
        raise InvalidName(f"domain name {name!r} must be 1-128 letters, digits, '_', '.' or '-'")
    return name


def check_number(number: str) -> str:
    """Return `number` if it may be a subscriber or alias number, else raise InvalidName."""
    if not isinstance(number, str) or not _NUMBER.fullmatch(number):
        raise InvalidName(
            f"number {number!r} must be 1-64 digits or letters (with '*', '#', '_', '.', '-'),"
            " optionally after '+'"
        )
    return number


def check_login(login: str) -> str:
    """Return `login` if it may be a SIP digest user name (RFC 3261 §25.1 user part)."""
    if not isinstance(login, str) or not _LOGIN.fullmatch(login):
        raise InvalidName(f"login {login!r} must be 1-64 characters allowed in a SIP user part")
    return login


def check_identifier(kind: str, name: str) -> str:
    """Return `name` if it may name a `kind` (group, context, profile, trunk, user, ...)."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise InvalidName(
            f"{kind} name {name!r} must be 1-128 letters, digits, '_', '.', '@' or '-'"
            " and may not start with '.' or '-'"
        )
    return name


def check_digitmap(digitmap: str) -> str:
    """Return `digitmap` if it is `Rule1|Rule2|...` made of valid elements (SPEC §6)."""
    if not isinstance(digitmap, str) or not digitmap:
        raise InvalidValue("a digit map may not be empty")
    for index, rule in enumerate(digitmap.split("|"), start=1):
        if not rule:
            raise InvalidValue(f"digit map {digitmap!r}: rule {index} is empty")
        position = 0
        while position < len(rule):
            element = _DIGITMAP_ELEMENT.match(rule, position)
            if element is None:
                raise InvalidValue(
                    f"digit map {digitmap!r}: rule {index} has an invalid element at"
                    f" {rule[position:]!r} (use 0-9, A-D, X, *, #, '.', [..])"
                )
            position = element.end()
        if rule[0] == ".":
            raise InvalidValue(f"digit map {digitmap!r}: rule {index} starts with '.'")
    return digitmap


def split_address(address: str) -> tuple[str, str]:
    """Split ``number@domain`` into (number, domain), checking both."""
    number, at, domain = address.rpartition("@")
    if not at:
        raise InvalidName(f"{address!r} is not of the form <number>@<domain>")
    return check_number(number), check_domain_name(domain)
