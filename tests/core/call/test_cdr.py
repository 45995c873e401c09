"""CDRs: record contents, millisecond arithmetic, the per-domain CSV files."""

from __future__ import annotations

import csv
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from call_harness import ANSWER, Bench

from ssw.core.call.causes import NORMAL_CLEARING, cause_for_status
from ssw.core.call.cdr import CSV_COLUMNS, CallRecord, CdrBuilder, CsvCdrWriter, csv_row, to_millis
from ssw.core.call.events import Side


def _record(**changes: object) -> CallRecord:
    values: dict[str, object] = {
        "connection_id": "c1",
        "domain": "ssw.test",
        "caller": "100",
        "callee": "200",
        "setup_ms": 1_760_000_000_000,
        "answer_ms": 1_760_000_002_345,
        "end_ms": 1_760_000_062_346,
        "release_cause": 16,
        "release_status": 200,
        "release_text": "Normal call clearing",
        "release_side": Side.CALLER,
    }
    values.update(changes)
    return CallRecord(**values)  # type: ignore[arg-type]


def test_durations_are_exact_millisecond_differences() -> None:
    record = _record()
    assert record.answer_delay_ms == 2345
    assert record.duration_ms == 60001
    assert record.answer_delay_ms + record.duration_ms == record.end_ms - record.setup_ms
    unanswered = _record(answer_ms=None)
    assert unanswered.answer_delay_ms is None and unanswered.duration_ms == 0


def test_impossible_records_are_refused() -> None:
    with pytest.raises(ValueError, match="end before"):
        _record(end_ms=1)
    with pytest.raises(ValueError, match="answer time"):
        _record(answer_ms=1_760_000_099_000)


def test_builder_takes_instants_once() -> None:
    builder = CdrBuilder("c1", "d", "1", "2", to_millis(100.0004))
    builder.answered(101.5)
    builder.answered(150.0)  # a second answer does not move the first
    first = builder.finish(160.25, NORMAL_CLEARING, Side.CALLEE)
    again = builder.finish(999.0, cause_for_status(486), Side.CALLER)
    assert first is again
    assert (first.setup_ms, first.answer_ms, first.end_ms) == (100000, 101500, 160250)


def test_cause_mapping_follows_rfc_3398() -> None:
    assert cause_for_status(404).q850 == 1
    assert cause_for_status(486).q850 == 17
    assert cause_for_status(480).q850 == 18
    assert cause_for_status(408).q850 == 102
    assert cause_for_status(499).q850 == 21  # unlisted 4xx falls back by class
    assert cause_for_status(486).reason_header() == 'Q.850;cause=17;text="User busy"'


def test_csv_writer_one_file_per_domain_with_header(tmp_path: Path) -> None:
    writer = CsvCdrWriter(lambda domain: tmp_path / "cdr" / f"{domain}.csv",
                          zone=timezone(timedelta(hours=3)))
    writer.write(_record())
    writer.write(_record(connection_id="c2", answer_ms=None, release_text="a;b"))
    writer.write(_record(connection_id="c3", domain="other.test"))
    writer.close()
    lines = (tmp_path / "cdr" / "ssw.test.csv").read_text().splitlines()
    assert lines[0] == ";".join(CSV_COLUMNS)
    rows = list(csv.reader(lines[1:], delimiter=";"))
    assert rows[0][4] == "2025-10-09 11:53:20.000+03:00"
    assert rows[0][5] == "2025-10-09 11:53:22.345+03:00"
    assert rows[0][7:10] == ["2345", "60001", "16"]
    assert rows[1][5] == "" and rows[1][7] == "" and rows[1][11] == "a;b"
    assert (tmp_path / "cdr" / "other.test.csv").read_text().count("\n") == 2
    # Reopening appends without a second header.
    writer = CsvCdrWriter(lambda domain: tmp_path / "cdr" / f"{domain}.csv")
    writer.write(_record(connection_id="c4"))
    writer.close()
    text = (tmp_path / "cdr" / "ssw.test.csv").read_text()
    assert text.count("connection_id") == 1 and text.count("\n") == 4


def test_csv_writer_refuses_domain_names_that_are_paths(tmp_path: Path) -> None:
    writer = CsvCdrWriter(lambda domain: tmp_path / f"{domain}.csv")
    with pytest.raises(ValueError, match="cannot name a CDR file"):
        writer.write(_record(domain="../etc"))
    assert list(tmp_path.iterdir()) == []


def test_csv_row_matches_columns() -> None:
    assert len(csv_row(_record())) == len(CSV_COLUMNS)


def test_one_record_per_attempt_from_the_switch() -> None:
    bench = Bench()
    bench.caller_invite()
    [invite] = bench.port.sent("INVITE")
    bench.clock.advance(1.234)
    bench.callee_answers(invite, 200, body=ANSWER)
    bench.caller_ack()
    bench.clock.advance(0.001)
    bench.caller_request("BYE")
    bench.caller_invite(called="999")
    first, second = bench.cdrs.records
    assert first.connection_id != second.connection_id
    assert first.answer_delay_ms == 1234 and first.duration_ms == 1
    assert (second.callee, second.release_status, second.release_cause) == ("999", 404, 1)
    assert second.release_side is Side.SWITCH and second.answer_ms is None
