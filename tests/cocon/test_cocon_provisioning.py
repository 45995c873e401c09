"""Provisioning at scale: 10,000 subscribers declared with one range command over SSH, and
subscribers of that range register with digest through the registrar at once (no restart)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cocon_helpers import ssh_client

from ssw.cocon.server import CoconConfig, CoconServer
from ssw.core.registrar import Registrar, RegistrarConfig
from ssw.sip.address import Address
from ssw.sip.auth.client import DigestClient
from ssw.sip.message import Request, Response, parse_message
from ssw.storage.storage import Storage

D = "pv.ssw3"
FIRST, COUNT = 100000, 10_000


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[CoconServer]:
    storage = await Storage.open(tmp_path / "data")
    cocon = CoconServer(CoconConfig(ssh_port=0, enable_http=False, host="ecss1"), storage)
    try:
        await cocon.start()
        yield cocon
    finally:
        await cocon.stop()
        await storage.close()


def _exec(port: int, command: str) -> str:
    client = ssh_client(port)
    try:
        _, stdout, _ = client.exec_command(command, timeout=120)
        return stdout.read().decode()
    finally:
        client.close()


def _register(number: int, cseq: int, authorization: str | None = None) -> Request:
    lines = [
        "REGISTER sip:127.0.0.1 SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-{number}-{cseq}",
        "Max-Forwards: 70",
        f"From: <sip:{number}@{D}>;tag=t{number}",
        f"To: <sip:{number}@{D}>",
        f"Call-ID: reg-{number}",
        f"CSeq: {cseq} REGISTER",
        f"Contact: <sip:{number}@127.0.0.1:5070>",
        "Expires: 600",
    ]
    if authorization:
        lines.append(f"Authorization: {authorization}")
    message = parse_message(("\r\n".join([*lines, "Content-Length: 0", "", ""])).encode())
    assert isinstance(message, Request)
    return message


async def _registers(registrar: Registrar, number: int) -> bool:
    source = Address("udp", "127.0.0.1", 5070)
    challenge = await registrar.handle(_register(number, 1), source, time.time())
    assert isinstance(challenge, Response) and challenge.status == 401
    answer = DigestClient(str(number), "123").authorization(
        challenge.headers.get_all("www-authenticate"), "REGISTER", "sip:127.0.0.1"
    )
    final = await registrar.handle(_register(number, 2, answer), source, time.time())
    return final.status == 200


async def test_ten_thousand_subscribers_declare_and_register(server: CoconServer) -> None:
    assert await asyncio.to_thread(_exec, server.ssh_port, f"domain/declare {D}") == (
        f"Domain {D} declared\n"
    )
    line = (
        f"/domain/{D}/sip/user/declare default_routing sip.ab "
        f"{{{FIRST}-{FIRST + COUNT - 1}}}@{D} none no_qop_authentication login-as-number 123"
    )
    started = time.perf_counter()
    output = await asyncio.to_thread(_exec, server.ssh_port, line)
    declared_in = time.perf_counter() - started
    assert output == f"{COUNT} subscribers declared: {FIRST}@{D} .. {FIRST + COUNT - 1}@{D}\n"
    assert declared_in < 30, f"declaring {COUNT} subscribers took {declared_in:.1f} s"
    storage = server.services.storage
    assert await storage.subscribers.count(D) == COUNT

    registrar = Registrar(storage, RegistrarConfig(auth_secret=b"k" * 32))
    sample = [*range(FIRST, FIRST + COUNT, 97), FIRST + COUNT - 1]
    started = time.perf_counter()
    results = [await _registers(registrar, number) for number in sample]
    registered_in = time.perf_counter() - started
    assert all(results)
    assert len(await storage.registrations.list_for_domain(D)) == len(sample)
    info = await asyncio.to_thread(
        _exec, server.ssh_port, f"/domain/{D}/sip/user/info sip.ab {FIRST}@{D}"
    )
    assert f"sip:{FIRST}@127.0.0.1:5070" in info and "Contacts list is empty" not in info
    print(
        f"\n{COUNT} subscribers declared over SSH in {declared_in:.2f} s; "
        f"{len(sample)} of them registered with digest in {registered_in:.2f} s"
    )


async def test_a_change_takes_effect_at_once(server: CoconServer) -> None:
    await asyncio.to_thread(_exec, server.ssh_port, f"domain/declare {D}")
    await asyncio.to_thread(
        _exec,
        server.ssh_port,
        f"/domain/{D}/sip/user/declare default_routing sip.ab 500@{D} none "
        "no_qop_authentication login-as-number 123",
    )
    registrar = Registrar(server.services.storage, RegistrarConfig(auth_secret=b"k" * 32))
    assert await _registers(registrar, 500)
    # raise the shortest registration above the phone's 600 s: the next REGISTER gets 423
    changed = await asyncio.to_thread(
        _exec, server.ssh_port, f"/domain/{D}/sip/user/set sip.ab 500@{D} register-expire-min 1200"
    )
    assert changed == "successfully changed: register-expire-min = 1200\n"
    source = Address("udp", "127.0.0.1", 5070)
    challenge = await registrar.handle(_register(500, 3), source, time.time())
    answer = DigestClient("500", "123").authorization(
        challenge.headers.get_all("www-authenticate"), "REGISTER", "sip:127.0.0.1"
    )
    refused = await registrar.handle(_register(500, 4, answer), source, time.time())
    assert refused.status == 423
