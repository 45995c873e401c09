"""The switch under test: `ssw run` as a child process, provisioned through CoCon.

    from switch import switch_fixture  # the module-scoped fixture `switch`

    async def test_x(switch: SwitchProcess, sipp: Sipp) -> None:
        alice, bob = switch.declare(2)
        callee = await register_callee(sipp, switch, bob)          # SIPp UAS port, bound
        ...

`SwitchProcess` starts `python -m ssw.cli run` on free loopback ports with its own data
directory, waits until the readiness port accepts connections (SPEC §2: the port opens only
when the switch takes calls), provisions domains and subscribers over the CoCon SSH console
(admin/password) and always stops the process by its PID. The tests read what the switch
stored straight from its data directory: bindings and CDRs through `ssw.storage`, and the
CDR CSV files under `<data-dir>/cdr/`.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import paramiko
import pytest
from e2e_support import Sipp, SippResult, free_port

from ssw.storage import Storage
from ssw.storage.records import Binding, Cdr

__all__ = [
    "CALL_SCENARIOS",
    "DOMAIN",
    "PASSWORD",
    "CoconError",
    "Subscriber",
    "SwitchProcess",
    "assert_ok",
    "caller_args",
    "cdr_between",
    "free_sip_port",
    "received_final",
    "register",
    "register_callee",
    "run_call",
    "running_switch",
    "switch_fixture",
    "udp_bound",
]

DOMAIN = "e2e.ssw"
PASSWORD = "s3cret-123"
CALL_SCENARIOS = "calls"  # folder under tests/e2e/scenarios/
READY_TIMEOUT = 30.0


class CoconError(RuntimeError):
    """A CoCon command failed (non-zero exit status or an error line in its output)."""


@dataclass(frozen=True)
class Subscriber:
    number: str
    domain: str
    password: str

    @property
    def aor(self) -> str:
        return f"{self.number}@{self.domain}"


def free_sip_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP (the switch listens on both with one number)."""
    for _ in range(50):
        port = free_port(socket.SOCK_DGRAM, host)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
        return port
    raise RuntimeError("no port free for both UDP and TCP")


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float,
                   log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ssw run exited with {process.returncode}:\n{_tail(log)}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the readiness port {port} did not open in {timeout}s:\n{_tail(log)}")


def _tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


