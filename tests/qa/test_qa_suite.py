"""Loading the QA suite's JSON files and substituting `%%NAME%%` variables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ssw.qa.suite import (
    QaFormatError,
    UnresolvedVariableError,
    Variables,
    load_qa_file,
    ordered_commands,
)

USER = {"UserId": "0", "Number": "157", "Login": "157", "Password": "123",
        "SipDomain": "pv.ssw3", "Expires": "90", "Port": "11001", "SipGroup": "sip.ab",
        "QParam": "0.5"}


def _write(tmp_path: Path, content: object) -> Path:
    group = tmp_path / "forking"
    group.mkdir(exist_ok=True)
    path = group / "case.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


def test_loads_users_commands_and_steps(tmp_path: Path) -> None:
    path = _write(tmp_path, {
        "TestName": "t", "AutoTest": "True", "Users": [USER],
        "UserVar": [{"%%TIMER%%": "3600"}],
        "PreCoconConf": [{"command2": "b", "command10": "c", "command1": "a"}],
        "PostCoconConf": [{}],
        "Tests": [{"Name": "one", "TestProcedure": [{"Sleep": "1"}, {"Stop": "True"}]}],
    })
    qa_file = load_qa_file(path)
    assert qa_file.group == "forking"
    assert qa_file.auto_test and not qa_file.isolate
    assert qa_file.pre_cocon == ("a", "b", "c")
    assert qa_file.post_cocon == ()
    assert qa_file.user_vars == {"TIMER": "3600"}
    assert qa_file.user("0").port == 11001
    assert [step.kind for step in qa_file.tests[0].steps] == ["Sleep", "Stop"]


@pytest.mark.parametrize("content", [
    [], {"Tests": "x"}, {"Users": [{"UserId": "0"}], "Tests": []},
    {"Users": [dict(USER, Port="x")], "Tests": []},
    {"Tests": [{"Name": "no procedure"}]},
    {"Tests": [{"Name": "empty step", "TestProcedure": [{}]}]},
])
def test_bad_files_are_refused_with_a_reason(tmp_path: Path, content: object) -> None:
    with pytest.raises(QaFormatError):
        load_qa_file(_write(tmp_path, content))


def test_unreadable_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(QaFormatError, match="cannot read"):
        load_qa_file(path)


def test_variables_cover_settings_user_fields_and_nesting(tmp_path: Path) -> None:
    qa_file = load_qa_file(_write(tmp_path, {"Users": [USER], "Tests": []}))
    variables = Variables({"DEV_DOM": "pv.ssw3", "%%CMD%%": "set find_me %%T%%", "T": "5"},
                          qa_file.users)
    assert variables.substitute("/domain/%%DEV_DOM%%/x %%0.Number%%@%%0.SipDomain%%") == (
        "/domain/pv.ssw3/x 157@pv.ssw3")
    assert variables.substitute({"a": ["%%CMD%%", 3]}) == {"a": ["set find_me 5", 3]}
    variables.set("%%T%%", "7")
    assert variables.substitute("%%CMD%%") == "set find_me 7"


def test_an_undefined_variable_is_an_error() -> None:
    with pytest.raises(UnresolvedVariableError, match=r"%%1\.Number%%"):
        Variables({}).substitute("call %%1.Number%%")


def test_self_referring_variables_do_not_loop_forever() -> None:
    with pytest.raises(UnresolvedVariableError, match="without end"):
        Variables({"A": "%%A%%"}).substitute("%%A%%")


def test_ordered_commands_refuses_non_strings() -> None:
    with pytest.raises(QaFormatError):
        ordered_commands([{"command1": 5}], "here")
    with pytest.raises(QaFormatError):
        ordered_commands(["not an object"], "here")


def test_every_file_of_the_suite_loads(shared_dir: Path) -> None:
    files = sorted((shared_dir / "conformance" / "ecss-qa" / "tests").glob("*/*.json"))
    assert len(files) >= 30
    for path in files:
        qa_file = load_qa_file(path)
        assert qa_file.tests, path


def test_clock_variables_of_the_alarm_files() -> None:
    from datetime import datetime

    variables = Variables({}, now=lambda: datetime(2026, 11, 24, 23, 59, 30))  # a Tuesday
    assert variables.substitute("*55*2*%%NowWeekDay%%*%%NowTime+120%%#") == "*55*2*2*0001#"
    assert variables.substitute("%%NowTime%% %%NowTime-60%%") == "2359 2358"


def test_manual_files_are_those_that_reach_undeclared_parties(shared_dir: Path) -> None:
    from ssw.qa.suite import needs_lab

    tests = shared_dir / "conformance" / "ecss-qa" / "tests"
    manual = {path.relative_to(tests).as_posix(): needs_lab(load_qa_file(path))
              for path in tests.glob("*/*.json")}
    assert {name for name, why in manual.items() if why} == {
        "record_route/rec_route.json", "oa_exchange/oa_exchange.json",
        "update/update_manual_test.json"}
    assert "number 108" in manual["oa_exchange/oa_exchange.json"]
    assert "a trunk phone on port 5040" in manual["record_route/rec_route.json"]


def test_the_stand_in_tester_covers_every_manual_file(shared_dir: Path) -> None:
    from ssw.qa.stand_in import asks_tester
    from ssw.qa.suite import needs_lab, trunk_ports

    tests = shared_dir / "conformance" / "ecss-qa" / "tests"
    files = {path.relative_to(tests).as_posix(): load_qa_file(path)
             for path in tests.glob("*/*.json")}
    assert not [name for name, f in files.items() if needs_lab(f, stand_in=True)]
    assert {name for name, f in files.items() if asks_tester(f)} == {
        "record_route/rec_route.json", "oa_exchange/oa_exchange.json",
        "update/update_manual_test.json"}
    assert trunk_ports(files["record_route/rec_route.json"]) == (5040,)
    assert trunk_ports(files["oa_exchange/oa_exchange.json"]) == (5030,)
    assert trunk_ports(files["update/update_manual_test.json"]) == ()
