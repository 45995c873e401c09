"""The SSH front end on a small registry: login, rate limit, prompt, scripts, exec, completion."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import paramiko
import pytest
from cocon_helpers import FakeUsers, MemoryAudit, ssh_client

from ssw.cocon.args import Arg, Flag
from ssw.cocon.auth import LoginGuard
from ssw.cocon.completion import complete
from ssw.cocon.console import Console
from ssw.cocon.executor import Executor
from ssw.cocon.registry import Arguments, CommandContext, CommandResult, Registry
from ssw.cocon.services import CoconServices
from ssw.cocon.session import Identity
from ssw.cocon.ssh import SshConsoleServer, load_host_key


def _registry(removed: list[str]) -> Registry:
    registry = Registry()

    @registry.command("/domain/declare", help="declare", args=(Arg("name"),))
    async def declare(ctx: CommandContext, args: Arguments) -> CommandResult:
        return CommandResult(f"Domain {args['name']} declared")

    @registry.command(
        "/domain/remove", help="remove", args=(Arg("name"),), flags=(Flag("force"),), confirm=True
    )
    async def remove(ctx: CommandContext, args: Arguments) -> CommandResult:
        removed.append(args["name"])
        return CommandResult(f"Domain {args['name']} removed")

    @registry.command("/domain/<D>/info", help="info")
    async def info(ctx: CommandContext, args: Arguments) -> CommandResult:
        return CommandResult(f"domain {args.path['D']}")

    return registry


@dataclass
class Harness:
    server: SshConsoleServer
    audit: MemoryAudit
    removed: list[str]
    console: Console

    def client(self, password: str = "password") -> paramiko.SSHClient:
        return ssh_client(self.server.port, password=password)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    removed: list[str] = []
    audit = MemoryAudit()
    services = CoconServices(storage=None, identity=Identity("mycelium1", "ecss1"))
    console = Console(_registry(removed), services, Executor(audit), FakeUsers(), LoginGuard(3))
    server = SshConsoleServer(console, "127.0.0.1", 0, load_host_key(None))
    await server.start()
    try:
        yield Harness(server, audit, removed, console)
    finally:
        await server.stop()


def _shell(harness: Harness, script: str) -> str:
    client = harness.client()
    try:
        channel = client.invoke_shell()
        channel.settimeout(10)
        channel.sendall(script.encode())
        chunks = []
        while True:
            data = channel.recv(65536)
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks).decode()
    finally:
        client.close()


def _exec(harness: Harness, command: str, stdin: str = "") -> str:
    client = harness.client()
    try:
        channel_in, channel_out, _ = client.exec_command(command, timeout=10)
        if stdin:
            channel_in.write(stdin)
        channel_in.channel.shutdown_write()
        return channel_out.read().decode()
    finally:
        client.close()


async def test_interactive_batch_like_ecss_scripts(harness: Harness) -> None:
    script = (
        "domain/declare a\n/nothing\ncd /domain/a\ninfo\n..\n"
        "remove b\nyes\nremove c\nno\nexit\n"
    )
    output = await asyncio.to_thread(_shell, harness, script)
    assert "WARNING: the default password is in use" in output
    assert "admin@mycelium1@ecss1:/$ " in output
    assert "Domain a declared" in output
    assert "There is no such command" in output
    assert "admin@mycelium1@ecss1:/domain/a$ " in output
    assert "domain a" in output
    assert "Are you sure?: yes/no ?> " in output
    assert "Cancelled: nothing was changed" in output
    assert harness.removed == ["b"]
    assert [entry.command for entry in harness.audit.entries if entry.command != "login"] == [
        "domain/declare a", "/nothing", "info", "remove b",
    ]
    assert all(entry.frontend == "ssh" for entry in harness.audit.entries)


async def test_exec_and_stdin_give_the_same_output(harness: Harness) -> None:
    by_exec = await asyncio.to_thread(_exec, harness, "domain/declare x")
    by_stdin = await asyncio.to_thread(_exec, harness, "", "domain/declare x\n")
    assert by_exec == by_stdin == "Domain x declared\n"
    forced = await asyncio.to_thread(_exec, harness, "domain/remove y --force")
    assert forced == "Domain y removed\n"
    answered = await asyncio.to_thread(_exec, harness, "", "domain/remove z\nyes\n")
    assert answered == "Are you sure?: yes/no ?> Domain z removed\n"
    assert harness.removed == ["y", "z"]


async def test_failed_logins_are_rate_limited(harness: Harness) -> None:
    for _ in range(3):
        with pytest.raises(paramiko.AuthenticationException):
            await asyncio.to_thread(harness.client, "wrong")
    # locked out now, even with the right password
    with pytest.raises(paramiko.AuthenticationException):
        await asyncio.to_thread(harness.client, "password")
    results = [e.result for e in harness.audit.entries if e.command == "login"]
    assert results[:3] == ["refused: wrong password"] * 3
    assert results[-1] == "refused: too many failures"


def test_completion() -> None:
    registry = _registry([])
    assert complete(registry, (), "dom", 3) == ("domain/", 7)
    assert complete(registry, (), "domain/de", 9) == ("domain/declare ", 15)
    assert complete(registry, (), "domain/x", 8) == ("domain/x", 8)
    assert complete(registry, ("domain",), "re", 2) == ("remove ", 7)
    assert complete(registry, (), "domain/declare a", 16) == ("domain/declare a", 16)
    domains = {"D": ["pv.ssw3", "pv.other"]}
    assert complete(registry, (), "/domain/pv", 10, domains) == ("/domain/pv.", 11)
    assert complete(registry, (), "/domain/pv.s", 12, domains) == ("/domain/pv.ssw3/", 16)
    assert complete(registry, (), "/domain/pv.ssw3/i", 17, domains) == ("/domain/pv.ssw3/info ", 21)
