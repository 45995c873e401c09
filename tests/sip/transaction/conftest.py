"""Fixtures of the transaction tests: timer values and a fresh lossy link."""

from __future__ import annotations

import pytest
from fakelink import Link

from ssw.sip.transaction import TimerConfig, TransactionLayer


@pytest.fixture
def timers() -> TimerConfig:
    return TimerConfig(t1=0.5, t2=4.0, t4=5.0)


@pytest.fixture
def link(timers: TimerConfig) -> Link:
    return Link(TransactionLayer(timers), TransactionLayer(timers))
