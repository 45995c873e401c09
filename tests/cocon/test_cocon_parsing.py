"""The line grammar: words, ranges, lists, name = value lists, flags, paths."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssw.cocon.args import (
    Arg,
    Boolean,
    Flag,
    Integer,
    ItemList,
    KeyValues,
    Numbers,
    RawText,
    UserAddresses,
    Words,
    parse_key_values,
)
from ssw.cocon.errors import InvalidArguments, NoSuchCommand
from ssw.cocon.lexer import LexError, split_words
from ssw.cocon.parser import locate, parse_invocation
from ssw.cocon.ranges import MAX_EXPANSION, RangeError, expand
from ssw.cocon.registry import Arguments, CommandContext, CommandResult, Registry


async def _noop(ctx: CommandContext, args: Arguments) -> CommandResult:
    return CommandResult("ok")


def _registry() -> Registry:
    registry = Registry()
    registry.command("/domain/declare", help="declare", args=(Arg("name"),))(_noop)
    registry.command("/domain/list", help="list")(_noop)
    registry.command(
        "/domain/remove", help="remove", args=(Arg("name"),), flags=(Flag("force"),), confirm=True
    )(_noop)
    registry.command(
        "/domain/<D>/sip/user/declare",
        help="declare users",
        args=(
            Arg("context"),
            Arg("group"),
            Arg("address", UserAddresses()),
            Arg("auth"),
            Arg("qop"),
            Arg("login_mode"),
            Arg("password"),
        ),
    )(_noop)
    registry.command(
        "/domain/<D>/ss/activate",
        help="activate",
        args=(Arg("numbers", Numbers()), Arg("service"), Arg("params", KeyValues(), optional=True)),
    )(_noop)
    registry.command(
        "/domain/<D>/sip/user/set",
        help="set",
        args=(Arg("group"), Arg("address", UserAddresses(many=False)), Arg("p"), Arg("v", Words())),
    )(_noop)
    registry.command(
        "/domain/<D>/ss/find-me/add-group",
        help="add group",
        args=(
            Arg("number"),
            Arg("numbers", ItemList()),
            Arg("timeout", Integer(minimum=0)),
            Arg("flag", Boolean()),
            Arg("mode"),
            Arg("template", Words()),
        ),
    )(_noop)
    registry.command(
        "/domain/<D>/routing/.xbin/.import-context",
        help="import",
        args=(Arg("xml", RawText()),),
        flags=(Flag("xml"),),
    )(_noop)
    return registry


def test_ranges_expand_with_and_without_width() -> None:
    assert expand("{1-3}") == ["1", "2", "3"]
    assert expand("20{01-03}") == ["2001", "2002", "2003"]
    assert expand("{8-10}") == ["8", "9", "10"]
    assert expand("{1,5,7-8}@d") == ["1@d", "5@d", "7@d", "8@d"]
    assert expand("{1-2}x{3-4}") == ["1x3", "1x4", "2x3", "2x4"]
    assert expand("plain") == ["plain"]
    assert len(expand("{100000-109999}")) == 10_000


@pytest.mark.parametrize(
    "bad", ["{20-10}", "{a-b}", "{}", "{1-2", "1-2}", f"{{0-{MAX_EXPANSION}}}"]
)
def test_bad_ranges_are_refused(bad: str) -> None:
    with pytest.raises(RangeError):
        expand(bad)


@given(st.integers(0, 5000), st.integers(0, 50))
def test_range_expansion_counts(start: int, size: int) -> None:
    values = expand(f"{{{start}-{start + size}}}")
    assert len(values) == size + 1
    assert [int(v) for v in values] == list(range(start, start + size + 1))


def test_lexer_keeps_lists_ranges_backslashes_and_quotes() -> None:
    words = split_words(r'a [x, y] {1 - 2} ss\mgm\telephone "two words" name="q r"')
    assert [w.text for w in words] == [
        "a", "[x, y]", "{1 - 2}", r"ss\mgm\telephone", "two words", "name=q r"
    ]
    assert words[1].start == 2
    with pytest.raises(LexError):
        split_words("a [b")
    with pytest.raises(LexError):
        split_words('a "b')


def test_key_values() -> None:
    raw = (
        "mode = serial, numbers = [1,2,3],reset_window_start_pos_after_call=true, queue_size = 3"
    )
    assert parse_key_values(raw) == {
        "mode": "serial",
        "numbers": ("1", "2", "3"),
        "reset_window_start_pos_after_call": "true",
        "queue_size": "3",
    }
    assert parse_key_values("pickup_groups = [room1/1, room2/2]") == {
        "pickup_groups": ("room1/1", "room2/2")
    }
    assert parse_key_values(" implicit_call = true , restricted_ni = [intercity]") == {
        "implicit_call": "true",
        "restricted_ni": ("intercity",),
    }
    for bad in ("a", "a = 1, a = 2", "= 3", "a = 1,, b = 2"):
        with pytest.raises(ValueError):
            parse_key_values(bad)


def test_paths_absolute_relative_and_placeholders() -> None:
    registry = _registry()
    location = locate(registry, (), "domain/pv.ssw3/sip/user")
    assert location is not None and location.bound == {"D": "pv.ssw3"}
    location = locate(registry, ("domain", "pv.ssw3"), "sip/../ss/activate")
    assert location is not None and location.node.command is not None
    assert location.node.command.path == "/domain/<D>/ss/activate"
    # a path without a leading "/" that names nothing here is tried from the root
    location = locate(registry, ("domain", "pv.ssw3", "sip"), "domain/list")
    assert location is not None and location.segments == ("domain", "list")
    # a domain may be called like a command of its parent directory
    location = locate(registry, (), "/domain/list/sip/user/declare")
    assert location is not None and location.bound == {"D": "list"}


def test_declare_with_range() -> None:
    invocation = parse_invocation(
        _registry(),
        (),
        "/domain/pv.ssw3/sip/user/declare default_routing sip.ab {100-102}@pv.ssw3 none "
        "no_qop_authentication login-as-number 123",
    )
    address = invocation.arguments["address"]
    assert address.numbers == ("100", "101", "102") and address.domain == "pv.ssw3"
    assert invocation.arguments.path == {"D": "pv.ssw3"}


def test_key_values_tail_and_flags() -> None:
    registry = _registry()
    invocation = parse_invocation(
        registry, (), "/domain/d/ss/activate {1-2} ml line_count = 3"
    )
    assert invocation.arguments["numbers"].values == ("1", "2")
    assert invocation.arguments["params"] == {"line_count": "3"}
    invocation = parse_invocation(registry, (), "/domain/d/ss/activate * chold")
    assert invocation.arguments["numbers"].everything
    assert invocation.arguments.get("params", {}) == {}
    invocation = parse_invocation(registry, (), "domain/remove x --force")
    assert invocation.arguments.flag("force")


def test_words_and_lists() -> None:
    registry = _registry()
    invocation = parse_invocation(
        registry, (), "/domain/d/sip/user/set g 1@d fork-mode find-me-one-by-one previous-stop"
    )
    assert invocation.arguments["v"] == ("find-me-one-by-one", "previous-stop")
    invocation = parse_invocation(
        registry, (), "/domain/d/ss/find-me/add-group 10 [1,2,3] 5 true custom 1234567 00:00-23:59"
    )
    assert invocation.arguments["numbers"] == ("1", "2", "3")
    assert invocation.arguments["template"] == ("1234567", "00:00-23:59")


def test_hidden_raw_xml() -> None:
    xml = '<context name="ctx"><rule name="r"/><!-- -- --></context>'
    invocation = parse_invocation(
        _registry(), (), f"/domain/d/routing/.xbin/.import-context --xml {xml}"
    )
    assert invocation.arguments["xml"] == xml
    assert invocation.arguments.flag("xml")


@pytest.mark.parametrize(
    "line",
    [
        "/domain/declare",  # missing argument
        "/domain/declare a b",  # too many
        "/domain/declare a --bogus",  # unknown option
        "/domain/d/ss/activate {9-1} chold",  # bad range
        "/domain/d/ss/find-me/add-group 10 [1] five true custom x",  # not an integer
        "/domain/d/sip/user/set g {1-2}@d p v",  # one subscriber expected
        "/domain/d/sip/user/declare c g 1 none q l p",  # not N@D
    ],
)
def test_invalid_arguments(line: str) -> None:
    with pytest.raises(InvalidArguments) as info:
        parse_invocation(_registry(), (), line)
    assert info.value.render().startswith("Invalid command's arguments")


@pytest.mark.parametrize(
    "line", ["/nothing", "domain", "/domain/d/sip/user/nothing x", "/domain/d"]
)
def test_no_such_command(line: str) -> None:
    with pytest.raises(NoSuchCommand) as info:
        parse_invocation(_registry(), (), line)
    assert info.value.render() == "There is no such command"
