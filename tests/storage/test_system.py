"""Alarms, licence material, media profiles and SIP trunks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ssw.storage import Alarm, AlreadyExists, InvalidName, InvalidValue, NotFound, Storage, Trunk

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_alarms_raise_refresh_clear(storage: Storage) -> None:
    alarms = storage.alarms
    await alarms.raise_alarm(Alarm("default_password", "cocon", "major", "change it", T0))
    await alarms.raise_alarm(Alarm("node_down", "core1@ecss1", "critical", "down", T0))
    later = T0 + timedelta(minutes=5)
    await alarms.raise_alarm(Alarm("default_password", "cocon", "critical", "still", later))
    active = await alarms.list()
    assert [(a.name, a.severity, a.text, a.raised_at) for a in active] == [
        ("default_password", "critical", "still", T0),
        ("node_down", "critical", "down", T0),
    ]
    assert await alarms.is_active("node_down")
    assert await alarms.clear("node_down", "core1@ecss1") == 1
    assert not await alarms.is_active("node_down")
    assert await alarms.clear("node_down") == 0
    with pytest.raises(InvalidValue, match="severity"):
        await alarms.raise_alarm(Alarm("x", "y", "apocalyptic", "", T0))
    with pytest.raises(InvalidName):
        await alarms.raise_alarm(Alarm("bad name", "y", "minor", "", T0))
    assert [a.name for a in await alarms.list()] == ["default_password"]


async def test_licence_material(storage: Storage) -> None:
    licences = storage.licences
    assert await licences.passport() is None
    await licences.set_passport("PASSPORT-1")
    replaced = await licences.set_passport("PASSPORT-2")
    assert await licences.passport() == replaced and replaced.content == "PASSPORT-2"
    first = await licences.add("LICENCE-A")
    second = await licences.add("LICENCE-B")
    assert [b.content for b in await licences.list()] == ["LICENCE-A", "LICENCE-B"]
    await licences.remove(first.id)
    assert await licences.list() == [second]
    with pytest.raises(NotFound):
        await licences.remove(first.id)
    with pytest.raises(NotFound):  # the passport is not removed as a licence
        await licences.remove(replaced.id)
    with pytest.raises(InvalidValue):
        await licences.add("   ")


async def test_media_profiles(storage: Storage, domain: str) -> None:
    profiles = storage.media_profiles
    await profiles.declare(domain, "voice", ["PCMA", "PCMU"], {"ptime": 20})
    with pytest.raises(AlreadyExists):
        await profiles.declare(domain, "voice")
    grown = await profiles.add_codecs(domain, "voice", ["G722", "PCMU", "telephone-event"])
    assert grown.codecs == ("PCMA", "PCMU", "G722", "telephone-event")
    shrunk = await profiles.remove_codecs(domain, "voice", ["PCMU"])
    assert shrunk.codecs == ("PCMA", "G722", "telephone-event")
    assert shrunk.properties == {"ptime": 20}
    assert [p.name for p in await profiles.list(domain)] == ["voice"]
    with pytest.raises(InvalidValue):
        await profiles.add_codecs(domain, "voice", ["a,b"])
    await profiles.remove(domain, "voice")
    with pytest.raises(NotFound):
        await profiles.get(domain, "voice")


async def test_sip_trunks(storage: Storage, domain: str) -> None:
    # trunk/sip/declare <ctx> <trunk_group> <name> <ipset> static <ip> <port> sip-proxy <listen>
    trunk = Trunk(domain, "pstn", "from_trunk", "tg1", "ipset1", "static", "192.0.2.7", 5060, 5062)
    await storage.trunks.declare(trunk)
    assert await storage.trunks.get(domain, "pstn") == trunk
    with pytest.raises(AlreadyExists):
        await storage.trunks.declare(trunk)
    assert (await storage.trunks.set_blocked(domain, "pstn", True)).blocked
    assert (await storage.trunks.set_blocked(domain, "pstn", True)).blocked
    assert not (await storage.trunks.set_blocked(domain, "pstn", False)).blocked
    changed = await storage.trunks.set_setting(domain, "pstn", "registration", "on")
    assert changed.settings == {"registration": "on"}
    with pytest.raises(InvalidValue, match="port"):
        await storage.trunks.declare(Trunk(domain, "t2", "c", "g", "i", "static", "h", 70000, 1))
    with pytest.raises(InvalidValue, match="mode"):
        await storage.trunks.declare(Trunk(domain, "t2", "c", "g", "i", "magic", "h", 1, 1))
    assert [t.name for t in await storage.trunks.list(domain)] == ["pstn"]
    await storage.trunks.remove(domain, "pstn")
    with pytest.raises(NotFound):
        await storage.trunks.set_blocked(domain, "pstn", True)


async def test_routing_contexts(storage: Storage, domain: str) -> None:
    routing = storage.routing
    small = '<context name="default_routing"><rule name="local"/></context>'
    # larger than MySQL TEXT (64 KB): kept whole on both back ends
    large = '<context name="big">' + "<rule/>" * 20_000 + "</context>"
    await routing.put(domain, "default_routing", small)
    await routing.put(domain, "big", large)
    assert await routing.get(domain, "big") == large
    assert list(await routing.list(domain)) == ["big", "default_routing"]
    await routing.put(domain, "default_routing", small.replace("local", "city"))
    assert "city" in await routing.get(domain, "default_routing")
    with pytest.raises(InvalidValue):
        await routing.put(domain, "empty", "  ")
    with pytest.raises(InvalidName):
        await routing.put(domain, "bad name", small)
    await routing.remove(domain, "big")
    assert await routing.find(domain, "big") is None
    with pytest.raises(NotFound):
        await routing.remove(domain, "big")
    copied = await storage.domains.copy(domain, "copy.example")
    assert list(await routing.list(copied.name)) == ["default_routing"]
