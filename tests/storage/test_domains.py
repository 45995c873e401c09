"""Domains, SIP groups and per-domain properties, on both back ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ssw.storage import (
    Alias,
    AlreadyExists,
    Binding,
    InUse,
    InvalidName,
    InvalidValue,
    NotFound,
    Storage,
    Trunk,
    digest_ha1,
)


async def test_declare_list_remove(storage: Storage) -> None:
    await storage.domains.declare("b.example")
    await storage.domains.declare("a.example", digitmap="1XX|2XX")
    assert [d.name for d in await storage.domains.list()] == ["a.example", "b.example"]
    assert (await storage.domains.get("a.example")).digitmap == "1XX|2XX"
    await storage.domains.remove("a.example")
    assert [d.name for d in await storage.domains.list()] == ["b.example"]
    assert not await storage.domains.exists("a.example")


async def test_duplicate_and_bad_names_change_nothing(storage: Storage, domain: str) -> None:
    with pytest.raises(AlreadyExists, match="already exists"):
        await storage.domains.declare(domain)
    with pytest.raises(InvalidName, match="reserved"):
        await storage.domains.declare("undefined")
    with pytest.raises(InvalidValue, match="digit map"):
        await storage.domains.declare("ok.example", digitmap="1E")
    assert [d.name for d in await storage.domains.list()] == [domain]


async def test_unknown_domain_is_not_found(storage: Storage) -> None:
    with pytest.raises(NotFound, match="'nowhere' does not exist"):
        await storage.domains.remove("nowhere")
    with pytest.raises(NotFound):
        await storage.subscribers.declare("nowhere", "100", group="g", password="1")
    with pytest.raises(NotFound):
        await storage.kv.set("nowhere", "timers", "no_answer_timeout", 10)


async def test_digitmap_can_be_set_and_cleared(storage: Storage, domain: str) -> None:
    assert (await storage.domains.set_digitmap(domain, "XXX")).digitmap == "XXX"
    assert (await storage.domains.set_digitmap(domain, None)).digitmap is None


async def test_removing_a_domain_removes_everything_in_it(storage: Storage, domain: str) -> None:
    await storage.domains.declare("other.example")
    for name in (domain, "other.example"):
        await storage.subscribers.declare_many(name, ["100", "101"], group="g", password="p")
        await storage.kv.set(name, "timers", "no_answer_timeout", 30)
    await storage.services.enable(domain, ["100"], ["cfu"])
    await storage.domains.remove(domain)
    await storage.domains.declare(domain)
    assert await storage.subscribers.list(domain) == []
    assert await storage.kv.section(domain, "timers") == {}
    assert await storage.services.info_many(domain) == []
    assert await storage.subscribers.count("other.example") == 2
    assert await storage.kv.get("other.example", "timers", "no_answer_timeout") == 30


async def test_sip_groups(storage: Storage, domain: str) -> None:
    await storage.sip_groups.declare(domain, "sip.empty")
    await storage.subscribers.declare(domain, "100", group="sip.ab", password="p")
    assert [g.name for g in await storage.sip_groups.list(domain)] == ["sip.ab", "sip.empty"]
    with pytest.raises(AlreadyExists):
        await storage.sip_groups.declare(domain, "sip.ab")
    with pytest.raises(InUse, match="1 subscriber"):
        await storage.sip_groups.remove(domain, "sip.ab")
    await storage.sip_groups.remove(domain, "sip.empty")
    with pytest.raises(NotFound):
        await storage.sip_groups.remove(domain, "sip.empty")
    assert [g.name for g in await storage.sip_groups.list(domain)] == ["sip.ab"]


async def test_properties_typed_defaults_and_clean(storage: Storage, domain: str) -> None:
    kv = storage.kv
    assert await kv.get(domain, "timers", "no_answer_timeout") == 120
    assert await kv.set(domain, "timers", "no_answer_timeout", "30") == 30
    assert await kv.set(domain, "sip_timers", "T1", 250) == 250
    assert await kv.set(domain, "sip", "sip_transport", "tcp_only") == "tcp_only"
    assert await kv.set(domain, "sip", "sip_transport", "udp_prefer") == "udp_prefer"
    assert await kv.set(domain, "timers", "custom_timer", 7) == 7
    assert await kv.section(domain, "timers") == {"custom_timer": 7, "no_answer_timeout": 30}
    effective = await kv.effective(domain, "timers")
    assert effective["no_answer_timeout"] == 30 and effective["response_timeout"] == 32
    assert await kv.get(domain, "sip", "sip_transport") == "udp_prefer"
    with pytest.raises(InvalidValue, match="udp_only"):
        await kv.set(domain, "sip", "sip_transport", "carrier_pigeon")
    with pytest.raises(InvalidValue, match="between"):
        await kv.set(domain, "timers", "no_answer_timeout", 0)
    with pytest.raises(InvalidName):
        await kv.set(domain, "timers", "bad key", 1)
    assert await kv.get(domain, "timers", "no_answer_timeout") == 30
    assert await kv.clean(domain, "timers", "no_answer_timeout") == 1
    assert await kv.get(domain, "timers", "no_answer_timeout") == 120
    assert await kv.clean(domain, "timers") == 1
    assert await kv.section(domain, "timers") == {}


async def test_system_properties_are_apart_from_domains(storage: Storage, domain: str) -> None:
    await storage.kv.set(None, "sip", "sip_transport", "tcp_prefer")
    assert await storage.kv.get(None, "sip", "sip_transport") == "tcp_prefer"
    assert await storage.kv.get(domain, "sip", "sip_transport") == "udp_prefer"


async def test_copy_domain_takes_everything_but_registrations(
    storage: Storage, domain: str
) -> None:
    await storage.domains.set_digitmap(domain, "1XX")
    await storage.subscribers.declare_many(domain, ["100", "101"], group="sip.ab", password="pw")
    await storage.subscribers.set_setting(domain, "100", "req100rel", True)
    await storage.kv.set(domain, "timers", "no_answer_timeout", 30)
    await storage.aliases.set(Alias(domain, "7001", iface=f"100@{domain}", display_name="Desk"))
    await storage.services.enable(domain, ["100"], ["cfu"])
    await storage.services.activate(domain, "100", "cfu", {"number": "101"})
    await storage.media_profiles.declare(domain, "voice", ["PCMA"])
    await storage.trunks.declare(Trunk(domain, "pstn", "ctx", "tg", "ips", "static", "h", 5060, 0))
    expires = datetime.now(UTC) + timedelta(hours=1)
    await storage.registrations.upsert(Binding(f"100@{domain}", "sip:100@h", expires))

    copied = await storage.domains.copy(domain, "copy.example")
    assert copied.digitmap == "1XX"
    subscriber = await storage.subscribers.get("copy.example", "100")
    assert subscriber.setting("req100rel") is True and subscriber.group == "sip.ab"
    assert subscriber.ha1_md5 == digest_ha1("MD5", "100", "copy.example", "pw")
    assert await storage.kv.get("copy.example", "timers", "no_answer_timeout") == 30
    alias = await storage.aliases.get("copy.example", "7001")
    assert alias.iface == "100@copy.example" and alias.display_name == "Desk"
    assert (await storage.services.info("copy.example", "100")).activated == {
        "cfu": {"number": "101"}
    }
    assert [p.name for p in await storage.media_profiles.list("copy.example")] == ["voice"]
    assert [t.name for t in await storage.trunks.list("copy.example")] == ["pstn"]
    assert await storage.registrations.list_for_domain("copy.example") == []
    # the source is untouched
    assert (await storage.subscribers.get(domain, "100")).ha1_md5 == digest_ha1(
        "MD5", "100", domain, "pw"
    )
    with pytest.raises(AlreadyExists):
        await storage.domains.copy(domain, "copy.example")
    with pytest.raises(NotFound):
        await storage.domains.copy("nowhere", "copy2.example")


async def test_copy_refuses_subscribers_kept_as_ha1_only(storage: Storage, domain: str) -> None:
    await storage.subscribers.declare(domain, "100", group="g", password=None, ha1_md5="0" * 32)
    with pytest.raises(InvalidValue, match="HA1"):
        await storage.domains.copy(domain, "copy.example")
    assert not await storage.domains.exists("copy.example")
