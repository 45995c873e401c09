"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """`../shared` beside the project: external conformance material (CI always has it)."""
    if not SHARED_DIR.is_dir():
        pytest.skip(
            f"conformance material not found at {SHARED_DIR} (needs ../shared beside the project)"
        )
    return SHARED_DIR


# Tests that exchange real-time traffic (RTP at 20 ms, SIPp scenarios with timers) with real
# peers: on a loaded 2-core machine one of them can miss a deadline it would meet alone, so a
# failure is run once more and only a second failure counts. Logic tests are never re-run.
REALTIME_DIRS = ("e2e", "media")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.path)).relative_to(PROJECT_ROOT / "tests").parts
        if parts[0] in REALTIME_DIRS:
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=1))
