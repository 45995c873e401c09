"""Running test files in parallel lanes, one loopback address per lane.

The files fix their phones' ports, so two files can only run at the same time when their phones
bind different addresses. A lane is a loopback address and a list of files run one after
another; files are spread longest first over the lanes with the least work.

`plan_lanes` also splits a file much longer than a lane's share of the work (rfc4028.json runs
for minutes) into parts of consecutive tests, each run against its own fresh switch; a part
first replays the CoCon commands of the tests before it, so it starts from the configuration
it would have had in one run. Only files whose tests are made of phones, CoCon commands and
checks are split (a `ServiceFeature` or `SetVar` leaves state that is not replayed).
`run_parts_in_lanes` merges the parts' results back into one result per file.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from .runner import FileResult, RunSettings, run_file
from .sipp import parse_duration
from .suite import QaFile, QaTest, ordered_commands

__all__ = [
    "FILE_SETUP_SECONDS",
    "LanePart",
    "estimated_seconds",
    "file_key",
    "lane_addresses",
    "merge_results",
    "plan_lanes",
    "retry_parts",
    "run_in_lanes",
    "run_parts_in_lanes",
    "split_into_lanes",
    "spread",
]

# What a file run costs besides its tests: the switch starting, CoCon, (un)registration.
FILE_SETUP_SECONDS = 8.0
# Step kinds whose only lasting effect is configuration that CoCon commands replay.
_SPLITTABLE_STEPS = frozenset({"StartUA", "CoconCommand", "CheckDifference", "Sleep", "Print",
                               "Stop"})


def estimated_test_seconds(test: QaTest) -> float:
    """An upper bound of a test's run time: its longest phone timeout."""
    longest = 0.0
    for step in test.steps:
        phones = step.body if step.kind == "StartUA" and isinstance(step.body, list) else []
        for ua in phones:
            for command in (ua.get("Commands") or []) if isinstance(ua, dict) else []:
                try:
                    longest = max(longest, parse_duration(str(command.get("Timeout", "0"))))
                except ValueError:
                    continue
    return longest


def estimated_seconds(qa_file: QaFile) -> float:
    """An upper bound of a file's run time: the longest phone timeout of each test."""
    return sum(estimated_test_seconds(test) for test in qa_file.tests)


def file_key(qa_file: QaFile) -> str:
    """`<group>/<file name>`, how results and measured durations name a file."""
    return f"{qa_file.group}/{qa_file.path.name}"


@dataclass(frozen=True)
class LanePart:
    """Tests `first` .. `first + len(qa_file.tests) - 1` of a file (all of it when `parts` is
    1), with `qa_file.pre_cocon` extended by the replayed commands; `seconds` is expected."""

    qa_file: QaFile
    key: str
    index: int
    parts: int
    first: int
    seconds: float


def _test_seconds(qa_file: QaFile, measured: Mapping[str, Mapping[str, float]]) -> list[float]:
    known = measured.get(file_key(qa_file), {})
    return [known.get(test.name, estimated_test_seconds(test)) for test in qa_file.tests]


def _splittable(qa_file: QaFile) -> bool:
    return all(step.kind in _SPLITTABLE_STEPS for test in qa_file.tests for step in test.steps)


def _cut(weights: list[float], parts: int) -> list[int]:
    """Start indexes of `parts` runs of consecutive tests with about equal weight."""
    share = sum(weights) / parts
    starts = [0]
    cumulative = 0.0
    for index, weight in enumerate(weights):
        needed = parts - len(starts)
        if needed == 0:
            break
        if index > starts[-1] and (cumulative + weight / 2 > len(starts) * share
                                   or len(weights) - index <= needed):
            starts.append(index)
        cumulative += weight
    return starts


def _replayed(tests: Sequence[QaTest], where: str) -> tuple[str, ...]:
    commands: list[str] = []
    for test in tests:
        for step in test.steps:
            if step.kind == "CoconCommand":
                commands += ordered_commands(step.body, f"{where} {test.name}")
    return tuple(commands)


def _parts(qa_file: QaFile, weights: list[float], target: float) -> list[LanePart]:
    key = file_key(qa_file)
    total = sum(weights)
    count = 1
    if _splittable(qa_file) and total > target:
        count = min(len(weights), math.ceil(total / target))
    if count == 1:
        return [LanePart(qa_file, key, 0, 1, 0, FILE_SETUP_SECONDS + total)]
    starts = _cut(weights, count)
    bounds = [*starts, len(weights)]
    parts = []
    for index, (first, end) in enumerate(itertools.pairwise(bounds)):
        tests = qa_file.tests[first:end]
        pre = qa_file.pre_cocon + _replayed(qa_file.tests[:first], qa_file.path.name)
        part = replace(qa_file, tests=tests, pre_cocon=pre)
        parts.append(LanePart(part, key, index, len(starts), first,
                              FILE_SETUP_SECONDS + sum(weights[first:end])))
    return parts


