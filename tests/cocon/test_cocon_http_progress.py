"""http_terminal: a slow command answers 206 and is finished through /system/progress."""

from __future__ import annotations

import asyncio

import httpx
from cocon_helpers import FakeUsers, MemoryAudit

from ssw.cocon.args import Arg
from ssw.cocon.console import Console
from ssw.cocon.executor import Executor
from ssw.cocon.http_terminal import HttpTerminal
from ssw.cocon.registry import Arguments, CommandContext, CommandResult, Registry
from ssw.cocon.services import CoconServices


async def test_slow_command_reports_progress() -> None:
    release = asyncio.Event()
    registry = Registry()

    @registry.command("/slow", help="waits", args=(Arg("label"),), http_name="slow")
    async def slow(ctx: CommandContext, args: Arguments) -> CommandResult:
        await release.wait()
        return CommandResult(f"done {args['label']} <&>")

    audit = MemoryAudit()
    console = Console(registry, CoconServices(storage=None), Executor(audit), FakeUsers())
    terminal = HttpTerminal(console, progress_after=0.05)
    transport = httpx.ASGITransport(app=terminal.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://cocon") as client:
        login = '<in><login user="admin" password="password"/></in>'
        huge = login.replace("/>", " pad='" + "x" * 1_100_000 + "'/>")
        refused = await client.post("/system/login", content=huge)
        assert refused.status_code == 404 and "bad_request" in refused.text
        assert (await client.post("/system/login", content=login)).status_code == 201
        started = await client.post("/commands/slow", content='<in><request label="a"/></in>')
        assert started.status_code == 206
        ident = started.text.split('id="')[1].split('"')[0]
        poll = f'<in><progress id="{ident}"/></in>'
        assert (await client.post("/system/progress", content=poll)).status_code == 206
        release.set()
        await asyncio.sleep(0)
        finished = await client.post("/system/progress", content=poll)
        assert finished.status_code == 201
        assert "done a &lt;&amp;&gt;" in finished.text
        assert (await client.post("/system/progress", content=poll)).status_code == 404
        assert (await client.post("/system/logout")).status_code == 201
        after = await client.post("/commands/slow", content='<in><request label="b"/></in>')
        assert after.status_code == 404 and "not_logged_in" in after.text
    await terminal.close()
    assert [(e.command, e.frontend, e.result) for e in audit.entries] == [
        ("login", "http", "ok"),
        ("/slow label=a", "http", "ok"),
    ]