class SwitchProcess:
    """`ssw run` on loopback; `start()`, `kill()` (SIGKILL) and `stop()` act on its PID only."""

    def __init__(self, data_dir: Path, *, sip_port: int | None = None,
                 extra_args: Sequence[str] = ()) -> None:
        self.data_dir = data_dir
        self.extra_args = tuple(extra_args)  # more `ssw run` options (e.g. media ones)
        self.host = "127.0.0.1"
        self.sip_port = sip_port or free_sip_port()
        self.ready_port = free_port()
        self.cocon_port = free_port()
        self.log = data_dir.with_name(data_dir.name + ".log")
        self.process: subprocess.Popen[bytes] | None = None
        self._numbers = itertools.count(1000)
        self._domains: set[str] = set()

    @property
    def target(self) -> str:
        """host:port for SIPp."""
        return f"{self.host}:{self.sip_port}"

    def start(self) -> None:
        argv = [
            sys.executable, "-m", "ssw.cli", "run",
            "--data-dir", str(self.data_dir),
            "--address", self.host,
            "--sip-port", str(self.sip_port),
            "--sip-tls-port", "0",
            "--ready-port", str(self.ready_port),
            "--cocon-port", str(self.cocon_port),
            "--http-terminal-port", "0",
            "--hostname", "ecss1",
            *self.extra_args,
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT)
        _wait_for_port(self.ready_port, self.process, READY_TIMEOUT, self.log)

    def kill(self) -> None:
        """SIGKILL: no draining, no flushing (a crash)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)

    def log_tail(self, chars: int = 4000) -> str:
        return _tail(self.log, chars)

    # ------------------------------------------------------------------ CoCon

    def cocon(self, *lines: str) -> str:
        """Run console lines over SSH (one exec, lines joined by newlines); the output."""
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        try:
            client.connect(self.host, self.cocon_port, username="admin", password="password",
                           look_for_keys=False, allow_agent=False, timeout=10)
            _, stdout, stderr = client.exec_command("\n".join(lines), timeout=30)
            output = stdout.read().decode(errors="replace")
            errors = stderr.read().decode(errors="replace")
            status = stdout.channel.recv_exit_status()
        finally:
            client.close()
        failed = ("There is no such command", "Invalid command's arguments", "Command error")
        if status != 0 or any(marker in output for marker in failed):
            raise CoconError(f"{lines!r} -> exit {status}:\n{output}{errors}")
        return output

    def declare(self, count: int = 1, *, domain: str = DOMAIN, qop: bool = False,
                password: str = PASSWORD) -> list[Subscriber]:
        """`count` new subscribers in `domain` (declared when first used)."""
        lines = []
        if domain not in self._domains:
            lines.append(f"domain/declare {domain}")
            self._domains.add(domain)
        numbers = [str(next(self._numbers)) for _ in range(count)]
        qop_mode = "qop_authentication" if qop else "no_qop_authentication"
        for number in numbers:
            lines.append(f"/domain/{domain}/sip/user/declare default_routing sip.e2e "
                         f"{number}@{domain} none {qop_mode} login-as-number {password}")
        self.cocon(*lines)
        return [Subscriber(number, domain, password) for number in numbers]

    def set_user(self, subscriber: Subscriber, param: str, value: str) -> None:
        self.cocon(f"/domain/{subscriber.domain}/sip/user/set sip.e2e {subscriber.aor} "
                   f"{param} {value}")

    # ------------------------------------------------------------------ what was stored

    async def _storage(self) -> Storage:
        return await Storage.open(self.data_dir, migrate=False)

    async def bindings(self, subscriber: Subscriber) -> list[Binding]:
        storage = await self._storage()
        try:
            return await storage.registrations.list_for_aor(subscriber.aor)
        finally:
            await storage.close()

    async def cdrs(self, domain: str = DOMAIN) -> list[Cdr]:
        storage = await self._storage()
        try:
            return await storage.cdrs.list(domain=domain, limit=100_000)
        finally:
            await storage.close()

    async def wait_cdr(self, match: Callable[[Cdr], bool], *, domain: str = DOMAIN,
                       timeout: float = 10.0) -> Cdr:
        """The first CDR of `domain` that `match`es, once the switch has stored it."""
        deadline = time.monotonic() + timeout
        while True:
            found = [cdr for cdr in await self.cdrs(domain) if match(cdr)]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching CDR in {timeout}s; log:\n{self.log_tail()}")
            await asyncio.sleep(0.1)

    def csv_rows(self, domain: str = DOMAIN) -> list[dict[str, str]]:
        """The domain's CDR CSV file (`;`-separated, header line first)."""
        path = self.data_dir / "cdr" / f"{domain}.csv"
        if not path.exists():
            return []
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle, delimiter=";"))


def cdr_between(caller: Subscriber, callee: Subscriber | str) -> Callable[[Cdr], bool]:
    called = callee if isinstance(callee, str) else callee.number
    return lambda cdr: cdr.caller == caller.number and cdr.callee == called


# ---------------------------------------------------------------------- SIPp helpers


