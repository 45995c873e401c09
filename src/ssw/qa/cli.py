"""`ssw qa <paths...>`: run ECSS QA test files (or whole groups) against fresh switches.

    ssw qa tests/forking                 # a group, from inside the suite folder
    ssw qa --suite ../shared/conformance/ecss-qa forking sip_timers/sip_timers.json
    ssw qa --suite ... --all --report docs/CONFORMANCE.md --results build/qa-results.json

Paths name a test file or a group folder, absolute, relative to the current folder, or relative
to the suite's `tests/` folder. Groups run one after another (the files fix the phones' ports).
Files without `AutoTest` whose `Print` steps talk to a person at `%%TestNumber%%` (108) run
with a stand-in tester (`--stand-in`, default auto): a baresip phone registered as that number
that answers, lets ring or calls as the steps say, and a static SIP trunk declared for the
files' `Type: Trunk` phones (docs/CONFORMANCE.md, "What the runner does").
Exit status: 0 when every test passed, 1 otherwise, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .lanes import lane_addresses, split_into_lanes
from .report import load_results, save_results, write_report
from .runner import MANUAL_FILE_REASON, FileResult, RunSettings, run_file, skip_file
from .suite import QaFile, QaFormatError, load_qa_file, needs_lab

__all__ = ["collect_files", "find_suite_root", "main", "register", "run_paths"]

log = logging.getLogger(__name__)


def find_suite_root(start: Path) -> Path | None:
    """The folder holding `runner-xml/` and `tests/`, at or above `start`."""
    for folder in (start, *start.parents):
        if (folder / "runner-xml").is_dir() and (folder / "tests").is_dir():
            return folder
    return None


def collect_files(paths: Sequence[str], suite_root: Path) -> list[Path]:
    """The JSON test files that `paths` name, sorted, without duplicates."""
    files: list[Path] = []
    for text in paths:
        candidates = [Path(text), suite_root / "tests" / text, suite_root / text]
        path = next((c for c in candidates if c.exists()), None)
        if path is None:
            raise QaFormatError(f"{text}: no such test file or group (looked in the current "
                                f"folder and in {suite_root / 'tests'})")
        found = sorted(path.glob("*.json")) if path.is_dir() else [path]
        if not found:
            raise QaFormatError(f"{text}: no JSON test file in this folder")
        files.extend(p.resolve() for p in found)
    return list(dict.fromkeys(files))


async def _interruptible(files: Sequence[Path], settings: RunSettings,
                         **options: Any) -> list[FileResult]:
    """`run_paths`, cancelled cleanly on SIGTERM/SIGINT so every switch and phone is stopped."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    try:
        return await run_paths(files, settings, **options)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


async def run_paths(files: Sequence[Path], settings: RunSettings, *, include_manual: bool = False,
                    verbose: bool = False, lanes: int = 1,
                    on_result: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    """Run `files`, printing a line per test, in `lanes` lanes (one loopback address each,
    from `settings.ip` on; one lane keeps the given order).

    Files that need Eltex's lab (`needs_lab`) are reported as not run unless
    `include_manual`; `on_result` sees each file's result as soon as it is known.
    """
    results: list[FileResult] = []

    def report(result: FileResult) -> None:
        print(f"== {result.group}/{result.path.name}: {len(result.tests)} test(s)", flush=True)
        for test in result.tests:
            status = "SKIP" if test.skipped else "PASS" if test.passed else "FAIL"
            print(f"   {status} {test.name} ({test.seconds:.1f} s)"
                  + ("" if test.passed else f"\n        {test.reason}"), flush=True)
            if not test.passed and test.details and verbose:
                print("        " + test.details.replace("\n", "\n        "), flush=True)
        for warning in result.warnings:
            print(f"   note: {warning}", flush=True)
        results.append(result)
        if on_result is not None:
            on_result(result)

    runnable = []
    for path in files:
        qa_file = load_qa_file(path)
        # the stand-in tester and its trunk play the lab's parties unless told not to
        lab = needs_lab(qa_file, stand_in=settings.stand_in is not False)
        if lab and not include_manual:
            report(skip_file(qa_file, f"{MANUAL_FILE_REASON}: {', '.join(lab)}"))
        else:
            runnable.append(qa_file)
    groups = split_into_lanes(runnable, lanes) if lanes > 1 else [runnable]
    addresses = lane_addresses(settings.ip, len(groups))

    async def lane(qa_files: list[QaFile], address: str) -> None:
        lane_settings = settings if len(groups) == 1 else replace(
            settings, ip=address, workdir=settings.workdir / address)
        for qa_file in qa_files:
            report(await run_file(qa_file, lane_settings))

    await asyncio.gather(*(lane(g, a) for g, a in zip(groups, addresses, strict=True)))
    return results


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", help="test files or group folders")
    parser.add_argument("--suite", type=Path, default=None,
                        help="the suite folder (holds runner-xml/ and tests/); default: found "
                             "above the first path or the current folder")
    parser.add_argument("--all", action="store_true", help="run every group of the suite")
    parser.add_argument("--sipp", default=shutil.which("sipp") or "sipp", help="SIPp binary")
    parser.add_argument("--ip", default="127.0.0.1", help="loopback address for everything")
    parser.add_argument("--domain", default="pv.ssw3",
                        help="%%DEV_DOM%%, the domain the tests run in (the files use pv.ssw3)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep switch logs and SIPp traces here (default: a temporary "
                             "folder, removed afterwards)")
    parser.add_argument("--results", type=Path, default=None,
                        help="JSON file the results are merged into (kept between runs)")
    parser.add_argument("--report", type=Path, default=None,
                        help="write this Markdown report (e.g. docs/CONFORMANCE.md) from the "
                             "results of this run merged with --results")
    parser.add_argument("--lanes", type=int, default=1,
                        help="run files in this many parallel lanes, each on its own loopback "
                             "address from --ip on (127.0.0.1, 127.0.0.2, ...)")
    parser.add_argument("--include-manual", action="store_true",
                        help="also run manual files (no AutoTest, and their tests reach parties "
                             "they do not declare, e.g. number 108 or a trunk phone)")
    parser.add_argument("--stand-in", choices=("auto", "on", "off"), default="auto",
                        help="the stand-in tester: a baresip phone registered as the files' "
                             "%%%%TestNumber%%%% (108) that does what their Print steps ask a "
                             "person (answer, let ring, call the test's phone), plus a static "
                             "SIP trunk at the phones' address for their Type: Trunk phones. "
                             "auto (default): for the files whose tests reach that number")
    parser.add_argument("--baresip", default=shutil.which("baresip") or "baresip",
                        help="baresip binary (the stand-in tester)")
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing: write --report from the stored --results")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print the SIPp error log of every failing test")


