"""DTMF as RTP telephone-events (RFC 4733), pure: payload format, detection, generation.

An event is sent as a series of packets sharing one RTP timestamp (the event's start),
the first with the marker bit, each carrying the growing duration; the last three carry the
E (end) bit (§2.5.1.4: the final packet is sent three times). The detector reports each
event once, when its first packet arrives, whatever the loss or repetition that follows.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "DEFAULT_EVENT_PAYLOAD_TYPE",
    "DtmfDetector",
    "DtmfError",
    "TelephoneEvent",
    "digit_for_event",
    "event_for_digit",
    "generate_digit",
]

DEFAULT_EVENT_PAYLOAD_TYPE = 101
_EVENT = struct.Struct("!BBH")
_DIGITS = "0123456789*#ABCD"  # RFC 4733 §3.2 Table 1: events 0-15


class DtmfError(ValueError):
    """A telephone-event payload or digit that cannot be used."""


def event_for_digit(digit: str) -> int:
    """Event code of a DTMF digit (0-9, *, #, A-D)."""
    index = _DIGITS.find(digit.upper()) if len(digit) == 1 else -1
    if index < 0:
        raise DtmfError(f"{digit!r} is not a DTMF digit (0-9, *, #, A-D)")
    return index


def digit_for_event(event: int) -> str | None:
    """The digit of an event code; None for the non-DTMF events (flash, tones)."""
    return _DIGITS[event] if 0 <= event < len(_DIGITS) else None


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """RFC 4733 §2.3 payload: event, end bit, volume (-dBm0, 0-63), duration (timestamp units)."""

    event: int
    end: bool
    volume: int
    duration: int

    @classmethod
    def parse(cls, payload: bytes | bytearray | memoryview) -> TelephoneEvent:
        if len(payload) < 4:
            raise DtmfError(f"telephone-event payload of {len(payload)} octets, expected 4")
        event, flags, duration = _EVENT.unpack_from(payload)
        return cls(event, bool(flags & 0x80), flags & 0x3F, duration)

    def serialize(self) -> bytes:
        if not 0 <= self.event <= 255 or not 0 <= self.volume <= 63:
            raise DtmfError(f"event {self.event} / volume {self.volume} out of range")
        return _EVENT.pack(self.event, (0x80 if self.end else 0) | self.volume,
                           min(self.duration, 0xFFFF))


def generate_digit(
    digit: str,
    *,
    timestamp: int,
    duration_ms: int = 100,
    packet_ms: int = 20,
    clock_rate: int = 8000,
    volume: int = 10,
) -> Iterator[tuple[bool, int, bytes]]:
    """(marker, timestamp, payload) of every packet of one digit, in sending order.

    All packets carry the event's start `timestamp` (§2.5.1.1); the caller assigns sequence
    numbers and paces them `packet_ms` apart; the three end packets may go back to back.
    """
    event = event_for_digit(digit)
    step = clock_rate * packet_ms // 1000
    total = clock_rate * duration_ms // 1000
    elapsed = step
    first = True
    while elapsed < total:
        yield first, timestamp, TelephoneEvent(event, False, volume, elapsed).serialize()
        first = False
        elapsed += step
    final = TelephoneEvent(event, True, volume, total).serialize()
    for _ in range(3):
        yield first, timestamp, final
        first = False


class DtmfDetector:
    """Turns received telephone-event packets into digits, once per event (§2.5.2)."""

    def __init__(self) -> None:
        self._current: int | None = None  # RTP timestamp of the event being received
        self._ended: set[int] = set()

    def receive(self, timestamp: int, payload: bytes | bytearray | memoryview) -> str | None:
        """The digit when this packet starts a new event, else None; bad payloads raise."""
        event = TelephoneEvent.parse(payload)
        if timestamp == self._current or timestamp in self._ended:
            if event.end:
                self._ended.add(timestamp)
            return None
        self._current = timestamp
        if len(self._ended) > 16:  # bounded memory: only recent events can repeat
            self._ended.clear()
        if event.end:
            self._ended.add(timestamp)
        return digit_for_event(event.event)
