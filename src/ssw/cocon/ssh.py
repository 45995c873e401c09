"""The SSH console (ECSS CoCon, port 8023): password login, interactive shell, scripts.

Three ways in, one output (SPEC §5):

- interactive (a PTY is requested): banner, prompt `admin@mycelium1@<host>:/$ `, line editing,
  history and Tab completion (asyncssh's line editor), confirmation questions;
- a command given to ssh (`ssh -p 8023 admin@host 'domain/list'`): each line of it is run,
  and the exit status is 1 when any of them failed;
- commands piped on stdin without a PTY: each line is run, no prompt is printed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

from .completion import complete
from .console import Console
from .registry import Role
from .session import ConsoleSession

__all__ = ["SshConsoleServer", "SshIO", "load_host_key"]

log = logging.getLogger(__name__)

#: longest command line accepted in the interactive shell (asyncssh's default is 1024)
MAX_LINE = 1_000_000


def load_host_key(path: Path | None) -> asyncssh.SSHKey:
    """The server's host key: read from `path`, or generated there (mode 0600) when missing."""
    if path is not None and path.exists():
        return asyncssh.read_private_key(str(path))
    key = asyncssh.generate_private_key("ssh-ed25519")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        key.write_private_key(str(path))
        path.chmod(0o600)
    return key


@dataclass
class SshIO:
    """ConsoleIO over an SSH process."""

    process: asyncssh.SSHServerProcess[str]

    async def write(self, text: str) -> None:
        self.process.stdout.write(text)
        await self.process.stdout.drain()

    async def ask(self, prompt: str) -> str | None:
        await self.write(prompt)
        while True:
            try:
                line = await self.process.stdin.readline()
            except asyncssh.TerminalSizeChanged:
                continue
            except (asyncssh.BreakReceived, asyncssh.SignalReceived):
                return None
            return line.rstrip("\r\n") if line else None


class _Authentication(asyncssh.SSHServer):
    """Per-connection password check through the console's users and rate limit."""

    def __init__(self, console: Console, live: set[asyncssh.SSHServerConnection]) -> None:
        self._console = console
        self._live = live
        self._connection: asyncssh.SSHServerConnection | None = None
        self._peer = "unknown"

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._connection = conn
        self._live.add(conn)
        peer = conn.get_extra_info("peername")
        if peer:
            self._peer = str(peer[0])

    def connection_lost(self, exc: Exception | None) -> None:
        if self._connection is not None:
            self._live.discard(self._connection)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    async def validate_password(self, username: str, password: str) -> bool:
        role = await self._console.login(username, password, self._peer, "ssh")
        if role is None or self._connection is None:
            log.info("console login refused for %r from %s", username, self._peer)
            return False
        self._connection.set_extra_info(cocon_role=role, cocon_source=self._peer)
        return True


class SshConsoleServer:
    """Listens for SSH clients and runs a console session for each."""

    def __init__(self, console: Console, host: str, port: int, host_key: asyncssh.SSHKey) -> None:
        self._console = console
        self._host = host
        self._port = port
        self._host_key = host_key
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._live: set[asyncssh.SSHServerConnection] = set()

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0)."""
        if self._acceptor is None:
            return self._port
        return int(self._acceptor.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._acceptor = await asyncssh.create_server(
            lambda: _Authentication(self._console, self._live),
            self._host,
            self._port,
            server_host_keys=[self._host_key],
            process_factory=self._run,
            encoding="utf-8",
            line_editor=True,
            line_history=1000,
            # Routing contexts are pasted on one line (--xml-base64 ...): allow long lines.
            max_line_length=MAX_LINE,
            keepalive_interval=60,
        )

    async def stop(self) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None
        for connection in list(self._live):
            connection.close()
            await connection.wait_closed()
        self._live.clear()

    async def _run(self, process: asyncssh.SSHServerProcess[str]) -> None:
        user = str(process.get_extra_info("username"))
        role: Role = process.get_extra_info("cocon_role", Role.VIEWER)
        source = str(process.get_extra_info("cocon_source", "unknown"))
        session = self._console.session(user, role, f"ssh:{source}", "ssh")
        io = SshIO(process)
        status = 0
        try:
            if process.command:
                for line in process.command.splitlines():
                    if not await session.run_line(line, io):
                        break
                status = 1 if session.errors else 0
            elif process.get_terminal_type() is None:
                await self._script(session, io)
            else:
                await self._interactive(session, io)
        except (BrokenPipeError, ConnectionError, asyncssh.Error):
            log.info("console connection from %s closed", source)
        except Exception:
            log.exception("console session of %s from %s failed", user, source)
        finally:
            process.exit(status)

    async def _script(self, session: ConsoleSession, io: SshIO) -> None:
        while True:
            line = await io.process.stdin.readline()
            if not line or not await session.run_line(line, io):
                return

    async def _interactive(self, session: ConsoleSession, io: SshIO) -> None:
        channel: Any = io.process.channel
        values: dict[str, list[str]] = {}
        if hasattr(channel, "register_key"):
            channel.register_key(
                "\t",
                lambda line, pos: complete(session.registry, session.cwd, line, pos, values),
            )
        banner = await self._console.banner()
        if banner:
            await io.write(banner)
        while True:
            fresh = await self._console.completion_values()
            values.clear()
            values.update(fresh)
            await io.write(session.prompt)
            try:
                line = await io.process.stdin.readline()
            except asyncssh.TerminalSizeChanged:
                await io.write("\n")
                continue
            except (asyncssh.BreakReceived, asyncssh.SignalReceived):
                await io.write("\n")
                continue
            if not line:
                return
            if not await session.run_line(line, io):
                return
