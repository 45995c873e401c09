"""Relayed G.711 calls and a conference mix: the SSW media server against rtpengine.

Every figure comes from real processes on loopback. A load generator plays both phones of
N calls: every call sends a 172-octet PCMU packet every 20 ms in each direction (the calls'
20 ms periods are spread evenly over 1 ms slots, as independent phones would be). Each packet
carries its send time (CLOCK_MONOTONIC, ns) in its payload, which a relay does not touch, so
the receiving side measures loss and transit time per packet.

    .venv/bin/python bench/media.py                               # ssw and rtpengine, 500 calls
    .venv/bin/python bench/media.py --relays ssw --calls 100,500,800 --seconds 15
    .venv/bin/python bench/media.py --conference 50               # + 50-member mix

The relays, each pinned to one core (--relay-cpu, default 1) while the generator's sender
and receiver processes share the other (--load-cpu, default 0):
  ssw        python -m ssw.media.server (uvloop), relays created over its control socket
  rtpengine  rtpengine 10.5 in userspace (--table=-1, one worker thread), relays created
             with offer/answer over its ng protocol (bencode over UDP)
  direct     no relay: the phones send to each other (the generator's own floor)

Measured for each relay and call count, over --seconds after a 2 s warm-up:
  loss        packets sent and never received / packets sent (both directions)
  added jitter  per packet, transit minus the smallest transit of its stream; p50/p99/max
  relay CPU   user+system CPU time of the relay process over the window / wall time

The conference run creates one conference of M members on the SSW media server, sends a
different tone from each member and reports the mixer's CPU, the frames each member
received per second (50 expected), and late ticks of the 20 ms media clock.
Benchmarks are not tests: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import array
import contextlib
import json
import multiprocessing
import os
import random
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
HEADER = struct.Struct("!BBHII")
STAMP = struct.Struct("!q")
PACKET_SIZE = 172
WARMUP = 2.0
SO_RCVBUFFORCE, SO_SNDBUFFORCE = 33, 32


# --- the load generator --------------------------------------------------------------------
@dataclass
class Plan:
    """Where each stream goes: stream 2i is call i's A->B, 2i+1 its B->A."""

    destinations: list[tuple[str, int]]  # per stream: the relay port to send to
    seconds: float


def _big_buffers(sock: socket.socket) -> None:
    for option, fallback in ((SO_RCVBUFFORCE, socket.SO_RCVBUF),
                             (SO_SNDBUFFORCE, socket.SO_SNDBUF)):
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, 8 << 20)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, fallback, 8 << 20)


NICE = 0  # set from --nice: the machine may be shared, media processes get priority
REALTIME = 0  # set from --realtime: SCHED_FIFO priority (each relay's own option)


