"""Aliases and the supplementary-service state of numbers (SPEC §6, §7)."""

from __future__ import annotations

import pytest

from ssw.storage import Alias, InvalidName, InvalidValue, NotFound, ServiceState, Storage


@pytest.fixture
async def numbers(storage: Storage, domain: str) -> list[str]:
    await storage.subscribers.declare_many(domain, ["100", "101", "102"], group="g", password="p")
    return ["100", "101", "102"]


async def test_alias_set_replace_list_remove(storage: Storage, domain: str) -> None:
    alias = Alias(
        domain,
        "7001",
        iface="100@pv.ssw3",
        category=10,
        display_name="Reception",
        clir=True,
        cdr_group="front",
        properties={"timezone": "Europe/Moscow"},
    )
    await storage.aliases.set(alias)
    assert await storage.aliases.get(domain, "7001") == alias
    replaced = Alias(domain, "7001", iface="101@pv.ssw3")
    await storage.aliases.set(replaced)
    assert await storage.aliases.get(domain, "7001") == replaced
    await storage.aliases.set(Alias(domain, "7002", iface="trunk1"))
    assert [a.number for a in await storage.aliases.list(domain)] == ["7001", "7002"]
    assert [a.number for a in await storage.aliases.list(domain, iface="trunk1")] == ["7002"]
    changed = await storage.aliases.set_property(domain, "7002", "subscriber_portal\\login", "u")
    assert changed.properties == {"subscriber_portal\\login": "u"}
    await storage.aliases.remove(domain, "7001")
    assert await storage.aliases.find(domain, "7001") is None
    with pytest.raises(NotFound):
        await storage.aliases.remove(domain, "7001")
    with pytest.raises(NotFound):
        await storage.aliases.set_property(domain, "7001", "x", 1)


async def test_bad_aliases_are_refused(storage: Storage, domain: str) -> None:
    with pytest.raises(InvalidName):
        await storage.aliases.set(Alias(domain, "not a number", iface="x"))
    with pytest.raises(InvalidValue, match="category"):
        await storage.aliases.set(Alias(domain, "7001", iface="x", category=300))
    with pytest.raises(NotFound):
        await storage.aliases.set(Alias("nowhere.example", "7001", iface="x"))
    assert await storage.aliases.list(domain) == []


async def test_enable_activate_info(storage: Storage, domain: str, numbers: list[str]) -> None:
    ss = storage.services
    await ss.enable(domain, numbers, ["cfu", "chold"])
    await ss.enable(domain, ["100"], ["cfu", "find_me"])  # already enabled ones are kept
    await ss.activate(domain, "100", "cfu", {"number": "157"})
    # ss/activate N pickup pickup_groups = [room1/1, room2/2]
    await ss.enable(domain, ["101"], ["pickup"])
    await ss.activate(domain, "101", "pickup", {"pickup_groups": ["room1/1", "room2/2"]})
    assert await ss.info(domain, "100") == ServiceState(
        domain, "100", frozenset({"cfu", "chold", "find_me"}), {"cfu": {"number": "157"}}
    )
    await ss.activate(domain, "100", "cfu", {"number": "158"})
    assert (await ss.info(domain, "100")).activated == {"cfu": {"number": "158"}}
    assert (await ss.info(domain, "101")).activated == {
        "pickup": {"pickup_groups": ["room1/1", "room2/2"]}
    }
    assert [s.number for s in await ss.info_many(domain)] == ["100", "101", "102"]
    assert await ss.deactivate(domain, "100", "cfu") is True
    assert await ss.deactivate(domain, "100", "cfu") is False
    assert (await ss.info(domain, "100")).activated == {}


async def test_disable_also_deactivates(storage: Storage, domain: str, numbers: list[str]) -> None:
    ss = storage.services
    await ss.enable(domain, numbers, ["cfu", "cfb", "dnd"])
    await ss.activate(domain, "100", "cfu", {"number": "157"})
    await ss.disable(domain, ["100"], ["cfu"])
    state = await ss.info(domain, "100")
    assert state.enabled == {"cfb", "dnd"} and state.activated == {}
    await ss.disable(domain, ["101", "102"], ["*"])
    assert (await ss.info(domain, "101")).enabled == frozenset()


async def test_service_errors_change_nothing(
    storage: Storage, domain: str, numbers: list[str]
) -> None:
    ss = storage.services
    with pytest.raises(InvalidValue, match="unknown supplementary service"):
        await ss.enable(domain, ["100"], ["cfu", "teleportation"])
    with pytest.raises(NotFound, match="999"):
        await ss.enable(domain, ["100", "999"], ["cfu"])
    with pytest.raises(InvalidValue, match="not enabled"):
        await ss.activate(domain, "100", "cfu", {"number": "157"})
    assert await ss.info_many(domain) == []


async def test_aliases_can_carry_services(storage: Storage, domain: str) -> None:
    await storage.aliases.set(Alias(domain, "7001", iface="trunk1"))
    await storage.services.enable(domain, ["7001"], ["clir"])
    assert (await storage.services.info(domain, "7001")).enabled == {"clir"}


async def test_values_that_are_not_plain_data_are_refused(
    storage: Storage, domain: str, numbers: list[str]
) -> None:
    await storage.services.enable(domain, ["100"], ["cfu"])
    with pytest.raises(InvalidValue, match="cannot store"):
        await storage.services.activate(domain, "100", "cfu", {"number": object()})  # type: ignore[dict-item]
    with pytest.raises(InvalidValue, match="cannot store"):
        await storage.services.activate(domain, "100", "cfu", {"ratio": float("nan")})
    with pytest.raises(InvalidValue, match="too large"):
        await storage.services.activate(domain, "100", "cfu", {"number": "1" * 20_000})
    assert (await storage.services.info(domain, "100")).activated == {}
