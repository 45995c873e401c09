"""Calls and registrations per second: the switch against Sippy B2BUA and Kamailio, with SIPp.

Every figure comes from real processes on loopback: a SIPp caller sends calls through the
peer to a SIPp callee (both registered subscribers where the peer has a registrar; the caller
answers the peer's digest challenge of every INVITE with -au/-ap), at a rising call rate.

    .venv/bin/python bench/calls.py                        # all peers, about eight minutes
    .venv/bin/python bench/calls.py --peers ssw --rates 100,500,1000

Per peer: the highest clean call rate (no failed call, kept pace, p99 INVITE->200 under
--max-p99-ms), p50/p99 INVITE->200, memory per established call (PSS growth with
--held-calls calls up) and the highest clean REGISTER-with-digest rate; bench/README.md
defines each. The peers: `ssw run` (SQLite in a temporary data directory, logging at
WARNING), Sippy B2BUA (`b2bua_simple`, relays every INVITE to the callee, never
authenticates) and Kamailio 5.6 with bench/peers/kamailio.cfg. Benchmarks are not tests:
nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from call_peers import (
    CALLEE,
    CALLER,
    DOMAIN,
    FIRST_REGISTRANT,
    HOST,
    PEERS,
    SCENARIOS,
    Peer,
    free_port,
    pss_kib,
    stop_pid,
)

DEFAULT_RATES = (50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 2500, 3000, 4000)
DEFAULT_REGISTER_RATES = (100, 200, 500, 1000, 1500, 2000, 3000, 4000, 6000, 8000, 10000)
# ---------------------------------------------------------------------- SIPp


@dataclass
class SippRun:
    returncode: int
    stats: dict[str, str]
    rtt_ms: list[float]
    elapsed: float

    def stat(self, name: str) -> int:
        return int(self.stats.get(f"{name}(C)", "0") or 0)


@dataclass
class Launched:
    process: subprocess.Popen[bytes]
    stat_file: Path
    timeout: float
    started: float


class Sipp:
    """SIPp runs in one scratch directory; every process is stopped by its PID."""

    def __init__(self, workdir: Path) -> None:
        self.binary = shutil.which("sipp") or "sipp"
        self.workdir = workdir
        self.background: list[subprocess.Popen[bytes]] = []
        self._runs = 0

    def _argv(self, scenario: str, port: int, extra: Sequence[str]) -> list[str]:
        return [self.binary, "-sf", str(SCENARIOS / scenario), "-i", HOST, "-p", str(port),
                "-t", "u1", "-nostdin", "-l", "200000", "-max_recv_loops", "10000", *extra]

    def start_uas(self, scenario: str, port: int) -> None:
        argv = self._argv(scenario, port, [])
        process = subprocess.Popen(argv, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.background.append(process)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # bound once SIPp holds the port
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                try:
                    probe.bind((HOST, port))
                except OSError:
                    return
            time.sleep(0.02)
        raise RuntimeError(f"SIPp UAS did not bind {port}")

    def launch(self, scenario: str, target: str, *, calls: int, rate: int,
               extra: Sequence[str], timeout: float, rtt: bool = False,
               port: int | None = None) -> Launched:
        """Start a SIPp caller; `collect` waits for it."""
        self._runs += 1
        stat_file = self.workdir / f"run{self._runs}_stat.csv"
        argv = self._argv(scenario, port or free_port(), [
            target, "-m", str(calls), "-r", str(rate), "-rp", "1000",
            "-recv_timeout", "10000", "-timeout", f"{int(timeout)}s", "-timeout_error",
            "-trace_stat", "-stf", str(stat_file), "-fd", "1", *extra,
        ])  # fmt: skip
        if rtt:
            argv += ["-trace_rtt", "-rtt_freq", "1"]
        process = subprocess.Popen(argv, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return Launched(process, stat_file, timeout, time.monotonic())

    def collect(self, launched: Launched) -> SippRun:
        process = launched.process
        try:
            process.wait(launched.timeout + 10)
        except subprocess.TimeoutExpired:
            stop_pid(process)
        elapsed = time.monotonic() - launched.started
        rtts = []
        for path in self.workdir.glob(f"*_{process.pid}_rtt.csv"):
            for row in csv.reader(path.read_text().splitlines()[1:], delimiter=";"):
                if len(row) >= 2:
                    rtts.append(float(row[1]))
            path.unlink()
        return SippRun(process.returncode if process.returncode is not None else -1,
                       _last_row(launched.stat_file), rtts, elapsed)

    def run(self, scenario: str, target: str, **options: Any) -> SippRun:
        return self.collect(self.launch(scenario, target, **options))

    def stop_all(self) -> None:
        for process in self.background:
            stop_pid(process)
        self.background.clear()


def _last_row(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    rows = list(csv.reader(path.read_text(errors="replace").splitlines(), delimiter=";"))
    return dict(zip(rows[0], rows[-1], strict=False)) if len(rows) >= 2 else {}

# ---------------------------------------------------------------------- measurements


@dataclass
class Result:
    peer: str
    clean_cps: int = 0
    first_failure: str = ""
    latency_rate: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    kib_per_call: float | None = None
    held_calls: int = 0
    clean_reg: int | None = None
    reg_failure: str = ""
    steps: list[str] = field(default_factory=list)


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _register(sipp: Sipp, peer: Peer, number: str, port: int) -> None:
    run = sipp.run("register.xml", peer.target, calls=1, rate=1, timeout=10, port=port, extra=[
        "-key", "user", number, "-key", "domain", DOMAIN,
        "-key", "contact", f"<sip:{number}@{HOST}:{port}>", "-key", "expires", "3600",
        "-au", number, "-ap", peer.password,
    ])  # fmt: skip
    if run.returncode != 0:
        raise RuntimeError(f"{peer.name}: registering {number} failed")


def _launch_calls(sipp: Sipp, peer: Peer, *, calls: int, rate: int, hold_ms: int,
                  rtt: bool = False) -> Launched:
    extra = ["-s", CALLEE, "-key", "caller", CALLER, "-key", "domain", DOMAIN,
             "-d", str(hold_ms)]
    if peer.password:
        extra += ["-au", CALLER, "-ap", peer.password]
    timeout = calls / rate + hold_ms / 1000 + 40
    return sipp.launch("uac_call.xml", peer.target, calls=calls, rate=rate, extra=extra,
                       timeout=timeout, rtt=rtt)


def _calls(sipp: Sipp, peer: Peer, *, calls: int, rate: int, hold_ms: int,
           rtt: bool = False) -> SippRun:
    return sipp.collect(_launch_calls(sipp, peer, calls=calls, rate=rate, hold_ms=hold_ms,
                                      rtt=rtt))


def _why(run: SippRun) -> str:
    if run.returncode or run.stat("FailedCall"):
        return "failed calls"
    return "fell behind or answered slowly"


def _wait_all_established(launched: Launched, calls: int, timeout: float) -> bool:
    """Wait until SIPp has placed all `calls` (its stat file, written every second with
    -fd 1, counts them) and two more seconds for the last ones to be answered; True when
    they are all still up (none ended or failed: the talk time outlasts the wait)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        stats = _last_row(launched.stat_file)
        if int(stats.get("OutgoingCall(C)", "0") or 0) == calls:
            time.sleep(2)
            stats = _last_row(launched.stat_file)
            failed = int(stats.get("FailedCall(C)", "0") or 0)
            return launched.process.poll() is None and failed == 0
    return False


