"""The console session: current directory, built-in commands, confirmation, and output.

Every console front end (SSH interactive and exec, local CLI, stdin scripts) feeds lines to a
`ConsoleSession` and gives it a `ConsoleIO` to write output and read answers; the session knows
nothing about sockets or terminals. Built-ins: `cd`, `ls`, `..`, `pwd`, `help`, `sleep`, `exit`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from .errors import CoconError, CommandError, InvalidArguments, NoSuchCommand
from .executor import Executor
from .lexer import LexError, split_words
from .parser import Location, locate, parse_invocation
from .registry import CommandContext, Node, Registry

__all__ = ["CANCELLED", "CONFIRM_PROMPT", "ConsoleIO", "ConsoleSession", "Identity"]

CONFIRM_PROMPT = "Are you sure?: yes/no ?> "
CANCELLED = "Cancelled: nothing was changed"
MAX_SLEEP = 3600.0


class ConsoleIO(Protocol):
    async def write(self, text: str) -> None:
        """Write text as is (the session adds newlines)."""

    async def ask(self, prompt: str) -> str | None:
        """Show `prompt` and read one line; None when input has ended."""


@dataclass(frozen=True)
class Identity:
    """Names in the prompt `<user>@<node>@<host>:<cwd>$ ` (SPEC §5)."""

    node: str = "mycelium1"
    host: str = "ecss1"


@dataclass
class ConsoleSession:
    registry: Registry
    executor: Executor
    context: CommandContext
    identity: Identity = field(default_factory=Identity)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    cwd: tuple[str, ...] = ()
    errors: int = 0  # lines that ended in an error, for exit statuses
    #: values of placeholders that `ls` lists (the domains under /domain), when known
    values: Callable[[], Awaitable[dict[str, list[str]]]] | None = None

    @property
    def prompt(self) -> str:
        path = "/" + "/".join(self.cwd)
        return f"{self.context.user}@{self.identity.node}@{self.identity.host}:{path}$ "

    async def run_line(self, line: str, io: ConsoleIO) -> bool:
        """Run one line; False when the session should end (`exit`)."""
        text = line.strip()
        if not text or text.startswith("#"):
            return True
        try:
            words = split_words(text)
        except LexError:
            words = []
        head = words[0].text if words else text.split()[0]
        rest = [word.text for word in words[1:]]
        if head in ("exit", "quit", "logout") and not rest:
            return False
        try:
            output = await self._dispatch(head, rest, text, io)
        except CoconError as exc:
            self.errors += 1
            output = exc.render()
        if output:
            await io.write(output if output.endswith("\n") else output + "\n")
        return True

    async def _dispatch(self, head: str, rest: list[str], text: str, io: ConsoleIO) -> str:
        if head == "..":
            return self._cd([".."])
        if head == "cd":
            return self._cd(rest)
        if head == "pwd" and not rest:
            return "/" + "/".join(self.cwd)
        if head == "ls":
            return await self._ls(rest)
        if head == "help":
            return self._help(rest)
        if head == "sleep":
            return await self._sleep(rest)
        try:
            invocation = parse_invocation(self.registry, self.cwd, text)
        except NoSuchCommand as exc:
            location = locate(self.registry, self.cwd, head)
            if (
                location is not None
                and location.node.is_directory
                and not location.node.is_placeholder
                and not rest
            ):
                self.cwd = location.segments
                return ""
            await self.executor.reject(self.context, text, exc)
            raise
        except InvalidArguments as exc:
            await self.executor.reject(self.context, text, exc)
            raise
        command = invocation.command
        force = invocation.arguments.flag("force")

        async def confirm(text: str) -> bool:
            if force:
                return True
            if text:
                await io.write(text if text.endswith("\n") else text + "\n")
            answer = await io.ask(CONFIRM_PROMPT)
            return answer is not None and answer.strip().lower() in ("yes", "y")

        if command.confirm and not await confirm(""):
            return CANCELLED
        context = replace(self.context, confirm=confirm)
        result = await self.executor.run(context, invocation)
        return result.text

    def _cd(self, rest: list[str]) -> str:
        if len(rest) > 1:
            raise InvalidArguments("cd takes one path", "cd <path>")
        target = rest[0] if rest else "/"
        location = locate(self.registry, self.cwd, target)
        if location is None or not location.node.is_directory:
            raise NoSuchCommand(target)
        self.cwd = location.segments
        return ""

    def _location(self, rest: list[str], usage: str) -> Location:
        if len(rest) > 1:
            raise InvalidArguments("one path expected", usage)
        location = locate(self.registry, self.cwd, rest[0] if rest else ".")
        if location is None:
            raise NoSuchCommand(rest[0] if rest else "")
        return location

    async def _ls(self, rest: list[str]) -> str:
        location = self._location(rest, "ls [<path>]")
        if not location.node.is_directory:
            return location.node.name
        entries = [_entry(child) for child in location.node.visible_children()]
        placeholder = location.node.placeholder
        if placeholder is not None and self.values is not None:
            known = await self.values()
            entries += [f"{value}/" for value in known.get(placeholder.name[1:-1], [])]
        return "\n".join(entries)

    def _help(self, rest: list[str]) -> str:
        if not rest:
            return _GENERAL_HELP
        location = self._location(rest, "help [<path>]")
        command = location.node.command
        lines: list[str] = []
        if command is not None:
            lines.append(command.usage())
            lines.append(f"  {command.help}")
            for arg in command.args:
                lines.append(f"  <{arg.name}>  {arg.help or arg.kind.describe()}")
            for flag in command.flags:
                lines.append(f"  --{flag.name}  {flag.help}")
        if location.node.is_directory:
            if lines:
                lines.append("")
            for child in location.node.visible_children():
                summary = f"  {child.command.help}" if child.command is not None else ""
                lines.append(f"{_entry(child)}{summary}")
        return "\n".join(lines)

    async def _sleep(self, rest: list[str]) -> str:
        usage = "sleep <seconds>"
        if len(rest) != 1:
            raise InvalidArguments("one number of seconds expected", usage)
        try:
            seconds = float(rest[0])
        except ValueError:
            raise InvalidArguments(f"{rest[0]!r} is not a number", usage) from None
        if not 0 <= seconds <= MAX_SLEEP:
            raise CommandError(f"sleep takes 0 to {MAX_SLEEP:.0f} seconds")
        await self.sleep(seconds)
        return ""


def _entry(node: Node) -> str:
    return f"{node.name}/" if node.is_directory else node.name


_GENERAL_HELP = """\
Commands are paths: /domain/declare, /domain/<DOMAIN>/sip/user/info, ... (the leading / is optional)
  ls [<path>]       list commands and directories
  cd <path>         change directory (.. goes up, / is the root)
  help <path>       describe a command or a directory
  sleep <seconds>   wait
  exit              close the session
Arguments: ranges {2001-2020} and 20{01-20}, * for all, lists [a,b], name = value, ... lists.
Commands that destroy data ask for confirmation unless given --force."""
