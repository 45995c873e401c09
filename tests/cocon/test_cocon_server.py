"""CoconServer end to end: the SSH console driven by paramiko the way ECSS scripts drive it
(a batch of lines ending with `exit`, and `ssh host '<command>'`), and the http_terminal."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import paramiko
import pytest
from cocon_helpers import ssh_client

from ssw.cocon.server import CoconConfig, CoconServer
from ssw.storage.storage import Storage

D = "pv.ssw3"
ERRORS = re.compile(r"There is no such command|Invalid command's arguments|Command error")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[CoconServer]:
    storage = await Storage.open(tmp_path / "data")
    config = CoconConfig(ssh_port=0, http_port=0, host="ecss1", host_key_path=tmp_path / "key")
    cocon = CoconServer(config, storage)
    try:
        await cocon.start()
        yield cocon
    finally:
        await cocon.stop()
        await storage.close()


def _shell(port: int, lines: list[str]) -> str:
    """What an ECSS script does: open a shell, send every line, end with exit, read it all."""
    client = ssh_client(port)
    try:
        channel = client.invoke_shell(width=200)
        channel.settimeout(60)
        channel.sendall(("\n".join([*lines, "exit"]) + "\n").encode())
        received = bytearray()
        while chunk := channel.recv(65536):
            received += chunk
        return received.decode().replace("\r\n", "\n")
    finally:
        client.close()


def _exec(port: int, command: str) -> tuple[str, int]:
    client = ssh_client(port)
    try:
        _, stdout, _ = client.exec_command(command, timeout=60)
        output = stdout.read().decode()
        return output, stdout.channel.recv_exit_status()
    finally:
        client.close()


SCRIPT = [
    f"domain/declare {D}",
    f"/domain/{D}/sip/user/declare default_routing sip.ab 156@{D} none no_qop_authentication "
    "login-as-number 123",
    f"/domain/{D}/sip/user/set sip.ab 156@{D} req100rel true",
    f"/domain/{D}/ss/enable 156 cfu",
    f"/domain/{D}/ss/activate 156 cfu number = 157",
    f"cd /domain/{D}",
    "ss/info 156",
    "..",
    "sleep 0.1",
    "node/check-services",
]


async def test_ecss_script_over_an_interactive_shell(server: CoconServer) -> None:
    output = await asyncio.to_thread(_shell, server.ssh_port, SCRIPT)
    assert "WARNING: the default password is in use" in output
    assert "admin@mycelium1@ecss1:/$ " in output
    assert f"admin@mycelium1@ecss1:/domain/{D}$ " in output
    assert ERRORS.search(output) is None, output
    assert "Subscriber 156@pv.ssw3 declared" in output
    assert "number = 157" in output
    assert "All services are started" in output
    stored = await server.services.storage.subscribers.get(D, "156")
    assert stored.setting("req100rel") is True
    # the script's errors are found the way a runner finds them
    bad = await asyncio.to_thread(
        _shell, server.ssh_port, ["no/such/thing", "domain/declare", f"domain/declare {D}"]
    )
    assert ERRORS.findall(bad) == [
        "There is no such command",
        "Invalid command's arguments",
        "Command error",
    ]


async def test_same_output_through_ssh_exec(server: CoconServer) -> None:
    outputs = []
    for line in SCRIPT[:5]:
        output, status = await asyncio.to_thread(_exec, server.ssh_port, line)
        assert status == 0
        outputs.append(output)
    assert outputs[0] == f"Domain {D} declared\n"
    assert outputs[2] == "successfully changed: req100rel = true\n"
    error, status = await asyncio.to_thread(_exec, server.ssh_port, f"domain/declare {D}")
    assert error == "Command error: domain 'pv.ssw3' already exists\n"
    assert status == 1
    entries = await server.services.storage.audit.list(limit=50)
    assert {e.front_end for e in entries} == {"ssh"}
    assert entries[-1].source.startswith("ssh:127.0.0.1") and not entries[-1].success


async def test_default_password_alarm_until_changed(server: CoconServer) -> None:
    alarms, _ = await asyncio.to_thread(_exec, server.ssh_port, "/cluster/mediator/md1/alarms/list")
    assert "default_password" in alarms
    changed, _ = await asyncio.to_thread(
        _exec, server.ssh_port, "/system/user/set-password admin s3cret-enough"
    )
    assert changed == "Password of admin changed\n"
    with pytest.raises(paramiko.AuthenticationException):
        await asyncio.to_thread(ssh_client, server.ssh_port, password="password")
    client = await asyncio.to_thread(ssh_client, server.ssh_port, password="s3cret-enough")
    client.close()
    assert not server.services.alarms.is_active("default_password")


async def _login(client: httpx.AsyncClient, password: str = "password") -> httpx.Response:
    body = f'<in><login user="admin" password="{password}"/></in>'
    return await client.post("/system/login", content=body)


async def test_http_terminal(server: CoconServer) -> None:
    base = f"http://127.0.0.1:{server.http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        refused = await client.post(
            "/commands/domain_declare", content=f'<in><request domain="{D}"/></in>'
        )
        assert refused.status_code == 404 and 'cause="not_logged_in"' in refused.text
        wrong = await _login(client, "guess")
        assert wrong.status_code == 404 and 'cause="login_failed"' in wrong.text
        assert (await _login(client)).status_code == 201
        created = await client.post(
            "/commands/domain_declare", content=f'<in><request domain="{D}"/></in>'
        )
        assert created.status_code == 201, created.text
        again = await client.post(
            "/commands/domain_declare", content=f'<in><request domain="{D}"/></in>'
        )
        assert again.status_code == 404 and 'cause="already_exists"' in again.text
        user = (
            f'<in><request domain="{D}" routing_ctx="default_routing" group="sip.ab" '
            f'address="{{300-309}}@{D}" auth="none" qop="no_qop_authentication" '
            'login_mode="login-as-number" password="123"/></in>'
        )
        declared = await client.post("/commands/sip_user_declare", content=user)
        assert declared.status_code == 201 and "10 subscribers declared" in declared.text
        context = (
            f'<in><request domain="{D}" group="sip.ab" address="301@{D}" context="ctx2"/></in>'
        )
        assert (await client.post("/commands/change_context", content=context)).status_code == 201
        assert (await server.services.storage.subscribers.get(D, "301")).routing_context == "ctx2"
        remove = f'<in><request domain="{D}" group="sip.ab" address="{{300-304}}@{D}"/></in>'
        confirm = await client.post("/commands/sip_user_remove", content=remove)
        assert confirm.status_code == 300
        forced = remove.replace("/>", ' force="true"/>')
        assert (await client.post("/commands/sip_user_remove", content=forced)).status_code == 201
        assert await server.services.storage.subscribers.count(D) == 5
        missing = await client.post(
            "/commands/domain_remove", content='<in><request domain="nope" force="true"/></in>'
        )
        assert missing.status_code == 404 and 'cause="no_such_domain"' in missing.text
        absent = remove.replace("{300-304}", "399").replace("/>", ' force="true"/>')
        nobody = await client.post("/commands/sip_user_remove", content=absent)
        assert nobody.status_code == 404 and 'cause="no_such_iface"' in nobody.text
        unknown = await client.post("/commands/teleport", content="<in/>")
        assert unknown.status_code == 404 and 'cause="no_such_command"' in unknown.text
        bad = await client.post(
            "/commands/sip_user_declare", content=f'<in><request domain="{D}"/></in>'
        )
        assert bad.status_code == 404 and 'cause="invalid_arguments"' in bad.text
        gone = await client.post(
            "/commands/domain_remove", content=f'<in><request domain="{D}" force="true"/></in>'
        )
        assert gone.status_code == 201
    entries = await server.services.storage.audit.list(limit=100)
    assert {e.front_end for e in entries} == {"http"}


def _keystrokes(port: int, keys: list[str]) -> str:
    """Type keys into an interactive shell, one burst at a time, and return the screen text."""
    client = ssh_client(port)
    try:
        channel = client.invoke_shell(width=200)
        channel.settimeout(10)
        received = bytearray()
        for burst in keys:
            channel.send(burst.encode())
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                if channel.recv_ready():
                    received += channel.recv(65536)
                    if received.endswith(b"$ ") or received.endswith(b"> "):
                        break
                else:
                    time.sleep(0.02)
        return received.decode()
    finally:
        client.close()


async def test_tab_completion_and_history(server: CoconServer) -> None:
    keys = ["dom\t", "dec\t", f"{D}\r", "\x1b[A", "\x15node/check-services\r",
            "/domain/pv\t", "ss/in\t", "*\r", "exit\r"]
    screen = await asyncio.to_thread(_keystrokes, server.ssh_port, keys)
    assert "domain/declare " in screen  # "dom" + Tab + "dec" + Tab
    assert f"Domain {D} declared" in screen
    assert "All services are started" in screen
    assert await server.services.storage.domains.exists(D)
    assert f"/domain/{D}/ss/info *" in screen  # the domain name completed from the database
    assert "No services" in screen


async def test_roles_limit_what_a_user_may_run(server: CoconServer) -> None:
    declared, _ = await asyncio.to_thread(
        _exec, server.ssh_port, "/system/user/declare watcher viewer look-only-1"
    )
    assert declared == "User watcher declared\n"

    def as_viewer(command: str) -> str:
        client = ssh_client(server.ssh_port, username="watcher", password="look-only-1")
        try:
            _, stdout, _ = client.exec_command(command, timeout=30)
            return stdout.read().decode()
        finally:
            client.close()

    assert (await asyncio.to_thread(as_viewer, "domain/list")) == "No domains declared\n"
    refused = await asyncio.to_thread(as_viewer, f"domain/declare {D}")
    assert refused == "Command error: permission denied: /domain/declare needs the operator role\n"
    assert not await server.services.storage.domains.exists(D)


async def test_long_lines_in_an_interactive_shell(server: CoconServer) -> None:
    rules = "".join(f'<rule name="r{i}"><result><local/></result></rule>' for i in range(150))
    xml = f'<context name="long_ctx">{rules}</context>'
    assert len(xml) > 5000
    output = await asyncio.to_thread(
        _shell,
        server.ssh_port,
        [f"domain/declare {D}", f"/domain/{D}/routing/.xbin/.import-context --xml {xml}"],
    )
    assert "successfully imported: long_ctx" in output, output[-500:]
