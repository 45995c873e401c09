"""A writer killed with SIGKILL at a random moment leaves only whole batches behind."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from ssw.storage import Storage, digest_ha1
from ssw.storage.databases import TABLE_DATABASES

WRITER = Path(__file__).with_name("crash_writer.py")
SRC = Path(__file__).resolve().parents[2] / "src"


def _run_and_kill(target: str, prefix: str, lines_before_kill: int) -> dict[str, int]:
    """Start the writer, let it commit some batches, SIGKILL it; the totals it had reported
    as committed (a batch committed just before the kill may not have been reported)."""
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = subprocess.Popen(
        [sys.executable, str(WRITER), target, prefix],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    reported = {"subscribers": 0, "cdrs": 0, "bindings": 0}

    def note(line: bytes) -> bool:
        kind, _, total = line.decode().strip().partition(" ")
        if kind in reported:
            reported[kind] = int(total)
            return True
        return False

    try:
        assert process.stdout is not None and process.stderr is not None
        seen = 0
        while seen < lines_before_kill:
            line = process.stdout.readline()
            if not line:
                process.wait(timeout=60)
                stderr = process.stderr.read().decode()
                pytest.fail(f"the writer stopped early: {stderr[-2000:]}")
            seen += note(line)
        # Kill somewhere inside the next batch, not on a batch boundary.
        time.sleep(random.uniform(0.0, 0.05))
        process.send_signal(signal.SIGKILL)
        # What it printed before dying is what it had committed.
        for line in process.stdout.read().splitlines():
            note(line)
        returncode = process.wait(timeout=60)
        if returncode != -signal.SIGKILL:
            stderr = process.stderr.read().decode()
            pytest.fail(f"the writer ended with {returncode}: {stderr[-3000:]}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    return reported


@pytest.mark.parametrize("round_", range(3))
async def test_sigkill_mid_write_leaves_whole_batches(
    target: tuple[str, str],
    open_storage: Callable[[], Awaitable[Storage]],
    round_: int,
) -> None:
    location, prefix = target
    reported = await asyncio.to_thread(
        _run_and_kill, location, prefix, lines_before_kill=4 + 3 * round_
    )
    storage = await open_storage()
    if storage.dialect == "sqlite":
        async with storage.database.read() as conn:
            for name in TABLE_DATABASES:
                verdict = await conn.scalar(text(f"PRAGMA {name}.integrity_check"))
                assert verdict == "ok", f"{name}: {verdict}"
    subscribers = await storage.subscribers.list("crash.example")
    # Everything reported as committed is there; anything beyond is one whole batch.
    assert len(subscribers) % 500 == 0
    assert reported["subscribers"] <= len(subscribers) <= reported["subscribers"] + 500
    for subscriber in subscribers:
        assert subscriber.group == "g" and subscriber.password == "pw"
        assert subscriber.ha1_md5 == digest_ha1("MD5", subscriber.number, "crash.example", "pw")
    cdrs = await storage.cdrs.list(limit=100_000)
    assert len(cdrs) % 50 == 0
    assert reported["cdrs"] <= len(cdrs) <= reported["cdrs"] + 50
    for n, record in enumerate(cdrs):
        assert record.connection_id == f"c{n}"
        assert record.answer_delay_ms == 1500 + n % 1000
        assert record.duration_ms == 30_000 + n % 1000 - (1500 + n % 1000)
    bindings = await storage.registrations.list_all()
    assert len(bindings) % 1000 == 0
    assert reported["bindings"] <= len(bindings) <= reported["bindings"] + 1000
    by_aor: dict[str, int] = {}
    for each in bindings:
        by_aor[each.aor] = by_aor.get(each.aor, 0) + 1
    assert set(by_aor.values()) <= {2}
    # The reopened storage takes new writes as usual.
    await storage.subscribers.declare("crash.example", "1", group="g", password="pw")
