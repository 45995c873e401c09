"""CoCon over SSH, as an operator runs it: `ssh -p 8023 admin@<switch> '<command>'`.

The runner configures the switch under test only this way (FORMAT.md: "The switch under test is
configured only through CoCon"). One SSH connection serves a whole file; each command is an SSH
exec request, so its output is exactly that command's answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

import asyncssh

__all__ = ["COCON_ERROR_MARKERS", "CoconAnswer", "CoconClient", "CoconError"]

# The three error forms of CoCon (SPEC §5); a `CoconCommand` step fails when an answer holds one.
COCON_ERROR_MARKERS = ("There is no such command", "Command error", "Invalid command's arguments")


class CoconError(RuntimeError):
    """A command the switch refused, or a console that could not be reached."""


@dataclass(frozen=True)
class CoconAnswer:
    command: str
    output: str

    @property
    def failed(self) -> bool:
        return any(marker in self.output for marker in COCON_ERROR_MARKERS)


class CoconClient:
    """`async with CoconClient(host, port, user, password) as cocon: await cocon.run(cmd)`."""

    def __init__(self, host: str, port: int, user: str, password: str,
                 timeout: float = 30.0) -> None:
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.timeout = timeout
        self.history: list[CoconAnswer] = []
        self._connection: asyncssh.SSHClientConnection | None = None

    async def __aenter__(self) -> CoconClient:
        try:
            self._connection = await asyncssh.connect(
                self.host, self.port, username=self.user, password=self.password,
                known_hosts=None, client_keys=None, connect_timeout=self.timeout,
            )
        except (OSError, asyncssh.Error) as error:
            raise CoconError(f"cannot log in to CoCon at {self.host}:{self.port} "
                             f"as {self.user}: {error}") from error
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        if self._connection is not None:
            self._connection.close()
            await self._connection.wait_closed()
            self._connection = None

    async def run(self, command: str) -> CoconAnswer:
        """Run one command; the answer keeps its output whatever it says."""
        if self._connection is None:
            raise CoconError("CoCon is not connected")
        try:
            result = await self._connection.run(command, timeout=self.timeout)
        except (OSError, asyncssh.Error) as error:
            raise CoconError(f"CoCon command {command!r} failed: {error}") from error
        output = str(result.stdout or "") + str(result.stderr or "")
        answer = CoconAnswer(command, output.strip())
        self.history.append(answer)
        return answer

    async def check(self, command: str) -> CoconAnswer:
        """Run one command and raise `CoconError` if CoCon answers with an error."""
        answer = await self.run(command)
        if answer.failed:
            raise CoconError(f"CoCon refused {command!r}: {answer.output}")
        return answer