def _run(args: argparse.Namespace) -> int:
    first = Path(args.paths[0]).resolve() if args.paths else Path.cwd()
    suite_root = args.suite or find_suite_root(first) or find_suite_root(Path.cwd())
    if suite_root is None or not (suite_root / "tests").is_dir():
        print("ssw qa: cannot find the suite folder (runner-xml/ and tests/); give --suite",
              file=sys.stderr)
        return 2
    suite_root = suite_root.resolve()
    groups = sorted(p.name for p in (suite_root / "tests").iterdir()
                    if p.is_dir() and any(p.glob("*.json")))
    if args.report_only:
        if args.report is None or args.results is None or not args.results.is_file():
            print("ssw qa: --report-only needs --report and an existing --results file",
                  file=sys.stderr)
            return 2
        write_report(args.report, list(load_results(args.results).values()), groups)
        return 0
    try:
        files = collect_files(groups if args.all else args.paths, suite_root)
    except QaFormatError as error:
        print(f"ssw qa: {error}", file=sys.stderr)
        return 2
    if not files:
        print("ssw qa: name test files or groups, or give --all", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="ssw-qa-") as temporary:
        workdir = (args.workdir or Path(temporary)).resolve()
        settings = RunSettings(suite_root=suite_root, workdir=workdir, sipp=args.sipp,
                               ip=args.ip, domain=args.domain, baresip=args.baresip,
                               stand_in={"auto": None, "on": True, "off": False}[args.stand_in])
        def keep(result: FileResult) -> None:
            if args.results is not None:
                save_results(args.results, [result], suite_root)

        try:
            results = asyncio.run(_interruptible(
                files, settings, include_manual=args.include_manual, verbose=args.verbose,
                lanes=args.lanes,
                on_result=keep))
        except asyncio.CancelledError:
            print("ssw qa: interrupted; switches and phones stopped", file=sys.stderr)
            return 130
        except QaFormatError as error:
            print(f"ssw qa: {error}", file=sys.stderr)
            return 2
    stored = {}
    if args.results is not None:
        stored = save_results(args.results, results, suite_root)
    if args.report is not None:
        if not stored:
            stored = save_results(workdir / "results.json", results, suite_root) \
                if args.workdir else _as_json(results, suite_root)
        write_report(args.report, list(stored.values()), groups)
    passed = sum(r.passed for r in results)
    total = sum(len(r.tests) for r in results)
    skipped = sum(t.skipped for r in results for t in r.tests)
    print(f"{passed} / {total} tests passed" + (f" ({skipped} not run)" if skipped else ""))
    return 0 if passed == total else 1


def _as_json(results: Sequence[FileResult], suite_root: Path) -> dict[str, dict[str, object]]:
    with tempfile.TemporaryDirectory() as temporary:
        path = Path(temporary) / "results.json"
        save_results(path, results, suite_root)
        return load_results(path)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `ssw qa` to the `ssw` command."""
    parser = subparsers.add_parser(
        "qa", help="run Eltex's ECSS-10 QA test files against fresh switches",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_arguments(parser)
    parser.set_defaults(func=_run)


def main(argv: Sequence[str] | None = None) -> int:
    """`ssw-qa <paths...>`: the same as `ssw qa`."""
    parser = argparse.ArgumentParser(prog="ssw-qa", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_arguments(parser)
    args = parser.parse_args(argv)
    return _run(args)
