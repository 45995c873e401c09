"""Calls with real RTP through `ssw run` and its media server (docs/MEDIA.md).

SIPp does the signalling (scenarios in scenarios/media/); the media of each phone is an
`RtpPeer` of the test (tests/media/media_peers.py) whose port the scenario writes in its
SDP (-key rtp_port). The scenarios log the address and port the switch put in the SDP they
received ("relay ADDRESS PORT", -trace_logs), which is where the peer sends its RTP.

    call = await MediaCall.start(sipp, switch, alice, bob.number, caller_peer, callee_peer)
    a_port, b_port = await call.relay_ports()
    talker = Talker(caller_peer, a_port, 600.0)          # 20 ms frames until stopped
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from e2e_support import Sipp, SippResult, free_port
from switch import Subscriber, SwitchProcess, caller_args, udp_bound

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "media"))
from media_peers import RtpPeer, new_peer

from ssw.media.g711 import encode
from ssw.media.tones import sine

__all__ = ["MediaCall", "RtpPeer", "Talker", "new_peer", "wait_until"]

MEDIA_SCENARIOS = "media"
RELAY_LINE = re.compile(rb"relay (\d+\.\d+\.\d+\.\d+) (\d+)")


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` every 20 ms; AssertionError naming `what` after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout} s")
        await asyncio.sleep(0.02)


def relay_address(log: Path) -> tuple[str, int] | None:
    """The "relay ADDRESS PORT" a scenario logged, if it did yet."""
    try:
        found = RELAY_LINE.search(log.read_bytes())
    except OSError:
        return None
    return (found[1].decode(), int(found[2])) if found else None


class Talker:
    """Sends 20 ms G.711 frames of a tone (0 Hz: silence) from `peer` to `port` until stopped,
    keeping the call's RTP alive; the tone can be changed while it runs."""

    def __init__(self, peer: RtpPeer, port: int, frequency: float = 0.0) -> None:
        self.peer = peer
        self.port = port
        self.frequency = frequency
        self.sent = 0
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        silence = np.zeros(160, dtype=np.int16)
        while True:
            # a whole number of cycles per second: the frames join without a phase jump
            index = (self.sent % 50) * 160
            tone = sine(self.frequency, 1.0)[index:index + 160] if self.frequency else silence
            assert self.peer.transport is not None
            self.peer.transport.sendto(self.peer.packet(encode("pcmu", tone)),
                                       ("127.0.0.1", self.port))
            self.sent += 1
            await asyncio.sleep(max(0.0, start + self.sent * 0.02 - loop.time()))

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@dataclass
class MediaCall:
    """A caller and (optionally) a callee SIPp running one call through the switch."""

    caller_task: asyncio.Task[SippResult]
    callee_task: asyncio.Task[SippResult] | None
    caller_log: Path
    callee_log: Path | None

    @classmethod
    async def start(cls, sipp: Sipp, switch: SwitchProcess, caller: Subscriber, called: str,
                    caller_peer: RtpPeer, *, callee_peer: RtpPeer | None = None,
                    callee_port: int | None = None, uac: str = "uac_media.xml",
                    talk_ms: int = 8000, uas: str = "uas_media.xml",
                    uas_extra: Sequence[str] = (), uac_extra: Sequence[str] = ()
                    ) -> MediaCall:
        tag = free_port(socket.SOCK_DGRAM)  # unique enough for the log names of one test
        callee_task = callee_log = None
        if callee_peer is not None:
            assert callee_port is not None
            callee_log = sipp.workdir / f"uas-{tag}.log"
            callee_task = asyncio.create_task(sipp.run(
                f"{MEDIA_SCENARIOS}/{uas}", switch.target, calls=1, timeout=40,
                extra=["-p", str(callee_port), "-key", "rtp_port", str(callee_peer.port),
                       "-trace_logs", "-log_file", str(callee_log), *uas_extra]))
            await udp_bound(callee_port)
        caller_log = sipp.workdir / f"uac-{tag}.log"
        caller_task = asyncio.create_task(sipp.run(
            f"{MEDIA_SCENARIOS}/{uac}", switch.target, calls=1, timeout=40,
            extra=[*caller_args(caller, called), "-key", "rtp_port", str(caller_peer.port),
                   "-d", str(talk_ms), "-trace_logs", "-log_file", str(caller_log),
                   *uac_extra]))
        return cls(caller_task, callee_task, caller_log, callee_log)

    async def relay(self, log: Path, timeout: float = 15.0) -> tuple[str, int]:
        await wait_until(lambda: relay_address(log) is not None or self.caller_task.done(),
                         timeout, f"the relay address in {log.name}")
        found = relay_address(log)
        if found is None:
            result = await self.caller_task
            raise AssertionError("the call ended before its SDP arrived:\n" + result.describe())
        return found

    async def relay_ports(self) -> tuple[int, int]:
        """Where the caller and the callee must send RTP: (caller's, callee's) relay port,
        each checked to name the switch's address."""
        assert self.callee_log is not None
        (a_host, a_port), (b_host, b_port) = await asyncio.gather(
            self.relay(self.caller_log), self.relay(self.callee_log))
        assert a_host == b_host == "127.0.0.1"
        return a_port, b_port

    async def results(self) -> tuple[SippResult, SippResult | None]:
        caller = await self.caller_task
        callee = await self.callee_task if self.callee_task is not None else None
        return caller, callee
