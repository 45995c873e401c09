"""Call detail records: millisecond times, derived durations, nothing half-written."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ssw.storage import Cdr, InvalidValue, NotFound, Storage

SETUP = datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)


def call(n: int = 0, *, answered: bool = True, domain: str = "pv.ssw3") -> Cdr:
    setup = SETUP + timedelta(minutes=n)
    return Cdr(
        domain=domain,
        connection_id=f"conn-{n}",
        caller="100",
        callee="101",
        setup_at=setup,
        answer_at=setup + timedelta(seconds=3, milliseconds=417) if answered else None,
        end_at=setup + timedelta(seconds=65, milliseconds=9),
        release_cause=16 if answered else 19,
        release_side="caller" if answered else "system",
        cdr_group="main",
        recording_file=f"rec-{n}.wav" if answered else "",
        incoming_call_id=f"in-{n}@192.0.2.1",
        outgoing_call_id=f"out-{n}@switch",
    )


async def test_add_and_read_back_to_the_millisecond(storage: Storage) -> None:
    ident = await storage.cdrs.add(call())
    stored = await storage.cdrs.get(ident)
    assert stored.id == ident
    assert stored.setup_at == SETUP
    assert stored.answer_delay_ms == 3417
    assert stored.duration_ms == 61592
    assert stored == replace(call(), id=ident)


def _fields(cdr: Cdr) -> dict[str, object]:
    return {name: getattr(cdr, name) for name in Cdr.__dataclass_fields__}


async def test_unanswered_call_has_no_duration(storage: Storage) -> None:
    stored = await storage.cdrs.get(await storage.cdrs.add(call(answered=False)))
    assert stored.answer_at is None
    assert stored.answer_delay_ms is None and stored.duration_ms == 0


async def test_other_time_zones_are_stored_as_utc(storage: Storage) -> None:
    moscow = timezone(timedelta(hours=3))
    local = call()
    shifted = Cdr(**{**_fields(local), "setup_at": local.setup_at.astimezone(moscow)})
    stored = await storage.cdrs.get(await storage.cdrs.add(shifted))
    assert stored.setup_at == SETUP and stored.setup_at.tzinfo == UTC


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"end_at": SETUP - timedelta(seconds=1)}, "end before"),
        ({"answer_at": SETUP - timedelta(seconds=1)}, "answer time"),
        ({"release_cause": 200}, "Q.850"),
        ({"release_side": "both"}, "release side"),
        ({"setup_at": datetime(2026, 3, 1, 12, 0)}, "timezone-aware"),
        ({"caller": "x" * 65}, "caller"),
    ],
)
async def test_bad_records_are_refused_and_nothing_written(
    storage: Storage, change: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        await storage.cdrs.add(Cdr(**{**_fields(call()), **change}))  # type: ignore[arg-type]
    good_then_bad = [call(1), Cdr(**{**_fields(call(2)), **change})]  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        await storage.cdrs.add_many(good_then_bad)
    assert await storage.cdrs.count() == 0


async def test_listing_filters_and_pages(storage: Storage) -> None:
    assert await storage.cdrs.add_many([call(n) for n in range(5)]) == 5
    await storage.cdrs.add(call(9, domain="other.example"))
    assert await storage.cdrs.count() == 6
    assert await storage.cdrs.count("pv.ssw3") == 5
    listed = await storage.cdrs.list(domain="pv.ssw3")
    assert [c.connection_id for c in listed] == [f"conn-{n}" for n in range(5)]
    window = await storage.cdrs.list(
        since=SETUP + timedelta(minutes=1), until=SETUP + timedelta(minutes=3)
    )
    assert [c.connection_id for c in window] == ["conn-1", "conn-2"]
    first_page = await storage.cdrs.list(limit=2)
    second_page = await storage.cdrs.list(limit=2, after_id=first_page[-1].id or 0)
    assert [c.connection_id for c in first_page + second_page] == [f"conn-{n}" for n in range(4)]
    assert [c.caller for c in await storage.cdrs.list(connection_id="conn-9")] == ["100"]
    await storage.cdrs.add(replace(call(10), cdr_group="night"))
    assert [c.connection_id for c in await storage.cdrs.list(cdr_group="night")] == ["conn-10"]
    with pytest.raises(NotFound):
        await storage.cdrs.get(10_000)
