"""Call detail records: one record per call attempt, built from what the call saw.

ECSS-10 is certified as a call-duration measuring system, so times are kept as integer
milliseconds since the Unix epoch from the moment they are taken: the answer delay and the
duration are differences of those integers and add up exactly in every output. The call gives
the builder the instants (setup, answer, end) read from the injected clock; the builder never
reads a clock itself.

Two sinks are provided here: `CsvCdrWriter` (one `;`-separated file per domain, SPEC §6) and
`MemoryCdrSink` (tests, and a buffer the composition root can drain into the `ecss_calls_db`
repository). Any object with `write(record)` is a sink (`ssw.core.ports.CdrSink`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TextIO

from ssw.core.call.causes import ReleaseCause
from ssw.core.call.events import Side

__all__ = [
    "CSV_COLUMNS",
    "CallRecord",
    "CdrBuilder",
    "CsvCdrWriter",
    "MemoryCdrSink",
    "csv_row",
    "to_millis",
]


def to_millis(seconds: float) -> int:
    """Epoch seconds (as the clock gives them) to integer epoch milliseconds."""
    return round(seconds * 1000)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call attempt, answered or not.

    Times are epoch milliseconds; `answer_ms` is None for an unanswered attempt.
    """

    connection_id: str
    domain: str
    caller: str
    callee: str
    setup_ms: int
    answer_ms: int | None
    end_ms: int
    release_cause: int
    release_status: int
    release_text: str
    release_side: Side
    answered_contact: str | None = None
    recording_file: str = ""  # the call's recording, relative to the RestFS directory

    def __post_init__(self) -> None:
        if self.end_ms < self.setup_ms:
            raise ValueError("a call cannot end before it was set up")
        if self.answer_ms is not None and not self.setup_ms <= self.answer_ms <= self.end_ms:
            raise ValueError("the answer time must lie between setup and end")

    @property
    def answered(self) -> bool:
        return self.answer_ms is not None

    @property
    def answer_delay_ms(self) -> int | None:
        """Setup to answer; None when the call was not answered."""
        return None if self.answer_ms is None else self.answer_ms - self.setup_ms

    @property
    def duration_ms(self) -> int:
        """Answer to end (the billed conversation time); 0 for an unanswered attempt."""
        return 0 if self.answer_ms is None else self.end_ms - self.answer_ms


@dataclass(slots=True)
class CdrBuilder:
    """Collects the instants of one call attempt and produces its `CallRecord` once."""

    connection_id: str
    domain: str
    caller: str
    callee: str
    setup_ms: int
    answer_ms: int | None = None
    answered_contact: str | None = None
    recording_file: str = ""
    record: CallRecord | None = field(default=None)

    def answered(self, now: float, contact: str | None = None) -> None:
        if self.answer_ms is None:
            self.answer_ms = max(to_millis(now), self.setup_ms)
            self.answered_contact = contact

    def finish(self, now: float, cause: ReleaseCause, side: Side) -> CallRecord:
        """Close the record; a second call returns the first record unchanged."""
        if self.record is None:
            floor = self.setup_ms if self.answer_ms is None else self.answer_ms
            self.record = CallRecord(
                connection_id=self.connection_id,
                domain=self.domain,
                caller=self.caller,
                callee=self.callee,
                setup_ms=self.setup_ms,
                answer_ms=self.answer_ms,
                end_ms=max(to_millis(now), floor),
                release_cause=cause.q850,
                release_status=cause.status,
                release_text=cause.text,
                release_side=side,
                answered_contact=self.answered_contact,
                recording_file=self.recording_file,
            )
        return self.record


CSV_COLUMNS: tuple[str, ...] = (
    "connection_id",
    "domain",
    "caller",
    "callee",
    "setup_time",
    "answer_time",
    "end_time",
    "answer_delay_ms",
    "duration_ms",
    "release_cause",
    "release_status",
    "release_text",
    "release_side",
    "recording_file",
)


def _format_time(millis: int | None, zone: tzinfo) -> str:
    """`2026-11-24 23:10:05.123+03:00`: local time of the switch with its offset (billing)."""
    if millis is None:
        return ""
    moment = datetime.fromtimestamp(millis // 1000, tz=zone)
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M:%S}.{millis % 1000:03d}{offset[:3]}:{offset[3:]}"


def csv_row(record: CallRecord, zone: tzinfo = UTC) -> list[str]:
    """The CSV fields of one record, in `CSV_COLUMNS` order."""
    delay = record.answer_delay_ms
    return [
        record.connection_id,
        record.domain,
        record.caller,
        record.callee,
        _format_time(record.setup_ms, zone),
        _format_time(record.answer_ms, zone),
        _format_time(record.end_ms, zone),
        "" if delay is None else str(delay),
        str(record.duration_ms),
        str(record.release_cause),
        str(record.release_status),
        record.release_text,
        record.release_side.value,
        record.recording_file,
    ]


class CsvCdrWriter:
    """Appends each record as one `;`-separated line to its domain's file.

    `path_for_domain` maps a domain to its file (from the configuration). A new file starts with
    a header line. Every record is written as one complete line and flushed, so a crash loses at
    most the record being written, never an earlier one.
    """

    def __init__(self, path_for_domain: Callable[[str], Path], zone: tzinfo = UTC) -> None:
        self._path_for_domain = path_for_domain
        self._zone = zone
        self._files: dict[str, TextIO] = {}

    def write(self, record: CallRecord) -> None:
        handle = self._files.get(record.domain)
        if handle is None:
            handle = self._open(record.domain)
        line = io.StringIO()
        csv.writer(line, delimiter=";", lineterminator="\n").writerow(csv_row(record, self._zone))
        handle.write(line.getvalue())
        handle.flush()

    def _open(self, domain: str) -> TextIO:
        if not domain or "/" in domain or "\\" in domain or domain.startswith("."):
            raise ValueError(f"domain name {domain!r} cannot name a CDR file")
        path = self._path_for_domain(domain)
        path.parent.mkdir(parents=True, exist_ok=True)
        is_new = not path.exists() or path.stat().st_size == 0
        handle = path.open("a", encoding="utf-8", newline="")
        if is_new:
            handle.write(";".join(CSV_COLUMNS) + "\n")
            handle.flush()
        self._files[domain] = handle
        return handle

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()


class MemoryCdrSink:
    """Keeps records in a list; `drain()` hands them over (to a repository) and forgets them."""

    def __init__(self) -> None:
        self.records: list[CallRecord] = []

    def write(self, record: CallRecord) -> None:
        self.records.append(record)

    def drain(self) -> list[CallRecord]:
        drained, self.records = self.records, []
        return drained
