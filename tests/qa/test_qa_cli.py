"""`ssw qa` arguments: finding the suite and the files, refusing bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ssw.qa.cli import collect_files, find_suite_root, main
from ssw.qa.suite import QaFormatError


def _suite(tmp_path: Path) -> Path:
    root = tmp_path / "ecss-qa"
    (root / "runner-xml").mkdir(parents=True)
    for group in ("forking", "ss_cfu"):
        (root / "tests" / group).mkdir(parents=True)
        (root / "tests" / group / f"{group}.json").write_text(json.dumps({"Tests": []}))
    return root


def test_suite_root_is_found_above_a_path(tmp_path: Path) -> None:
    root = _suite(tmp_path)
    assert find_suite_root(root / "tests" / "forking") == root
    assert find_suite_root(tmp_path) is None


def test_files_by_group_or_path_without_duplicates(tmp_path: Path) -> None:
    root = _suite(tmp_path)
    files = collect_files(["forking", "tests/forking/forking.json", "ss_cfu"], root)
    assert [f.name for f in files] == ["forking.json", "ss_cfu.json"]
    with pytest.raises(QaFormatError, match="no such test file or group"):
        collect_files(["nothing"], root)


def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _suite(tmp_path)
    assert main(["--suite", str(root), "nothing"]) == 2
    assert main(["--suite", str(tmp_path / "missing"), "forking"]) == 2
    assert main(["--suite", str(root), "--report-only"]) == 2
    assert "ssw qa:" in capsys.readouterr().err


def test_report_only_renders_stored_results(tmp_path: Path) -> None:
    root = _suite(tmp_path)
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"files": [{
        "path": "tests/forking/forking.json", "group": "forking", "name": "forking",
        "auto_test": True, "warnings": [], "seconds": 1.0,
        "tests": [{"name": "t", "passed": False, "reason": "no 181", "seconds": 1.0}]}]}))
    report = tmp_path / "CONFORMANCE.md"
    assert main(["--suite", str(root), "--report-only", "--results", str(results),
                 "--report", str(report)]) == 0
    text = report.read_text()
    assert "| forking | yes | 0 / 1 |  |" in text and "| ss_cfu |  | 0 / 0 |  | not run |" in text
    assert "**t**: no 181" in text


def test_lanes_balance_work_and_stay_on_loopback(shared_dir: Path) -> None:
    from ssw.qa.lanes import estimated_seconds, lane_addresses, split_into_lanes
    from ssw.qa.suite import load_qa_file

    tests = shared_dir / "conformance" / "ecss-qa" / "tests"
    files = [load_qa_file(path) for path in sorted(tests.glob("*/*.json"))]
    lanes = split_into_lanes(files, 3)
    assert sorted(f.path for lane in lanes for f in lane) == sorted(f.path for f in files)
    loads = [sum(estimated_seconds(f) for f in lane) for lane in lanes]
    assert max(loads) - min(loads) <= max(estimated_seconds(f) for f in files)
    assert lane_addresses("127.0.0.1", 2, step=2) == ["127.0.0.1", "127.0.0.3"]
    with pytest.raises(ValueError, match="not a loopback"):
        lane_addresses("10.0.0.1", 1)


def test_register_adds_the_qa_subcommand(tmp_path: Path) -> None:
    import argparse

    from ssw.qa.cli import register

    parser = argparse.ArgumentParser(prog="ssw")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["qa", "--suite", str(_suite(tmp_path)), "--lanes", "2", "forking"])
    assert args.command == "qa" and args.paths == ["forking"] and args.lanes == 2
    assert callable(args.func)
