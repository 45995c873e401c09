"""Tab completion of command paths, from the registry (hidden commands are never offered).

Placeholder segments complete from `values` (e.g. {"D": ["pv.ssw3", ...]}: the domains), which
the front end refreshes before each prompt, so completion itself never waits for the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .parser import locate
from .registry import Node, Registry

__all__ = ["BUILTINS", "candidates", "complete"]

Values = Mapping[str, Sequence[str]]

BUILTINS = ("cd", "exit", "help", "ls", "pwd", "sleep")


def _suffix(node: Node) -> str:
    if node.command is not None and not node.is_directory:
        return " "
    return "/"


def candidates(
    registry: Registry, cwd: tuple[str, ...], word: str, values: Values | None = None
) -> list[tuple[str, str]]:
    """(completion of the last path segment, suffix) for every visible match."""
    directory, _, partial = word.rpartition("/")
    if word.startswith("/") and not directory:
        directory = "/"
    location = locate(registry, cwd, directory or ".")
    if location is None:
        return []
    found = [
        (child.name, _suffix(child))
        for name, child in sorted(location.node.children.items())
        if name.startswith(partial) and not name.startswith(".")
    ]
    placeholder = location.node.placeholder
    if placeholder is not None and values:
        for value in values.get(placeholder.name[1:-1], ()):
            if value.startswith(partial) and value not in location.node.children:
                found.append((value, "/"))
    if "/" not in word:
        found += [(name, " ") for name in BUILTINS if name.startswith(partial)]
    return found


def complete(
    registry: Registry, cwd: tuple[str, ...], line: str, pos: int, values: Values | None = None
) -> tuple[str, int]:
    """The line after pressing Tab with the cursor at `pos` (unchanged when nothing fits)."""
    before, after = line[:pos], line[pos:]
    if " " in before.lstrip():
        return line, pos
    word = before.lstrip()
    found = candidates(registry, cwd, word, values)
    if not found:
        return line, pos
    partial = word.rpartition("/")[2]
    if len(found) == 1:
        name, suffix = found[0]
        addition = name[len(partial) :] + suffix
    else:
        addition = _common_prefix([name for name, _ in found])[len(partial) :]
    new_before = before + addition
    return new_before + after, len(new_before)


def _common_prefix(names: list[str]) -> str:
    shortest, longest = min(names), max(names)
    for index, char in enumerate(shortest):
        if char != longest[index]:
            return shortest[:index]
    return shortest