def plan_lanes(files: Sequence[QaFile], count: int,
               measured: Mapping[str, Mapping[str, float]] | None = None
               ) -> list[list[LanePart]]:
    """Spread `files` over `count` lanes, longest part first to the least loaded lane.

    `measured`: seconds per test by file key (`file_key`) from an earlier run; tests not in
    it count their longest phone timeout. A splittable file longer than a lane's share is
    cut into parts of consecutive tests (see the module's description).
    """
    if count < 1:
        raise ValueError("at least one lane is needed")
    weights = {file_key(f): _test_seconds(f, measured or {}) for f in files}
    total = sum(FILE_SETUP_SECONDS + sum(w) for w in weights.values())
    target = max(total / count, 1.0)
    return spread([part for f in files for part in _parts(f, weights[file_key(f)], target)],
                  count)


def split_into_lanes(files: Sequence[QaFile], count: int) -> list[list[QaFile]]:
    """Longest first, each file to the lane with the least estimated work so far."""
    if count < 1:
        raise ValueError("at least one lane is needed")
    lanes: list[list[QaFile]] = [[] for _ in range(count)]
    load = [0.0] * count
    for qa_file in sorted(files, key=estimated_seconds, reverse=True):
        lane = load.index(min(load))
        lanes[lane].append(qa_file)
        load[lane] += estimated_seconds(qa_file)
    return lanes


def lane_addresses(first: str, count: int, step: int = 1) -> list[str]:
    """`count` loopback addresses from `first` on (127.0.0.1, 127.0.0.2, ...)."""
    start = ipaddress.IPv4Address(first)
    addresses = [start + index * step for index in range(count)]
    for address in addresses:
        if not address.is_loopback:
            raise ValueError(f"{address} is not a loopback address")
    return [str(address) for address in addresses]


async def run_in_lanes(lanes: Sequence[Sequence[QaFile]], addresses: Sequence[str],
                       settings: RunSettings) -> dict[str, FileResult]:
    """Run every lane at once, each on its address; results by `<group>/<file name>`."""
    results: dict[str, FileResult] = {}

    async def lane(files: Sequence[QaFile], address: str) -> None:
        lane_settings = replace(settings, ip=address, workdir=settings.workdir / address)
        for qa_file in files:
            results[f"{qa_file.group}/{qa_file.path.name}"] = await run_file(qa_file,
                                                                            lane_settings)

    await asyncio.gather(*(lane(files, address)
                           for files, address in zip(lanes, addresses, strict=True)))
    return results


def retry_parts(qa_file: QaFile, names: Sequence[str]) -> list[LanePart]:
    """One part per test named, each alone on a fresh switch after the replayed commands of
    the tests before it: a second chance for tests that may have failed on timing or on
    what an earlier failing test left behind (a call still up, a retransmission)."""
    key = file_key(qa_file)
    wanted = set(names)
    parts = []
    for first, test in enumerate(qa_file.tests):
        if test.name in wanted:
            pre = qa_file.pre_cocon + _replayed(qa_file.tests[:first], qa_file.path.name)
            part = replace(qa_file, tests=(test,), pre_cocon=pre)
            parts.append(LanePart(part, key, first, len(qa_file.tests), first,
                                  FILE_SETUP_SECONDS + estimated_test_seconds(test)))
    return parts


def spread(parts: Sequence[LanePart], count: int) -> list[list[LanePart]]:
    """`parts` over `count` lanes, longest first to the least loaded lane."""
    lanes: list[list[LanePart]] = [[] for _ in range(count)]
    load = [0.0] * count
    for part in sorted(parts, key=lambda p: p.seconds, reverse=True):
        lane = load.index(min(load))
        lanes[lane].append(part)
        load[lane] += part.seconds
    return lanes


async def run_parts_in_lanes(lanes: Sequence[Sequence[LanePart]], addresses: Sequence[str],
                             settings: RunSettings) -> dict[str, FileResult]:
    """Run every lane at once, each on its address; one merged result per file key.

    Each part runs against its own switch and data directory (`<workdir>/<address>/part<n>`
    for a file in several parts)."""
    done: dict[str, list[tuple[int, FileResult]]] = {}

    async def lane(parts: Sequence[LanePart], address: str) -> None:
        lane_settings = replace(settings, ip=address, workdir=settings.workdir / address)
        for part in parts:
            part_settings = lane_settings if part.parts == 1 else replace(
                lane_settings, workdir=lane_settings.workdir / f"part{part.index + 1}")
            result = await run_file(part.qa_file, part_settings)
            done.setdefault(part.key, []).append((part.first, result))

    await asyncio.gather(*(lane(parts, address)
                           for parts, address in zip(lanes, addresses, strict=True)))
    return {key: merge_results([r for _, r in sorted(pieces, key=lambda p: p[0])])
            for key, pieces in done.items()}


def merge_results(pieces: Sequence[FileResult]) -> FileResult:
    """One file's result from the results of its parts, in test order."""
    first = pieces[0]
    if len(pieces) == 1:
        return first
    merged = FileResult(first.path, first.group, first.name, first.auto_test)
    for piece in pieces:
        merged.tests += piece.tests
        merged.warnings += piece.warnings
        merged.seconds += piece.seconds
    return merged
