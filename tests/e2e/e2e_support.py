"""Helpers for end-to-end tests with real peers on loopback (fixtures in conftest.py).

`Sipp.run` runs SIPp (Debian `sip-tester`) with a scenario from `tests/e2e/scenarios/` and returns
its exit code, its screen output and the counts it wrote; `Processes` starts any other helper
program. Every process started here is stopped by its PID when the test ends, whatever
happened; a test never leaves a peer running.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import signal
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parent / "scenarios"


def free_port(kind: socket.SocketKind = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    """A port free on `host` right now (for a peer that cannot bind port 0 itself)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


async def _stop(process: asyncio.subprocess.Process, grace: float = 2.0) -> None:
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


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """False once something listens on TCP `port` (checked by binding, never connecting)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


class Processes:
    """Background programs of one test, each stopped by PID at teardown."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._started: list[asyncio.subprocess.Process] = []

    async def start(self, *argv: str) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=self.workdir,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        self._started.append(process)
        return process

    async def stop_all(self) -> None:
        for process in self._started:
            await _stop(process)


@dataclass
class SippResult:
    """What one SIPp run left: exit code (0 = every call succeeded), output, counters."""

    returncode: int
    stdout: str
    stderr: str
    stats: dict[str, str] = field(default_factory=dict)  # last row of -trace_stat
    counts: dict[str, str] = field(default_factory=dict)  # last row of -trace_counts
    errors: str = ""  # -trace_err: the unexpected messages, if any

    def stat(self, name: str) -> int:
        """A cumulative counter, e.g. stat("SuccessfulCall")."""
        return int(self.stats[f"{name}(C)"])

    def count(self, column: str) -> int:
        """A per-message counter, e.g. count("2_180_Recv")."""
        return int(self.counts[column])

    def describe(self) -> str:
        return (
            f"sipp exited {self.returncode}\n--- unexpected messages ---\n{self.errors[-3000:]}"
            f"\n--- stderr ---\n{self.stderr[-2000:]}\n--- screen ---\n{self.stdout[-3000:]}"
        )


def _last_row(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    rows = list(csv.reader(path.read_text(errors="replace").splitlines(), delimiter=";"))
    if len(rows) < 2:
        return {}
    return dict(zip(rows[0], rows[-1], strict=False))


class Sipp:
    """Runs `/usr/bin/sipp` in a test's directory; see `run`."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self._running: set[asyncio.subprocess.Process] = set()
        self._runs = 0

    async def run(
        self,
        scenario: str,
        target: str,
        *,
        transport: str = "u1",
        calls: int = 1,
        rate: int = 20,
        local_ip: str = "127.0.0.1",
        extra: Sequence[str] = (),
        timeout: float = 30.0,
    ) -> SippResult:
        """Run `scenario` (a file name in tests/e2e/scenarios/) against `target` (host:port).

        `transport` is SIPp's -t value (u1 UDP, t1 TCP). SIPp stops after `calls` calls, or
        fails after `timeout` seconds; it is killed by PID if it outlives that.
        """
        self._runs += 1
        tag = f"run{self._runs}"
        stat_file = self.workdir / f"{tag}_stat.csv"
        error_file = self.workdir / f"{tag}_errors.log"
        argv = [
            self.binary, target,
            "-sf", str(SCENARIOS / scenario),
            "-t", transport,
            "-i", local_ip,
            "-p", "0",
            "-m", str(calls),
            "-r", str(rate),
            "-nostdin",
            "-timeout", f"{max(1, int(timeout) - 2)}s",
            "-timeout_error",
            "-trace_stat", "-stf", str(stat_file),
            "-trace_counts",
            "-trace_err", "-error_file", str(error_file),
            *extra,
        ]  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=self.workdir,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        self._running.add(process)
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            await _stop(process)
            stdout, stderr = b"", b"sipp outlived its timeout and was killed\n"
        finally:
            if process.returncode is None:
                await _stop(process)
            self._running.discard(process)
        counts = sorted(self.workdir.glob(f"{Path(scenario).stem}_{process.pid}_counts.csv"))
        return SippResult(
            returncode=process.returncode if process.returncode is not None else -1,
            stdout=stdout.decode(errors="replace"),
            stderr=stderr.decode(errors="replace"),
            stats=_last_row(stat_file),
            counts=_last_row(counts[0]) if counts else {},
            errors=error_file.read_text(errors="replace") if error_file.is_file() else "",
        )

    async def stop_all(self) -> None:
        for process in list(self._running):
            await _stop(process)
