"""The ECSS-10 QA test files: loading, the model, and `%%NAME%%` substitution.

A test file (`tests/<group>/<name>.json`, described by the suite's FORMAT.md) lists the phones
(`Users`), CoCon commands to run before and after (`PreCoconConf`/`PostCoconConf`) and the tests,
each a list of steps. Step bodies stay as JSON values here: the runner substitutes variables into a
step only when it runs it, so a `SetVar` step changes what the steps after it see.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = [
    "QaFile",
    "QaFormatError",
    "QaTest",
    "QaUser",
    "Step",
    "UnresolvedVariableError",
    "Variables",
    "external_parties",
    "load_qa_file",
    "needs_lab",
    "ordered_commands",
    "stand_in_covers",
    "trunk_ports",
]

# `%%NAME%%`, `%%0.Number%%`, `%%NowTime+120%%`: letters, digits, `_`, `.`, `-` and `+`.
_VARIABLE = re.compile(r"%%([A-Za-z0-9_.+\-]+)%%")

# Variables computed from the clock (the alarm files): the local time shifted by N seconds as
# HHMM (what the wake-up feature codes take), and the day of the week (1 = Monday, ISO 8601).
_NOW_TIME = re.compile(r"^NowTime(?:([+-])(\d+))?$")

# User fields that `%%<i>.<Field>%%` may name.
_USER_FIELDS = ("UserId", "Number", "Login", "Password", "SipDomain", "SipGroup", "Port",
                "Expires", "QParam", "SipTransport", "RtpPort")


class QaFormatError(ValueError):
    """A test file that does not follow the format (the message says where and what)."""


class UnresolvedVariableError(QaFormatError):
    """A `%%NAME%%` that no setting, user field, UserVar or SetVar defines."""


@dataclass(frozen=True)
class QaUser:
    """One phone of a file; `port` is the SIPp local port the file gives it."""

    user_id: str
    number: str
    login: str
    password: str
    domain: str
    group: str
    port: int
    expires: str
    q: str
    transport: str = "UDP"
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """One step of a test procedure: its kind (`StartUA`, `Sleep`, ...) and its raw JSON body."""

    kind: str
    body: Any


@dataclass(frozen=True)
class QaTest:
    name: str
    description: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class QaFile:
    """A loaded test file. `group` is the folder it lives in (`forking`, `ss_cfu`, ...)."""

    path: Path
    group: str
    name: str
    users: tuple[QaUser, ...]
    user_vars: Mapping[str, str]
    pre_cocon: tuple[str, ...]
    post_cocon: tuple[str, ...]
    tests: tuple[QaTest, ...]
    auto_test: bool
    isolate: bool

    def user(self, user_id: str) -> QaUser:
        for user in self.users:
            if user.user_id == user_id:
                return user
        raise QaFormatError(f"{self.path.name}: no user with UserId {user_id!r}")


class Variables:
    """The `%%NAME%%` table of one file run: settings, user fields, UserVar, then SetVar."""

    def __init__(self, settings: Mapping[str, str], users: tuple[QaUser, ...] = (),
                 now: Callable[[], datetime] = datetime.now) -> None:
        self._now = now
        self._values: dict[str, str] = {_bare(k): str(v) for k, v in settings.items()}
        for user in users:
            for name, value in user.fields.items():
                self._values[f"{user.user_id}.{name}"] = value

    def set(self, name: str, value: str) -> None:
        self._values[_bare(name)] = str(value)

    def get(self, name: str) -> str | None:
        return self._values.get(_bare(name))

    def substitute(self, value: Any) -> Any:
        """`value` (a string or nested JSON) with every `%%NAME%%` replaced.

        Values may themselves hold variables (`%%FIND_ME_TIMER%%` inside a command); a few
        rounds resolve them. A name nobody defines raises `UnresolvedVariableError`.
        """
        if isinstance(value, str):
            return self._substitute_text(value)
        if isinstance(value, list):
            return [self.substitute(item) for item in value]
        if isinstance(value, dict):
            return {key: self.substitute(item) for key, item in value.items()}
        return value

    def _substitute_text(self, text: str) -> str:
        missing: list[str] = []

        def replace(match: re.Match[str]) -> str:
            found = self._values.get(match.group(1)) or self._computed(match.group(1))
            if found is None:
                missing.append(match.group(1))
                return match.group(0)
            return found

        for _ in range(5):
            text = _VARIABLE.sub(replace, text)
            if missing:
                names = ", ".join(f"%%{name}%%" for name in dict.fromkeys(missing))
                raise UnresolvedVariableError(f"undefined variable {names} in {text!r}")
            if not _VARIABLE.search(text):
                return text
        raise UnresolvedVariableError(f"variables refer to each other without end in {text!r}")


    def _computed(self, name: str) -> str | None:
        if name == "NowWeekDay":
            return str(self._now().isoweekday())
        shifted = _NOW_TIME.match(name)
        if shifted is None:
            return None
        seconds = int(shifted.group(2) or 0) * (-1 if shifted.group(1) == "-" else 1)
        return (self._now() + timedelta(seconds=seconds)).strftime("%H%M")


def _bare(name: str) -> str:
    """`%%NAME%%` and `NAME` name the same variable."""
    return name[2:-2] if name.startswith("%%") and name.endswith("%%") and len(name) > 4 else name


def ordered_commands(value: Any, where: str) -> tuple[str, ...]:
    """CoCon commands of `PreCoconConf`, `PostCoconConf` or a `CoconCommand` step, in order.

    The format writes them as a list of objects `{"command1": ..., "command2": ...}`; keys run
    in the numeric order of their suffix (`command2` before `command10`), empty objects add none.
    """
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    commands: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            raise QaFormatError(f"{where}: expected objects of commands, got {item!r}")
        for _key, command in sorted(item.items(), key=lambda kv: _command_order(kv[0])):
            if not isinstance(command, str):
                raise QaFormatError(f"{where}: command {command!r} is not a string")
            if command.strip():
                commands.append(command.strip())
    return tuple(commands)


def _command_order(key: str) -> tuple[int, str]:
    digits = re.search(r"(\d+)$", key)
    return (int(digits.group(1)) if digits else 0, key)


def _user(raw: Any, path: Path) -> QaUser:
    if not isinstance(raw, dict):
        raise QaFormatError(f"{path.name}: a user must be an object, got {raw!r}")
    try:
        fields = {name: str(raw[name]) for name in _USER_FIELDS if name in raw}
        return QaUser(
            user_id=str(raw["UserId"]),
            number=str(raw["Number"]),
            login=str(raw.get("Login", raw["Number"])),
            password=str(raw.get("Password", "")),
            domain=str(raw["SipDomain"]),
            group=str(raw.get("SipGroup", "sip.ab")),
            port=int(raw["Port"]),
            expires=str(raw.get("Expires", "3600")),
            q=str(raw.get("QParam", "1")),
            transport=str(raw.get("SipTransport", "UDP")).upper(),
            fields=fields,
        )
    except KeyError as missing:
        raise QaFormatError(f"{path.name}: user {raw!r} lacks {missing}") from None
    except ValueError:
        raise QaFormatError(f"{path.name}: user {raw!r} has a Port that is not a number") from None


def _test(raw: Any, path: Path) -> QaTest:
    if not isinstance(raw, dict) or not isinstance(raw.get("TestProcedure"), list):
        raise QaFormatError(f"{path.name}: a test needs a TestProcedure list: {raw!r:.200}")
    steps: list[Step] = []
    for index, step in enumerate(raw["TestProcedure"]):
        if not isinstance(step, dict) or not step:
            raise QaFormatError(f"{path.name}: step {index} of {raw.get('Name')!r} is empty")
        steps.extend(Step(kind, body) for kind, body in step.items())
    return QaTest(str(raw.get("Name", f"test {len(steps)}")),
                  str(raw.get("Description", "")), tuple(steps))


def _flag(value: Any) -> bool:
    return str(value).strip().lower() == "true"


def load_qa_file(path: Path) -> QaFile:
    """Read and check one test file; raises `QaFormatError` with the reason."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise QaFormatError(f"{path}: cannot read the test file: {error}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("Tests"), list):
        raise QaFormatError(f"{path}: a test file is an object with a Tests list")
    user_vars: dict[str, str] = {}
    for entry in raw.get("UserVar") or []:
        if not isinstance(entry, dict):
            raise QaFormatError(f"{path.name}: UserVar entries are objects, got {entry!r}")
        user_vars.update({_bare(k): str(v) for k, v in entry.items()})
    return QaFile(
        path=path,
        group=path.parent.name,
        name=str(raw.get("TestName", path.stem)),
        users=tuple(_user(user, path) for user in raw.get("Users") or []),
        user_vars=user_vars,
        pre_cocon=ordered_commands(raw.get("PreCoconConf"), f"{path.name} PreCoconConf"),
        post_cocon=ordered_commands(raw.get("PostCoconConf"), f"{path.name} PostCoconConf"),
        tests=tuple(_test(test, path) for test in raw["Tests"]),
        auto_test=_flag(raw.get("AutoTest")),
        isolate=_flag(raw.get("Isolate")),
    )


