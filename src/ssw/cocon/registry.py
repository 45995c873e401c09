"""The command registry: every command defined once, served by every front end.

A command is a path in the console's virtual file system (`/domain/<D>/sip/user/declare`), typed
arguments, flags, help text, whether it asks for confirmation, the role needed to run it, and an
async handler. Path segments written `<NAME>` are placeholders (a domain, a node, a storage
cluster): their values reach the handler in `args.path["NAME"]`. Segments that start with a dot are
hidden from `ls`, `help` and completion but can be called (`routing/.xbin/.import-context`).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .args import Arg, Flag

__all__ = [
    "Arguments",
    "Command",
    "CommandContext",
    "CommandResult",
    "Handler",
    "Node",
    "Registry",
    "Role",
    "split_path",
]


class Role(enum.IntEnum):
    """What a console user may do; each role includes the ones below it."""

    VIEWER = 1  # read-only commands: list, info, status
    OPERATOR = 2  # provisioning: domains, subscribers, services
    ADMIN = 3  # users, licence, cluster

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown role {text!r} (viewer, operator, admin)") from None


@dataclass(frozen=True)
class Arguments:
    """What a handler receives: parsed values by argument name, flags given, placeholder values."""

    values: dict[str, Any] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()
    path: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None else value

    def flag(self, name: str) -> bool:
        return name in self.flags


@dataclass(frozen=True)
class CommandResult:
    """What a command did: text for the console, data for machine front ends (http_terminal)."""

    text: str = ""
    data: Any = None


async def _refuse(text: str) -> bool:
    return False


@dataclass
class CommandContext:
    """Who runs the command, from where, and the services commands work on.

    `confirm(text)` shows `text` and asks "Are you sure?: yes/no ?> " on the console (for a
    handler that must show something, e.g. a diff, before asking); front ends that cannot ask
    (http_terminal, `--force` already given) answer False or True without asking.
    """

    user: str
    role: Role
    source: str  # peer address, or "local"
    frontend: str  # "ssh", "cli", "http"
    services: Any  # ssw.cocon.services.CoconServices (kept loose so the registry has no imports)
    confirm: Callable[[str], Awaitable[bool]] = _refuse


Handler = Callable[[CommandContext, Arguments], Awaitable[CommandResult]]


@dataclass(frozen=True)
class Command:
    path: str
    handler: Handler
    help: str
    args: tuple[Arg, ...] = ()
    flags: tuple[Flag, ...] = ()
    confirm: bool = False
    role: Role = Role.OPERATOR
    http_name: str | None = None
    audit: bool = True  # False only for commands that change nothing and run very often

    @property
    def segments(self) -> tuple[str, ...]:
        return split_path(self.path)

    @property
    def hidden(self) -> bool:
        return any(segment.startswith(".") for segment in self.segments)

    @property
    def name(self) -> str:
        return self.segments[-1]

    def usage(self) -> str:
        parts = [self.path]
        parts += [arg.usage() for arg in self.args]
        parts += [f"[--{flag.name}]" for flag in self.flags]
        return " ".join(parts)


@dataclass
class Node:
    """A directory of the command tree; it may also be a command itself."""

    name: str
    children: dict[str, Node] = field(default_factory=dict)
    placeholder: Node | None = None  # child matching any segment, e.g. <D>
    command: Command | None = None

    @property
    def is_placeholder(self) -> bool:
        return self.name.startswith("<") and self.name.endswith(">")

    @property
    def is_directory(self) -> bool:
        return bool(self.children) or self.placeholder is not None

    def visible_children(self) -> list[Node]:
        listed = [node for name, node in sorted(self.children.items()) if not name.startswith(".")]
        if self.placeholder is not None:
            listed.append(self.placeholder)
        return listed


def split_path(path: str) -> tuple[str, ...]:
    return tuple(segment for segment in path.split("/") if segment)


class Registry:
    """All commands, as a tree for the console and as a flat index for the http_terminal."""

    def __init__(self) -> None:
        self.root = Node("")
        self._by_http_name: dict[str, Command] = {}
        self._commands: list[Command] = []

    def add(self, command: Command) -> Command:
        node = self.root
        for segment in command.segments:
            node = self._child(node, segment)
        if node.command is not None:
            raise ValueError(f"command {command.path} is defined twice")
        node.command = command
        if command.http_name is not None:
            if command.http_name in self._by_http_name:
                raise ValueError(f"http_terminal name {command.http_name} is used twice")
            self._by_http_name[command.http_name] = command
        self._commands.append(command)
        return command

    def command(
        self,
        path: str,
        *,
        help: str,
        args: tuple[Arg, ...] = (),
        flags: tuple[Flag, ...] = (),
        confirm: bool = False,
        role: Role = Role.OPERATOR,
        http_name: str | None = None,
        audit: bool = True,
    ) -> Callable[[Handler], Handler]:
        """Decorator: `@registry.command("/domain/declare", help=..., args=(...))`."""

        def decorate(handler: Handler) -> Handler:
            self.add(Command(path, handler, help, args, flags, confirm, role, http_name, audit))
            return handler

        return decorate

    def by_http_name(self, name: str) -> Command | None:
        return self._by_http_name.get(name)

    def __iter__(self) -> Iterator[Command]:
        return iter(sorted(self._commands, key=lambda command: command.path))

    def __len__(self) -> int:
        return len(self._commands)

    def _child(self, node: Node, segment: str) -> Node:
        if segment.startswith("<") and segment.endswith(">"):
            if node.placeholder is None:
                node.placeholder = Node(segment)
            elif node.placeholder.name != segment:
                raise ValueError(f"two placeholders {node.placeholder.name} and {segment} clash")
            return node.placeholder
        return node.children.setdefault(segment, Node(segment))

    def walk(self, segments: tuple[str, ...]) -> tuple[Node, dict[str, str]] | None:
        """The node named by concrete segments and the placeholder values bound on the way.

        A literal child wins over a placeholder; if the literal branch leads nowhere, the walk
        backs up and tries the placeholder (so a domain may be called `list`).
        """
        return _walk(self.root, segments, {})


def _walk(
    node: Node, segments: tuple[str, ...], bound: dict[str, str]
) -> tuple[Node, dict[str, str]] | None:
    if not segments:
        return node, bound
    head, rest = segments[0], segments[1:]
    literal = node.children.get(head)
    if literal is not None:
        found = _walk(literal, rest, bound)
        if found is not None:
            return found
    if node.placeholder is not None and not head.startswith("."):
        return _walk(node.placeholder, rest, {**bound, node.placeholder.name[1:-1]: head})
    return None
