"""The stand-in tester: a real SIP phone (baresip) where the manual files expect a person.

Three files of the required groups (`oa_exchange.json`, `update_manual_test.json`,
`rec_route.json`) were run in Eltex's lab with a tester at `%%TestNumber%%` (108) in
`%%TestDomain%%`, told what to do by the `Print` steps:

    "System call to testUser. Please answer."    the test's phone calls 108: answer it
    "System call to testUser. Please don't answer."                        let it ring
    "System wait call. Please call to TestUser." call the phone the next StartUA starts

`StandIn` plays that person with baresip (Debian package `baresip`), registered as the test
number through the switch like any phone, driven through its `ctrl_tcp` module (netstrings of
JSON: commands `dial`, `accept`, `hangup`; events `CALL_INCOMING`, `CALL_ESTABLISHED`, ...).
It answers after `ANSWER_DELAY` (a person picks up after a ring or two; the scenarios send an
early UPDATE before the answer), gives up a call it made that rings for `RING_PATIENCE`, and
hangs up once the other phone's scenario waits for the BYE: after the pauses that scenario
takes between the ACK of the answer and its `<recv request="BYE">` (`hold_time`), plus
`HANG_UP_MARGIN`. A call the scenario ends itself ends there.
Re-INVITEs, UPDATEs and media are baresip's own business, as with a person's phone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
import wave
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from .sipp import stop_process
from .suite import QaFile
from .switch import free_port

__all__ = ["ANSWER_DELAY", "Instruction", "StandIn", "StandInAccount", "StandInError",
           "asks_tester", "hold_time", "instruction_of", "take_netstrings"]

log = logging.getLogger(__name__)

ANSWER_DELAY = 2.0  # seconds a call rings at the tester before it answers
HANG_UP_MARGIN = 2.0  # seconds after the called scenario's last pause before the tester hangs up
# Seconds the tester lets its own call ring unanswered before giving up, as a person would
# (the called scenarios answer within 15 s; the switch's no-answer timeout is 120 s).
RING_PATIENCE = 30.0
REGISTER_TIMEOUT = 10.0

# No sound hardware: the microphone is a WAV file of silence read by `aufile`, the speaker an
# `aubridge` device nobody listens to. baresip 1.0 ends a call when its `aufile` source
# reaches the end of the file (and `ausine` runs at 48 kHz only), so the file lasts longer
# than any call of the suite.
MODULES = ("g711.so", "aufile.so", "aubridge.so")
SILENCE_SECONDS = 300
APP_MODULES = ("account.so", "menu.so", "ctrl_tcp.so")


class StandInError(RuntimeError):
    """baresip did not start, did not register, or its control connection broke."""


class Instruction(Enum):
    ANSWER = "answer"
    RING = "ring"  # let it ring, never answer
    CALL = "call"


_INSTRUCTIONS = (
    (re.compile(r"don'?t\s+answer", re.I), Instruction.RING),
    (re.compile(r"please\s+answer", re.I), Instruction.ANSWER),
    (re.compile(r"please\s+call", re.I), Instruction.CALL),
)


def instruction_of(text: str) -> Instruction | None:
    """What a `Print` step asks the tester to do, or None when it asks nothing."""
    for pattern, instruction in _INSTRUCTIONS:
        if pattern.search(text):
            return instruction
    return None


def asks_tester(qa_file: QaFile) -> bool:
    """Whether the file has a `%%TestNumber%%` and a `Print` step telling its tester what to do."""
    return "TestNumber" in qa_file.user_vars and any(
        step.kind == "Print" and instruction_of(str(step.body)) is not None
        for test in qa_file.tests for step in test.steps)


_PAUSE = re.compile(r"<pause\b[^>]*?milliseconds\s*=\s*\"(\d+)\"", re.I)
# The ACK of the answer, received (the scenario answered) or sent (it called).
_FIRST_ACK = re.compile(r"<recv\b[^>]*request\s*=\s*\"ACK\"|^\s*ACK\s+sip:", re.I | re.M)
_BYE = re.compile(r"<recv\b[^>]*request\s*=\s*\"BYE\"", re.I)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def hold_time(scenario: str) -> float | None:
    """Seconds the tester talks before hanging up on the phone playing `scenario` (its text),
    calling or called: the pauses between the ACK of the answer and its `<recv request="BYE">`,
    plus a margin; None when the scenario never waits for a BYE (it hangs up itself)."""
    text = _COMMENT.sub("", scenario)
    bye = _BYE.search(text)
    if bye is None:
        return None
    ack = _FIRST_ACK.search(text, 0, bye.start())
    start = ack.end() if ack is not None else 0
    pauses = sum(int(ms) for ms in _PAUSE.findall(text, start, bye.start()))
    return pauses / 1000 + HANG_UP_MARGIN


def take_netstrings(buffer: bytearray) -> list[bytes]:
    """Take the complete netstrings (`<len>:<data>,`) off the front of `buffer`: how
    baresip's `ctrl_tcp` module frames its JSON messages."""
    found: list[bytes] = []
    while True:
        colon = buffer.find(b":")
        if colon <= 0 or not buffer[:colon].isdigit():
            return found
        size = int(buffer[:colon])
        end = colon + 1 + size
        if len(buffer) <= end:
            return found
        found.append(bytes(buffer[colon + 1:end]))
        del buffer[:end + 1]