def _autogroup_nice(pid: int) -> None:
    """With kernel.sched_autogroup_enabled, nice only ranks tasks within their session's
    group; the group's own nice is what counts against other sessions (sched(7))."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/autogroup").write_text(str(NICE))


def _pin(cpu: int | None) -> None:
    if cpu is not None and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})
    if NICE:
        with contextlib.suppress(OSError):
            os.setsid()  # a session of its own, so that its autogroup can be given priority
        _autogroup_nice(os.getpid())
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, NICE)
    if REALTIME:
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(REALTIME))


def sender(plan: Plan, socks: tuple[socket.socket, socket.socket], start: float,
           cpu: int | None, result: Connection) -> None:
    """Send every stream's packets on a 20 ms grid, calls spread over twenty 1 ms slots."""
    _pin(cpu)
    streams = len(plan.destinations)
    slots: list[list[int]] = [[] for _ in range(20)]
    for stream in range(streams):
        slots[(stream // 2) % 20].append(stream)
    sequence = [random.getrandbits(16) for _ in range(streams)]
    timestamp = [random.getrandbits(32) for _ in range(streams)]
    buffers = [bytearray(PACKET_SIZE) for _ in range(streams)]
    for buffer in buffers:
        buffer[20:] = b"\xff" * (PACKET_SIZE - 20)
    sent = [0] * streams
    window_sent = 0
    end = start + WARMUP + plan.seconds
    tick = 0
    while True:
        slot_time = start + tick * 0.001
        if slot_time >= end:
            break
        delay = slot_time - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        in_window = slot_time >= start + WARMUP
        for stream in slots[tick % 20]:
            buffer = buffers[stream]
            HEADER.pack_into(buffer, 0, 0x80, 0, sequence[stream], timestamp[stream], stream)
            STAMP.pack_into(buffer, 12, time.monotonic_ns())
            try:
                socks[stream % 2].sendto(buffer, plan.destinations[stream])
            except OSError:
                continue
            sequence[stream] = (sequence[stream] + 1) & 0xFFFF
            timestamp[stream] = (timestamp[stream] + 160) & 0xFFFFFFFF
            sent[stream] += 1
            if in_window:
                window_sent += 1
        tick += 1
    result.send((window_sent, sum(sent)))


def receiver(socks: tuple[socket.socket, socket.socket], streams: int, start: float,
             seconds: float, cpu: int | None, result: Connection) -> None:
    """Receive until the end of the window (+0.5 s); per packet: stream and transit time."""
    _pin(cpu)
    poller = select.epoll()
    by_fd = {s.fileno(): s for s in socks}
    for sock in socks:
        sock.setblocking(False)
        poller.register(sock.fileno(), select.EPOLLIN)
    window_start_ns = int((start + WARMUP) * 1e9)
    window_end_ns = int((start + WARMUP + seconds) * 1e9)
    stop_at = start + WARMUP + seconds + 0.5
    ids = array.array("i")
    transit = array.array("q")
    buffer = bytearray(2048)
    received_total = 0
    while time.monotonic() < stop_at:
        for fd, _ in poller.poll(0.05):
            sock = by_fd[fd]
            while True:
                try:
                    size = sock.recv_into(buffer)
                except BlockingIOError:
                    break
                now = time.monotonic_ns()
                if size < 20:
                    continue
                received_total += 1
                stream = int.from_bytes(buffer[8:12], "big")
                (sent_ns,) = STAMP.unpack_from(buffer, 12)
                if window_start_ns <= sent_ns < window_end_ns and stream < streams:
                    ids.append(stream)
                    transit.append(now - sent_ns)
    result.send((ids.tobytes(), transit.tobytes(), received_total))


@dataclass
class Figures:
    relay: str
    calls: int
    sent: int
    received: int
    loss: float
    jitter_p50_ms: float
    jitter_p99_ms: float
    jitter_max_ms: float
    relay_cpu: float | None


def run_load(relay: str, calls: int, plan: Plan, socks: tuple[socket.socket, socket.socket],
             load_cpu: int | None, pid: int | None) -> Figures:
    ctx = multiprocessing.get_context("fork")
    start = time.monotonic() + 0.5
    send_in, send_out = ctx.Pipe(duplex=False)
    recv_in, recv_out = ctx.Pipe(duplex=False)
    receiving = ctx.Process(target=receiver, args=(socks, len(plan.destinations), start,
                                                   plan.seconds, load_cpu, recv_out))
    sending = ctx.Process(target=sender, args=(plan, socks, start, load_cpu, send_out))
    receiving.start()
    sending.start()
    time.sleep(max(0.0, start + WARMUP - time.monotonic()))
    cpu_before = _cpu_seconds(pid)
    time.sleep(plan.seconds)
    cpu_after = _cpu_seconds(pid)
    window_sent, _ = send_in.recv()
    ids_raw, transit_raw, _ = recv_in.recv()
    sending.join()
    receiving.join()
    ids = np.frombuffer(ids_raw, dtype=np.int32)
    transit = np.frombuffer(transit_raw, dtype=np.int64).astype(np.float64) / 1e6
    added = np.zeros(0)
    if ids.size:
        minimum = np.full(len(plan.destinations), np.inf)
        np.minimum.at(minimum, ids, transit)
        added = transit - minimum[ids]
    received = int(ids.size)
    cpu = None
    if cpu_before is not None and cpu_after is not None:
        cpu = (cpu_after - cpu_before) / plan.seconds
    return Figures(relay, calls, window_sent, received,
                   max(0.0, (window_sent - received) / window_sent) if window_sent else 0.0,
                   float(np.percentile(added, 50)) if added.size else float("nan"),
                   float(np.percentile(added, 99)) if added.size else float("nan"),
                   float(added.max()) if added.size else float("nan"), cpu)


def _cpu_seconds(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the relays ---------------------------------------------------------------------------
class Relay:
    name = ""
    pid: int | None = None

    def setup(self, calls: int, a: tuple[str, int], b: tuple[str, int]
              ) -> list[tuple[str, int]]:
        """Create `calls` relays between phone sockets `a` and `b`; per-stream destinations."""
        raise RuntimeError("abstract")

    def teardown(self, calls: int) -> None:
        """Delete the relays made by `setup`."""

    def stop(self) -> None:
        """Stop the relay process."""


class Direct(Relay):
    name = "direct"

    def setup(self, calls: int, a: tuple[str, int], b: tuple[str, int]
              ) -> list[tuple[str, int]]:
        return [b, a] * calls


def _start(command: list[str], cpu: int | None) -> subprocess.Popen[bytes]:
    if cpu is not None and cpu < (os.cpu_count() or 1) and shutil.which("taskset"):
        command = ["taskset", "-c", str(cpu), *command]
    if NICE:
        command = ["nice", "-n", str(NICE), *command]
        if shutil.which("setsid"):
            command = ["setsid", *command]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if NICE:
        time.sleep(0.05)  # setsid has run by now: the relay leads its own autogroup
        _autogroup_nice(process.pid)
    return process


class SswMedia(Relay):
    name = "ssw"

    def __init__(self, cpu: int | None, data_dir: Path) -> None:
        self.process = _start([sys.executable, "-m", "ssw.media.server", "--control",
                               "tcp:127.0.0.1:0", "--ports", "30000-39999", "--rtp-timeout",
                               "0", "--data-dir", str(data_dir), "--log-level", "WARNING",
                               "--prompts", "skip", "--realtime", str(REALTIME)], cpu)
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().decode().split()
        if not ready or ready[0] != "ready":
            raise RuntimeError("the SSW media server did not start")
        host, port = ready[1].removeprefix("tcp:").rsplit(":", 1)
        self.pid = self.process.pid
        self.control = socket.create_connection((host, int(port)))
        self.reader = self.control.makefile("rb")
        self._ids = 0

    def request(self, **body: Any) -> dict[str, Any]:
        self._ids += 1
        self.control.sendall(json.dumps({"id": self._ids, **body}).encode() + b"\n")
        while True:
            answer: dict[str, Any] = json.loads(self.reader.readline())
            if "event" not in answer:
                break
        if not answer.get("ok"):
            raise RuntimeError(f"media server refused {body}: {answer.get('error')}")
        return answer

    def setup(self, calls: int, a: tuple[str, int], b: tuple[str, int]
              ) -> list[tuple[str, int]]:
        destinations: list[tuple[str, int]] = []
        for call in range(calls):
            legs = self.request(cmd="allocate", relay=f"c{call}")["legs"]
            self.request(cmd="update", relay=f"c{call}", leg=0, address=a[0], port=a[1])
            self.request(cmd="update", relay=f"c{call}", leg=1, address=b[0], port=b[1])
            destinations += [(HOST, legs[0]["rtp_port"]), (HOST, legs[1]["rtp_port"])]
        return destinations

    def teardown(self, calls: int) -> None:
        for call in range(calls):
            self.request(cmd="release", relay=f"c{call}")

    def stop(self) -> None:
        self.control.close()
        _terminate(self.process)


def bencode(value: Any) -> bytes:
    if isinstance(value, bytes):
        return str(len(value)).encode() + b":" + value
    if isinstance(value, str):
        return bencode(value.encode())
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in sorted(value.items())) + b"e"
    raise TypeError(type(value))


def bdecode(data: bytes, index: int = 0) -> tuple[Any, int]:
    lead = data[index:index + 1]
    if lead == b"i":
        end = data.index(b"e", index)
        return int(data[index + 1:end]), end + 1
    if lead in (b"l", b"d"):
        index += 1
        items: list[Any] = []
        while data[index:index + 1] != b"e":
            item, index = bdecode(data, index)
            items.append(item)
        if lead == b"l":
            return items, index + 1
        return {items[i].decode(): items[i + 1] for i in range(0, len(items), 2)}, index + 1
    colon = data.index(b":", index)
    length = int(data[index:colon])
    return data[colon + 1:colon + 1 + length], colon + 1 + length


def _sdp(address: tuple[str, int], session: int) -> str:
    return (f"v=0\r\no=- {session} 1 IN IP4 {address[0]}\r\ns=-\r\nc=IN IP4 {address[0]}\r\n"
            f"t=0 0\r\nm=audio {address[1]} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=sendrecv\r\n")


def _sdp_port(sdp: bytes) -> int:
    for line in sdp.decode().splitlines():
        if line.startswith("m=audio "):
            return int(line.split()[1])
    raise RuntimeError("rtpengine answered an SDP without m=audio")


class RtpEngine(Relay):
    name = "rtpengine"

    def __init__(self, cpu: int | None, threads: int) -> None:
        binary = shutil.which("rtpengine")
        if binary is None:
            raise RuntimeError("rtpengine is not installed (apt-get install rtpengine-daemon)")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((HOST, 0))
            self.ng_port = probe.getsockname()[1]
        self.scratch = tempfile.mkdtemp(prefix="rtpengine-")
        self.process = _start([binary, "--foreground", "--table=-1", f"--interface={HOST}",
                               f"--listen-ng={HOST}:{self.ng_port}", "--port-min=40000",
                               "--port-max=49999", "--log-stderr", "--log-level=3",
                               f"--num-threads={threads}", "--delete-delay=0",
                               f"--pidfile={self.scratch}/pid",
                               *(["--scheduling=fifo", f"--priority={REALTIME}"]
                                 if REALTIME else [])], cpu)
        self.pid = self.process.pid
        self.ng = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.ng.settimeout(2)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.command({"command": "ping"})
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("rtpengine did not start") from None
                time.sleep(0.2)

    def command(self, body: dict[str, Any]) -> dict[str, Any]:
        cookie = f"{random.getrandbits(48):x}".encode()
        self.ng.sendto(cookie + b" " + bencode(body), (HOST, self.ng_port))
        while True:
            data, _ = self.ng.recvfrom(65536)
            if data.startswith(cookie + b" "):
                break
        answer, _ = bdecode(data[len(cookie) + 1:])
        result = answer.get("result", b"").decode() if isinstance(answer, dict) else ""
        if result not in ("ok", "pong"):
            raise RuntimeError(f"rtpengine: {answer}")
        return dict(answer)

    def setup(self, calls: int, a: tuple[str, int], b: tuple[str, int]
              ) -> list[tuple[str, int]]:
        destinations: list[tuple[str, int]] = []
        for call in range(calls):
            common = {"call-id": f"bench-{call}", "from-tag": f"a{call}",
                      "replace": ["origin"], "ICE": "remove"}
            offered = self.command({"command": "offer", "sdp": _sdp(a, call), **common})
            answered = self.command({"command": "answer", "sdp": _sdp(b, call),
                                     "to-tag": f"b{call}", **common})
            # A sends to the port in the answer given to A; B to the one in the offer given to B
            destinations += [(HOST, _sdp_port(answered["sdp"])),
                             (HOST, _sdp_port(offered["sdp"]))]
        return destinations

    def teardown(self, calls: int) -> None:
        for call in range(calls):
            with contextlib.suppress(RuntimeError, OSError):
                self.command({"command": "delete", "call-id": f"bench-{call}",
                              "from-tag": f"a{call}"})

    def stop(self) -> None:
        self.ng.close()
        _terminate(self.process)
        shutil.rmtree(self.scratch, ignore_errors=True)


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


@contextlib.contextmanager
def phone_sockets() -> Iterator[tuple[socket.socket, socket.socket]]:
    socks = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
             socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    try:
        for sock in socks:
            sock.bind((HOST, 0))
            _big_buffers(sock)
        yield socks
    finally:
        for sock in socks:
            sock.close()


def bench_relay(relay: Relay, counts: Sequence[int], seconds: float, load_cpu: int | None
                ) -> list[Figures]:
    figures = []
    for calls in counts:
        with phone_sockets() as socks:
            a, b = socks[0].getsockname(), socks[1].getsockname()
            destinations = relay.setup(calls, a, b)
            try:
                # stream 2i (A->B) leaves from A's socket, 2i+1 (B->A) from B's
                result = run_load(relay.name, calls, Plan(destinations, seconds), socks,
                                  load_cpu, relay.pid)
            finally:
                relay.teardown(calls)
        print(_row(result), flush=True)
        figures.append(result)
    return figures


# --- the conference -----------------------------------------------------------------------
def bench_conference(members: int, seconds: float, relay_cpu: int | None,
                     load_cpu: int | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as data_dir:
        server = SswMedia(relay_cpu, Path(data_dir))
        try:
            server.request(cmd="conference_create", conference="bench")
            socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(members)]
            ports = []
            for index, sock in enumerate(socks):
                sock.bind((HOST, 0))
                sock.setblocking(False)
                _big_buffers(sock)
                answer = server.request(cmd="conference_join", conference="bench",
                                        member=f"m{index}")
                server.request(cmd="conference_update", conference="bench", member=f"m{index}",
                               address=HOST, port=sock.getsockname()[1], payload_type=0)
                ports.append(answer["rtp_port"])
            figures = _drive_conference(socks, ports, seconds, load_cpu, server.pid)
            figures["late_ticks"] = server.request(cmd="stats")["late_ticks"]
            for sock in socks:
                sock.close()
        finally:
            server.stop()
    return figures


def _drive_conference(socks: list[socket.socket], ports: list[int], seconds: float,
                      load_cpu: int | None, pid: int | None) -> dict[str, Any]:
    """Send a tone from every member for WARMUP + seconds; count what each receives."""
    from ssw.media.g711 import ulaw_encode
    from ssw.media.tones import sine

    _pin(load_cpu)
    frames = [ulaw_encode(sine(300 + 20 * i, 1.0, amplitude=0.05)) for i in range(len(socks))]
    received = [0] * len(socks)
    start = time.monotonic()
    cpu_before: float | None = None
    buffer = bytearray(2048)
    tick = 0
    while True:
        due = start + tick * 0.02
        if due > start + WARMUP + seconds:
            break
        if cpu_before is None and due >= start + WARMUP:
            cpu_before = _cpu_seconds(pid)
            received = [0] * len(socks)
        while time.monotonic() < due:
            for index, sock in enumerate(socks):
                with contextlib.suppress(BlockingIOError):
                    while sock.recv_into(buffer):
                        received[index] += 1
            time.sleep(0.001)
        offset = (tick % 50) * 160
        for index, sock in enumerate(socks):
            header = HEADER.pack(0x80, 0, tick & 0xFFFF, tick * 160 & 0xFFFFFFFF, 1000 + index)
            sock.sendto(header + frames[index][offset:offset + 160], (HOST, ports[index]))
        tick += 1
    cpu_after = _cpu_seconds(pid)
    cpu = ((cpu_after - cpu_before) / seconds
           if cpu_before is not None and cpu_after is not None else None)
    rates = [count / seconds for count in received]
    return {"members": len(socks), "mixer_cpu": cpu, "frames_per_s_min": min(rates),
            "frames_per_s_mean": sum(rates) / len(rates)}


# --- output -------------------------------------------------------------------------------
def _row(f: Figures) -> str:
    cpu = f"{100 * f.relay_cpu:.0f} %" if f.relay_cpu is not None else "—"
    return (f"| {f.relay} | {f.calls} | {f.sent} | {100 * f.loss:.3f} % | "
            f"{f.jitter_p50_ms:.2f} | {f.jitter_p99_ms:.2f} | {f.jitter_max_ms:.1f} | {cpu} |")


HEADER_ROW = ("| relay | calls | packets sent | loss | added jitter p50 (ms) | p99 (ms) | "
              "max (ms) | relay CPU |\n|---|---|---|---|---|---|---|---|")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--relays", default="ssw,rtpengine",
                        help="comma list of ssw, rtpengine, direct")
    parser.add_argument("--calls", default="100,300,500", help="comma list of call counts")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window per step")
    parser.add_argument("--relay-cpu", type=int, default=1, help="core for the relay (-1: any)")
    parser.add_argument("--load-cpu", type=int, default=0, help="core for the generator")
    parser.add_argument("--rtpengine-threads", type=int, default=1)
    parser.add_argument("--conference", type=int, default=0,
                        help="members of a conference to mix (0: skip)")
    parser.add_argument("--nice", type=int, default=-10,
                        help="priority of relays and generator (needs root below 0; 0: as is)")
    parser.add_argument("--realtime", type=int, default=0,
                        help="SCHED_FIFO priority (1-99) for relays and generator; 0: off")
    args = parser.parse_args(argv)
    global NICE, REALTIME
    NICE, REALTIME = args.nice, args.realtime
    relay_cpu = None if args.relay_cpu < 0 else args.relay_cpu
    load_cpu = None if args.load_cpu < 0 else args.load_cpu
    counts = [int(c) for c in args.calls.split(",") if c]
    print(HEADER_ROW, flush=True)
    for name in [n.strip() for n in args.relays.split(",") if n.strip()]:
        relay: Relay
        with tempfile.TemporaryDirectory() as data_dir:
            if name == "ssw":
                relay = SswMedia(relay_cpu, Path(data_dir))
            elif name == "rtpengine":
                relay = RtpEngine(relay_cpu, args.rtpengine_threads)
            elif name == "direct":
                relay = Direct()
            else:
                parser.error(f"unknown relay {name!r}")
            try:
                bench_relay(relay, counts, args.seconds, load_cpu)
            finally:
                relay.stop()
    if args.conference:
        figures = bench_conference(args.conference, args.seconds, relay_cpu, load_cpu)
        cpu = figures["mixer_cpu"]
        print(f"\nconference of {figures['members']} members: mixer CPU "
              f"{100 * cpu:.0f} % of a core, frames received per member per second "
              f"min {figures['frames_per_s_min']:.1f} mean {figures['frames_per_s_mean']:.1f} "
              f"(50 expected), late media-clock ticks {figures['late_ticks']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
