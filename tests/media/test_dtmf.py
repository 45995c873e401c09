"""RFC 4733 telephone-events: payload, generation, detection once per event."""

from __future__ import annotations

import pytest

from ssw.media.dtmf import (
    DtmfDetector,
    DtmfError,
    TelephoneEvent,
    digit_for_event,
    event_for_digit,
    generate_digit,
)


def test_payload_round_trip() -> None:
    event = TelephoneEvent(11, True, 10, 800)
    assert event.serialize() == bytes([11, 0x8A, 0x03, 0x20])
    assert TelephoneEvent.parse(event.serialize()) == event


def test_digits_and_refusals() -> None:
    assert [event_for_digit(d) for d in "09*#AD"] == [0, 9, 10, 11, 12, 15]
    assert digit_for_event(16) is None
    with pytest.raises(DtmfError, match="not a DTMF digit"):
        event_for_digit("x")
    with pytest.raises(DtmfError, match="expected 4"):
        TelephoneEvent.parse(b"\x01")


def test_generated_digit_shape() -> None:
    packets = list(generate_digit("5", timestamp=1000, duration_ms=100))
    assert packets[0][0] is True and all(not marker for marker, _, _ in packets[1:])
    assert {ts for _, ts, _ in packets} == {1000}
    events = [TelephoneEvent.parse(p) for _, _, p in packets]
    assert [e.end for e in events[-3:]] == [True, True, True]
    assert events[-1].duration == 800 and events[0].duration == 160
    assert [e.duration for e in events[:-3]] == sorted(e.duration for e in events[:-3])


def test_detector_reports_each_event_once_even_with_loss_and_repeats() -> None:
    detector = DtmfDetector()
    digits = []
    for index, digit in enumerate("1234#"):
        packets = list(generate_digit(digit, timestamp=index * 8000))
        for _, ts, payload in packets[1:] + packets[-1:]:  # first packet lost, end repeated
            found = detector.receive(ts, payload)
            if found:
                digits.append(found)
    assert "".join(digits) == "1234#"


def test_same_digit_twice_is_two_events() -> None:
    detector = DtmfDetector()
    found = [detector.receive(ts, p) for ts0 in (0, 1600)
             for _, ts, p in generate_digit("7", timestamp=ts0)]
    assert [d for d in found if d] == ["7", "7"]
