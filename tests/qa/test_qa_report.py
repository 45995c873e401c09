"""Results kept as JSON and rendered into docs/CONFORMANCE.md."""

from __future__ import annotations

from pathlib import Path

from ssw.qa.report import END_MARKER, load_results, render_report, save_results, write_report
from ssw.qa.runner import FileResult, TestResult


def _result(root: Path, group: str, *passed: bool) -> FileResult:
    result = FileResult(root / "tests" / group / f"{group}.json", group, group, True)
    result.tests = [TestResult(f"t{i}", ok, "" if ok else f"why {i} | pipe")
                    for i, ok in enumerate(passed)]
    return result


def test_results_merge_and_render(tmp_path: Path) -> None:
    store = tmp_path / "results.json"
    save_results(store, [_result(tmp_path, "forking", True, False)], tmp_path)
    save_results(store, [_result(tmp_path, "ss_cfu", True)], tmp_path)
    stored = save_results(store, [_result(tmp_path, "forking", True, True)], tmp_path)
    assert set(stored) == {"tests/forking/forking.json", "tests/ss_cfu/ss_cfu.json"}
    assert load_results(store) == stored
    text = render_report(list(stored.values()), ["forking", "ss_cfu", "alarm"])
    assert "| forking | yes | 2 / 2 |  |" in text
    assert "| ss_cfu |  | 1 / 1 |  |" in text
    assert "| alarm |  | 0 / 0 |  | not run |" in text
    assert "**3 / 3**" in text


def test_failing_tests_get_one_line_each(tmp_path: Path) -> None:
    stored = save_results(tmp_path / "r.json", [_result(tmp_path, "update", False)], tmp_path)
    text = render_report(list(stored.values()))
    assert "- `tests/update/update.json` — **t0**: why 0 \\| pipe" in text


def test_regenerating_keeps_the_hand_written_analysis(tmp_path: Path) -> None:
    doc = tmp_path / "CONFORMANCE.md"
    stored = save_results(tmp_path / "r.json", [_result(tmp_path, "update", False)], tmp_path)
    write_report(doc, list(stored.values()), ["update"])
    doc.write_text(doc.read_text() + "\n## Analysis\n\nkept\n")
    stored = save_results(tmp_path / "r.json", [_result(tmp_path, "update", True)], tmp_path)
    write_report(doc, list(stored.values()), ["update"])
    text = doc.read_text()
    assert "| update | yes | 1 / 1 |  |" in text
    assert text.count(END_MARKER) == 1 and text.endswith("## Analysis\n\nkept\n")
