"""Random sequences of subscriber operations, some of them bad, against a plain model:
after every step the stored subscribers are exactly the model's (Hypothesis, SQLite)."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssw.storage import AlreadyExists, InvalidValue, NotFound, Storage, StorageError

DOMAIN = "model.example"


@dataclass(frozen=True)
class Declare:
    first: int
    count: int


@dataclass(frozen=True)
class Remove:
    numbers: tuple[int, ...]


@dataclass(frozen=True)
class Set:
    number: int
    value: int  # options_control; above 86,400 is refused


OPERATIONS = st.one_of(
    st.builds(Declare, st.integers(100, 140), st.integers(1, 8)),
    st.builds(Remove, st.lists(st.integers(100, 150), max_size=4).map(tuple)),
    st.builds(Set, st.integers(100, 150), st.sampled_from([0, 15, 3600, 100_000])),
)


async def _run(operations: list[Declare | Remove | Set]) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        storage = await Storage.open(data_dir)
        try:
            await storage.domains.declare(DOMAIN)
            model: dict[str, int] = {}  # number -> options_control
            for operation in operations:
                await _step(storage, model, operation)
                stored = await storage.subscribers.list(DOMAIN)
                assert {s.number: s.setting("options_control") for s in stored} == model
        finally:
            await storage.close()


async def _step(storage: Storage, model: dict[str, int], operation: object) -> None:
    subs = storage.subscribers
    if isinstance(operation, Declare):
        numbers = [str(n) for n in range(operation.first, operation.first + operation.count)]
        if any(n in model for n in numbers):
            try:
                await subs.declare_many(DOMAIN, numbers, group="g", password="p")
            except AlreadyExists:
                return
            raise AssertionError("a declare over a taken number succeeded")
        await subs.declare_many(DOMAIN, numbers, group="g", password="p")
        model.update(dict.fromkeys(numbers, 0))
    elif isinstance(operation, Remove):
        numbers = [str(n) for n in operation.numbers]
        removed = await subs.remove_many(DOMAIN, numbers)
        assert removed == len({n for n in numbers if n in model})
        for number in numbers:
            model.pop(number, None)
    elif isinstance(operation, Set):
        number = str(operation.number)
        try:
            await subs.set_setting(DOMAIN, number, "options_control", str(operation.value))
        except (NotFound, InvalidValue) as error:
            assert number not in model or operation.value > 86_400, error
            return
        except StorageError as error:  # any other refusal would be a bug
            raise AssertionError(error) from error
        model[number] = operation.value


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=st.lists(OPERATIONS, min_size=1, max_size=12))
def test_storage_follows_the_model(operations: list[Declare | Remove | Set]) -> None:
    asyncio.run(_run(operations))
