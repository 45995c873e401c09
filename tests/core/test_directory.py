"""The subscriber/domain cache: ChangeHub invalidation, the staleness bound, negative answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ssw.cocon.services import Change, ChangeHub
from ssw.core.directory import Directory
from ssw.storage import Storage

DOMAIN = "pv.ssw3"
NOW = 1_780_000_000.0


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = await Storage.open(tmp_path)
    await storage.domains.declare(DOMAIN)
    await storage.subscribers.declare_many(DOMAIN, ["100", "101", "102"], group="g",
                                           password="p")
    try:
        yield storage
    finally:
        await storage.close()


@pytest.fixture
def hub() -> ChangeHub:
    return ChangeHub()


@pytest.fixture
def directory(storage: Storage, hub: ChangeHub) -> Directory:
    directory = Directory(storage, max_age=1.0)
    hub.subscribe(directory.on_change)
    return directory


async def password_of(directory: Directory, number: str, now: float) -> str | None:
    subscriber = await directory.subscriber(DOMAIN, number, now)
    return None if subscriber is None else subscriber.password


async def test_an_entry_is_served_from_memory_until_max_age(
        directory: Directory, storage: Storage) -> None:
    assert await password_of(directory, "100", NOW) == "p"
    assert directory.storage_reads == 1
    # another process changes the password: not seen before the bound, seen after it
    await storage.subscribers.update(DOMAIN, "100", password="q")
    assert await password_of(directory, "100", NOW + 0.99) == "p"
    assert directory.storage_reads == 1
    assert await password_of(directory, "100", NOW + 1.0) == "q"
    assert directory.storage_reads == 2


async def test_a_console_change_in_this_process_is_seen_at_once(
        directory: Directory, storage: Storage, hub: ChangeHub) -> None:
    assert await password_of(directory, "100", NOW) == "p"
    assert await password_of(directory, "101", NOW) == "p"
    await storage.subscribers.update(DOMAIN, "100", password="q")
    await storage.subscribers.update(DOMAIN, "101", password="q")
    hub.publish(Change("subscriber", DOMAIN, ("100",)))
    assert await password_of(directory, "100", NOW) == "q"
    assert await password_of(directory, "101", NOW) == "p"  # not named by the change
    hub.publish(Change("alias", DOMAIN, ("101@pv.ssw3",)))  # alias commands name addresses
    assert await password_of(directory, "101", NOW) == "q"


async def test_unknown_numbers_and_domains_are_cached_too(
        directory: Directory, storage: Storage, hub: ChangeHub) -> None:
    for _ in range(5):
        assert await directory.subscriber(DOMAIN, "555", NOW) is None
        assert await directory.subscriber("nowhere.example", "100", NOW) is None
        assert not await directory.domain_exists("nowhere.example", NOW)
        assert await directory.domain_exists(DOMAIN, NOW)
    assert directory.storage_reads == 2
    await storage.subscribers.declare(DOMAIN, "555", group="g", password="new")
    assert await directory.subscriber(DOMAIN, "555", NOW + 0.5) is None
    assert await password_of(directory, "555", NOW + 1.0) == "new"
    await storage.domains.declare("nowhere.example")
    hub.publish(Change("domain", "nowhere.example"))
    assert await directory.domain_exists("nowhere.example", NOW)


async def test_a_domain_change_drops_everything_of_the_domain(
        directory: Directory, storage: Storage, hub: ChangeHub) -> None:
    assert await directory.section(DOMAIN, "timers", NOW) is not None
    assert await password_of(directory, "102", NOW) == "p"
    await storage.domains.remove(DOMAIN)
    hub.publish(Change("domain", DOMAIN))
    assert await directory.subscriber(DOMAIN, "102", NOW) is None
    assert not await directory.domain_exists(DOMAIN, NOW)


async def test_a_section_change_is_seen_at_once(
        directory: Directory, storage: Storage, hub: ChangeHub) -> None:
    before = await directory.section(DOMAIN, "timers", NOW)
    await storage.kv.set(DOMAIN, "timers", "no_answer_timeout", 33)
    assert await directory.section(DOMAIN, "timers", NOW) == before
    hub.publish(Change("timers", DOMAIN, ("no_answer_timeout",)))
    assert (await directory.section(DOMAIN, "timers", NOW))["no_answer_timeout"] == 33


async def test_misses_of_one_pass_are_read_in_one_query(directory: Directory) -> None:
    found = await asyncio.gather(*(directory.subscriber(DOMAIN, n, NOW)
                                   for n in ("100", "101", "102", "103", "100")))
    assert [s.number if s else None for s in found] == ["100", "101", "102", None, "100"]
    assert directory.storage_reads == 1


async def test_misses_of_a_section_while_it_is_read_share_that_read(
        directory: Directory) -> None:
    # A busy switch asks for the domain's timers with every INVITE: when the entry expires,
    # the INVITEs that arrive meanwhile wait for the one read instead of each making one.
    found = await asyncio.gather(*(directory.section(DOMAIN, "timers", NOW) for _ in range(20)))
    assert all(section == found[0] for section in found)
    assert directory.storage_reads == 1


async def test_a_read_overtaken_by_a_change_is_answered_but_not_kept(
        directory: Directory, storage: Storage, hub: ChangeHub) -> None:
    reading = asyncio.create_task(directory.subscriber(DOMAIN, "100", NOW))
    await asyncio.sleep(0)
    hub.publish(Change("subscriber", DOMAIN, ("100",)))
    assert (await reading) is not None
    await directory.subscriber(DOMAIN, "100", NOW)
    assert directory.storage_reads == 2


async def test_the_cache_is_bounded(storage: Storage) -> None:
    directory = Directory(storage, max_entries=3)
    for n in range(10):
        await directory.subscriber(DOMAIN, f"9{n}", NOW)
    assert len(directory) <= 3 + 1  # the numbers, and the domain itself
    with pytest.raises(ValueError, match="max_age"):
        Directory(storage, max_age=-1)


async def test_misses_during_a_read_in_flight_share_the_next_query(
        directory: Directory, storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = asyncio.Event()
    asked: list[list[str]] = []
    real_list = storage.subscribers.list

    async def gated_list(domain: str, *, numbers: list[str]) -> list[object]:
        asked.append(sorted(numbers))
        await gate.wait()
        return await real_list(domain, numbers=numbers)  # type: ignore[return-value]

    monkeypatch.setattr(storage.subscribers, "list", gated_list)
    first = asyncio.create_task(directory.subscriber(DOMAIN, "100", NOW))
    await asyncio.sleep(0.01)
    later = [asyncio.create_task(directory.subscriber(DOMAIN, n, NOW)) for n in ("101", "102")]
    await asyncio.sleep(0.01)
    assert asked == [["100"]]
    gate.set()
    assert (await first) is not None and all([await t for t in later])
    assert asked == [["100"], ["101", "102"]]


async def test_refresh_reads_entries_in_use_in_one_query_before_they_expire(
        directory: Directory, storage: Storage) -> None:
    for number in ("100", "101", "102"):
        await directory.subscriber(DOMAIN, number, NOW)
    assert directory.storage_reads == 3
    await directory.subscriber(DOMAIN, "100", NOW + 0.2)  # in use
    await directory.subscriber(DOMAIN, "101", NOW + 0.2)
    await directory.section(DOMAIN, "timers", NOW)
    await directory.section(DOMAIN, "timers", NOW + 0.2)
    assert await directory.refresh(NOW + 0.3) == 0  # nothing expires within max_age / 2
    await storage.subscribers.update(DOMAIN, "100", password="q")
    reads = directory.storage_reads
    assert await directory.refresh(NOW + 0.6) == 3  # 100 and 101 in one query, the section
    assert directory.storage_reads == reads + 2
    # refreshed entries are good until the refresh's time + max_age, and carry the change
    assert await password_of(directory, "100", NOW + 1.5) == "q"
    assert await password_of(directory, "101", NOW + 1.5) == "p"
    assert directory.storage_reads == reads + 2
    await password_of(directory, "102", NOW + 1.5)  # not in use: expired, read again
    assert directory.storage_reads == reads + 3
    assert await password_of(directory, "100", NOW + 1.6) == "q"
    assert directory.storage_reads == reads + 4  # past the bound: read again


async def test_a_record_read_again_unchanged_is_the_same_object(
        directory: Directory, storage: Storage) -> None:
    """What users work out of a record (the registrar's expiry limits) stays good while
    the subscriber does not change, however often the record is read again."""
    first = await directory.subscriber(DOMAIN, "100", NOW)
    again = await directory.subscriber(DOMAIN, "100", NOW + 1.5)
    assert directory.storage_reads == 2
    assert again is first
    await directory.subscriber(DOMAIN, "100", NOW + 1.6)  # in use: refreshed below
    assert await directory.refresh(NOW + 2.2) == 1
    assert await directory.subscriber(DOMAIN, "100", NOW + 2.3) is first
    await storage.subscribers.update(DOMAIN, "100", password="q")
    changed = await directory.subscriber(DOMAIN, "100", NOW + 3.5)
    assert changed is not first
    assert changed is not None and changed.password == "q"
