"""Contact bindings of the registrar (RFC 3261 §10.3), time passed in."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ssw.storage import Binding, InvalidName, InvalidValue, NotFound, Storage

NOW = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


@pytest.fixture
async def subscribers(storage: Storage, domain: str) -> list[str]:
    await storage.subscribers.declare_many(domain, ["100", "101"], group="g", password="p")
    return ["100@pv.ssw3", "101@pv.ssw3"]


def binding(aor: str, contact: str, seconds: float, q: float = 1.0, **more: object) -> Binding:
    return Binding(aor, contact, NOW + timedelta(seconds=seconds), q=q, **more)  # type: ignore[arg-type]


async def test_upsert_refreshes_and_keeps_every_field(
    storage: Storage, subscribers: list[str]
) -> None:
    first = binding(
        subscribers[0],
        "sip:100@192.0.2.10:5070;transport=tcp",
        3600,
        q=0.5,
        call_id="abc@192.0.2.10",
        cseq=1,
        source_host="192.0.2.10",
        source_port=5070,
        transport="tcp",
        user_agent="baresip",
        path=("<sip:edge.example;lr>",),
        instance="<urn:uuid:00000000-0000-1000-8000-000000000001>",
        reg_id=1,
    )
    await storage.registrations.upsert(first)
    assert await storage.registrations.list_for_aor(subscribers[0]) == [first]
    refreshed = replace(first, cseq=2, expires_at=NOW + timedelta(seconds=7200))
    await storage.registrations.upsert(refreshed)
    assert await storage.registrations.list_for_aor(subscribers[0]) == [refreshed]
    assert await storage.registrations.count() == 1


async def test_several_contacts_highest_q_first(storage: Storage, subscribers: list[str]) -> None:
    aor = subscribers[0]
    for contact, q in (("sip:a@h1", 0.1), ("sip:b@h2", 0.9), ("sip:c@h3", 0.5)):
        await storage.registrations.upsert(binding(aor, contact, 60, q=q))
    await storage.registrations.upsert(binding(subscribers[1], "sip:d@h4", 60))
    assert [b.contact for b in await storage.registrations.list_for_aor(aor)] == [
        "sip:b@h2",
        "sip:c@h3",
        "sip:a@h1",
    ]
    assert len(await storage.registrations.list_all()) == 4
    assert len(await storage.registrations.list_for_domain("pv.ssw3")) == 4
    assert await storage.registrations.remove(aor, "sip:c@h3") == 1
    assert await storage.registrations.remove(aor) == 2  # Contact: * (RFC 3261 §10.2.2)
    assert await storage.registrations.list_for_aor(aor) == []
    assert await storage.registrations.count() == 1


async def test_expiry_is_judged_on_the_time_passed_in(
    storage: Storage, subscribers: list[str]
) -> None:
    aor = subscribers[0]
    await storage.registrations.upsert(binding(aor, "sip:short@h", 30))
    await storage.registrations.upsert(binding(aor, "sip:long@h", 3600))
    assert await storage.registrations.expired(NOW + timedelta(seconds=29)) == []
    expired = await storage.registrations.expired(NOW + timedelta(seconds=30))
    assert [b.contact for b in expired] == ["sip:short@h"]
    assert await storage.registrations.purge_expired(NOW + timedelta(seconds=31)) == 1
    assert [b.contact for b in await storage.registrations.list_for_aor(aor)] == ["sip:long@h"]


async def test_removing_the_subscriber_removes_its_bindings(
    storage: Storage, subscribers: list[str]
) -> None:
    await storage.registrations.upsert(binding(subscribers[0], "sip:a@h", 60))
    await storage.subscribers.remove("pv.ssw3", "100")
    assert await storage.registrations.count() == 0


async def test_bad_bindings_are_refused(storage: Storage, subscribers: list[str]) -> None:
    aor = subscribers[0]
    with pytest.raises(NotFound, match=r"999@pv\.ssw3"):
        await storage.registrations.upsert(binding("999@pv.ssw3", "sip:a@h", 60))
    with pytest.raises(InvalidName):
        await storage.registrations.upsert(binding("no-at-sign", "sip:a@h", 60))
    with pytest.raises(InvalidValue, match="q must be"):
        await storage.registrations.upsert(binding(aor, "sip:a@h", 60, q=1.5))
    with pytest.raises(InvalidValue, match="transport"):
        await storage.registrations.upsert(binding(aor, "sip:a@h", 60, transport="sctp"))
    with pytest.raises(InvalidValue, match="timezone-aware"):
        await storage.registrations.upsert(Binding(aor, "sip:a@h", datetime(2026, 1, 1)))
    with pytest.raises(InvalidValue, match="contact"):
        await storage.registrations.upsert(binding(aor, "", 60))
    assert await storage.registrations.count() == 0


async def test_replace_for_aor_sets_the_whole_set_at_once(
    storage: Storage, subscribers: list[str]
) -> None:
    aor = subscribers[0]
    await storage.registrations.upsert(binding(aor, "sip:old@h", 60))
    await storage.registrations.upsert(binding(aor, "sip:kept@h", 60, cseq=1))
    await storage.registrations.upsert(binding(subscribers[1], "sip:other@h", 60))
    kept = binding(aor, "sip:kept@h", 120, cseq=2)
    new = binding(aor, "sip:new@h", 120, q=0.3)
    await storage.registrations.replace_for_aor(aor, [kept, new])
    assert await storage.registrations.list_for_aor(aor) == [kept, new]
    with pytest.raises(InvalidValue, match="belong to"):
        await storage.registrations.replace_for_aor(aor, [binding(subscribers[1], "sip:x@h", 1)])
    with pytest.raises(InvalidValue, match="twice"):
        await storage.registrations.replace_for_aor(aor, [kept, kept])
    with pytest.raises(NotFound):
        await storage.registrations.replace_for_aor(
            "999@pv.ssw3", [binding("999@pv.ssw3", "sip:x@h", 1)]
        )
    assert await storage.registrations.list_for_aor(aor) == [kept, new]
    await storage.registrations.replace_for_aor(aor, [])
    assert await storage.registrations.list_for_aor(aor) == []
    assert [b.contact for b in await storage.registrations.list_all()] == ["sip:other@h"]


async def test_replace_many_writes_a_batch_and_names_the_missing(
    storage: Storage, subscribers: list[str]
) -> None:
    first, second = subscribers
    await storage.registrations.upsert(binding(first, "sip:gone@h", 60))
    missing = await storage.registrations.replace_many(
        {
            first: [binding(first, "sip:a@h", 60), binding(first, "sip:b@h", 60, q=0.2)],
            second: [binding(second, "sip:c@h", 60)],
            "999@pv.ssw3": [binding("999@pv.ssw3", "sip:x@h", 60)],
        }
    )
    assert missing == ["999@pv.ssw3"]
    assert [b.contact for b in await storage.registrations.list_for_aor(first)] == [
        "sip:a@h",
        "sip:b@h",
    ]
    assert [b.contact for b in await storage.registrations.list_for_aor(second)] == ["sip:c@h"]
    assert await storage.registrations.replace_many({second: []}) == []
    assert await storage.registrations.count() == 2
    with pytest.raises(InvalidValue, match="belong"):
        await storage.registrations.replace_many({first: [binding(second, "sip:z@h", 60)]})
    assert await storage.registrations.count() == 2


async def test_replace_many_names_a_missing_subscriber_even_without_bindings(
    storage: Storage, subscribers: list[str]
) -> None:
    first = subscribers[0]
    await storage.registrations.upsert(binding(first, "sip:a@h", 60))
    assert await storage.registrations.replace_many({first: [], "999@pv.ssw3": []}) == [
        "999@pv.ssw3"
    ]
    assert await storage.registrations.count() == 0


async def test_a_failed_batch_leaves_nothing_half_written(
    storage: Storage, subscribers: list[str]
) -> None:
    """The SQLite path runs its own BEGIN/COMMIT: a statement failing in the middle rolls
    the whole batch back, and the connection serves the next batch normally."""
    if storage.dialect != "sqlite":
        pytest.skip("a SQLite trigger makes the insert fail")
    first, second = subscribers
    await storage.registrations.replace_many({first: [binding(first, "sip:old@h", 60)]})
    async with storage.database.engine.begin() as conn:
        await conn.execute(text(
            "CREATE TRIGGER ecss_subscribers.refuse_boom BEFORE INSERT ON registrations"
            " WHEN NEW.contact = 'sip:boom@h' BEGIN SELECT RAISE(ABORT, 'boom refused'); END"))
    with pytest.raises(DBAPIError, match="boom refused"):
        await storage.registrations.replace_many({
            first: [binding(first, "sip:new@h", 60)],
            second: [binding(second, "sip:boom@h", 60)],
        })
    assert [b.contact for b in await storage.registrations.list_all()] == ["sip:old@h"]
    for _ in range(10):  # more than the pool holds: no connection was left in a transaction
        assert await storage.registrations.replace_many(
            {second: [binding(second, "sip:c@h", 60)]}) == []
    assert [b.contact for b in await storage.registrations.list_all()] == [
        "sip:old@h", "sip:c@h"]


async def test_a_cancelled_batch_leaves_no_transaction_open(
    storage: Storage, subscribers: list[str]
) -> None:
    """A write cancelled at any point (the switch stopping) is rolled back whole, and no
    pooled connection is left holding the write lock."""
    first, second = subscribers
    for steps in range(12):  # cancelled after 0, 1, ... passes of the loop
        task = asyncio.create_task(storage.registrations.replace_many(
            {first: [binding(first, f"sip:cancelled{steps}@h", 60)]}))
        for _ in range(steps):
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        written = await asyncio.wait_for(storage.registrations.replace_many(
            {second: [binding(second, f"sip:after{steps}@h", 60)]}), timeout=5)
        assert written == []
    contacts = {b.contact for b in await storage.registrations.list_all()}
    assert "sip:after11@h" in contacts
    assert len(contacts) <= 2  # at most one of the cancelled writes went through, whole
