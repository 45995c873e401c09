"""The registrar on real SQLite storage, answered by a real digest client (RFC 3261 §10.3)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ssw.cocon.services import Change
from ssw.core.directory import Directory
from ssw.core.location import Locations
from ssw.core.registrar import Registrar, RegistrarConfig
from ssw.sip.address import Address
from ssw.sip.auth import DigestClient
from ssw.sip.message import Request, Response, parse_message
from ssw.storage import Storage

DOMAIN = "pv.ssw3"
NOW = 1_780_000_000.0
SOURCE = Address("udp", "127.0.0.1", 5070)
PASSWORD = "123"


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = await Storage.open(tmp_path)
    await storage.domains.declare(DOMAIN)
    await storage.subscribers.declare(DOMAIN, "100", group="sip.ab", password=PASSWORD,
                                      qop_mode="qop_authentication")
    await storage.subscribers.declare(DOMAIN, "101", group="sip.ab", password=PASSWORD,
                                      qop_mode="no_qop_authentication")
    try:
        yield storage
    finally:
        await storage.close()


@pytest.fixture
async def registrar(storage: Storage) -> Registrar:
    locations = Locations(storage.registrations, lambda: NOW)
    await locations.load()
    return Registrar(storage, RegistrarConfig(auth_secret=b"s" * 32, nonce_ttl=30.0),
                     directory=Directory(storage), locations=locations)


def register(number: str, *, contacts: tuple[str, ...] = ("<sip:{n}@127.0.0.1:5070>",),
             expires: int | None = 600, cseq: int = 1, call_id: str = "reg-1",
             authorization: str | None = None, domain: str = DOMAIN) -> Request:
    lines = [
        "REGISTER sip:127.0.0.1 SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-{call_id}-{cseq}",
        f"From: <sip:{number}@{domain}>;tag=f{number}",
        f"To: <sip:{number}@{domain}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        "Max-Forwards: 70",
        *(f"Contact: {c.format(n=number)}" for c in contacts),
    ]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    if authorization is not None:
        lines.append(f"Authorization: {authorization}")
    lines.append("Content-Length: 0")
    message = parse_message(("\r\n".join(lines) + "\r\n\r\n").encode())
    assert isinstance(message, Request)
    return message


async def registered(registrar: Registrar, number: str, *, password: str = PASSWORD,
                     now: float = NOW, cseq: int = 1, **more: object) -> Response:
    """Send the REGISTER unauthenticated, answer the 401, return the final response."""
    challenge = await registrar.handle(register(number, cseq=cseq, **more),  # type: ignore[arg-type]
                                       SOURCE, now)
    assert challenge.status == 401
    answer = DigestClient(number, password).authorization(
        challenge.headers.get_all("www-authenticate"), "REGISTER", "sip:127.0.0.1")
    return await registrar.handle(
        register(number, cseq=cseq + 1, authorization=answer, **more),  # type: ignore[arg-type]
        SOURCE, now)


async def test_challenge_with_qop_then_200_with_the_binding(
        registrar: Registrar, storage: Storage) -> None:
    challenge = await registrar.handle(register("100"), SOURCE, NOW)
    assert challenge.status == 401
    values = challenge.headers.get_all("www-authenticate")
    assert values and all('qop="auth"' in v for v in values)
    assert challenge.to.tag  # §8.2.6.2: a To tag on every final response
    ok = await registered(registrar, "100")
    assert ok.status == 200
    assert ok.headers.get_all("contact") == ["<sip:100@127.0.0.1:5070>;expires=600"]
    stored = await storage.registrations.list_for_aor("100@pv.ssw3")
    assert [b.contact for b in stored] == ["sip:100@127.0.0.1:5070"]
    found = await registrar.locations.lookup(DOMAIN, "100")
    assert [(c.contact, c.source) for c in found] == [("sip:100@127.0.0.1:5070", SOURCE)]


async def test_subscriber_without_qop_is_challenged_without_qop(registrar: Registrar) -> None:
    challenge = await registrar.handle(register("101"), SOURCE, NOW)
    assert challenge.status == 401
    assert all("qop" not in v for v in challenge.headers.get_all("www-authenticate"))
    assert (await registered(registrar, "101")).status == 200


async def test_wrong_password_is_403_and_stores_nothing(
        registrar: Registrar, storage: Storage) -> None:
    refused = await registered(registrar, "100", password="wrong")
    assert refused.status == 403
    assert await storage.registrations.count() == 0
    assert registrar.locations.bindings_of("100@pv.ssw3") == ()


async def test_unknown_domain_and_unknown_number_are_404(registrar: Registrar) -> None:
    no_domain = await registrar.handle(register("100", domain="nowhere.example"), SOURCE, NOW)
    assert (no_domain.status, no_domain.reason) == (404, "Not Found: unknown domain")
    no_number = await registrar.handle(register("999"), SOURCE, NOW)
    assert (no_number.status, no_number.reason) == (404, "Not Found: unknown subscriber")


async def test_too_brief_is_423_with_min_expires(
        registrar: Registrar, storage: Storage) -> None:
    await storage.subscribers.set_setting(DOMAIN, "100", "register-expire-min", 120)
    refused = await registered(registrar, "100", expires=90)
    assert refused.status == 423
    assert refused.headers.get("min-expires") == "120"
    assert await storage.registrations.count() == 0


async def test_a_changed_expiry_minimum_applies_at_the_next_register(
        registrar: Registrar, storage: Storage) -> None:
    """The registrar keeps the limits it worked out per subscriber record; a console
    change hands it a new record, whose limits apply at once."""
    assert (await registered(registrar, "101", expires=90)).status == 200
    await storage.subscribers.set_setting(DOMAIN, "101", "register-expire-min", 120)
    registrar.directory.on_change(Change("subscriber", DOMAIN, ("101",)))
    refused = await registered(registrar, "101", expires=90, cseq=3)
    assert refused.status == 423
    assert refused.headers.get("min-expires") == "120"


async def test_unregister_one_contact_then_all_with_star(
        registrar: Registrar, storage: Storage) -> None:
    two = ("<sip:{n}@127.0.0.1:5070>;q=0.5", "<sip:{n}@127.0.0.1:5071>")
    assert (await registered(registrar, "100", contacts=two)).status == 200
    assert len(await storage.registrations.list_for_aor("100@pv.ssw3")) == 2
    one_gone = await registered(registrar, "100", cseq=3,
                                contacts=("<sip:{n}@127.0.0.1:5071>;expires=0",))
    assert one_gone.headers.get_all("contact") == ["<sip:100@127.0.0.1:5070>;expires=600;q=0.5"]
    assert [b.contact for b in await storage.registrations.list_for_aor("100@pv.ssw3")] == [
        "sip:100@127.0.0.1:5070"]
    all_gone = await registered(registrar, "100", cseq=5, contacts=("*",), expires=0)
    assert all_gone.status == 200
    assert all_gone.headers.get_all("contact") == []
    assert await storage.registrations.count() == 0
    assert await registrar.locations.lookup(DOMAIN, "100") == ()


async def test_an_older_cseq_of_the_same_call_id_is_refused(
        registrar: Registrar, storage: Storage) -> None:
    assert (await registered(registrar, "100", cseq=10)).status == 200
    late = await registered(registrar, "100", cseq=4,
                            contacts=("<sip:{n}@127.0.0.1:5070>;expires=0",))
    assert late.status == 500  # RFC 3261 §10.3 step 7
    assert len(await storage.registrations.list_for_aor("100@pv.ssw3")) == 1


async def test_cseq_is_ordered_against_a_write_still_pending(registrar: Registrar) -> None:
    challenge = await registrar.handle(register("100"), SOURCE, NOW)
    client = DigestClient("100", PASSWORD)
    values = challenge.headers.get_all("www-authenticate")
    newer = register("100", cseq=8, authorization=client.authorization(
        values, "REGISTER", "sip:127.0.0.1"))
    older = register("100", cseq=7, contacts=("<sip:{n}@127.0.0.1:5070>;expires=0",),
                     authorization=client.authorization(values, "REGISTER", "sip:127.0.0.1"))
    first, second = await asyncio.gather(registrar.handle(newer, SOURCE, NOW),
                                         registrar.handle(older, SOURCE, NOW))
    assert (first.status, second.status) == (200, 500)


async def test_an_expired_nonce_gets_a_stale_challenge(registrar: Registrar) -> None:
    challenge = await registrar.handle(register("100"), SOURCE, NOW)
    answer = DigestClient("100", PASSWORD).authorization(
        challenge.headers.get_all("www-authenticate"), "REGISTER", "sip:127.0.0.1")
    late = await registrar.handle(register("100", cseq=2, authorization=answer), SOURCE,
                                  NOW + 31)
    assert late.status == 401
    assert all("stale=true" in v.lower() for v in late.headers.get_all("www-authenticate"))


async def test_a_subscriber_removed_meanwhile_is_404_and_leaves_no_binding(
        registrar: Registrar, storage: Storage) -> None:
    challenge = await registrar.handle(register("100"), SOURCE, NOW)
    answer = DigestClient("100", PASSWORD).authorization(
        challenge.headers.get_all("www-authenticate"), "REGISTER", "sip:127.0.0.1")
    await storage.subscribers.remove(DOMAIN, "100")  # the directory still has it cached
    gone = await registrar.handle(register("100", cseq=2, authorization=answer), SOURCE, NOW)
    assert gone.status == 404
    assert registrar.locations.bindings_of("100@pv.ssw3") == ()


async def test_registered_phones_cost_no_storage_read(registrar: Registrar) -> None:
    assert (await registered(registrar, "100")).status == 200
    reads = registrar.directory.storage_reads
    for cseq in range(3, 13, 2):
        assert (await registered(registrar, "100", cseq=cseq, now=NOW + 0.5)).status == 200
    assert registrar.directory.storage_reads == reads


async def test_purge_drops_expired_bindings_from_memory_and_storage(
        registrar: Registrar, storage: Storage) -> None:
    assert (await registered(registrar, "100", expires=60)).status == 200
    assert await registrar.purge_expired(NOW + 30) == 0
    assert await registrar.purge_expired(NOW + 61) == 1
    assert await storage.registrations.count() == 0