def _sip_port(host: str) -> int:
    """A port free for UDP and TCP whose successor is free for TCP (baresip's SIP/TLS)."""
    for _ in range(100):
        port = free_port(host, socket.SOCK_DGRAM)
        try:
            for number in (port, port + 1):
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                    probe.bind((host, number))
        except OSError:
            continue
        return port
    raise StandInError(f"no free port pair for baresip on {host}")


@dataclass(frozen=True)
class StandInAccount:
    number: str
    domain: str
    password: str


class StandIn:
    """One baresip process registered as the tester; see the module's description."""

    def __init__(self, binary: str, home: Path, ip: str, switch_host: str, switch_port: int,
                 account: StandInAccount) -> None:
        self.binary = binary
        self.home = home
        self.ip = ip
        self.account = account
        self.switch = (switch_host, switch_port)
        self.sip_port = _sip_port(ip)
        self.ctrl_port = free_port("127.0.0.1")
        self.log_path = home / "baresip.log"
        self.instruction: Instruction | None = None
        self.events: list[dict[str, Any]] = []
        self._process: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pump: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._timers: set[asyncio.Task[None]] = set()
        self._hold: float | None = None
        self._answers: dict[str, asyncio.Future[str]] = {}
        self._token = 0

    # -- life -------------------------------------------------------------------------------

    def _configure(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        with wave.open(str(self.home / "silence.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            out.writeframes(b"\0\0" * 8000 * SILENCE_SECONDS)
        number = self.account.number
        lines = [
            "poll_method epoll",
            f"sip_listen {self.ip}:{self.sip_port}",
            f"net_interface {self.ip}",
            f"audio_player aubridge,speaker_{number}",
            f"audio_source aufile,{self.home / 'silence.wav'}",
            f"audio_alert aubridge,alert_{number}",
            "audio_srate 8000",
            "audio_channels 1",
            "module_path /usr/lib/baresip/modules",
            *(f"module {name}" for name in MODULES),
            *(f"module_app {name}" for name in APP_MODULES),
            f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
        ]
        (self.home / "config").write_text("\n".join(lines) + "\n")
        host, port = self.switch
        params = [
            f"auth_pass={self.account.password}",
            f'outbound="sip:{host}:{port}"',
            "regint=3600",
            "audio_codecs=PCMA,PCMU",
            "answermode=manual",
        ]
        (self.home / "accounts").write_text(
            f"<sip:{number}@{self.account.domain}>;" + ";".join(params) + "\n")

    async def start(self) -> None:
        """Start baresip and wait until the switch accepted its registration."""
        self._configure()
        with self.log_path.open("wb") as output:
            self._process = await asyncio.create_subprocess_exec(
                self.binary, "-s", "-f", str(self.home), stdin=asyncio.subprocess.DEVNULL,
                stdout=output, stderr=asyncio.subprocess.STDOUT, cwd=self.home,
                start_new_session=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REGISTER_TIMEOUT
        while True:
            if self._process.returncode is not None:
                raise StandInError(f"baresip exited {self._process.returncode}: {self.output()}")
            try:
                reader, self._writer = await asyncio.open_connection("127.0.0.1",
                                                                     self.ctrl_port)
                break
            except OSError:
                if loop.time() > deadline:
                    raise StandInError("baresip's ctrl_tcp did not listen") from None
                await asyncio.sleep(0.05)
        self._pump = asyncio.create_task(self._read_events(reader))
        # The registration may be done before the control connection is: ask, don't wait
        # for the event. `reginfo` lists the account with "OK" once registered.
        while loop.time() < deadline:
            if "OK" in _ANSI.sub("", await self._request("reginfo")):
                return
            await asyncio.sleep(0.2)
        raise StandInError(f"the tester {self.account.number} did not register: "
                           f"{self.output()[-400:]}")

    async def stop(self) -> None:
        for timer in list(self._timers):
            timer.cancel()
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await self._pump
        if self._process is not None and self._process.returncode is None:
            await stop_process(self._process)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- what the Print steps say -----------------------------------------------------------

    def instruct(self, text: str) -> None:
        instruction = instruction_of(text)
        if instruction is not None:
            self.instruction = instruction

    @property
    def wants_to_call(self) -> bool:
        return self.instruction is Instruction.CALL

    def expect_call(self, hold: float | None) -> None:
        """The call to come (when told to answer): hang up `hold` seconds after answering it
        (None: never; the caller's scenario hangs up itself)."""
        self._hold = hold

    async def call(self, number: str, domain: str, hold: float | None) -> None:
        """Dial `number`; hang up `hold` seconds after the answer (None: never)."""
        self.instruction = None
        self._hold = hold
        await self._command("dial", f"sip:{number}@{domain}")
        self._later(RING_PATIENCE, "hangup")

    async def end_of_test(self) -> None:
        """Hang up whatever call is left and forget the instruction."""
        self.instruction = None
        self._hold = None
        for timer in list(self._timers):
            timer.cancel()
        await self._command("hangup")

    # -- baresip ----------------------------------------------------------------------------

    async def _command(self, name: str, params: str = "", token: str = "") -> None:
        if self._writer is None:
            raise StandInError("baresip is not running")
        body = json.dumps({"command": name, "params": params, "token": token or name}).encode()
        self._writer.write(str(len(body)).encode() + b":" + body + b",")
        with contextlib.suppress(OSError):
            await self._writer.drain()

    async def _request(self, name: str, params: str = "") -> str:
        """Run a command and return what baresip answers (its `data`)."""
        self._token += 1
        token = f"{name}-{self._token}"
        answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._answers[token] = answer
        await self._command(name, params, token)
        try:
            return await asyncio.wait_for(answer, 5.0)
        except TimeoutError:
            return ""
        finally:
            self._answers.pop(token, None)

    async def _read_events(self, reader: asyncio.StreamReader) -> None:
        buffer = bytearray()
        while chunk := await reader.read(4096):
            buffer += chunk
            for message in take_netstrings(buffer):
                try:
                    event = json.loads(message)
                except ValueError:
                    continue
                if not isinstance(event, dict):
                    continue
                if event.get("response"):
                    answer = self._answers.get(str(event.get("token")))
                    if answer is not None and not answer.done():
                        answer.set_result(str(event.get("data", "")))
                    continue
                if not event.get("event"):
                    continue
                self.events.append(event)
                self._changed.set()
                self._react(event)

    def _later(self, delay: float, name: str) -> None:
        async def run() -> None:
            await asyncio.sleep(delay)
            await self._command(name)

        task = asyncio.create_task(run())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    def _react(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        log.debug("tester %s: %s", self.account.number, kind)
        if kind == "CALL_INCOMING" and self.instruction is Instruction.ANSWER:
            self._later(ANSWER_DELAY, "accept")
        elif kind == "CALL_ESTABLISHED":
            self._cancel_timers()  # no more giving up on the ringing
            if self._hold is not None:
                self._later(self._hold, "hangup")
        elif kind == "CALL_CLOSED":
            self._cancel_timers()

    def _cancel_timers(self) -> None:
        for timer in list(self._timers):
            timer.cancel()
