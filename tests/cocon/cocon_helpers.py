"""Test helpers: run console lines against a real console, collecting the output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import paramiko

from ssw.cocon.console import Console
from ssw.cocon.executor import AuditEntry
from ssw.cocon.registry import Role
from ssw.cocon.session import ConsoleSession


def ssh_client(
    port: int, *, username: str = "admin", password: str = "password"
) -> paramiko.SSHClient:
    """An SSH client logged in to the console on 127.0.0.1:`port` (host key not checked)."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        "127.0.0.1",
        port=port,
        username=username,
        password=password,
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
    )
    return client


class CollectingIO:
    """ConsoleIO that keeps the output and answers questions from a list."""

    def __init__(self, answers: list[str] | None = None) -> None:
        self.output: list[str] = []
        self.answers = list(answers or [])

    async def write(self, text: str) -> None:
        self.output.append(text)

    async def ask(self, prompt: str) -> str | None:
        self.output.append(prompt)
        return self.answers.pop(0) if self.answers else None

    def text(self) -> str:
        return "".join(self.output)


class Runner:
    """Run console lines the way every front end does, collecting the output."""

    def __init__(self, console: Console, storage: Any) -> None:
        self.console = console
        self.storage = storage
        self.session: ConsoleSession = console.session("admin", Role.ADMIN, "test", "cli")

    async def run(self, line: str, answers: list[str] | None = None) -> str:
        io = CollectingIO(answers)
        await self.session.run_line(line, io)
        return io.text()


async def snapshot(storage: Any) -> dict[str, Any]:
    """Everything the console can change, to show that a refused command changed nothing."""
    state: dict[str, Any] = {"domains": [d.name for d in await storage.domains.list()]}
    for domain in state["domains"]:
        state[domain] = {
            "subscribers": [
                (s.number, s.group, s.login, s.routing_context, dict(s.settings))
                for s in await storage.subscribers.list(domain)
            ],
            "services": [
                (s.number, sorted(s.enabled), dict(s.activated))
                for s in await storage.services.info_many(domain)
            ],
            "aliases": await storage.aliases.list(domain),
            "profiles": await storage.media_profiles.list(domain),
            "trunks": await storage.trunks.list(domain),
            "properties": {
                section: await storage.kv.section(domain, section)
                for section in ("sip", "sip_timers", "timers", "routing_contexts")
            },
        }
    return state


@dataclass
class FakeUsers:
    password: str = "password"

    async def verify(self, user: str, password: str) -> Role | None:
        return Role.ADMIN if (user, password) == ("admin", self.password) else None

    async def default_password_in_use(self) -> bool:
        return self.password == "password"


class MemoryAudit:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    async def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)
