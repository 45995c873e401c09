"""SIP subscribers: declare (one and in bulk), lookups, settings, all-or-nothing writes."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
from sqlalchemy import event

from ssw.storage import (
    AlreadyExists,
    InvalidName,
    InvalidValue,
    NotFound,
    Storage,
    digest_ha1,
)


def test_digest_ha1_matches_rfc_2617_example() -> None:
    # RFC 2617 §3.5: Mufasa / testrealm@host.com / "Circle Of Life"
    assert digest_ha1("MD5", "Mufasa", "testrealm@host.com", "Circle Of Life") == (
        "939e7578ed9e3c518a452acee763bce9"
    )
    with pytest.raises(InvalidValue, match="MD5 or SHA-256"):
        digest_ha1("SHA-1", "a", "b", "c")


async def test_declare_as_in_the_qa_suite(storage: Storage, domain: str) -> None:
    # /domain/pv.ssw3/sip/user/declare default_routing sip.ab 156@pv.ssw3 none
    #   no_qop_authentication login-as-number 123
    made = await storage.subscribers.declare(
        domain,
        "156",
        group="sip.ab",
        password="123",
        routing_context="default_routing",
        auth_mode="none",
        qop_mode="no_qop_authentication",
        login="login-as-number",
    )
    assert made.address == "156@pv.ssw3"
    assert (made.login, made.group, made.login_mode) == ("156", "sip.ab", "login-as-number")
    assert made.ha1_md5 == hashlib.md5(b"156:pv.ssw3:123").hexdigest()
    assert made.ha1_sha256 == hashlib.sha256(b"156:pv.ssw3:123").hexdigest()
    assert made.setting("fork-mode") == "all-contacts"
    assert await storage.subscribers.get(domain, "156") == made
    assert await storage.subscribers.find_by_login(domain, "156") == made
    assert await storage.subscribers.find(domain, "157") is None


async def test_explicit_login_and_ha1_only(storage: Storage, domain: str) -> None:
    ha1 = digest_ha1("MD5", "alice", domain, "secret")
    made = await storage.subscribers.declare(
        domain, "200", group="g", password=None, login="alice", ha1_md5=ha1
    )
    assert (made.login, made.password, made.ha1_md5, made.ha1_sha256) == ("alice", None, ha1, None)
    assert (await storage.subscribers.find_by_login(domain, "alice")) == made
    assert await storage.subscribers.find_by_login(domain, "200") is None
    with pytest.raises(AlreadyExists, match="login 'alice'"):
        await storage.subscribers.declare(domain, "201", group="g", password="x", login="alice")
    with pytest.raises(InvalidValue, match="one subscriber"):
        await storage.subscribers.declare_many(
            domain, ["300", "301"], group="g", password="x", login="bob"
        )
    with pytest.raises(InvalidValue, match="not both"):
        await storage.subscribers.declare(domain, "302", group="g", password="x", ha1_md5=ha1)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"auth_mode": "sometimes"}, InvalidValue, "auth mode"),
        ({"qop_mode": "qop"}, InvalidValue, "qop mode"),
        ({"group": "bad group"}, InvalidName, "SIP group"),
        ({"routing_context": ""}, InvalidName, "routing context"),
        ({"password": ""}, InvalidValue, "password"),
        ({"ha1_md5": "xyz"}, InvalidValue, "ha1_md5"),
        ({"settings": {"fork-mode": "everywhere"}}, InvalidValue, "fork-mode"),
        ({"settings": {"no-such": 1}}, InvalidValue, "unknown subscriber setting"),
    ],
)
async def test_bad_declare_changes_nothing(
    storage: Storage, domain: str, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    arguments: dict[str, Any] = {"group": "g", "password": "p", **kwargs}
    with pytest.raises(error, match=message):
        await storage.subscribers.declare(domain, "100", **arguments)
    assert await storage.subscribers.count(domain) == 0


async def test_bulk_declare_of_ten_thousand_is_fast(storage: Storage, domain: str) -> None:
    numbers = [str(n) for n in range(100000, 110000)]
    started = time.perf_counter()
    assert await storage.subscribers.declare_many(domain, numbers, group="sip.ab", password="1")
    elapsed = time.perf_counter() - started
    assert elapsed < 30, f"declaring 10,000 subscribers took {elapsed:.1f} s"
    assert await storage.subscribers.count(domain) == 10_000
    last = await storage.subscribers.get(domain, "109999")
    assert last.ha1_md5 == digest_ha1("MD5", "109999", domain, "1")
    assert [s.number for s in await storage.subscribers.list(domain, numbers=["100001", "5"])] == [
        "100001"
    ]


async def test_bulk_declare_with_one_taken_number_declares_none(
    storage: Storage, domain: str
) -> None:
    await storage.subscribers.declare(domain, "105000", group="g", password="p")
    numbers = [str(n) for n in range(100000, 110000)]
    with pytest.raises(AlreadyExists, match="105000"):
        await storage.subscribers.declare_many(domain, numbers, group="g", password="p")
    assert await storage.subscribers.count(domain) == 1
    with pytest.raises(InvalidValue, match="twice"):
        await storage.subscribers.declare_many(domain, ["1", "2", "1"], group="g", password="p")
    with pytest.raises(InvalidName):
        await storage.subscribers.declare_many(domain, ["1", "2", "x y"], group="g", password="p")
    assert await storage.subscribers.count(domain) == 1


async def test_failure_in_the_middle_of_a_bulk_declare_leaves_nothing(
    storage: Storage, domain: str
) -> None:
    """The database fails on the fifth batch INSERT: the first four must be rolled back,
    and the SIP group created by the same declare too."""
    inserts = 0

    def fail_on_fifth_batch(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        nonlocal inserts
        if statement.lstrip().upper().startswith("INSERT") and "subscribers" in statement:
            inserts += 1
            if inserts == 5:
                raise RuntimeError("disk on fire")

    engine = storage.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", fail_on_fifth_batch)
    try:
        with pytest.raises(RuntimeError, match="disk on fire"):
            await storage.subscribers.declare_many(
                domain, [str(n) for n in range(100000, 110000)], group="new.group", password="p"
            )
    finally:
        event.remove(engine, "before_cursor_execute", fail_on_fifth_batch)
    assert inserts == 5
    assert await storage.subscribers.count(domain) == 0
    assert await storage.sip_groups.list(domain) == []


async def test_settings_set_clean_and_validate(storage: Storage, domain: str) -> None:
    subs = storage.subscribers
    await subs.declare(domain, "100", group="g", password="p")
    # the forms the QA suite uses: sip/user/set <group> N@D <param> <value>
    assert (
        await subs.set_setting(domain, "100", "fork-mode", "find-me-with-q  previous-stop")
    ).settings == {"fork-mode": "find-me-with-q previous-stop"}
    assert (await subs.set_setting(domain, "100", "req100rel", "true")).setting("req100rel") is True
    assert (await subs.set_setting(domain, "100", "rfc-4028-control", "force")).setting(
        "rfc-4028-control"
    ) == "force"
    assert (await subs.set_setting(domain, "100", "options_control", "15")).setting(
        "options_control"
    ) == 15
    changed = await subs.set_setting(domain, "100", "trusted-ip", "10.0.0.0/8, 192.0.2.1")
    assert changed.setting("trusted-ip") == "10.0.0.0/8,192.0.2.1"
    await subs.set_setting(domain, "100", "register-expire-max", 600)
    with pytest.raises(InvalidValue, match="may not exceed"):
        await subs.set_setting(domain, "100", "register-expire-min", 601)
    with pytest.raises(InvalidValue, match="true or false"):
        await subs.set_setting(domain, "100", "req100rel", "maybe")
    with pytest.raises(InvalidValue, match="not an IP"):
        await subs.set_setting(domain, "100", "trusted-ip", "10.0.0.300")
    with pytest.raises(NotFound, match=r"101@pv\.ssw3"):
        await subs.set_setting(domain, "101", "req100rel", True)
    current = await subs.get(domain, "100")
    assert current.setting("register-expire-min") == 60
    assert current.setting("req100rel") is True
    cleaned = await subs.clean_setting(domain, "100", "req100rel")
    assert "req100rel" not in cleaned.settings and cleaned.setting("req100rel") is False


async def test_update_password_group_and_modes(storage: Storage, domain: str) -> None:
    subs = storage.subscribers
    await subs.declare(domain, "100", group="g1", password="old")
    changed = await subs.update(
        domain, "100", password="new", group="g2", qop_mode="qop_authentication"
    )
    assert changed.group == "g2" and changed.qop_mode == "qop_authentication"
    assert changed.ha1_md5 == digest_ha1("MD5", "100", domain, "new")
    with pytest.raises(InvalidValue):
        await subs.update(domain, "100", auth_mode="bogus")
    assert (await subs.get(domain, "100")).auth_mode == "none"


async def test_remove(storage: Storage, domain: str) -> None:
    subs = storage.subscribers
    await subs.declare_many(domain, ["100", "101", "102"], group="g", password="p")
    await subs.remove(domain, "101")
    with pytest.raises(NotFound):
        await subs.remove(domain, "101")
    assert await subs.remove_many(domain, ["100", "999"]) == 1
    assert [s.number for s in await subs.list(domain)] == ["102"]
    assert [s.number for s in await subs.list(domain, group="g")] == ["102"]
