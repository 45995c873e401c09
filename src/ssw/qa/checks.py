"""`CheckDifference`: when did the listed phones receive a given message, relative to each other.

`UA: "0,1,2"` names phones by `UserId`; `Msg` names the message (a request `Method`, or a response
`Code`); `Difference` is the expected gap between consecutive phones of the list. The forking files
use `Difference: 0` (all forked INVITEs together) and `%%FIND_ME_TIMER%%` = 3600 for one-by-one
ringing of three phones inside scenarios that time out after 20 s, so the gap is read in
milliseconds; it matches within `TOLERANCE` seconds. A list of values gives each gap in turn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .sipp import ReceivedMessage
from .suite import QaFormatError

__all__ = ["TOLERANCE", "check_difference", "first_arrival"]

TOLERANCE = 0.5  # seconds


def first_arrival(messages: Sequence[ReceivedMessage], spec: Mapping[str, Any]) -> float | None:
    """When the first message matching `spec` (`MsgType`, `Method`, `Code`) arrived."""
    kind = str(spec.get("MsgType", "request")).lower()
    method = str(spec.get("Method", "")).upper()
    code = str(spec.get("Code", "None"))
    for message in messages:
        if kind == "request" and message.method == method:
            return message.time
        if kind == "response" and message.status is not None and str(message.status) == code:
            return message.time
    return None


def _gaps(value: Any, count: int) -> list[float]:
    values = value if isinstance(value, list) else [value] * count
    try:
        gaps = [float(item) / 1000.0 for item in values]
    except (TypeError, ValueError):
        raise QaFormatError(f"CheckDifference: Difference {value!r} is not a number") from None
    if len(gaps) < count:
        raise QaFormatError(f"CheckDifference: {len(gaps)} gaps given for {count + 1} phones")
    return gaps


def check_difference(body: Any, received: Mapping[str, Sequence[ReceivedMessage]]) -> list[str]:
    """Problems found (empty when the timing is right)."""
    entries = body if isinstance(body, list) else [body]
    problems: list[str] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise QaFormatError(f"CheckDifference expects objects, got {entry!r}")
        phones = [part.strip() for part in str(entry.get("UA", "")).split(",") if part.strip()]
        for spec in entry.get("Msg") or []:
            label = spec.get("Method") if spec.get("MsgType") == "request" else spec.get("Code")
            times: list[float] = []
            for phone in phones:
                at = first_arrival(received.get(phone, ()), spec)
                if at is None:
                    problems.append(f"CheckDifference: phone {phone} never received {label}")
                else:
                    times.append(at)
            if len(times) != len(phones) or len(phones) < 2:
                continue
            gaps = _gaps(entry.get("Difference", "0"), len(phones) - 1)
            for index in range(1, len(phones)):
                measured = times[index] - times[index - 1]
                expected = gaps[index - 1]
                if abs(measured - expected) > TOLERANCE:
                    problems.append(
                        f"CheckDifference: {label} reached phone {phones[index]} "
                        f"{measured:.2f} s after phone {phones[index - 1]}, expected "
                        f"{expected:.2f} s (±{TOLERANCE} s)")
    return problems
