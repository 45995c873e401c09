"""The location service: memory, expiry by injected time, group commit, reload at start."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ssw.core.location import Locations
from ssw.sip.address import Address
from ssw.storage import Binding, Storage, StorageUnavailable

DOMAIN = "pv.ssw3"
NOW = 1_780_000_000.0
WHEN = datetime.fromtimestamp(NOW, UTC)
NUMBERS = [str(n) for n in range(100, 110)]


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = await Storage.open(tmp_path)
    await storage.domains.declare(DOMAIN)
    await storage.subscribers.declare_many(DOMAIN, NUMBERS, group="g", password="p")
    try:
        yield storage
    finally:
        await storage.close()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class GatedStore:
    """storage.registrations, counting the transactions; `gate` holds the writes back."""

    def __init__(self, storage: Storage) -> None:
        self.inner = storage.registrations
        self.batches: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail = False

    async def replace_many(self, changes: Mapping[str, Sequence[Binding]]) -> list[str]:
        self.batches.append(sorted(changes))
        await self.gate.wait()
        if self.fail:
            raise StorageUnavailable("the database does not answer")
        return await self.inner.replace_many(changes)

    async def list_all(self) -> list[Binding]:
        return await self.inner.list_all()

    async def list_for_aor(self, aor: str) -> list[Binding]:
        return await self.inner.list_for_aor(aor)


def binding(number: str, seconds: float = 600, port: int = 5070, q: float = 1.0) -> Binding:
    return Binding(f"{number}@{DOMAIN}", f"sip:{number}@127.0.0.1:{port}",
                   WHEN + timedelta(seconds=seconds), q=q, call_id=f"c-{number}", cseq=1,
                   source_host="127.0.0.1", source_port=port, transport="udp")


async def test_lookup_returns_live_contacts_best_q_first_and_expiry_follows_time(
        storage: Storage) -> None:
    clock = Clock()
    locations = Locations(storage.registrations, clock)
    await locations.load()
    assert await locations.commit("100@pv.ssw3", [binding("100", 600, 5071),
                                                  binding("100", 60, 5070, q=0.5)])
    found = await locations.lookup(DOMAIN, "100")
    assert [(c.contact, c.q, c.source) for c in found] == [
        ("sip:100@127.0.0.1:5071", 1.0, Address("udp", "127.0.0.1", 5071)),
        ("sip:100@127.0.0.1:5070", 0.5, Address("udp", "127.0.0.1", 5070)),
    ]
    clock.now = NOW + 60  # an expired binding is never handed out, purged or not
    assert [c.contact for c in await locations.lookup(DOMAIN, "100")] == [
        "sip:100@127.0.0.1:5071"]
    assert locations.purge(NOW + 60) == 1
    assert len(locations.bindings_of("100@pv.ssw3")) == 1
    assert locations.purge(NOW + 600) == 1
    assert len(locations) == 0
    assert await locations.lookup(DOMAIN, "100") == ()


async def test_registers_arriving_during_a_write_share_the_next_transaction(
        storage: Storage) -> None:
    store = GatedStore(storage)
    locations = Locations(store, Clock())
    await locations.load()
    store.gate.clear()
    first = asyncio.create_task(locations.commit("100@pv.ssw3", [binding("100")]))
    await asyncio.sleep(0.01)
    assert store.batches == [["100@pv.ssw3"]]
    rest = [asyncio.create_task(locations.commit(f"{n}@pv.ssw3", [binding(n)]))
            for n in NUMBERS[1:]]
    await asyncio.sleep(0.01)
    # nothing is acknowledged before its transaction is over
    assert not first.done() and not any(t.done() for t in rest)
    assert len(store.batches) == 1
    # the memory already holds them: a later REGISTER is ordered against them
    assert locations.bindings_of("105@pv.ssw3") == (binding("105"),)
    store.gate.set()
    assert await first and all(await asyncio.gather(*rest))
    assert store.batches == [["100@pv.ssw3"], [f"{n}@pv.ssw3" for n in NUMBERS[1:]]]
    assert (locations.batches_written, locations.changes_written) == (2, 10)
    assert await storage.registrations.count() == 10


async def test_several_changes_of_one_aor_in_a_batch_write_the_last(storage: Storage) -> None:
    store = GatedStore(storage)
    locations = Locations(store, Clock())
    await locations.load()
    store.gate.clear()
    blocker = asyncio.create_task(locations.commit("101@pv.ssw3", [binding("101")]))
    await asyncio.sleep(0.01)
    older = asyncio.create_task(locations.commit("100@pv.ssw3", [binding("100", port=5070)]))
    newer = asyncio.create_task(locations.commit("100@pv.ssw3", [binding("100", port=5072)]))
    store.gate.set()
    assert await blocker and await older and await newer
    stored = await storage.registrations.list_for_aor("100@pv.ssw3")
    assert [b.contact for b in stored] == ["sip:100@127.0.0.1:5072"]


async def test_bindings_survive_a_restart(tmp_path: Path, storage: Storage) -> None:
    locations = Locations(storage.registrations, Clock())
    await locations.load()
    assert await locations.commit("100@pv.ssw3", [binding("100")])
    assert await locations.commit("101@pv.ssw3", [binding("101"), binding("101", port=5071)])
    assert await locations.commit("101@pv.ssw3", [binding("101", port=5071)])
    reopened = await Storage.open(tmp_path)
    try:
        again = Locations(reopened.registrations, Clock())
        assert await again.load() == 2
        assert again.bindings_of("100@pv.ssw3") == (binding("100"),)
        assert [c.contact for c in await again.lookup(DOMAIN, "101")] == [
            "sip:101@127.0.0.1:5071"]
    finally:
        await reopened.close()


async def test_a_failed_write_raises_and_memory_goes_back_to_storage(storage: Storage) -> None:
    store = GatedStore(storage)
    locations = Locations(store, Clock())
    await locations.load()
    assert await locations.commit("100@pv.ssw3", [binding("100")])
    store.fail = True
    with pytest.raises(StorageUnavailable):
        await locations.commit("100@pv.ssw3", [binding("100", port=5099)])
    assert locations.bindings_of("100@pv.ssw3") == (binding("100"),)
    store.fail = False
    assert await locations.commit("100@pv.ssw3", [])
    assert locations.bindings_of("100@pv.ssw3") == ()
    assert await storage.registrations.count() == 0


async def test_a_removed_subscriber_is_left_out_and_forgotten(storage: Storage) -> None:
    locations = Locations(storage.registrations, Clock())
    await locations.load()
    await storage.subscribers.remove(DOMAIN, "100")
    assert not await locations.commit("100@pv.ssw3", [binding("100")])
    assert locations.bindings_of("100@pv.ssw3") == ()


async def test_forget_rereads_what_the_console_changed_in_storage(storage: Storage) -> None:
    locations = Locations(storage.registrations, Clock())
    await locations.load()
    assert await locations.commit("100@pv.ssw3", [binding("100")])
    assert await locations.commit("101@pv.ssw3", [binding("101")])
    await storage.registrations.remove("100@pv.ssw3")  # stop-registration
    assert sorted(locations.aors_of_domain(DOMAIN)) == ["100@pv.ssw3", "101@pv.ssw3"]
    await locations.forget(["100@pv.ssw3", "101@pv.ssw3"])
    assert await locations.lookup(DOMAIN, "100") == ()
    assert len(await locations.lookup(DOMAIN, "101")) == 1


async def test_forget_keeps_a_change_still_being_written(storage: Storage) -> None:
    store = GatedStore(storage)
    locations = Locations(store, Clock())
    await locations.load()
    store.gate.clear()
    writing = asyncio.create_task(locations.commit("100@pv.ssw3", [binding("100")]))
    await asyncio.sleep(0.01)
    # the console's change notice overtakes the write: storage has nothing yet
    await locations.forget(["100@pv.ssw3"])
    assert locations.bindings_of("100@pv.ssw3") == (binding("100"),)
    store.gate.set()
    assert await writing
    assert len(await locations.lookup(DOMAIN, "100")) == 1


async def test_a_gather_window_lets_registers_of_the_next_moments_share_a_write(
        storage: Storage) -> None:
    store = GatedStore(storage)
    locations = Locations(store, Clock(), gather_window=0.05)
    await locations.load()
    first = asyncio.create_task(locations.commit("100@pv.ssw3", [binding("100")]))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(locations.commit("101@pv.ssw3", [binding("101")]))
    assert await first and await second
    assert store.batches == [["100@pv.ssw3", "101@pv.ssw3"]]
    with pytest.raises(ValueError, match="gather_window"):
        Locations(store, Clock(), gather_window=-1)
