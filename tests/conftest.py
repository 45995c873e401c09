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
