"""A real SIP phone: two baresip instances register with the switch and call each other.

Each phone gets its own configuration directory: UDP on loopback, G.711 only, no sound
hardware (the microphone is a WAV file of silence read by `aufile`, the speaker an `aubridge`
device nobody listens to) and the `ctrl_tcp` module, through which the test dials, hangs
up and reads the phone's events (netstrings of JSON, e.g. `CALL_ESTABLISHED`). The callee's
account answers by itself (`answermode=auto`). Skipped when baresip is not installed
(Debian package `baresip`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from e2e_support import free_port
from switch import (
    Subscriber,
    SwitchProcess,
    cdr_between,
    switch_fixture,  # noqa: F401  (the fixture `switch`)
)

from ssw.qa.stand_in import take_netstrings

pytestmark = pytest.mark.e2e

MODULES = ("g711.so", "aufile.so", "aubridge.so")
APP_MODULES = ("account.so", "menu.so", "ctrl_tcp.so")


def _sip_port() -> int:
    """A port free for UDP and TCP, whose successor is free for TCP (baresip's SIP/TLS)."""
    for _ in range(100):
        port = free_port(socket.SOCK_DGRAM)
        probes = [(socket.SOCK_STREAM, port), (socket.SOCK_STREAM, port + 1)]
        try:
            for kind, number in probes:
                with socket.socket(socket.AF_INET, kind) as probe:
                    probe.bind(("127.0.0.1", number))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for baresip")


def _silence(path: Path, seconds: int = 60) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 8000 * seconds)


class Phone:
    """One baresip process with one account; driven and observed through `ctrl_tcp`."""

    def __init__(self, binary: str, home: Path, subscriber: Subscriber, switch: SwitchProcess,
                 *, auto_answer: bool) -> None:
        self.binary = binary
        self.home = home
        self.subscriber = subscriber
        self.sip_port = _sip_port()
        self.ctrl_port = free_port()
        self.log = home / "baresip.log"
        self.events: list[dict[str, Any]] = []
        self.process: subprocess.Popen[bytes] | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pump: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        home.mkdir(parents=True)
        _silence(home / "silence.wav")
        lines = [
            "poll_method epoll",
            f"sip_listen 127.0.0.1:{self.sip_port}",
            "net_interface 127.0.0.1",
            f"audio_player aubridge,speaker_{subscriber.number}",
            f"audio_source aufile,{home / 'silence.wav'}",
            f"audio_alert aubridge,alert_{subscriber.number}",
            "audio_srate 8000",
            "audio_channels 1",
            "module_path /usr/lib/baresip/modules",
            *(f"module {name}" for name in MODULES),
            *(f"module_app {name}" for name in APP_MODULES),
            f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
        ]
        (home / "config").write_text("\n".join(lines) + "\n")
        params = [
            f"auth_pass={subscriber.password}",
            f'outbound="sip:{switch.host}:{switch.sip_port}"',
            "regint=600",
            "audio_codecs=PCMU,PCMA",
            "answermode=" + ("auto" if auto_answer else "manual"),
        ]
        account = f"<sip:{subscriber.number}@{subscriber.domain}>;" + ";".join(params)
        (home / "accounts").write_text(account + "\n")

    async def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen([self.binary, "-f", str(self.home)],
                                            stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, cwd=self.home)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"baresip exited {self.process.returncode}:\n{self.output()}")
            try:
                self._reader, self._writer = await asyncio.open_connection("127.0.0.1",
                                                                           self.ctrl_port)
                break
            except OSError:
                if loop.time() > deadline:
                    raise AssertionError("baresip's ctrl_tcp did not listen:\n"
                                         + self.output()) from None
                await asyncio.sleep(0.05)
        self._pump = asyncio.create_task(self._read_events())

    async def _read_events(self) -> None:
        assert self._reader is not None
        buffer = bytearray()
        while chunk := await self._reader.read(4096):
            buffer += chunk
            for message in take_netstrings(buffer):
                self.events.append(json.loads(message))
                self._changed.set()

    async def command(self, name: str, params: str = "") -> None:
        assert self._writer is not None
        body = json.dumps({"command": name, "params": params, "token": name}).encode()
        self._writer.write(str(len(body)).encode() + b":" + body + b",")
        await self._writer.drain()

    async def wait_event(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        """The first event of type `kind` (e.g. CALL_ESTABLISHED), waiting for it."""
        async def found() -> dict[str, Any]:
            while True:
                for event in self.events:
                    if event.get("type") == kind:
                        return event
                self._changed.clear()
                await self._changed.wait()
        try:
            return await asyncio.wait_for(found(), timeout)
        except TimeoutError:
            kinds = [event.get("type") for event in self.events]
            raise AssertionError(f"{self.subscriber.number}: no {kind} in {timeout}s; "
                                 f"events {kinds}\n{self.output()}") from None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await self._pump
        process = self.process
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 5)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                await asyncio.to_thread(process.wait, 5)


@pytest.fixture(scope="session")
def baresip_binary() -> str:
    binary = shutil.which("baresip")
    if binary is None:
        pytest.skip("baresip not installed (Debian package baresip): no real phone to test with")
    return binary


@pytest.fixture
async def phones(baresip_binary: str, tmp_path: Path,
                 switch: SwitchProcess) -> AsyncIterator[Callable[..., Phone]]:
    started: list[Phone] = []

    def make(subscriber: Subscriber, *, auto_answer: bool = False) -> Phone:
        phone = Phone(baresip_binary, tmp_path / subscriber.number, subscriber, switch,
                      auto_answer=auto_answer)
        started.append(phone)
        return phone

    try:
        yield make
    finally:
        for phone in started:
            await phone.stop()


async def _wait_registered(switch: SwitchProcess, phone: Phone, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await switch.bindings(phone.subscriber):
        if loop.time() > deadline:
            raise AssertionError(f"{phone.subscriber.aor} did not register:\n{phone.output()}")
        await asyncio.sleep(0.1)


async def test_baresip_phones_call_each_other(switch: SwitchProcess,
                                              phones: Callable[..., Phone]) -> None:
    alice, bob = switch.declare(2)
    caller = phones(alice)
    callee = phones(bob, auto_answer=True)
    await callee.start()
    await caller.start()
    await _wait_registered(switch, caller)
    await _wait_registered(switch, callee)
    (binding,) = await switch.bindings(bob)
    assert "baresip" in binding.user_agent, binding
    assert binding.source_port == callee.sip_port

    await caller.command("dial", f"sip:{bob.number}@{bob.domain}")

    # the 180 carries the switch's SDP and ringback (early media, docs/MEDIA.md): baresip
    # reports it as call progress
    await caller.wait_event("CALL_PROGRESS")
    await callee.wait_event("CALL_ESTABLISHED")
    await caller.wait_event("CALL_ESTABLISHED")
    await caller.wait_event("CALL_RTPESTAB")  # RTP flows through the switch's relay
    assert "Call established" in caller.output()
    await asyncio.sleep(1.0)
    await caller.command("hangup")
    await caller.wait_event("CALL_CLOSED")
    await callee.wait_event("CALL_CLOSED")

    cdr = await switch.wait_cdr(cdr_between(alice, bob))
    assert cdr.answer_at is not None
    assert cdr.release_side == "caller"
    assert 800 <= cdr.duration_ms <= 10_000, cdr
