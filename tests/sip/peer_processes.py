"""Real SIP peers (SIPp, baresip) for the interop tests: a free loopback port, our own
loopback socket, and a process that is stopped, with its whole process group, when the test
is done."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def loopback_udp_socket() -> Iterator[socket.socket]:
    """A UDP socket on 127.0.0.1 (a free port) that waits 0.2 s in each receive."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    try:
        yield sock
    finally:
        sock.close()


@contextmanager
def running(
    argv: list[str], cwd: Path, *, stop_timeout: float = 5
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `argv` in `cwd` for the block; then SIGTERM its process group, SIGKILL after
    `stop_timeout` seconds."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=stop_timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