async def register(sipp: Sipp, switch: SwitchProcess, subscriber: Subscriber, *,
                   port: int | None = None, contact: str | None = None, expires: int = 3600,
                   password: str | None = None, scenario: str = "register.xml") -> SippResult:
    """One REGISTER with digest from local UDP `port` (free when None)."""
    port = port or free_port(socket.SOCK_DGRAM)
    contact = contact or f"<sip:{subscriber.number}@127.0.0.1:{port}>"
    return await sipp.run(
        f"{CALL_SCENARIOS}/{scenario}", switch.target, calls=1, timeout=15,
        extra=[
            "-p", str(port),
            "-key", "user", subscriber.number,
            "-key", "domain", subscriber.domain,
            "-key", "contact", contact,
            "-key", "expires", str(expires),
            "-au", subscriber.number,
            "-ap", password if password is not None else subscriber.password,
        ],
    )  # fmt: skip


async def register_callee(sipp: Sipp, switch: SwitchProcess, subscriber: Subscriber) -> int:
    """Register `subscriber` from a free UDP port and return it: the UAS listens there next
    (the switch sends INVITEs to where the REGISTER came from)."""
    port = free_port(socket.SOCK_DGRAM)
    result = await register(sipp, switch, subscriber, port=port)
    assert result.returncode == 0, result.describe()
    return port


def caller_args(caller: Subscriber, called: str, *, port: int | None = None) -> list[str]:
    """SIPp arguments of a caller scenario: called number, caller, domain, credentials."""
    return [
        "-p", str(port or free_port(socket.SOCK_DGRAM)),
        "-s", called,
        "-key", "caller", caller.number,
        "-key", "domain", caller.domain,
        "-au", caller.number,
        "-ap", caller.password,
    ]  # fmt: skip


def received_final(result: SippResult) -> set[int]:
    """Final statuses (>= 300) the caller scenario received, from SIPp's message counters."""
    statuses = set()
    for column, value in result.counts.items():
        parts = column.split("_")
        if len(parts) == 3 and parts[2] == "Recv" and parts[1].isdigit() and value not in ("", "0"):
            status = int(parts[1])
            if status >= 300 and status != 401:
                statuses.add(status)
    return statuses


async def udp_bound(port: int, timeout: float = 5.0) -> None:
    """Wait until a process has bound UDP `port` (a SIPp UAS is then ready)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the SIPp UAS did not bind UDP port {port}")


async def run_call(
    sipp: Sipp,
    switch: SwitchProcess,
    caller: Subscriber,
    called: str,
    *,
    uac: str,
    uas: str | None = None,
    uas_port: int | None = None,
    uac_extra: Sequence[str] = (),
    uas_extra: Sequence[str] = (),
) -> tuple[SippResult, SippResult | None]:
    """Run caller scenario `uac` against the switch while `uas` answers on `uas_port`."""
    callee_task = None
    if uas is not None:
        assert uas_port is not None
        callee_task = asyncio.create_task(sipp.run(
            f"{CALL_SCENARIOS}/{uas}", switch.target, calls=1, timeout=30,
            extra=["-p", str(uas_port), *uas_extra],
        ))
        await udp_bound(uas_port)
    caller_result = await sipp.run(
        f"{CALL_SCENARIOS}/{uac}", switch.target, calls=1, timeout=30,
        extra=[*caller_args(caller, called), *uac_extra],
    )
    callee_result = await callee_task if callee_task is not None else None
    return caller_result, callee_result


def assert_ok(result: SippResult | None, switch: SwitchProcess) -> None:
    assert result is not None
    assert result.returncode == 0, result.describe() + "\n--- switch log ---\n" + switch.log_tail()


# ---------------------------------------------------------------------- fixtures


@contextlib.contextmanager
def running_switch(data_dir: Path, extra_args: Sequence[str] = ()) -> Iterator[SwitchProcess]:
    switch = SwitchProcess(data_dir, extra_args=extra_args)
    try:
        switch.start()
        yield switch
    finally:
        switch.stop()


@pytest.fixture(name="switch", scope="module")
def switch_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SwitchProcess]:
    """One switch for the tests of a module (each test declares its own subscribers)."""
    with running_switch(tmp_path_factory.mktemp("switch") / "data") as started:
        yield started
