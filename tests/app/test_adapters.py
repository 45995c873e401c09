"""Subscriber profiles as the call core sees them, read from real (SQLite) storage."""

from __future__ import annotations

from pathlib import Path

from ssw.app.adapters import StorageSubscribers
from ssw.core.directory import Directory
from ssw.core.ports import ForkMode, ReliableProvisional, SessionTimerMode
from ssw.storage import Storage

DOMAIN = "pv.ssw3"


async def profile_after(tmp_path: Path, commands: list[tuple[str, str, str | None, str]]):  # type: ignore[no-untyped-def]
    storage = await Storage.open(tmp_path)
    try:
        await storage.domains.declare(DOMAIN)
        await storage.subscribers.declare(DOMAIN, "157", group="sip.ab", password="123")
        for kind, name, section, value in commands:
            if kind == "setting":
                await storage.subscribers.set_setting(DOMAIN, "157", name, value)
            else:
                assert section is not None
                await storage.kv.set(DOMAIN, section, name, value)
        subscribers = StorageSubscribers(Directory(storage, max_age=0.0), lambda: 0.0)
        return await subscribers.find(DOMAIN, "157")
    finally:
        await storage.close()


async def test_defaults(tmp_path: Path) -> None:
    profile = await profile_after(tmp_path, [])
    assert profile is not None
    assert (profile.login, profile.password, profile.qop) == ("157", "123", False)
    assert profile.fork_mode is ForkMode.ALL_CONTACTS
    assert profile.session_timer is SessionTimerMode.ON
    assert profile.reliable_provisional is ReliableProvisional.SUPPORTED
    assert profile.conversation_timeout is None
    assert profile.no_answer_timeout == 120


async def test_settings_and_domain_timers_reach_the_profile(tmp_path: Path) -> None:
    profile = await profile_after(tmp_path, [
        ("setting", "fork-mode", None, "find-me-with-q previous-continue"),
        ("setting", "req100rel", None, "true"),
        ("setting", "rfc-4028-control", None, "false"),
        ("kv", "conversation_timeout", "timers", "30"),
        ("kv", "no_answer_timeout", "timers", "7"),
        ("kv", "find_me", "sip_timers", "3600"),
        ("kv", "rfc4028_use_se", "sip_timers", "120"),
        ("kv", "rfc4028_min_se", "sip_timers", "90"),
    ])
    assert profile is not None
    assert profile.fork_mode is ForkMode.BY_Q_CONTINUE
    assert profile.reliable_provisional is ReliableProvisional.REQUIRED
    assert profile.session_timer is SessionTimerMode.OFF
    assert (profile.conversation_timeout, profile.no_answer_timeout) == (30, 7)
    assert profile.fork_step_timeout == 3.6
    assert (profile.session_expires, profile.min_se) == (120, 90)


async def test_forced_session_timers(tmp_path: Path) -> None:
    profile = await profile_after(tmp_path, [("setting", "rfc-4028-force", None, "true")])
    assert profile is not None and profile.session_timer is SessionTimerMode.FORCE