_CALLED = re.compile(r"-set\s+(?:CDPN|REMOTENUM)\s+(\S+)")


def external_parties(qa_file: QaFile) -> tuple[str, ...]:
    """Parties the tests reach that the file does not declare: numbers called that are not
    among its users (`%%TestNumber%%` = 108 in Eltex's lab), and `Trunk` phones (the file
    declares no trunk for them)."""
    variables = Variables(qa_file.user_vars, qa_file.users)
    numbers = {user.number for user in qa_file.users}
    found: dict[str, None] = {}
    for test in qa_file.tests:
        for step in test.steps:
            if step.kind != "StartUA" or not isinstance(step.body, list):
                continue
            for ua in step.body:
                if not isinstance(ua, dict):
                    continue
                if str(ua.get("Type", "User")) == "Trunk":
                    found[f"a trunk phone on port {ua.get('Port')}"] = None
                for command in ua.get("Commands") or []:
                    try:
                        options = variables.substitute(str(command.get("Options", "")))
                    except UnresolvedVariableError:
                        continue
                    for number in _CALLED.findall(options):
                        if number not in numbers:
                            found[f"number {number}"] = None
    return tuple(found)


def needs_lab(qa_file: QaFile, *, stand_in: bool = False) -> tuple[str, ...]:
    """Why a file cannot run unattended (empty when it can): it does not set `AutoTest` and
    its tests reach parties it does not declare, which only Eltex's lab provided. With
    `stand_in`, the parties the stand-in tester and its trunk play (`stand_in_covers`) are
    no reason."""
    if qa_file.auto_test or (stand_in and stand_in_covers(qa_file)):
        return ()
    return external_parties(qa_file)


def trunk_ports(qa_file: QaFile) -> tuple[int, ...]:
    """The local ports of the file's `Type: Trunk` phones (a SIP trunk peer each)."""
    ports: dict[int, None] = {}
    for test in qa_file.tests:
        for step in test.steps:
            if step.kind != "StartUA" or not isinstance(step.body, list):
                continue
            for ua in step.body:
                if isinstance(ua, dict) and str(ua.get("Type", "User")) == "Trunk":
                    port = str(ua.get("Port", ""))
                    if port.isdigit():
                        ports[int(port)] = None
    return tuple(ports)


def stand_in_covers(qa_file: QaFile) -> bool:
    """Whether the stand-in tester (and the trunk it declares) plays every party the file
    reaches without declaring it: its `%%TestNumber%%` and its trunk phones."""
    number = qa_file.user_vars.get("TestNumber")
    parties = external_parties(qa_file)
    return number is not None and f"number {number}" in parties and all(
        party == f"number {number}" or party.startswith("a trunk phone") for party in parties)
