"""Every CoCon command of Eltex's QA suite (conformance/ecss-qa) runs without an error string.

The runner of that suite fails a test when the console prints `There is no such command`,
`Command error` or `Invalid command's arguments`; here each test file's users are declared
(as FORMAT.md says a runner must), then its PreCoconConf, CoconCommand steps and PostCoconConf
commands run in order against a fresh domain.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cocon_helpers import Runner

from ssw.cocon.errors import COMMAND_ERROR, INVALID_ARGUMENTS, NO_SUCH_COMMAND

DOMAIN = "pv.ssw3"
ERRORS = (NO_SUCH_COMMAND, COMMAND_ERROR, INVALID_ARGUMENTS)


def _commands(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key in sorted(value) if all(k.startswith("command") for k in value) else value:
            item = value[key]
            if key.startswith("command") and isinstance(item, str):
                found.append(item)
            else:
                found.extend(_commands(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_commands(item))
    return found


def _ordered(test: dict[str, Any]) -> list[str]:
    commands = _commands(test.get("PreCoconConf", []))
    for case in test.get("Tests", []):
        for step in case.get("TestProcedure", []):
            if "CoconCommand" in step:
                commands.extend(_commands(step["CoconCommand"]))
    commands.extend(_commands(test.get("PostCoconConf", [])))
    return commands


def _substitute(text: str, variables: dict[str, str]) -> str:
    for _ in range(3):  # variables may refer to variables (%%ChuntGroup%% -> %%1.Number%%)
        text = re.sub(r"%%([^%]+)%%", lambda m: variables.get(m.group(1), m.group(0)), text)
    return text


def _variables(test: dict[str, Any]) -> dict[str, str]:
    variables = {"DEV_DOM": DOMAIN, "DEV_USER": "admin", "DEV_PASS": "password"}
    for index, user in enumerate(test.get("Users", [])):
        for field, value in user.items():
            variables[f"{index}.{field}"] = str(value)
        variables[f"{index}.SipDomain"] = DOMAIN
    for block in test.get("UserVar", []):
        for name, value in block.items():
            variables[name.strip("%")] = str(value)
    return variables


def _qa_files(shared: Path) -> list[Path]:
    return sorted((shared / "conformance" / "ecss-qa" / "tests").glob("*/*.json"))


# `../shared` beside the project (see tests/conftest.py); without it the list is empty.
_FILES = [
    p.relative_to(p.parents[1]).as_posix()
    for p in _qa_files(Path(__file__).resolve().parents[3] / "shared")
]


def test_the_suite_is_there(shared_dir: Path) -> None:
    assert len(_qa_files(shared_dir)) >= 30


@pytest.mark.parametrize("name", _FILES)
async def test_qa_file_commands(shared_dir: Path, runner: Runner, name: str) -> None:
    path = shared_dir / "conformance" / "ecss-qa" / "tests" / name
    test = json.loads(path.read_text())
    variables = _variables(test)
    assert "Command error" not in await runner.run(f"domain/declare {DOMAIN}")
    declared: set[tuple[str, str]] = set()
    for user in test.get("Users", []):
        key = (str(user["Number"]), str(user.get("SipGroup", "sip.ab")))
        if key in declared:
            continue  # several phones may share one number (forking)
        declared.add(key)
        out = await runner.run(
            f"/domain/{DOMAIN}/sip/user/declare default_routing {key[1]} {key[0]}@{DOMAIN} "
            f"none no_qop_authentication login-as-number {user.get('Password', '123')}"
        )
        assert "declared" in out, out
    commands = [_substitute(c, variables) for c in _ordered(test)]
    # A few files name users they do not list (alarm.json uses %%4.Number%% with 4 users):
    # such a command cannot be run by any runner, so it is left out.
    for command in (c for c in commands if "%%" not in c):
        output = await runner.run(command)
        assert not any(error in output for error in ERRORS), f"{command}\n{output}"
