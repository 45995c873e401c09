"""Lane planning: balanced lanes, long files cut into parts that replay earlier configuration."""

from __future__ import annotations

from pathlib import Path

from ssw.qa import FileResult, QaFile, TestResult
from ssw.qa.lanes import (
    FILE_SETUP_SECONDS,
    merge_results,
    plan_lanes,
    retry_parts,
    spread,
)
from ssw.qa.suite import QaTest, Step


def _test(name: str, timeout: str = "60s", command: str | None = None,
          kind: str = "StartUA") -> QaTest:
    steps = []
    if command is not None:
        steps.append(Step("CoconCommand", [{"command1": command}]))
    body = [{"Commands": [{"SourceFile": "x.xml", "Timeout": timeout}]}]
    steps.append(Step(kind, body if kind == "StartUA" else "1"))
    return QaTest(name, "", tuple(steps))


def _file(name: str, tests: tuple[QaTest, ...], pre: tuple[str, ...] = ()) -> QaFile:
    return QaFile(Path(f"/suite/tests/g/{name}"), "g", name, (), {}, pre, (), tests, True, False)


def _all_parts(lanes: list) -> list:
    return [part for lane in lanes for part in lane]


def test_short_files_stay_whole_and_lanes_are_balanced() -> None:
    files = [_file(f"f{n}.json", (_test("a", f"{10 * (n + 1)}s"),)) for n in range(8)]
    lanes = plan_lanes(files, 3)
    parts = _all_parts(lanes)
    assert sorted(p.key for p in parts) == sorted(f"g/{f.path.name}" for f in files)
    assert all(p.parts == 1 and p.qa_file is files[int(p.key[3])] for p in parts)
    loads = [sum(p.seconds for p in lane) for lane in lanes]
    assert max(loads) - min(loads) <= 80 + FILE_SETUP_SECONDS


def test_a_long_file_is_cut_into_parts_replaying_earlier_commands() -> None:
    long_file = _file("long.json", (
        _test("t1", "100s", command="set a 1"),
        _test("t2", "100s"),
        _test("t3", "100s", command="set b 2"),
        _test("t4", "100s"),
    ), pre=("declare x",))
    short = _file("short.json", (_test("s", "20s"),))
    lanes = plan_lanes([long_file, short], 2)
    parts = sorted((p for p in _all_parts(lanes) if p.key == "g/long.json"),
                   key=lambda p: p.first)
    assert [p.parts for p in parts] == [2, 2]
    assert [[t.name for t in p.qa_file.tests] for p in parts] == [["t1", "t2"], ["t3", "t4"]]
    assert parts[0].qa_file.pre_cocon == ("declare x",)
    assert parts[1].qa_file.pre_cocon == ("declare x", "set a 1")
    assert {len(lane) for lane in lanes} == {1, 2}  # the short file joins one part


def test_measured_durations_override_timeouts() -> None:
    files = [_file("a.json", (_test("a", "200s"),)), _file("b.json", (_test("b", "10s"),))]
    [[only]] = plan_lanes(files[:1], 1, {"g/a.json": {"a": 5.0}})
    assert only.seconds == 5.0 + FILE_SETUP_SECONDS


def test_files_with_service_features_are_never_cut() -> None:
    tests = tuple(_test(f"t{n}", "100s", kind="ServiceFeature") for n in range(4))
    parts = _all_parts(plan_lanes([_file("ss.json", tests)], 4))
    assert len(parts) == 1 and len(parts[0].qa_file.tests) == 4


def test_retry_parts_run_each_test_alone_after_the_commands_before_it() -> None:
    qa_file = _file("f.json", (_test("t1", command="set a 1"), _test("t2"), _test("t3")))
    parts = retry_parts(qa_file, ["t3", "t1"])
    assert [(p.first, [t.name for t in p.qa_file.tests]) for p in parts] == [
        (0, ["t1"]), (2, ["t3"])]
    assert parts[1].qa_file.pre_cocon == ("set a 1",)
    assert sorted(len(lane) for lane in spread(parts, 3)) == [0, 1, 1]


def test_merged_results_keep_test_order() -> None:
    pieces = []
    for names in (["t1", "t2"], ["t3"]):
        piece = FileResult(Path("f.json"), "g", "f", True, seconds=2.0)
        piece.tests = [TestResult(name, True) for name in names]
        piece.warnings = [f"w{names[0]}"]
        pieces.append(piece)
    merged = merge_results(pieces)
    assert [t.name for t in merged.tests] == ["t1", "t2", "t3"]
    assert merged.warnings == ["wt1", "wt3"] and merged.seconds == 4.0
    assert merge_results(pieces[:1]) is pieces[0]