def _clean(run: SippRun, expected: int, rate: int | None = None, hold_ms: int = 0,
           max_p99_ms: float | None = None) -> bool:
    """Every call succeeded and, for a rate step, the peer kept pace: the step took at most
    a quarter longer than sending it does, plus the talk time and one second, and (when
    given) 99 % of the calls were answered within `max_p99_ms`."""
    ok = (run.returncode == 0 and run.stat("SuccessfulCall") == expected
          and run.stat("FailedCall") == 0)
    if ok and rate is not None:
        ok = run.elapsed <= 1.25 * expected / rate + hold_ms / 1000 + 1.0
    if ok and max_p99_ms is not None and run.rtt_ms:
        ok = _percentile(run.rtt_ms, 0.99) <= max_p99_ms
    return ok


def _memory_per_call(sipp: Sipp, peer: Peer, args: argparse.Namespace,
                     result: Result) -> None:
    """Hold --held-calls calls at once; the peer's memory growth per call."""
    before = pss_kib(peer.pid)
    held, rate = args.held_calls, args.held_rate
    hold_ms = int((held / rate + 8) * 1000)
    holder = _launch_calls(sipp, peer, calls=held, rate=rate, hold_ms=hold_ms)
    if _wait_all_established(holder, held, timeout=held / rate + 6):
        during = pss_kib(peer.pid)
        if _clean(sipp.collect(holder), held):
            result.held_calls = held
            result.kib_per_call = (during - before) / held
    else:
        sipp.collect(holder)


