"""Run one ECSS QA test file against a fresh switch and say, per test, passed or why not.

The order is the one FORMAT.md describes: start the switch (loopback, fresh data directory, free
ports); declare the domain and every user through CoCon; register the phones with
`reg_user.xml`; run `PreCoconConf`; run each test's steps; run `PostCoconConf`; unregister; stop
the switch. A test fails at its first failing step; the CoCon steps after that still run (files
use them to clean up), the phone steps do not.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from .checks import check_difference
from .cocon import CoconClient, CoconError
from .phones import PhoneJob, PhoneSettings, feature_code_job, registration_job
from .sipp import SippOutcome, SippProcess
from .stand_in import StandIn, StandInAccount, StandInError, asks_tester
from .start_ua import StartUaStep, error_line
from .suite import (
    QaFile,
    QaFormatError,
    QaTest,
    QaUser,
    Step,
    Variables,
    ordered_commands,
    trunk_ports,
)
from .switch import SwitchProcess, SwitchStartError

__all__ = [
    "MANUAL_FILE_REASON",
    "FileResult",
    "RunSettings",
    "StepFailure",
    "TestResult",
    "run_file",
    "skip_file",
]

# FORMAT.md: `AutoTest` marks a file that "can run unattended". Files without it that reach
# parties they do not declare (`suite.needs_lab`) were run by hand in Eltex's lab.
MANUAL_FILE_REASON = ("not run: a manual file (no AutoTest) whose tests reach parties it does "
                      "not declare")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSettings:
    """What a run needs to know: the suite folder, SIPp, the address and the CoCon login."""

    suite_root: Path  # holds runner-xml/ and tests/
    workdir: Path  # one folder per file run: switch data, logs, SIPp traces
    sipp: str = "sipp"
    ip: str = "127.0.0.1"
    domain: str = "pv.ssw3"
    cocon_user: str = "admin"
    cocon_password: str = "password"
    pause_between_tests: float = 1.0
    kill_grace: float = 15.0  # seconds a SIPp process may outlive its own -timeout
    # The stand-in tester (stand_in.py) for files whose tests call or wait for a person at
    # `%%TestNumber%%`: True always, False never, None when the file reaches that number.
    stand_in: bool | None = None
    baresip: str = "baresip"
    stand_in_password: str = "tester108"


class StepFailure(Exception):
    """A step that did not pass: `reason` is one line, `details` the evidence."""

    def __init__(self, reason: str, details: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


@dataclass
class TestResult:
    """One test of a file: passed, or the first failing step's reason and evidence."""

    __test__ = False  # not a pytest test class

    name: str
    passed: bool
    reason: str = ""
    details: str = ""
    seconds: float = 0.0
    skipped: bool = False  # not run (a manual file); `reason` says why


