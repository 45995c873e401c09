"""From a line of text to a command and its typed arguments.

Paths are absolute (`/domain/declare`) or relative to the current directory (`sip/user/declare`
after `cd /domain/pv.ssw3`); `..` and `.` work as in a file system. As in ECSS-10 the leading `/` is
optional: a path that names nothing relative to the current directory is tried from the root.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .args import Arg
from .errors import InvalidArguments, NoSuchCommand
from .lexer import LexError, Word, split_words
from .registry import Arguments, Command, Node, Registry, split_path

__all__ = ["Invocation", "Location", "bind_arguments", "locate", "parse_invocation"]


@dataclass(frozen=True)
class Location:
    """A place in the command tree: concrete segments, the tree node, placeholder values."""

    segments: tuple[str, ...]
    node: Node
    bound: dict[str, str]

    @property
    def text(self) -> str:
        return "/" + "/".join(self.segments)


@dataclass(frozen=True)
class Invocation:
    command: Command
    arguments: Arguments
    line: str


def _normalise(cwd: tuple[str, ...], path: str) -> tuple[str, ...] | None:
    segments: list[str] = [] if path.startswith("/") else list(cwd)
    for segment in split_path(path):
        if segment == ".":
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    return tuple(segments)


def locate(registry: Registry, cwd: tuple[str, ...], path: str) -> Location | None:
    """Resolve `path` from `cwd`, falling back to the root for paths without a leading `/`."""
    candidates = [_normalise(cwd, path)]
    if not path.startswith("/") and cwd:
        candidates.append(_normalise((), path))
    for segments in candidates:
        if segments is None:
            continue
        found = registry.walk(segments)
        if found is not None:
            return Location(segments, found[0], found[1])
    return None


def parse_invocation(registry: Registry, cwd: tuple[str, ...], line: str) -> Invocation:
    """Parse one command line; raises NoSuchCommand or InvalidArguments."""
    try:
        words = split_words(line)
    except LexError as exc:
        head = line.split(None, 1)[0] if line.split() else ""
        location = locate(registry, cwd, head) if head else None
        if location is None or location.node.command is None:
            raise NoSuchCommand(head) from None
        raise InvalidArguments(str(exc), location.node.command.usage()) from None
    if not words:
        raise NoSuchCommand("")
    location = locate(registry, cwd, words[0].text)
    if location is None or location.node.command is None:
        # A path may also resolve relative to cwd while its command lives at the root.
        raise NoSuchCommand(words[0].text)
    command = location.node.command
    arguments = bind_arguments(command, words[1:], line, location.bound)
    return Invocation(command, arguments, line)


def bind_arguments(
    command: Command, words: list[Word], line: str, bound: dict[str, str] | None = None
) -> Arguments:
    """Match words to the command's arguments and flags; parse each with its kind."""
    declared = {flag.name for flag in command.flags}
    usage = command.usage()
    flags: set[str] = set()

    end = len(words)
    while end > 0 and words[end - 1].is_flag and words[end - 1].text[2:] in declared:
        flags.add(words[end - 1].text[2:])
        end -= 1

    single: dict[str, str] = {}
    rest: list[Word] = []
    raw: tuple[list[Word], str] | None = None
    slot = 0
    for index, word in enumerate(words[:end]):
        current: Arg | None = command.args[slot] if slot < len(command.args) else None
        if current is not None and current.kind.consumes == "raw" and not (
            word.is_flag and word.text[2:] in declared
        ):
            raw = (words[index:end], line[word.start : words[end - 1].end])
            break
        if word.is_flag:
            name = word.text[2:]
            if name not in declared:
                raise InvalidArguments(f"unknown option {word.text}", usage)
            flags.add(name)
            continue
        if current is None:
            raise InvalidArguments(
                f"too many arguments: {command.name} takes {len(command.args)}", usage
            )
        if current.kind.consumes == "one":
            single[current.name] = word.text
            slot += 1
        else:
            rest.append(word)

    values: dict[str, Any] = {}
    for arg in command.args:
        try:
            if arg.kind.consumes == "one":
                if arg.name in single:
                    values[arg.name] = arg.kind.parse(single[arg.name])
                    continue
            elif arg.kind.consumes == "rest":
                if rest:
                    values[arg.name] = arg.kind.parse_rest(rest, "")
                    continue
            elif raw is not None:
                values[arg.name] = arg.kind.parse_rest(raw[0], raw[1])
                continue
        except ValueError as exc:
            raise InvalidArguments(f"<{arg.name}>: {exc}", usage) from None
        if not arg.optional:
            raise InvalidArguments(f"missing argument <{arg.name}>", usage)
        values[arg.name] = arg.default
    return Arguments(values, frozenset(flags), dict(bound or {}))
