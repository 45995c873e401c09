"""Running test files in parallel lanes, one loopback address per lane.

The files fix their phones' ports, so two files can only run at the same time when their phones
bind different addresses. A lane is a loopback address and a list of files run one after
another; files are spread longest first over the lanes with the least work.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence
from dataclasses import replace

from .runner import FileResult, RunSettings, run_file
from .sipp import parse_duration
from .suite import QaFile

__all__ = ["estimated_seconds", "lane_addresses", "run_in_lanes", "split_into_lanes"]


def estimated_seconds(qa_file: QaFile) -> float:
    """An upper bound of a file's run time: the longest phone timeout of each test."""
    total = 0.0
    for test in qa_file.tests:
        longest = 0.0
        for step in test.steps:
            phones = step.body if step.kind == "StartUA" and isinstance(step.body, list) else []
            for ua in phones:
                for command in (ua.get("Commands") or []) if isinstance(ua, dict) else []:
                    try:
                        longest = max(longest, parse_duration(str(command.get("Timeout", "0"))))
                    except ValueError:
                        continue
        total += longest
    return total


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
