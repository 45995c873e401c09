"""SIPp processes: run one by its PID with a deadline, keep its traces, read them back.

Every run writes, in the run's own directory, `-trace_err` (the unexpected messages and
scenario errors: the excerpt a report shows) and `-trace_msg` (every message sent and received,
with timestamps: what `CheckDifference` measures and what a failure analysis reads).
A process that outlives its deadline is stopped by its PID: SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

__all__ = ["ReceivedMessage", "SippOutcome", "SippProcess", "parse_duration", "received_messages"]

# SIPp exit codes (sipp(1)): 0 every call succeeded, 1 at least one failed, 97 stopped by an
# internal command, 99 no call processed, 253/255 fatal errors (e.g. the port is taken).
_EXIT_MEANING = {
    0: "every call succeeded",
    1: "at least one call failed",
    97: "stopped by an internal command",
    99: "exited without processing a call",
    253: "fatal error while binding or setting up",
    255: "fatal error (see its output)",
}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def parse_duration(text: str) -> float:
    """SIPp's time values (`40s`, `500ms`, `2m`, a bare number of seconds) in seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (expected e.g. 40s, 500ms)")
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}[match.group(2)]
    return float(match.group(1)) * scale


@dataclass(frozen=True)
class ReceivedMessage:
    """A message SIPp received: when (Unix time), and its start line."""

    time: float
    start_line: str

    @property
    def method(self) -> str | None:
        first = self.start_line.split(" ", 1)[0]
        return None if first.startswith("SIP/") else first

    @property
    def status(self) -> int | None:
        parts = self.start_line.split(" ", 2)
        if parts[0].startswith("SIP/") and len(parts) > 1 and parts[1].isdigit():
            return int(parts[1])
        return None


# A -trace_msg entry starts with a dashed line ending in the local date and time
# ("----- 2026-11-24 23:29:39.233820"), then "UDP message received [377] bytes :" (or "sent"),
# an empty line, and the message.
_ENTRY = re.compile(
    r"^-{5,}\s+(\d{4}-\d\d-\d\d)[ \t]+(\d\d:\d\d:\d\d(?:\.\d+)?)[^\n]*\n"
    r"(\w+) message (received|sent)[^\n]*\n\s*\n([^\n]*)",
    re.M,
)


def _timestamp(day: str, clock: str) -> float:
    moment = datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M:%S" + (".%f" if "." in clock
                                                                       else ""))
    return moment.timestamp()


def received_messages(trace: str) -> list[ReceivedMessage]:
    """The messages a SIPp `-trace_msg` file records as received, in order."""
    return [
        ReceivedMessage(_timestamp(match.group(1), match.group(2)), match.group(5).strip())
        for match in _ENTRY.finditer(trace)
        if match.group(4) == "received"
    ]


@dataclass
class SippOutcome:
    """What one SIPp run left behind."""

    name: str
    argv: list[str]
    returncode: int
    screen: str
    error_log: str
    message_trace: str
    killed: bool = False
    stopped: bool = False  # stopped by the runner after another phone of its step failed
    received: list[ReceivedMessage] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and not self.killed and not self.stopped

    def summary(self) -> str:
        meaning = _EXIT_MEANING.get(self.returncode, "unexpected exit code")
        if self.killed:
            meaning = "killed after outliving its -timeout"
        elif self.stopped:
            return f"{self.name}: stopped by the runner (another phone of the step had failed)"
        return f"{self.name}: sipp exited {self.returncode} ({meaning})"

    def excerpt(self, limit: int = 1500) -> str:
        """The error log's last lines (what SIPp found wrong), else the screen's."""
        text = self.error_log.strip() or _last_errors(self.screen)
        return text[-limit:]


def _last_errors(screen: str) -> str:
    lines = [line for line in screen.splitlines() if line.strip()]
    return "\n".join(lines[-15:])


class SippProcess:
    """One SIPp run in `workdir`; `run()` waits for it and returns its `SippOutcome`."""

    def __init__(self, binary: str, name: str, argv: Sequence[str], workdir: Path,
                 deadline: float) -> None:
        self.name = name
        self.workdir = workdir
        self.deadline = deadline
        self.error_file = workdir / "errors.log"
        self.message_file = workdir / "messages.log"
        self.screen_file = workdir / "screen.log"
        self.argv = [
            binary, *argv, "-nostdin",
            "-trace_err", "-error_file", str(self.error_file),
            "-trace_msg", "-message_file", str(self.message_file),
            "-trace_screen", "-screen_file", str(self.screen_file),
        ]  # fmt: skip
        self._process: asyncio.subprocess.Process | None = None
        self._stopped = False

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._process = await asyncio.create_subprocess_exec(
            *self.argv,
            cwd=self.workdir,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )

    async def wait(self) -> SippOutcome:
        """Wait until SIPp exits or its deadline passes (then stop it by PID)."""
        if self._process is None:
            await self.start()
        process = self._process
        assert process is not None
        killed = False
        try:
            output, _ = await asyncio.wait_for(process.communicate(), self.deadline)
        except TimeoutError:
            killed = True
            await stop_process(process)
            output = b""
        except asyncio.CancelledError:
            await stop_process(process)
            raise
        trace = _read(self.message_file)
        return SippOutcome(
            name=self.name,
            argv=self.argv,
            returncode=process.returncode if process.returncode is not None else -1,
            screen=output.decode("utf-8", "replace") + _read(self.screen_file),
            error_log=_read(self.error_file),
            message_trace=trace,
            killed=killed,
            stopped=self._stopped,
            received=received_messages(trace),
        )

    async def stop(self) -> None:
        """Stop SIPp now (by PID); `wait()` then returns an outcome marked `stopped`."""
        if self._process is not None and self._process.returncode is None:
            self._stopped = True
            await stop_process(self._process)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


async def stop_process(process: asyncio.subprocess.Process, grace: float = 3.0) -> None:
    """Stop `process` by its PID: SIGTERM, then SIGKILL after `grace` seconds."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
