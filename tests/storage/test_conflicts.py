"""Writes that collide: the database's deadlock victim is run again, never lost."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError

from ssw.storage import Binding, Storage
from ssw.storage.repositories import common
from ssw.storage.repositories.common import retry_on_conflict


class _DriverError(Exception):
    pass


def _mysql_error(code: int) -> OperationalError:
    return OperationalError("INSERT ...", {}, _DriverError(code, "driver message"))


class _Flaky:
    def __init__(self, failures: list[OperationalError]) -> None:
        self.failures = failures
        self.calls: list[list[str]] = []

    @retry_on_conflict
    async def write(self, numbers: Iterable[str]) -> int:
        self.calls.append(list(numbers))
        if self.failures:
            raise self.failures.pop(0)
        return len(self.calls)


async def test_deadlock_victims_are_run_again_with_the_same_input() -> None:
    flaky = _Flaky([_mysql_error(1213), _mysql_error(1205)])
    assert await flaky.write(n for n in ("100", "101")) == 3
    assert flaky.calls == [["100", "101"]] * 3


async def test_other_errors_pass_at_once() -> None:
    flaky = _Flaky([_mysql_error(1062)])
    with pytest.raises(OperationalError):
        await flaky.write(["100"])
    assert len(flaky.calls) == 1


async def test_a_conflict_that_never_ends_is_passed_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "WRITE_ATTEMPTS", 3)
    flaky = _Flaky([_mysql_error(1213)] * 5)
    with pytest.raises(OperationalError, match="1213"):
        await flaky.write(["100"])
    assert len(flaky.calls) == 3


async def test_many_concurrent_writers_on_the_same_rows(storage: Storage, domain: str) -> None:
    numbers = [str(1000 + n) for n in range(60)]
    await asyncio.gather(
        *(
            storage.subscribers.declare(domain, number, group=f"g{n % 3}", password="p")
            for n, number in enumerate(numbers)
        )
    )
    expires = datetime.now(UTC) + timedelta(hours=1)

    def contact_set(n: int) -> list[Binding]:
        aor = f"{numbers[n % 60]}@{domain}"
        return [Binding(aor, f"sip:{n % 2}@h", expires), Binding(aor, "sip:common@h", expires)]

    await asyncio.gather(
        *(
            storage.registrations.replace_for_aor(f"{numbers[n % 60]}@{domain}", contact_set(n))
            for n in range(240)
        ),
        *(
            storage.subscribers.set_setting(domain, numbers[n % 10], "options_control", n)
            for n in range(120)
        ),
    )
    assert await storage.subscribers.count(domain) == 60
    assert await storage.registrations.count() == 120
    assert {len(await storage.registrations.list_for_aor(f"{n}@{domain}")) for n in numbers} == {2}


async def test_racing_service_changes_all_land(storage: Storage, domain: str) -> None:
    await storage.subscribers.declare_many(domain, ["100", "101"], group="g", password="p")
    await asyncio.gather(
        *(storage.services.enable(domain, ["100", "101"], ["cfu", "cfb"]) for _ in range(10))
    )
    await asyncio.gather(
        *(storage.services.activate(domain, "100", "cfu", {"number": str(n)}) for n in range(10))
    )
    state = await storage.services.info(domain, "100")
    assert state.enabled == {"cfu", "cfb"}
    assert list(state.activated) == ["cfu"] and state.activated["cfu"]["number"] in {
        str(n) for n in range(10)
    }
