"""Licensing across the console: the switch's full command registry on real storage.

Subscribers declared beyond the licensed number fail with `licence_limit`, on the SSH console
(``Command error: ...``) and on the http_terminal (404, ``cause="licence_limit"``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import paramiko
import pytest
from licence_support import HOST, Issuer, SoftHsm

from ssw.cocon.auth import LoginGuard
from ssw.cocon.commands import build_registry
from ssw.cocon.console import Console
from ssw.cocon.executor import Executor
from ssw.cocon.http_terminal import HttpTerminal
from ssw.cocon.registry import Role
from ssw.cocon.services import CoconServices
from ssw.cocon.session import Identity
from ssw.cocon.ssh import SshConsoleServer, load_host_key
from ssw.licence import commands
from ssw.licence.manager import LicenceManager, LicensingConfig
from ssw.licence.service import LicenceService
from ssw.licence.token import Pkcs11Token
from ssw.storage import Storage

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC).timestamp()
DIR = "/cluster/storage/ds1/licence"
DECLARE = "/domain/pv.ssw3/sip/user/declare default_routing sip.ab {} none no_qop_authentication "
DECLARE += "login-as-number 123"


class Users:
    async def verify(self, user: str, password: str) -> Role | None:
        return Role.ADMIN if (user, password) == ("admin", "secret") else None

    async def default_password_in_use(self) -> bool:
        return False


@dataclass
class Switch:
    console: Console
    server: SshConsoleServer
    service: LicenceService

    def run(self, lines: str) -> str:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect("127.0.0.1", port=self.server.port, username="admin", password="secret",
                       look_for_keys=False, allow_agent=False, timeout=10)
        try:
            channel_in, channel_out, _ = client.exec_command(lines, timeout=20)
            channel_in.channel.shutdown_write()
            output: bytes = channel_out.read()
            return output.decode()
        finally:
            client.close()

    async def ssh(self, lines: str) -> str:
        return await asyncio.to_thread(self.run, lines)


@pytest.fixture
async def switch(
    tmp_path: Path, softhsm: SoftHsm, issuer: Issuer
) -> AsyncIterator[Switch]:
    storage = await Storage.open(tmp_path / "data")
    config = LicensingConfig(trusted=issuer.trusted, hostname=HOST)
    service = LicenceService(
        LicenceManager(config, NOW), storage.licences, Pkcs11Token(softhsm.module),
        clock=lambda: NOW,
    )
    await service.start()
    services = CoconServices(
        storage=storage, identity=Identity("mycelium1", HOST), licence=service
    )
    registry = build_registry(extra=(commands.register,))
    console = Console(registry, services, Executor(None), Users(), LoginGuard(3))
    server = SshConsoleServer(console, "127.0.0.1", 0, load_host_key(None))
    await server.start()
    try:
        yield Switch(console, server, service)
    finally:
        await server.stop()
        await storage.close()


async def test_subscribers_beyond_the_licence_fail_on_console_and_http(
    switch: Switch, softhsm: SoftHsm, issuer: Issuer
) -> None:
    passport = issuer.passport(softhsm.serial)
    licence = issuer.licence(subscribers=3, calls=2)
    setup = await switch.ssh(
        f"{DIR}/set-passport {passport}\n{DIR}/add --no-diff --force {licence}\n"
        "domain/declare pv.ssw3\n"
    )
    assert setup.startswith("OK\nOK\n"), setup
    declared = await switch.ssh(DECLARE.format("10{1-3}@pv.ssw3"))
    assert "Command error" not in declared, declared
    refused = await switch.ssh(DECLARE.format("104@pv.ssw3"))
    assert refused.startswith("Command error: licence limit subscribers = 3 reached"), refused

    terminal = HttpTerminal(switch.console)
    transport = httpx.ASGITransport(app=terminal.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://ssw") as http:
        login = await http.post(
            "/system/login", content='<in><login user="admin" password="secret"/></in>'
        )
        assert login.status_code == 201
        answer = await http.post(
            "/commands/sip_user_declare",
            content=(
                '<in><request domain="pv.ssw3" routing_ctx="default_routing" group="sip.ab" '
                'address="105@pv.ssw3" auth="none" qop="no_qop_authentication" '
                'login_mode="login-as-number" password="123"/></in>'
            ),
        )
        assert answer.status_code == 404
        assert 'cause="licence_limit"' in answer.text
        limits = await http.post(
            "/commands/licence_current_limits", content='<in><request cluster="ds1"/></in>'
        )
        assert limits.status_code == 201
        assert "State     : licensed" in limits.text
    await terminal.close()
    usage = await switch.ssh(f"{DIR}/current-limits")
    assert "subscribers   3      3" in usage
