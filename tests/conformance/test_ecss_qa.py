"""Eltex's ECSS-10 QA suite, required groups: each JSON test file is one case against a fresh
switch (`ssw.qa.run_file`), and every test of it must pass.

The files run once per session, in four lanes at the same time to keep CI within its time
budget: each lane has its own loopback address (127.0.0.1, .3, .5, .7), since the files fix the
phones' ports. `plan_lanes` balances the lanes with the durations measured in qa_durations.py
and cuts the long files (rfc4028.json) into parts of consecutive tests, each against its own
switch after the CoCon commands of the tests before it. A test that fails and that
known_failures.py does not list is run once more, alone on a fresh switch (SIPp timing on a
loaded 2-core machine, or what an earlier failing test of its file left behind), and its second
result counts. The cases then check each file's result: an unlisted failure fails; a listed one
is an expected failure, and a listed test that passes is reported (XPASS) without failing, so a
fix never breaks the build. The full suite (all groups, with docs/CONFORMANCE.md regenerated)
runs with `python -m ssw.qa --suite ../shared/conformance/ecss-qa --all --report
docs/CONFORMANCE.md`.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from known_failures import KNOWN_FAILURES
from qa_durations import MEASURED_SECONDS

from ssw.qa import REQUIRED_GROUPS, FileResult, QaFile, RunSettings, load_qa_file
from ssw.qa.lanes import lane_addresses, plan_lanes, retry_parts, run_parts_in_lanes, spread
from ssw.qa.report import save_results
from ssw.qa.runner import MANUAL_FILE_REASON
from ssw.qa.suite import needs_lab

SUITE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "ecss-qa"
LANE_ADDRESSES = lane_addresses("127.0.0.1", 4, step=2)  # 127.0.0.1, .3, .5 and .7


class KnownFailures(Exception):
    """Only the listed tests failed (the case is an expected failure)."""


def _required_files() -> list[str]:
    return [f"{group}/{path.name}" for group in REQUIRED_GROUPS
            for path in sorted((SUITE / "tests" / group).glob("*.json"))]


def _cases() -> list[object]:
    if not (SUITE / "tests").is_dir():
        return [pytest.param("", id="conformance-suite-absent")]
    cases: list[object] = []
    for relative in _required_files():
        known = KNOWN_FAILURES.get(relative)
        marks = []
        if known:
            reason = "; ".join(f"{name}: {why}" for name, why in known.items())
            marks.append(pytest.mark.xfail(strict=False, raises=KnownFailures, reason=reason))
        cases.append(pytest.param(relative, id=relative, marks=marks))
    return cases


@pytest.fixture(scope="session")
def sipp_path() -> str:
    binary = shutil.which("sipp")
    if binary is None:
        pytest.skip("SIPp not installed (Debian package sip-tester)")
    return binary


# The stand-in tester of the manual files (docs/CONFORMANCE.md) is a baresip phone; without
# baresip (Debian package baresip) those files are skipped like the other manual ones.
BARESIP = shutil.which("baresip")


@pytest.fixture(scope="session")
def required_results(shared_dir: Path, sipp_path: str,
                     tmp_path_factory: pytest.TempPathFactory) -> dict[str, FileResult]:
    """Every runnable file of the required groups, run once (takes about 8 minutes)."""
    suite = shared_dir / "conformance" / "ecss-qa"
    files = [load_qa_file(suite / "tests" / relative) for relative in _required_files()]
    runnable = [qa_file for qa_file in files
                if not needs_lab(qa_file, stand_in=BARESIP is not None)]
    lanes = plan_lanes(runnable, len(LANE_ADDRESSES), MEASURED_SECONDS)
    settings = RunSettings(suite_root=suite, workdir=tmp_path_factory.mktemp("qa"),
                           sipp=sipp_path, baresip=BARESIP or "baresip",
                           stand_in=None if BARESIP else False)
    results = asyncio.run(run_parts_in_lanes(lanes, LANE_ADDRESSES, settings))
    # Per-test times of the first run, to measure qa_durations.py again from.
    save_results(settings.workdir / "results.json", results.values(), suite)
    retry = [part for qa_file in runnable
             for part in retry_parts(qa_file, _unexpected(_key(qa_file), results))]
    if retry:
        again = replace(settings, workdir=tmp_path_factory.mktemp("qa-retry"))
        second = asyncio.run(run_parts_in_lanes(spread(retry, len(LANE_ADDRESSES)),
                                                LANE_ADDRESSES, again))
        for key, retried in second.items():
            by_name = {test.name: test for test in retried.tests}
            first = results[key]
            first.tests = [by_name.get(test.name, test) for test in first.tests]
            first.warnings += retried.warnings
    return results


def _key(qa_file: QaFile) -> str:
    return f"{qa_file.group}/{qa_file.path.name}"


def _unexpected(relative: str, results: dict[str, FileResult]) -> list[str]:
    """The tests of the file that failed and that known_failures.py does not list."""
    known = KNOWN_FAILURES.get(relative, {})
    return [test.name for test in results[relative].tests
            if not test.passed and test.name not in known]


@pytest.mark.e2e
@pytest.mark.timeout(2400)
@pytest.mark.parametrize("relative", _cases())
def test_required_file(relative: str, shared_dir: Path,
                       required_results: dict[str, FileResult]) -> None:
    qa_file = load_qa_file(shared_dir / "conformance" / "ecss-qa" / "tests" / relative)
    lab = needs_lab(qa_file, stand_in=BARESIP is not None)
    if lab:
        pytest.skip(f"{relative}: {MANUAL_FILE_REASON} ({', '.join(lab)}); "
                    "see docs/CONFORMANCE.md")
    result = required_results[relative]
    assert result.tests, f"{relative}: no test ran"
    failing = {test.name: test for test in result.tests if not test.passed}
    known = KNOWN_FAILURES.get(relative, {})
    unexpected = [failing[name] for name in failing if name not in known]
    assert not unexpected, "\n\n".join(
        f"{test.name}: {test.reason}\n{test.details}" for test in unexpected)
    if failing:
        raise KnownFailures("; ".join(f"{name}: {test.reason}" for name, test in failing.items()))