def _rate_steps(sipp: Sipp, peer: Peer, args: argparse.Namespace, result: Result) -> None:
    """Rising call rate until a step is not clean (after --tries attempts)."""
    ok = False
    for rate in args.rates:
        calls = rate * args.step_seconds
        for attempt in range(1, args.tries + 1):
            run = _calls(sipp, peer, calls=calls, rate=rate, hold_ms=args.hold_ms,
                         rtt=True)
            ok = _clean(run, calls, rate, args.hold_ms, args.max_p99_ms)
            p99 = _percentile(run.rtt_ms, 0.99) if run.rtt_ms else 0.0
            result.steps.append(
                f"{rate} cps (try {attempt}): {run.stat('SuccessfulCall')}/{calls} ok, "
                f"{run.stat('FailedCall')} failed, {run.elapsed:.1f}s "
                f"({calls / run.elapsed:.0f} calls/s done, p99 {p99:.0f} ms)")
            print(f"  {peer.name}: {result.steps[-1]}", flush=True)
            time.sleep(2)  # let the peer drain before the next step
            if ok:
                break
        if not ok:
            result.first_failure = f"{rate} cps ({_why(run)})"
            break
        result.clean_cps = rate
        if run.rtt_ms and rate <= args.latency_rate:
            result.latency_rate = rate
            result.p50_ms = _percentile(run.rtt_ms, 0.50)
            result.p99_ms = _percentile(run.rtt_ms, 0.99)


def _register_steps(sipp: Sipp, peer: Peer, args: argparse.Namespace, result: Result) -> None:
    """Rising REGISTER rate over --subscribers subscribers until a step is not clean."""
    ok = False
    peer.add_registrants(args.subscribers)
    users = sipp.workdir / "registrants.csv"
    lines = ["SEQUENTIAL"] + [
        f"{n};[authentication username={n} password={peer.password}]"
        for n in range(FIRST_REGISTRANT, FIRST_REGISTRANT + args.subscribers)]
    users.write_text("\n".join(lines) + "\n")
    for rate in args.register_rates:
        count = rate * args.step_seconds
        for attempt in range(1, args.tries + 1):
            run = sipp.run("register_many.xml", peer.target, calls=count, rate=rate,
                           timeout=count / rate + 40,
                           extra=["-inf", str(users), "-key", "domain", DOMAIN])
            print(f"  {peer.name}: REGISTER {rate}/s (try {attempt}): "
                  f"{run.stat('SuccessfulCall')}/{count} ok, {run.elapsed:.1f}s "
                  f"({count / run.elapsed:.0f}/s done)", flush=True)
            time.sleep(2)
            ok = _clean(run, count, rate)
            if ok:
                break
        if not ok:
            result.reg_failure = f"{rate}/s ({_why(run)})"
            break
        result.clean_reg = rate


def measure(peer_name: str, args: argparse.Namespace, workdir: Path) -> Result:
    result = Result(peer_name)
    sipp = Sipp(workdir)
    peer = PEERS[peer_name](workdir, relay_media=args.ssw_media)
    callee_port = free_port()
    try:
        peer.start(callee_port)
        if peer.registrar:
            _register(sipp, peer, CALLEE, callee_port)
            _register(sipp, peer, CALLER, free_port())
        sipp.start_uas("uas_answer_at_once.xml", callee_port)
        _calls(sipp, peer, calls=200, rate=100, hold_ms=0)  # warm up

        _memory_per_call(sipp, peer, args, result)
        _rate_steps(sipp, peer, args, result)
        sipp.stop_all()
        if peer.registrar and args.register_rates:
            _register_steps(sipp, peer, args, result)
    finally:
        sipp.stop_all()
        peer.stop()
    return result


# ---------------------------------------------------------------------- report


