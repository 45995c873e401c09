"""The peers of `bench/calls.py`: the switch, Sippy B2BUA and Kamailio, each started as its
own process on a free port of 127.0.0.1 and stopped by its PID, and the small process and
socket helpers they share with the measurements."""

from __future__ import annotations

import abc
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "tests" / "e2e" / "scenarios" / "calls"
KAMAILIO_CFG = ROOT / "bench" / "peers" / "kamailio.cfg"
KAMAILIO_PASSWORD = "bench-secret"  # BENCH_PASSWORD in kamailio.cfg
HOST = "127.0.0.1"
DOMAIN = "bench.ssw"
CALLER, CALLEE = "100", "200"
FIRST_REGISTRANT = 10000


def free_port(kind: socket.SocketKind = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def free_sip_port() -> int:
    """Free for UDP and TCP alike (the switch listens on both)."""
    while True:
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
        return port


def stop_pid(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM, then SIGKILL: only this process, by its PID."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(grace)


def pss_kib(root_pid: int) -> int:
    """Proportional set size of a process and its descendants, in KiB (shared pages split)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
    return total



class Peer(abc.ABC):
    name = ""
    registrar = True  # callee and caller register; REGISTER/s is measured
    password = ""

    def __init__(self, workdir: Path, *, relay_media: bool = False) -> None:
        self.workdir = workdir
        self.relay_media = relay_media  # only the switch has a media relay to turn on
        self.port = free_sip_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def target(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @abc.abstractmethod
    def start(self, callee_port: int) -> None:
        """Start the peer; calls to CALLEE must reach a UAS on `callee_port`."""

    @abc.abstractmethod
    def add_registrants(self, count: int) -> None:
        """Make `count` subscribers from FIRST_REGISTRANT known to the peer."""

    def stop(self) -> None:
        if self.process is not None:
            stop_pid(self.process)


def _wait_udp_answer(port: int, process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Wait until an OPTIONS to `port` gets any answer (the peer serves SIP)."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        sock.settimeout(0.3)
        local = sock.getsockname()[1]
        probe = (f"OPTIONS sip:{HOST}:{port} SIP/2.0\r\n"
                 f"Via: SIP/2.0/UDP {HOST}:{local};rport;branch=z9hG4bK-probe{local}\r\n"
                 f"From: <sip:probe@{HOST}>;tag=1\r\nTo: <sip:{HOST}>\r\n"
                 f"Call-ID: probe{local}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                 "Content-Length: 0\r\n\r\n").encode()
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"peer exited with {process.returncode}")
            sock.sendto(probe, (HOST, port))
            with contextlib.suppress(TimeoutError):
                sock.recvfrom(65535)
                return
    raise RuntimeError(f"nothing answers SIP on {port}")


class SswPeer(Peer):
    name = "ssw"
    password = "bench-secret"

    def start(self, callee_port: int) -> None:
        data = self.workdir / "ssw-data"
        ready = free_port(socket.SOCK_STREAM)
        argv = [sys.executable, "-m", "ssw.cli", "run", "--data-dir", str(data),
                "--address", HOST, "--sip-port", str(self.port), "--sip-tls-port", "0",
                "--ready-port", str(ready), "--cocon-port", "0", "--http-terminal-port", "0",
                "--log-level", "WARNING"]
        if not self.relay_media:
            argv.append("--no-media")  # like Sippy and Kamailio: SDP passes end to end
        log = (self.workdir / "ssw.log").open("wb")
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 30
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                if probe.connect_ex((HOST, ready)) == 0:
                    break
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = (self.workdir / "ssw.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"ssw run did not become ready:\n{tail}")
            time.sleep(0.05)
        self.cocon(f"domain/declare {DOMAIN}",
                   f"/domain/{DOMAIN}/sip/user/declare default_routing sip.bench "
                   f"{{{CALLER},{CALLEE}}}@{DOMAIN} none no_qop_authentication "
                   f"login-as-number {self.password}")

    def cocon(self, *lines: str) -> None:
        subprocess.run([sys.executable, "-m", "ssw.cli", "cocon", "--data-dir",
                        str(self.workdir / "ssw-data"), "-c", "\n".join(lines)],
                       check=True, stdout=subprocess.DEVNULL)

    def add_registrants(self, count: int) -> None:
        last = FIRST_REGISTRANT + count - 1
        self.cocon(f"/domain/{DOMAIN}/sip/user/declare default_routing sip.bench "
                   f"{{{FIRST_REGISTRANT}-{last}}}@{DOMAIN} none no_qop_authentication "
                   f"login-as-number {self.password}")


class SippyPeer(Peer):
    name = "sippy"
    registrar = False

    def start(self, callee_port: int) -> None:
        binary = Path(sys.executable).with_name("b2bua_simple")
        argv = [str(binary), "-f", "-l", HOST, "-p", str(self.port),
                "-n", f"{HOST}:{callee_port}", "-L", str(self.workdir / "sippy.log")]
        log = (self.workdir / "sippy.out").open("wb")
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, cwd=self.workdir)
        log.close()
        _wait_udp_answer(self.port, self.process)

    def add_registrants(self, count: int) -> None:
        raise RuntimeError("Sippy B2BUA has no registrar to measure")


class KamailioPeer(Peer):
    name = "kamailio"
    password = KAMAILIO_PASSWORD

    def start(self, callee_port: int) -> None:
        runtime = self.workdir / "kamailio-run"
        runtime.mkdir()
        argv = ["/usr/sbin/kamailio", "-f", str(KAMAILIO_CFG), "-l", f"udp:{HOST}:{self.port}",
                "-DD", "-E", "-n", "4", "-m", "1024", "-M", "16", "-Y", str(runtime),
                "-P", str(runtime / "kamailio.pid"), "-w", str(runtime)]
        log = (self.workdir / "kamailio.log").open("wb")
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT)
        log.close()
        _wait_udp_answer(self.port, self.process)

    def add_registrants(self, count: int) -> None:
        """Nothing to add: kamailio.cfg takes any user name with the one password."""


PEERS: dict[str, type[Peer]] = {"ssw": SswPeer, "sippy": SippyPeer, "kamailio": KamailioPeer}
