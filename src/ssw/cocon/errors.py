"""The three kinds of failure an operator sees, with ECSS-10's exact wording (SPEC §5).

Scripts written for ECSS-10 grep the console output for these strings, so the first line of every
error is one of them, verbatim; a second line may say what exactly was wrong.
"""

from __future__ import annotations

__all__ = [
    "COMMAND_ERROR",
    "INVALID_ARGUMENTS",
    "NO_SUCH_COMMAND",
    "CoconError",
    "CommandError",
    "InvalidArguments",
    "NoSuchCommand",
]

NO_SUCH_COMMAND = "There is no such command"
INVALID_ARGUMENTS = "Invalid command's arguments"
COMMAND_ERROR = "Command error"


class CoconError(Exception):
    """Base of the errors a command line can produce; `render()` is what the operator reads."""

    #: machine-readable cause for the http_terminal (SPEC §5: already_exists, licence_limit)
    cause: str = "error"

    def render(self) -> str:
        raise TypeError("subclasses define render()")


class NoSuchCommand(CoconError):
    """The path does not name a command (nor a directory, for `cd`)."""

    cause = "no_such_command"

    def __init__(self, path: str = "") -> None:
        super().__init__(path)
        self.path = path

    def render(self) -> str:
        return NO_SUCH_COMMAND


class InvalidArguments(CoconError):
    """The command exists but its arguments do not match its definition."""

    cause = "invalid_arguments"

    def __init__(self, reason: str, usage: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.usage = usage

    def render(self) -> str:
        lines = [INVALID_ARGUMENTS]
        if self.reason:
            lines.append(f"  {self.reason}")
        if self.usage:
            lines.append(f"Usage: {self.usage}")
        return "\n".join(lines)


class CommandError(CoconError):
    """The command ran and refused: the reason says what was wrong and what to do."""

    def __init__(self, reason: str, cause: str = "error") -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause

    def render(self) -> str:
        return f"{COMMAND_ERROR}: {self.reason}"
