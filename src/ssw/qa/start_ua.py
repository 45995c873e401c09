"""The `StartUA` step: start the phones of a test in parallel, answering phones first.

Each entry plays its `Commands` one after another. Phones whose scenario begins by receiving are
started first and given a moment to bind their ports, then the calling ones (FORMAT.md: "Start
the uas processes before the uac ones"). `BackGround` entries keep running while later steps go
on; the test waits for them at its end. The step passes when every foreground phone exits 0.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .phones import ua_command_job
from .scenario import is_answering_scenario, prepare_scenario
from .sipp import ReceivedMessage, SippOutcome, SippProcess
from .stand_in import Instruction, hold_time
from .suite import QaFormatError

if TYPE_CHECKING:
    from .runner import _FileRun

__all__ = ["StartUaStep", "error_line", "most_telling"]

ANSWERING_HEAD_START = 0.5  # seconds between starting the answering and the calling phones
# Once a phone of the step has failed, the others get this long to finish, then are stopped:
# the step has failed anyway, and a phone waiting for a call the switch will not deliver
# would otherwise sit out its whole -timeout (up to 200 s in some files).
FAILURE_GRACE = 10.0

# What the stand-in tester dials to reach a `Type: Trunk` phone: a number no subscriber has,
# which the switch routes to the domain's trunk.
TRUNK_NUMBER = "5550100"

_TIMESTAMP = re.compile(r"^\S+\s+\S+\s+\d+\.\d+:\s*")


# SIPp log lines that say little about the switch (a stray message from an earlier call, load).
_NOISE = ("Discarding message which can't be mapped", "Overload warning")


def error_line(outcome: SippOutcome) -> str:
    """One line saying what went wrong in a SIPp run (from its error log, else its exit)."""
    events = [_TIMESTAMP.sub("", line).strip() for line in outcome.error_log.splitlines()
              if _TIMESTAMP.match(line)]
    telling = [text for text in events if text and not text.startswith(_NOISE)]
    for text in telling or events:
        if text:
            return f"{outcome.summary()}: {text[:240]}"
    return outcome.summary()


def most_telling(failed: list[SippOutcome]) -> SippOutcome:
    """The failed phone whose log says most about the switch: one that got an unexpected
    message before one that timed out waiting, and either before one the runner stopped."""

    def rank(outcome: SippOutcome) -> int:
        if outcome.stopped:
            return 2
        return 1 if outcome.killed or "timed out" in outcome.error_log else 0

    return min(failed, key=rank)


def _source_and_options(source_file: str) -> tuple[str, str]:
    """`SourceFile` split into the scenario path and the SIPp options some files append."""
    parts = source_file.strip().split(None, 1)
    return (parts[0] if parts else "", parts[1] if len(parts) > 1 else "")


def _flag(value: Any) -> bool:
    return str(value).strip().lower() == "true"


class StartUaStep:
    """The phones of one test; `received_by_user` feeds `CheckDifference`."""

    def __init__(self, run: _FileRun) -> None:
        self._run = run
        self._background: list[asyncio.Task[list[SippOutcome]]] = []
        self._prepared: dict[Path, Path] = {}
        self._running: set[SippProcess] = set()
        self._abandoned = False
        self.received_by_user: dict[str, list[ReceivedMessage]] = defaultdict(list)

    def _scenario(self, source_file: str) -> tuple[Path, Path]:
        tests_dir = self._run.settings.suite_root / "tests"
        source = tests_dir / _source_and_options(source_file)[0]
        if not source.is_file():
            raise QaFormatError(f"scenario {source_file} not found in the suite's tests/")
        if source not in self._prepared:
            relative = source.parent.relative_to(tests_dir)
            self._prepared[source] = prepare_scenario(
                source, self._run.workdir / "scenarios" / relative)
        return source, self._prepared[source]

    async def _play(self, ua: dict[str, Any]) -> list[SippOutcome]:
        """Play one phone's commands in order; stops at the first that fails."""
        run = self._run
        is_trunk = str(ua.get("Type", "User")) == "Trunk"
        user = None if is_trunk else run.file.user(str(ua.get("UserId", "0")))
        user_key = str(ua.get("UserId", ua.get("Name", "trunk")))
        port_text = ua.get("Port", None if user is None else user.port)
        if port_text is None:
            raise QaFormatError(f"trunk phone {ua.get('Name')!r} has no Port")
        outcomes: list[SippOutcome] = []
        for command in ua.get("Commands") or []:
            _, scenario = self._scenario(str(command["SourceFile"]))
            # Some files put SIPp options after the file name: `uas_send_bye.xml -d 3000`.
            extra = _source_and_options(str(command["SourceFile"]))[1]
            job = ua_command_job(
                run.phones, scenario, name=str(ua.get("Name", user_key)), user=user,
                port=int(port_text), sipp_type=str(command.get("SippType", "uac")).lower(),
                need_auth=_flag(command.get("NeedAuth")) or _flag(ua.get("NeedAuth")),
                options=f"{command.get('Options', '')} {extra}".strip(),
                timeout=str(command.get("Timeout", "60s")),
                calling_domain=run.settings.domain if user is None else user.domain,
            )
            if self._abandoned:
                break
            process = run.process(job, scenario)
            self._running.add(process)
            try:
                outcome = await process.wait()
            finally:
                self._running.discard(process)
            outcomes.append(outcome)
            self.received_by_user[user_key].extend(outcome.received)
            if not outcome.passed:
                break
        return outcomes

    def _answering(self, ua: dict[str, Any]) -> bool:
        commands = ua.get("Commands") or []
        if not commands:
            return False
        source, _ = self._scenario(str(commands[0]["SourceFile"]))
        return is_answering_scenario(source)

    async def run(self, body: Any) -> None:
        from .runner import StepFailure

        if not isinstance(body, list) or not all(isinstance(ua, dict) for ua in body):
            raise QaFormatError(f"StartUA expects a list of phones, got {body!r:.200}")
        answering = [ua for ua in body if self._answering(ua)]
        calling = [ua for ua in body if ua not in answering]
        tester = self._run.stand_in
        if tester is not None and tester.instruction is Instruction.ANSWER and calling:
            tester.expect_call(self._hold_time(calling[0]))
        foreground: list[asyncio.Task[list[SippOutcome]]] = []
        try:
            for group in (answering, calling):
                if group is calling and answering:
                    await asyncio.sleep(ANSWERING_HEAD_START)
                    await self._tester_calls(answering[0])
                for ua in group:
                    task = asyncio.create_task(self._play(ua))
                    (self._background if _flag(ua.get("BackGround")) else foreground).append(task)
            results = await self._gather(foreground)
        except BaseException:
            for task in foreground:
                task.cancel()
            await asyncio.gather(*foreground, return_exceptions=True)
            raise
        failed = [outcome for outcomes in results for outcome in outcomes if not outcome.passed]
        if failed:
            details = "\n\n".join(f"{o.summary()}\n{o.excerpt()}" for o in failed)
            raise StepFailure(error_line(most_telling(failed)), details)

    async def _tester_calls(self, ua: dict[str, Any]) -> None:
        """The stand-in tester, told to "call TestUser", calls the phone `ua` now that it
        listens: its subscriber number, or for a trunk phone a number routed to the trunk."""
        tester = self._run.stand_in
        if tester is None or not tester.wants_to_call:
            return
        if str(ua.get("Type", "User")) == "Trunk":
            number = TRUNK_NUMBER
        else:
            number = self._run.file.user(str(ua.get("UserId", "0"))).number
        await tester.call(number, tester.account.domain, self._hold_time(ua))

    def _hold_time(self, ua: dict[str, Any]) -> float | None:
        """How long the tester talks to `ua` before hanging up (`stand_in.hold_time`)."""
        source, _ = self._scenario(str((ua.get("Commands") or [{}])[0].get("SourceFile", "")))
        return hold_time(source.read_text(encoding="latin-1"))

    async def _gather(self, tasks: list[asyncio.Task[list[SippOutcome]]]
                      ) -> list[list[SippOutcome]]:
        """Wait for `tasks`; once one has a failed phone, give the rest `FAILURE_GRACE`."""
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if any(not outcome.passed for task in done for outcome in task.result()):
                break
        if pending:
            _, pending = await asyncio.wait(pending, timeout=FAILURE_GRACE)
        if pending:
            self._abandoned = True
            for process in list(self._running):
                await process.stop()
            await asyncio.wait(pending)
        return [task.result() for task in tasks]

    async def wait_background(self) -> None:
        from .runner import StepFailure

        results = await asyncio.gather(*self._background)
        self._background.clear()
        failed = [outcome for outcomes in results for outcome in outcomes if not outcome.passed]
        if failed:
            raise StepFailure("background phone: " + error_line(failed[0]), failed[0].excerpt())

    async def stop_background(self) -> None:
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        self._background.clear()