@dataclass
class FileResult:
    path: Path
    group: str
    name: str
    auto_test: bool
    tests: list[TestResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> int:
        return sum(test.passed for test in self.tests)


class _FileRun:
    """The state of one file run (variables, CoCon, the phones' outcomes)."""

    def __init__(self, qa_file: QaFile, settings: RunSettings, workdir: Path,
                 switch: SwitchProcess, cocon: CoconClient) -> None:
        self.file = qa_file
        self.settings = settings
        self.workdir = workdir
        self.cocon = cocon
        self.phones = PhoneSettings(
            ip=settings.ip, switch_host=switch.host, switch_port=switch.ports.sip,
            registration_xml=settings.suite_root / "runner-xml" / "reg_user.xml",
            feature_code_xml=settings.suite_root / "runner-xml" / "send_sf.xml",
        )
        tests_dir = settings.suite_root / "tests"
        self.variables = Variables({
            "IP": settings.ip, "SERV_IP": switch.host, "EXTER_IP": switch.host,
            "EXTER_PORT": str(switch.ports.sip), "DEV_USER": settings.cocon_user,
            "DEV_PASS": settings.cocon_password, "DEV_DOM": settings.domain,
            "SRC_PATH": str(tests_dir), "REG_XML": str(self.phones.registration_xml),
            "SF_XML": str(self.phones.feature_code_xml), **qa_file.user_vars,
        }, qa_file.users)
        self._runs = 0
        self._registered_at: float | None = None
        self.stand_in: StandIn | None = None
        self.trunk_ports: tuple[int, ...] = trunk_ports(qa_file)

    # -- the stand-in tester and the trunk peer -------------------------------------------

    def tester(self) -> StandInAccount | None:
        """The person the file's `Print` steps talk to, when this run plays them."""
        number = self.variables.get("TestNumber")
        wanted = self.settings.stand_in
        if number is None or wanted is False:
            return None
        if wanted is None and not asks_tester(self.file):
            return None
        domain = self.variables.get("TestDomain") or self.settings.domain
        return StandInAccount(number, domain, self.settings.stand_in_password)

    async def start_stand_in(self, switch: SwitchProcess) -> None:
        account = self.tester()
        if account is None:
            return
        answer = await self.cocon.run(
            f"/domain/{account.domain}/sip/user/declare default_routing sip.ab "
            f"{account.number}@{account.domain} none no_qop_authentication login-as-number "
            f"{account.password}")
        if answer.failed:
            raise StepFailure(f"cannot declare the tester {account.number}: {answer.output}")
        self.stand_in = StandIn(self.settings.baresip, self.workdir / "stand-in", self.settings.ip,
                                switch.host, switch.ports.sip, account)
        try:
            await self.stand_in.start()
        except (OSError, StandInError) as error:
            raise StepFailure(f"stand-in tester: {error}") from None

    async def declare_trunks(self) -> None:
        """A static SIP trunk at the phones' address for each `Type: Trunk` port of the file:
        calls from it come in unauthenticated, numbers not local go out through it."""
        for port in self.trunk_ports:
            command = (f"/domain/{self.settings.domain}/trunk/sip/declare default_routing "
                       f"qa_trunks trunk{port} qa_ipset static {self.settings.ip} {port} "
                       f"sip-proxy {port}")
            answer = await self.cocon.run(command)
            if answer.failed:
                raise StepFailure(f"cannot declare the trunk on port {port}: {answer.output}")

    # -- phones ---------------------------------------------------------------------------

    def process(self, job: PhoneJob, scenario: Path) -> SippProcess:
        self._runs += 1
        label = re.sub(r"[^A-Za-z0-9_.-]+", "_", job.name).strip("_")[:48]
        directory = self.workdir / f"sipp{self._runs:03d}-{label}"
        return SippProcess(self.settings.sipp, job.name, ["-sf", str(scenario), *job.arguments],
                           directory, job.timeout + self.settings.kill_grace)

    async def run_job(self, job: PhoneJob, *, bind_retries: int = 0) -> SippOutcome:
        """Run `job`; retry up to `bind_retries` times, 2 s apart, when SIPp cannot bind its
        port yet (the previous phone on that port may still be closing)."""
        outcome = await self.process(job, job.scenario).wait()
        for _ in range(bind_retries):
            if outcome.passed or "Unable to bind" not in outcome.error_log:
                break
            await asyncio.sleep(2.0)
            outcome = await self.process(job, job.scenario).wait()
        return outcome

    # -- environment ----------------------------------------------------------------------

    async def declare_environment(self) -> None:
        """The domain and the users the suite assumes (FORMAT.md, "Settings")."""
        domains = dict.fromkeys([self.settings.domain, *(u.domain for u in self.file.users)])
        for domain in domains:
            answer = await self.cocon.run(f"domain/declare {domain}")
            if answer.failed and "exists" not in answer.output:
                raise StepFailure(f"cannot declare domain {domain}: {answer.output}")
        declared: set[tuple[str, str]] = set()
        for user in self.file.users:
            if (user.number, user.domain) in declared:
                continue  # several phones of one number (forking): one subscriber
            declared.add((user.number, user.domain))
            command = (f"/domain/{user.domain}/sip/user/declare default_routing {user.group} "
                       f"{user.number}@{user.domain} none no_qop_authentication "
                       f"login-as-number {user.password}")
            answer = await self.cocon.run(command)
            if answer.failed:
                raise StepFailure(f"cannot declare user {user.number}: {answer.output}")

    async def register_all(self, expires: str | None = None) -> list[SippOutcome]:
        self._registered_at = time.monotonic()
        outcomes = []
        for user in self.file.users:
            job = registration_job(self.phones, user, expires=expires)
            outcomes.append(await self.run_job(job, bind_retries=3))
        return outcomes

    async def refresh_registrations(self) -> list[str]:
        """Register again once half the shortest expiry has passed, as a phone would.

        The files register with `Expires: 90`, and a file's tests often run longer than that;
        a SIPp phone playing a test scenario does not refresh its registration itself.
        """
        shortest = min((float(u.expires) for u in self.file.users if u.expires.isdigit()),
                       default=0.0)
        if self._registered_at is None or shortest <= 0:
            return []
        if time.monotonic() - self._registered_at < shortest / 2:
            return []
        return [f"re-registration: {o.summary()}" for o in await self.register_all()
                if not o.passed]

    async def run_commands(self, commands: tuple[str, ...], where: str) -> list[str]:
        """Run CoCon commands; returns one line per refused command."""
        refused = []
        for command in commands:
            answer = await self.cocon.run(self.variables.substitute(command))
            if answer.failed:
                refused.append(f"{where}: `{answer.command}` -> {answer.output.splitlines()[0]}")
        return refused

    # -- steps ----------------------------------------------------------------------------

    async def run_test(self, test: QaTest) -> TestResult:
        started = time.monotonic()
        failure: StepFailure | None = None
        start_ua = StartUaStep(self)
        try:
            for step in test.steps:
                if failure is not None and step.kind != "CoconCommand":
                    continue
                try:
                    await self.run_step(step, start_ua)
                except StepFailure as error:
                    failure = failure or error
                except QaFormatError as error:
                    failure = failure or StepFailure(f"{step.kind}: {error}")
            if failure is None:
                await start_ua.wait_background()
        except StepFailure as error:
            failure = failure or error
        finally:
            await start_ua.stop_background()
            if self.stand_in is not None:
                await self.stand_in.end_of_test()
        seconds = time.monotonic() - started
        if failure is None:
            return TestResult(test.name, True, seconds=seconds)
        return TestResult(test.name, False, failure.reason, failure.details, seconds)

    async def run_step(self, step: Step, start_ua: StartUaStep) -> None:
        kind = step.kind
        if kind == "StartUA":
            await start_ua.run(self.variables.substitute(step.body))
        elif kind == "CoconCommand":
            commands = ordered_commands(self.variables.substitute(step.body), "CoconCommand")
            refused = await self.run_commands(commands, "CoconCommand")
            if refused:
                raise StepFailure(refused[0], "\n".join(refused))
        elif kind == "ServiceFeature":
            await self.service_features(self.variables.substitute(step.body))
        elif kind == "Sleep":
            await asyncio.sleep(float(self.variables.substitute(str(step.body))))
        elif kind == "Print":
            text = self.variables.substitute(str(step.body))
            log.info("%s: %s", self.file.path.name, text)
            if self.stand_in is not None:
                self.stand_in.instruct(text)
        elif kind == "Stop":
            pass  # a manual pause of the original runner; an unattended run goes on
        elif kind == "SetVar":
            entries = step.body if isinstance(step.body, list) else [step.body]
            for entry in entries:
                if not isinstance(entry, dict):
                    raise QaFormatError(f"SetVar expects objects of name: value, got {entry!r}")
                for name, value in entry.items():
                    self.variables.set(name, self.variables.substitute(str(value)))
        elif kind == "CheckDifference":
            problems = check_difference(self.variables.substitute(step.body),
                                        start_ua.received_by_user)
            if problems:
                raise StepFailure(problems[0], "\n".join(problems))
        else:
            raise StepFailure(f"unknown step {kind!r} (not in FORMAT.md)")

    async def service_features(self, body: object) -> None:
        entries = body if isinstance(body, list) else [body]
        for entry in entries:
            if not isinstance(entry, dict) or "code" not in entry:
                raise QaFormatError(f"ServiceFeature expects {{code, userId}}, got {entry!r}")
            user: QaUser = self.file.user(str(entry.get("userId", entry.get("UserId", "0"))))
            outcome = await self.run_job(feature_code_job(self.phones, user, str(entry["code"])))
            if not outcome.passed:
                raise StepFailure(f"ServiceFeature {entry['code']} by {user.number}: "
                                  f"{error_line(outcome)}", outcome.excerpt())


async def run_file(qa_file: QaFile, settings: RunSettings) -> FileResult:
    """Run every test of `qa_file` against its own switch; never raises for a failing test."""
    started = time.monotonic()
    result = FileResult(qa_file.path, qa_file.group, qa_file.name, qa_file.auto_test)
    workdir = settings.workdir / qa_file.group / qa_file.path.stem
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        async with SwitchProcess(workdir / "switch-data", settings.ip) as switch, CoconClient(
            switch.host, switch.ports.cocon, settings.cocon_user, settings.cocon_password
        ) as cocon:
            run = _FileRun(qa_file, settings, workdir, switch, cocon)
            try:
                await _run_tests(run, switch, result)
            finally:
                if run.stand_in is not None:
                    await run.stand_in.stop()
    except (SwitchStartError, CoconError) as error:
        _fail_remaining(result, qa_file, f"environment: {error}".splitlines()[0], str(error))
    result.seconds = time.monotonic() - started
    return result


async def _run_tests(run: _FileRun, switch: SwitchProcess, result: FileResult) -> None:
    qa_file = run.file
    try:
        await run.declare_environment()
        if run.tester() is not None:
            await run.declare_trunks()
        await run.start_stand_in(switch)
        for outcome in await run.register_all():
            if not outcome.passed:
                raise StepFailure(f"registration failed: {error_line(outcome)}",
                                  outcome.excerpt())
    except StepFailure as failure:
        _fail_remaining(result, qa_file, failure.reason, failure.details)
        return
    result.warnings += await run.run_commands(qa_file.pre_cocon, "PreCoconConf")
    for index, test in enumerate(qa_file.tests):
        if index:
            await asyncio.sleep(run.settings.pause_between_tests)
            result.warnings += await run.refresh_registrations()
        result.tests.append(await run.run_test(test))
    result.warnings += await run.run_commands(qa_file.post_cocon, "PostCoconConf")
    for outcome in await run.register_all(expires="0"):
        if not outcome.passed:
            result.warnings.append(f"unregistration: {outcome.summary()}")


def skip_file(qa_file: QaFile, reason: str) -> FileResult:
    """The result of a file that is not run: every test skipped with `reason`."""
    result = FileResult(qa_file.path, qa_file.group, qa_file.name, qa_file.auto_test)
    result.tests = [TestResult(test.name, False, reason, skipped=True) for test in qa_file.tests]
    return result


def _fail_remaining(result: FileResult, qa_file: QaFile, reason: str, details: str) -> None:
    done = {test.name for test in result.tests}
    for test in qa_file.tests:
        if test.name not in done:
            result.tests.append(TestResult(test.name, False, reason, details))
