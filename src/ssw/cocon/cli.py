"""`ssw cocon`: the console on this host, without SSH.

    ssw cocon                       interactive (line editing, Tab completion, history)
    ssw cocon -c "domain/list"      run the command(s) and exit (lines separated by newlines)
    ssw cocon < script.txt          run the commands read from stdin

The output is the SSH console's. Commands run as `--user` (admin) with the admin role, against
the database of `--data-dir` (or `--database-url`), and are audited with the source `local`.
The exit status is 1 when any command failed, else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .adapters import StorageAudit, StorageUsers
from .cluster import StaticCluster
from .commands import build_registry
from .commands.admin import refresh_default_password_alarm
from .console import Console
from .executor import Executor
from .registry import Registry, Role
from .services import CoconServices
from .session import ConsoleSession, Identity

__all__ = ["register", "run_console"]

HISTORY_FILE = Path.home() / ".ssw_cocon_history"


def _extra_families() -> tuple[Callable[[Registry], None], ...]:
    try:
        from ssw.licence.commands import register as licence_register
    except ImportError:
        return ()
    return (licence_register,)


@dataclass
class _LocalIO:
    async def write(self, text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    async def ask(self, prompt: str) -> str | None:
        sys.stdout.write(prompt)
        sys.stdout.flush()
        line = await asyncio.to_thread(sys.stdin.readline)
        return line.rstrip("\r\n") if line else None


@dataclass
class _TerminalIO:
    """Interactive: `input()` with readline's editing, history and completion."""

    async def write(self, text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    async def ask(self, prompt: str) -> str | None:
        try:
            return await asyncio.to_thread(input, prompt)
        except EOFError:
            return None


def _setup_readline(session: ConsoleSession, values: dict[str, list[str]]) -> None:
    try:
        import readline
    except ImportError:
        return
    from .completion import candidates

    def complete(text: str, state: int) -> str | None:
        buffer = readline.get_line_buffer()
        if " " in buffer[: readline.get_endidx()].lstrip():
            return None
        found = candidates(session.registry, session.cwd, buffer.lstrip(), values)
        head = buffer.lstrip().rpartition("/")[0]
        options = [(f"{head}/" if head else "") + name + suffix.strip() for name, suffix in found]
        return options[state] if state < len(options) else None

    readline.set_completer_delims(" \t\n")
    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")
    with contextlib.suppress(OSError):
        readline.read_history_file(HISTORY_FILE)


async def run_console(
    storage: Any,
    *,
    user: str,
    host: str,
    commands: str | None,
    interactive: bool,
) -> int:
    """Run commands (or an interactive session) on `storage`; returns the exit status."""
    services = CoconServices(
        storage=storage, identity=Identity("mycelium1", host), cluster=StaticCluster([host])
    )
    await refresh_default_password_alarm(services)
    console = Console(
        build_registry(_extra_families()),
        services,
        Executor(StorageAudit(storage)),
        StorageUsers(storage),
    )
    session = console.session(user, Role.ADMIN, "local", "cli")
    if commands is not None:
        io: Any = _LocalIO()
        for line in commands.splitlines():
            if not await session.run_line(line, io):
                break
    elif interactive:
        io = _TerminalIO()
        values: dict[str, list[str]] = {}
        _setup_readline(session, values)
        banner = await console.banner()
        if banner:
            await io.write(banner)
        try:
            while True:
                values.clear()
                values.update(await console.completion_values())
                line = await io.ask(session.prompt)
                if line is None or not await session.run_line(line, io):
                    break
        finally:
            with contextlib.suppress(ImportError, OSError):
                import readline

                readline.write_history_file(HISTORY_FILE)
    else:
        io = _LocalIO()
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line or not await session.run_line(line, io):
                break
    return 1 if session.errors else 0


async def _main(args: argparse.Namespace) -> int:
    from ssw.storage.storage import Storage

    target = args.database_url or args.data_dir
    storage = await Storage.open(target, db_prefix=args.db_prefix)
    try:
        return await run_console(
            storage,
            user=args.user,
            host=args.hostname or _hostname(),
            commands=args.command_text,
            interactive=args.command_text is None and sys.stdin.isatty(),
        )
    finally:
        await storage.close()


def _hostname() -> str:
    import socket

    return socket.gethostname().split(".")[0]


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(_main(args))


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add `cocon` to the `ssw` command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "cocon",
        help="the command console on this host (as over SSH on port 8023)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-c", dest="command_text", metavar="COMMAND",
                        help="run this command (several: separated by newlines) and exit")
    parser.add_argument("--data-dir", type=Path, default=Path("./data"),
                        help="the switch's data directory (embedded SQLite databases)")
    parser.add_argument("--database-url", default=None,
                        help="the production database URL instead of --data-dir")
    parser.add_argument("--db-prefix", default="", help="prefix of the logical database names")
    parser.add_argument("--user", default="admin", help="the console user to act as (admin)")
    parser.add_argument("--hostname", default=None, help="host name shown in the prompt")
    parser.set_defaults(func=_run)
    return parser
