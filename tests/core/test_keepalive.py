"""OPTIONS keep-alive (`options_control`): probes, unreachable contacts hidden, recovery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ssw.core.directory import Directory
from ssw.core.keepalive import KeepAlive
from ssw.core.location import Locations
from ssw.sip.address import Address
from ssw.sip.message import Request, make_response
from ssw.sip.transaction.timers import TimerConfig
from ssw.storage import Binding, Storage

DOMAIN = "pv.ssw3"
NOW = 1_780_000_000.0
AOR = f"157@{DOMAIN}"
CONTACT = "sip:157@127.0.0.1:11001"
LOCAL = Address("udp", "127.0.0.1", 5060)


class FakeClock:
    def __init__(self) -> None:
        self.time = NOW

    def now(self) -> float:
        return self.time

    def advance(self, seconds: float) -> None:
        self.time += seconds


class FakePort:
    """Records probes and the timers of their transactions."""

    def __init__(self) -> None:
        self.sent: list[tuple[Request, Address]] = []
        self.timers: list[TimerConfig | None] = []

    def send_request(self, request: Request, dest: Address, *,
                     timers: TimerConfig | None = None) -> object:
        self.sent.append((request, dest))
        self.timers.append(timers)
        return object()


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = await Storage.open(tmp_path)
    await storage.domains.declare(DOMAIN)
    await storage.subscribers.declare(DOMAIN, "157", group="sip.ab", password="123")
    try:
        yield storage
    finally:
        await storage.close()


async def switch(storage: Storage, options_control: int):  # type: ignore[no-untyped-def]
    await storage.subscribers.set_setting(DOMAIN, "157", "options_control", str(options_control))
    clock = FakeClock()
    locations = Locations(storage.registrations, clock.now)
    await locations.load()
    binding = Binding(AOR, CONTACT, datetime.fromtimestamp(NOW, UTC) + timedelta(seconds=90),
                      source_host="127.0.0.1", source_port=11001)
    assert await locations.commit(AOR, [binding])
    port = FakePort()
    keepalive = KeepAlive(port, locations, Directory(storage, max_age=0.0), LOCAL)
    return clock, port, keepalive


async def test_probes_every_interval_and_hides_a_silent_contact(storage: Storage) -> None:
    clock, port, keepalive = await switch(storage, 2)
    await keepalive.tick(clock.now())
    assert port.sent == []  # the first probe one interval after registration
    clock.advance(2.0)
    await keepalive.tick(clock.now())
    [(options, dest)] = port.sent
    assert (options.method, options.uri, dest) == ("OPTIONS", CONTACT, Address("udp", "127.0.0.1",
                                                                                11001))
    assert options.top_via.branch and options.top_via.branch.startswith("z9hG4bK")

    keepalive.on_response(make_response(options, 200))
    assert [c.contact for c in await keepalive.lookup(DOMAIN, "157")] == [CONTACT]

    clock.advance(2.0)
    await keepalive.tick(clock.now())
    assert len(port.sent) == 2
    # The probe's transaction gives up (Timer F) at the deadline: the interval, at most 4 s.
    timers = port.timers[-1]
    assert timers is not None and timers.transaction_timeout == 2.0
    second, _ = port.sent[-1]
    assert keepalive.on_timeout(second)
    assert await keepalive.lookup(DOMAIN, "157") == []
    clock.advance(2.0)

    await keepalive.tick(clock.now())  # probing goes on; an answer brings the contact back
    third, _ = port.sent[-1]
    assert len(port.sent) == 3
    keepalive.on_response(make_response(third, 405))
    assert [c.contact for c in await keepalive.lookup(DOMAIN, "157")] == [CONTACT]


async def test_long_intervals_give_up_after_four_seconds(storage: Storage) -> None:
    clock, port, keepalive = await switch(storage, 30)
    await keepalive.tick(clock.now())  # the contact is first seen
    clock.advance(30.0)
    await keepalive.tick(clock.now())
    [(options, _)] = port.sent
    [timers] = port.timers
    assert timers is not None and timers.transaction_timeout == 4.0 and timers.t2 == 1.0
    assert keepalive.on_timeout(options)
    assert await keepalive.lookup(DOMAIN, "157") == []
    assert not keepalive.on_timeout(options)  # a late second report changes nothing


async def test_no_probes_without_options_control(storage: Storage) -> None:
    clock, port, keepalive = await switch(storage, 0)
    for _ in range(5):
        clock.advance(10.0)
        await keepalive.tick(clock.now())
    assert port.sent == [] and keepalive.probed == 0
    assert [c.contact for c in await keepalive.lookup(DOMAIN, "157")] == [CONTACT]


async def test_a_longer_interval_applies_to_the_next_probe(storage: Storage) -> None:
    clock, port, keepalive = await switch(storage, 2)
    await keepalive.tick(clock.now())
    clock.advance(2.0)
    await keepalive.tick(clock.now())
    first, _ = port.sent[-1]
    keepalive.on_response(make_response(first, 200))
    await storage.subscribers.set_setting(DOMAIN, "157", "options_control", "15")
    keepalive.on_change(object())  # what the console's change notice does
    clock.advance(2.0)
    await keepalive.tick(clock.now())
    assert len(port.sent) == 1  # not at the old 2 s schedule
    clock.advance(13.0)
    await keepalive.tick(clock.now())
    assert len(port.sent) == 2
