"""Naming rules (SPEC §6): pure checks, no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssw.storage import InvalidName, InvalidValue
from ssw.storage.names import (
    check_digitmap,
    check_domain_name,
    check_number,
    split_address,
)


@pytest.mark.parametrize("name", ["pv.ssw3", "ecss", "a", "my_domain-1.example"])
def test_valid_domain_names_pass(name: str) -> None:
    assert check_domain_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("undefined", "reserved"),
        ("calendar", "reserved"),
        ("properties", "reserved"),
        (".hidden", "may not start"),
        ("-dash", "may not start"),
        ("", "empty"),
        ("has space", "must be"),
        ("x" * 129, "must be"),
    ],
)
def test_invalid_domain_names_say_why(name: str, reason: str) -> None:
    with pytest.raises(InvalidName, match=reason):
        check_domain_name(name)


@pytest.mark.parametrize(
    "digitmap", ["XXX", "1XX|2XX|*XX#", "[1-5]XXX|0X.|#", "8[2,4-6]XXXXXXX|A|D"]
)
def test_valid_digitmaps_pass(digitmap: str) -> None:
    assert check_digitmap(digitmap) == digitmap


@pytest.mark.parametrize("digitmap", ["", "1XX||2XX", "1XX|", "1E", "[1-5XX", ".X", "1 2"])
def test_invalid_digitmaps_are_refused(digitmap: str) -> None:
    with pytest.raises(InvalidValue, match="digit map"):
        check_digitmap(digitmap)


def test_numbers_and_addresses() -> None:
    assert check_number("+79001234567") == "+79001234567"
    assert split_address("156@pv.ssw3") == ("156", "pv.ssw3")
    with pytest.raises(InvalidName, match="<number>@<domain>"):
        split_address("156")
    with pytest.raises(InvalidName, match="number"):
        split_address("1 56@pv.ssw3")
    with pytest.raises(InvalidName, match="reserved"):
        split_address("156@undefined")


@given(st.text(max_size=40))
def test_domain_check_never_fails_other_than_invalid_name(name: str) -> None:
    try:
        assert check_domain_name(name) == name
    except InvalidName as error:
        assert str(error)
