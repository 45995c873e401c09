"""The licence commands over the SSH console (CoCon), with SoftHSM as the licence token.

The switch's clock is injected (`Clock`), so expiry and the token grace period are reached by
moving it, not by waiting. The token is real: SoftHSM through PKCS#11, unplugged by deleting its
token directory.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import paramiko
import pytest
from licence_support import HOST, Issuer, SoftHsm

from ssw.cocon.auth import LoginGuard
from ssw.cocon.commands import system
from ssw.cocon.console import Console
from ssw.cocon.executor import AuditEntry, Executor
from ssw.cocon.registry import Registry, Role
from ssw.cocon.services import CoconServices
from ssw.cocon.session import Identity
from ssw.cocon.ssh import SshConsoleServer, load_host_key
from ssw.licence import commands
from ssw.licence.manager import LicenceLimit, LicenceManager, LicensingConfig
from ssw.licence.service import LicenceService, MemoryBlob, MemoryLicenceStore
from ssw.licence.token import Pkcs11Token

START = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC).timestamp()
GRACE = 3600.0
DIR = "/cluster/storage/ds1/licence"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class FakeUsers:
    async def verify(self, user: str, password: str) -> Role | None:
        return Role.ADMIN if (user, password) == ("admin", "secret") else None

    async def default_password_in_use(self) -> bool:
        return False


class MemoryAudit:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    async def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


@dataclass
class Switch:
    server: SshConsoleServer
    service: LicenceService
    store: MemoryLicenceStore
    services: CoconServices
    clock: Clock
    token: SoftHsm
    issuer: Issuer

    def run(self, commands_text: str, stdin: str = "") -> str:
        """Run console lines as ``ssh admin@host -p PORT '<lines>'`` (or piped on stdin)."""
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect("127.0.0.1", port=self.server.port, username="admin", password="secret",
                       look_for_keys=False, allow_agent=False, timeout=10)
        try:
            channel_in, channel_out, _ = client.exec_command(commands_text, timeout=20)
            if stdin:
                channel_in.write(stdin)
            channel_in.channel.shutdown_write()
            output: bytes = channel_out.read()
            return output.decode()
        finally:
            client.close()

    async def ssh(self, commands_text: str, stdin: str = "") -> str:
        return await asyncio.to_thread(self.run, commands_text, stdin)

    @property
    def manager(self) -> LicenceManager:
        return self.service.manager


@pytest.fixture
async def switch(softhsm: SoftHsm, issuer: Issuer) -> AsyncIterator[Switch]:
    clock = Clock()
    config = LicensingConfig(trusted=issuer.trusted, hostname=HOST, token_grace=GRACE)
    store = MemoryLicenceStore()
    service = LicenceService(
        LicenceManager(config, clock()), store, Pkcs11Token(softhsm.module), clock=clock
    )
    await service.start()
    services = CoconServices(
        storage=None, identity=Identity("mycelium1", HOST), clock=clock, licence=service
    )
    registry = Registry()
    system.register(registry)
    commands.register(registry)
    console = Console(registry, services, Executor(MemoryAudit()), FakeUsers(), LoginGuard(3))
    server = SshConsoleServer(console, "127.0.0.1", 0, load_host_key(None))
    await server.start()
    try:
        yield Switch(server, service, store, services, clock, softhsm, issuer)
    finally:
        await server.stop()


def rows(text: str) -> dict[str, list[str]]:
    """Table rows of command output by their first column."""
    return {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.strip()}


async def install(switch: Switch, **limits: int) -> str:
    passport = switch.issuer.passport(switch.token.serial)
    licence = switch.issuer.licence(limits or {"subscribers": 100, "calls": 10})
    return await switch.ssh(f"{DIR}/set-passport {passport}\n{DIR}/add --force {licence}")


async def test_passport_then_licence_then_current_limits(switch: Switch) -> None:
    before = await switch.ssh(f"{DIR}/current-limits")
    assert "State     : default limits (no passport is set)" in before
    assert rows(before)["calls"] == ["2", "-"]
    assert rows(before)["ds_instances"] == ["1", "-"]

    passport = switch.issuer.passport(switch.token.serial)
    assert await switch.ssh(f"{DIR}/set-passport {passport}") == "OK\n"
    licence = switch.issuer.licence(
        {"subscribers": 5000, "calls": 300, "conference.meet_me": 4, "package.ECSS-ADV": 500}
    )
    added = await switch.ssh(f"{DIR}/add --force {licence}")
    lines = added.splitlines()
    assert lines[0].split() == ["Limit", "Current", "New"]
    assert lines[1].split() == ["subscribers", "10", "5000", "*"]
    assert lines[2].split() == ["calls", "2", "300", "*"]
    assert lines[-1] == "OK"

    limits = await switch.ssh(f"{DIR}/current-limits")
    assert "SSW_ID    : ECSS 000001" in limits
    assert f"token {switch.token.serial}" in limits
    assert "Token     : present" in limits
    assert "State     : licensed" in limits
    table = {line.split()[0]: line.split()[1:] for line in limits.splitlines()[6:] if line}
    assert table["subscribers"] == ["5000", "-"]
    assert table["calls"] == ["300", "-"]
    assert table["ds_instances"] == ["2", "-"]
    assert table["conference.meet_me"] == ["4", "-"]
    assert table["package.ECSS-ADV"] == ["500", "-"]
    assert switch.store.blobs == [passport, licence]


async def test_relative_paths_and_cd_work(switch: Switch) -> None:
    out = await switch.ssh("", f"cd {DIR}\ncurrent-limits\n")
    assert "State     : default limits" in out


async def test_wrong_order_is_refused_and_changes_nothing(switch: Switch) -> None:
    licence = switch.issuer.licence()
    out = await switch.ssh(f"{DIR}/add --force {licence}")
    assert out.startswith("Command error: no passport is set: set the passport first")
    assert switch.store.blobs == []
    assert switch.manager.licences == []


async def test_passport_given_to_add_and_licence_to_set_passport(switch: Switch) -> None:
    passport = switch.issuer.passport(switch.token.serial)
    out = await switch.ssh(f"{DIR}/add --force {passport}")
    assert "this is a passport, not a licence" in out
    out = await switch.ssh(f"{DIR}/set-passport {switch.issuer.licence()}")
    assert "this is a licence, not a passport" in out


async def test_tampered_licence_is_refused(switch: Switch) -> None:
    await install(switch)
    good = switch.issuer.licence(subscribers=9000, calls=900)
    index = 40  # a character inside the payload
    tampered = good[:index] + ("A" if good[index] != "A" else "B") + good[index + 1:]
    out = await switch.ssh(f"{DIR}/add --force {tampered}")
    assert out.startswith("Command error: ")
    assert "signature does not match" in out or "not canonical" in out or "base64" in out
    assert switch.manager.current().get("subscribers") == 100


async def test_licence_for_another_host_or_system_is_refused(switch: Switch) -> None:
    await install(switch)
    other_host = switch.issuer.licence(hostname="ecss2", calls=99)
    out = await switch.ssh(f"{DIR}/add --force {other_host}")
    assert out == (
        "Command error: the licence is bound to host 'ecss2', this host is 'ecss1': "
        "ask for a licence for this host\n"
    )
    other_system = switch.issuer.licence(ssw_id="ECSS 000777", calls=99)
    out = await switch.ssh(f"{DIR}/add --force {other_system}")
    assert "the licence is for SSW_ID 'ECSS 000777'" in out
    assert switch.manager.current().get("calls") == 10


async def test_licence_from_an_untrusted_issuer(switch: Switch, other_issuer: Issuer) -> None:
    await install(switch)
    out = await switch.ssh(f"{DIR}/add --force {other_issuer.licence(calls=1000)}")
    assert "which this switch does not trust" in out


async def test_passport_for_another_token(switch: Switch) -> None:
    out = await switch.ssh(f"{DIR}/set-passport {switch.issuer.passport('123456789')}")
    assert out.startswith("Command error: the passport is for token 123456789, but the token")
    assert switch.manager.passport is None


async def test_add_asks_after_showing_the_diff(switch: Switch) -> None:
    await install(switch)
    newer = switch.issuer.licence(issued=dt.date(2026, 5, 1), subscribers=200, calls=20)
    declined = await switch.ssh("", f"{DIR}/add {newer}\nno\n")
    assert rows(declined)["subscribers"] == ["100", "200", "*"]
    assert "Are you sure?: yes/no ?> Cancelled: nothing was changed" in declined
    assert switch.manager.current().get("calls") == 10

    no_diff = await switch.ssh("", f"{DIR}/add --no-diff {newer}\nyes\n")
    assert no_diff == "Are you sure?: yes/no ?> OK\n"
    assert switch.manager.current().get("calls") == 20


async def test_replacing_the_licence(switch: Switch) -> None:
    await install(switch)
    newer = switch.issuer.licence(issued=dt.date(2026, 5, 1), subscribers=100, calls=50)
    out = await switch.ssh(f"{DIR}/add --force {newer}")
    assert rows(out)["calls"] == ["10", "50", "*"]
    listing = await switch.ssh(f"{DIR}/list")
    states = [line.split()[4] for line in listing.splitlines()[3:] if line]
    assert states == ["standby", "active"]
    old_id = switch.manager.licences[0].licence_id
    assert await switch.ssh(f"{DIR}/remove {old_id} --force") == "OK\n"
    assert len(switch.store.blobs) == 2  # the passport and the newer licence
    out = await switch.ssh(f"{DIR}/remove {old_id} --force")
    assert out.startswith("Command error: no installed licence has the id")


async def test_expiry_with_injected_clock(switch: Switch) -> None:
    passport = switch.issuer.passport(switch.token.serial)
    licence = switch.issuer.licence(expires=dt.date(2026, 6, 20), calls=10)
    await switch.ssh(f"{DIR}/set-passport {passport}\n{DIR}/add --force {licence}")
    assert [a.code for a in switch.manager.alarms()] == ["licence_expiring"]
    switch.clock.now = dt.datetime(2026, 6, 21, tzinfo=dt.UTC).timestamp()
    switch.manager.handle_timer(switch.clock())
    out = await switch.ssh(f"{DIR}/current-limits")
    assert "State     : default limits (the licence expired on 2026-06-20)" in out
    assert not switch.manager.admit_call(2)
    expired_again = await switch.ssh(f"{DIR}/add --force {licence}")
    assert expired_again.startswith("Command error: the licence expired on 2026-06-20")


async def test_unplugged_token_alarm_then_defaults_after_grace(switch: Switch) -> None:
    await install(switch)
    switch.token.unplug()
    switch.clock.now += 60
    await switch.service.poll_token()
    node = "ds1@ecss1"
    commands.publish_alarms(switch.manager, switch.services.alarms, node, switch.clock())
    alarms = await switch.ssh("/cluster/mediator/md1/alarms/list")
    assert "licence_token_missing" in alarms
    assert "limits drop to the defaults in 1:00:00" in alarms
    limits = await switch.ssh(f"{DIR}/current-limits")
    assert "Token     : missing since 2026-06-01 12:01:00 UTC" in limits
    assert "defaults from 2026-06-01 13:01:00 UTC" in limits
    assert "State     : licensed" in limits

    switch.clock.now += GRACE
    await switch.service.poll_token()
    commands.publish_alarms(switch.manager, switch.services.alarms, node, switch.clock())
    limits = await switch.ssh(f"{DIR}/current-limits")
    assert f"State     : default limits (the token {switch.token.serial} is missing)" in limits
    assert not switch.manager.admit_call(2)
    alarms = await switch.ssh("/cluster/mediator/md1/alarms/list")
    assert "licence_defaults" in alarms and "licence_token_missing" in alarms


async def test_limits_exceeded(switch: Switch) -> None:
    await install(switch, subscribers=3, calls=2)
    manager = switch.manager
    manager.check_subscribers(3)
    with pytest.raises(LicenceLimit, match="licence limit subscribers = 3 reached"):
        manager.check_subscribers(4)
    assert manager.admit_call(1)
    assert not manager.admit_call(2)
    commands.publish_alarms(manager, switch.services.alarms, "ds1@ecss1", switch.clock())
    alarms = await switch.ssh("/cluster/mediator/md1/alarms/list")
    assert "licence_limit_exceeded:subscribers" in alarms
    assert "licence_limit_exceeded:calls" in alarms
    limits = await switch.ssh(f"{DIR}/current-limits")
    table = {line.split()[0]: line.split()[1:] for line in limits.splitlines()[6:] if line}
    assert table["subscribers"] == ["3", "3"]
    assert table["calls"] == ["2", "2"]
    manager.note_usage("calls", 0)
    manager.check_subscribers(2)
    commands.publish_alarms(manager, switch.services.alarms, "ds1@ecss1", switch.clock())
    assert await switch.ssh("/cluster/mediator/md1/alarms/list") == "No active alarms\n"


async def test_state_survives_a_restart(switch: Switch) -> None:
    await install(switch)
    again = LicenceService(
        LicenceManager(switch.manager.config, switch.clock()), switch.store,
        switch.service.token, clock=switch.clock,
    )
    await again.start()
    assert again.manager.current().edition == "licensed"
    assert again.manager.current().get("calls") == 10


async def test_unknown_storage_cluster(switch: Switch) -> None:
    out = await switch.ssh("/cluster/storage/ds9/licence/current-limits")
    assert out == "Command error: no storage cluster 'ds9' (storage clusters: ds1)\n"


async def test_token_listing(switch: Switch) -> None:
    out = await switch.ssh(f"{DIR}/token")
    assert "Available slots:" in out
    assert f"serial num         : {switch.token.serial}" in out
    assert "token label        : ECSS 000001" in out


class FailingStore(MemoryLicenceStore):
    async def set_passport(self, content: str) -> MemoryBlob:
        raise OSError("disk full")


async def test_storage_failure_changes_nothing(softhsm: SoftHsm, issuer: Issuer) -> None:
    clock = Clock()
    config = LicensingConfig(trusted=issuer.trusted, hostname=HOST)
    service = LicenceService(
        LicenceManager(config, clock()), FailingStore(), Pkcs11Token(softhsm.module), clock=clock
    )
    await service.start()
    with pytest.raises(OSError, match="disk full"):
        await service.set_passport(issuer.passport(softhsm.serial))
    assert service.manager.passport is None


async def test_open_edition_says_so(softhsm: SoftHsm, issuer: Issuer) -> None:
    from ssw.licence import console

    service = LicenceService(
        LicenceManager(LicensingConfig(hostname=HOST), START), MemoryLicenceStore(), None,
        clock=Clock(),
    )
    await service.start()
    assert console.current_limits(service) == (
        "Licensing : off, open edition (no trusted issuer key is configured)\nNo limits apply"
    )
    from ssw.licence.manager import LicensingDisabled

    with pytest.raises(LicensingDisabled):
        await console.set_passport(service, issuer.passport(softhsm.serial))
