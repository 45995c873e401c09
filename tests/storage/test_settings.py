"""Operator text -> typed settings: every catalogue entry accepts its own values and
refuses anything else with InvalidValue, never another exception (Hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssw.storage import InvalidValue
from ssw.storage.names import check_digitmap
from ssw.storage.settings import PROPERTY_SECTIONS, SUBSCRIBER_SETTINGS, Setting

ALL_SETTINGS = [*SUBSCRIBER_SETTINGS.values()] + [
    setting for section in PROPERTY_SECTIONS.values() for setting in section.values()
]
INTEGER_SETTINGS = [s for s in ALL_SETTINGS if type(s.default) is int]
BOOLEAN_SETTINGS = [s for s in ALL_SETTINGS if type(s.default) is bool]


@pytest.mark.parametrize("setting", ALL_SETTINGS, ids=lambda s: s.name)
def test_every_default_is_a_value_the_setting_accepts(setting: Setting) -> None:
    assert setting.coerce(setting.default) == setting.default
    assert setting.help


@pytest.mark.parametrize("setting", ALL_SETTINGS, ids=lambda s: s.name)
@given(text=st.text(max_size=30))
def test_any_text_is_a_value_or_an_invalid_value(setting: Setting, text: str) -> None:
    try:
        value = setting.coerce(text)
    except InvalidValue as error:
        assert setting.name in str(error)
    else:
        assert setting.coerce(value) == value  # a stored value reads back the same


@pytest.mark.parametrize("setting", INTEGER_SETTINGS, ids=lambda s: s.name)
@given(number=st.integers(min_value=-(10**7), max_value=10**7))
def test_integers_in_text_form(setting: Setting, number: int) -> None:
    try:
        value = setting.coerce(number)
    except InvalidValue as error:
        assert "between" in str(error)
        with pytest.raises(InvalidValue):
            setting.coerce(str(number))
    else:
        assert value == number == setting.coerce(str(number))


@pytest.mark.parametrize("setting", INTEGER_SETTINGS, ids=lambda s: s.name)
@pytest.mark.parametrize("text", ["²", "٣", "1e3", "0x10", " ", "1_000", "--1", "0\x1f", "\x1c5"])
def test_only_plain_decimal_digits_are_numbers(setting: Setting, text: str) -> None:
    with pytest.raises(InvalidValue, match="whole number"):
        setting.coerce(text)
    assert setting.coerce(f" {setting.default}\t") == setting.default


@pytest.mark.parametrize("setting", BOOLEAN_SETTINGS, ids=lambda s: s.name)
def test_booleans_in_text_form(setting: Setting) -> None:
    assert setting.coerce("TRUE") is True and setting.coerce("false") is False
    with pytest.raises(InvalidValue):
        setting.coerce(1)


_ELEMENT = st.one_of(
    st.sampled_from(list("0123456789ABCDX*#")),
    st.builds(
        lambda low, high: f"[{min(low, high)}-{max(low, high)}]",
        st.integers(0, 9),
        st.integers(0, 9),
    ),
)
_RULE = st.builds(
    lambda first, rest, repeat: first + "".join(rest) + ("." if repeat else ""),
    _ELEMENT,
    st.lists(_ELEMENT, max_size=6),
    st.booleans(),
)


@given(rules=st.lists(_RULE, min_size=1, max_size=5))
def test_generated_digitmaps_are_accepted(rules: list[str]) -> None:
    digitmap = "|".join(rules)
    assert check_digitmap(digitmap) == digitmap


@given(text=st.text(max_size=40))
def test_any_text_is_a_digitmap_or_an_invalid_value(text: str) -> None:
    try:
        assert check_digitmap(text) == text
    except InvalidValue as error:
        assert "digit map" in str(error)