def _ratio(mine: float | None, theirs: float | None) -> str:
    if not mine or not theirs:
        return "-"
    return f"{mine / theirs:.2f}x"


def _ms(value: float) -> str:
    """SIPp's -trace_rtt counts whole milliseconds."""
    return "<1" if value < 1 else f"{value:.0f}"


def report(results: list[Result], args: argparse.Namespace) -> str:
    by_name = {r.peer: r for r in results}
    ssw = by_name.get("ssw")
    top = args.rates[-1]
    lines = [
        "| peer | clean CPS | first failing step | INVITE→200 p50 / p99 (ms) | memory per "
        "established call | REGISTER/s clean | CPS vs ssw | REG/s vs ssw |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        clean = f"{r.clean_cps}" + (" (top step)" if r.clean_cps == top else "")
        latency = (f"{_ms(r.p50_ms)} / {_ms(r.p99_ms)} at {r.latency_rate} CPS"
                   if r.p50_ms is not None and r.p99_ms is not None else "-")
        memory = (f"{r.kib_per_call:.1f} KiB ({r.held_calls} calls)"
                  if r.kib_per_call is not None else "-")
        reg = "-" if r.clean_reg is None else str(r.clean_reg)
        if r.clean_reg is not None and r.clean_reg == args.register_rates[-1]:
            reg += " (top step)"
        cps_ratio = _ratio(ssw.clean_cps, r.clean_cps) if ssw and r is not ssw else "-"
        reg_ratio = (_ratio(ssw.clean_reg, r.clean_reg)
                     if ssw and r is not ssw and r.clean_reg else "-")
        lines.append(f"| {r.peer} | {clean} | {r.first_failure or 'none'} | {latency} | "
                     f"{memory} | {reg} | {cps_ratio} | {reg_ratio} |")
    lines.append("")
    lines.append("Ratios are ssw's figure divided by the peer's (above 1: ssw does more).")
    return "\n".join(lines)


def _rates(text: str) -> tuple[int, ...]:
    values = tuple(int(part) for part in text.split(",") if part.strip())
    if not values or any(v <= 0 for v in values) or list(values) != sorted(values):
        raise argparse.ArgumentTypeError("give rising positive rates, e.g. 100,500,1000")
    return values


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", default="ssw,sippy,kamailio",
                        help="comma-separated: ssw, sippy, kamailio")
    parser.add_argument("--rates", type=_rates, default=DEFAULT_RATES,
                        help="call rates to try in turn (calls per second)")
    parser.add_argument("--register-rates", type=_rates, default=DEFAULT_REGISTER_RATES)
    parser.add_argument("--step-seconds", type=_positive, default=3,
                        help="length of each step")
    parser.add_argument("--hold-ms", type=int, default=0,
                        help="how long each call of the rate steps talks before BYE")
    parser.add_argument("--latency-rate", type=int, default=500)
    parser.add_argument("--tries", type=_positive, default=2,
                        help="a step that is not clean is run again up to this many times in all "
                             "(the machine may be shared)")
    parser.add_argument("--max-p99-ms", type=float, default=1000.0,
                        help="a step whose p99 INVITE->200 is longer is not clean")
    parser.add_argument("--held-calls", type=int, default=1000,
                        help="calls held at once for the memory figure")
    parser.add_argument("--held-rate", type=int, default=100,
                        help="call rate at which the held calls are set up")
    parser.add_argument("--ssw-media", action="store_true",
                        help="start the switch with its media server, every call's RTP through "
                             "the relay (by default --no-media: signalling only, as the peers)")
    parser.add_argument("--subscribers", type=int, default=1000,
                        help="subscribers that take turns in the REGISTER steps")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.peers.split(",") if n.strip()]
    unknown = [n for n in names if n not in PEERS]
    if unknown:
        parser.error(f"unknown peer(s) {unknown}; choose from {sorted(PEERS)}")
    if shutil.which("sipp") is None:
        parser.error("SIPp is not installed (Debian package sip-tester)")
    results = []
    for name in names:
        with _scratch(name) as workdir:
            print(f"{name}:", flush=True)
            results.append(measure(name, args, workdir))
    print()
    print(report(results, args))
    return 0


@contextlib.contextmanager
def _scratch(name: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"bench-calls-{name}-") as path:
        yield Path(path)


if __name__ == "__main__":
    sys.exit(main())
