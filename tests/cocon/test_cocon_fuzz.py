"""Bad input never crashes the parser: any line either parses or is refused with one of the
three console errors."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ssw.cocon.commands import build_registry
from ssw.cocon.errors import CoconError
from ssw.cocon.parser import parse_invocation
from ssw.cocon.registry import Registry

REGISTRY: Registry = build_registry()
PATHS = [command.path.replace("<D>", "pv.ssw3").replace("<CLUSTER>", "ds1") for command in REGISTRY]
PIECES = st.sampled_from(
    [
        "{1-3}",
        "{9-1}",
        "20{01-20}",
        "*",
        "[a,b]",
        "[",
        "]",
        "{",
        "}",
        "=",
        ",",
        "--force",
        "--xml",
        '"',
        "'",
        "\\",
        "x@pv.ssw3",
        "{1-3}@pv.ssw3",
        "a = 1",
        "true",
        "-1",
        "0",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(PATHS), st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=8))
def test_any_arguments_parse_or_are_refused(path: str, words: list[str]) -> None:
    line = " ".join([path, *words])
    try:
        invocation = parse_invocation(REGISTRY, (), line)
    except CoconError as error:
        assert error.render().splitlines()[0] in (
            "There is no such command",
            "Invalid command's arguments",
        )
    else:
        assert invocation.command.path.replace("<D>", "pv.ssw3").replace("<CLUSTER>", "ds1") == path


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_line_parses_or_is_refused(line: str) -> None:
    try:
        parse_invocation(REGISTRY, ("domain", "pv.ssw3"), line)
    except CoconError as error:
        assert error.render().splitlines()[0] in (
            "There is no such command",
            "Invalid command's arguments",
        )
