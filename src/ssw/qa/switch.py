"""The switch under test: `ssw run` on loopback, a fresh data directory, free ports.

One switch per test file, so that no setting or registration of one file leaks into the next.
The process is started with the running interpreter (`python -m ssw.cli run`), waited for on its
readiness port (opened only once it takes calls), and stopped by its PID.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from .sipp import stop_process

__all__ = ["SwitchPorts", "SwitchProcess", "SwitchStartError", "free_port", "free_sip_port"]


class SwitchStartError(RuntimeError):
    """`ssw run` exited or never became ready; the message carries the end of its log."""


def free_port(host: str = "127.0.0.1", kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def free_sip_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP (SIP listens on both)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        port = free_port(host, socket.SOCK_DGRAM)
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise SwitchStartError("no port free for both UDP and TCP on " + host)


@dataclass(frozen=True)
class SwitchPorts:
    sip: int
    cocon: int
    ready: int

    @classmethod
    def pick(cls, host: str) -> SwitchPorts:
        return cls(sip=free_sip_port(host), cocon=free_port(host), ready=free_port(host))


class SwitchProcess:
    """`async with SwitchProcess(data_dir, host) as switch:` a running, ready switch."""

    def __init__(self, data_dir: Path, host: str = "127.0.0.1", *,
                 ports: SwitchPorts | None = None, start_timeout: float = 60.0,
                 log_level: str = "INFO") -> None:
        self.data_dir = data_dir
        self.host = host
        self.ports = ports or SwitchPorts.pick(host)
        self.start_timeout = start_timeout
        self.log_file = data_dir.parent / f"{data_dir.name}.log"
        self.log_level = log_level
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def argv(self) -> list[str]:
        return [
            sys.executable, "-m", "ssw.cli", "run",
            "--data-dir", str(self.data_dir),
            "--address", self.host,
            "--sip-port", str(self.ports.sip),
            "--sip-tls-port", "0",
            "--ready-port", str(self.ports.ready),
            "--cocon-port", str(self.ports.cocon),
            "--http-terminal-port", "0",
            "--log-level", self.log_level,
        ]  # fmt: skip

    async def __aenter__(self) -> SwitchProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                *self.argv(), stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )
        try:
            await self._wait_ready()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.stop()

    async def stop(self) -> None:
        if self._process is not None:
            await stop_process(self._process, grace=10.0)

    def log_tail(self, limit: int = 2000) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    async def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.returncode is not None:
                raise SwitchStartError(
                    f"ssw run exited with {self._process.returncode}:\n{self.log_tail()}")
            try:
                _, writer = await asyncio.open_connection(self.host, self.ports.ready)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise SwitchStartError(
            f"ssw run was not ready within {self.start_timeout:.0f} s:\n{self.log_tail()}")
