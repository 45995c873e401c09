"""Fixtures for end-to-end tests: SIPp and helper programs, stopped by PID at teardown.

    async def test_x(sipp: Sipp) -> None:
        result = await sipp.run("options_uac.xml", "127.0.0.1:5060", transport="t1", calls=3)
        assert result.returncode == 0, result.describe()
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from e2e_support import Processes, Sipp


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[Processes]:
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        await started.stop_all()


@pytest.fixture(scope="session")
def sipp_binary() -> str:
    binary = shutil.which("sipp")
    if binary is None:
        pytest.skip("SIPp not installed (Debian package sip-tester; scripts/test-setup.sh)")
    return binary


@pytest.fixture
async def sipp(sipp_binary: str, tmp_path: Path) -> AsyncIterator[Sipp]:
    runner = Sipp(sipp_binary, tmp_path)
    try:
        yield runner
    finally:
        await runner.stop_all()
