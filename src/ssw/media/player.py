"""Playing linear audio into a leg as G.711 RTP frames, pure.

A `Player` cuts samples (a prompt, a tone cycle, music on hold) into 20 ms frames and
encodes them for the leg's law; the engine asks for one packet per tick and sends it through
the leg's outbound stream, which keeps SSRC/sequence/timestamp continuous with whatever the
peer heard before and hears after.
"""

from __future__ import annotations

import random

import numpy as np
import numpy.typing as npt

from ssw.media.dtmf import DEFAULT_EVENT_PAYLOAD_TYPE, DtmfError, event_for_digit, generate_digit
from ssw.media.g711 import PAYLOAD_TYPES, Law, encode
from ssw.media.mixer import FRAME_SAMPLES
from ssw.media.rtp import RtpPacket

__all__ = ["DigitPlayer", "Player"]

FRAME_MS = 20


class Player:
    """Frames of `samples`, once or looped, as RTP packets with their own SSRC."""

    def __init__(self, samples: npt.NDArray[np.int16], *, law: Law, loop: bool = False,
                 name: str = "") -> None:
        if samples.size == 0:
            raise ValueError(f"nothing to play in {name or 'the audio'}: it holds no samples")
        padded = np.pad(samples, (0, -samples.size % FRAME_SAMPLES))
        self._encoded = encode(law, padded)
        self._payload_type = PAYLOAD_TYPES[law]
        self.name = name
        self.loop = loop
        self._position = 0
        self._ssrc = random.getrandbits(32)
        self._sequence = random.getrandbits(16)
        self._timestamp = random.getrandbits(32)
        self._first = True

    @property
    def finished(self) -> bool:
        return not self.loop and self._position >= len(self._encoded)

    def next_packet(self) -> bytes | None:
        """The next 20 ms packet, None once a non-looping play has ended."""
        if self.finished:
            return None
        if self._position >= len(self._encoded):
            self._position = 0
        payload = self._encoded[self._position:self._position + FRAME_SAMPLES]
        self._position += FRAME_SAMPLES
        packet = RtpPacket(self._payload_type, self._sequence, self._timestamp, self._ssrc,
                           payload, marker=self._first).serialize()
        self._first = False
        self._sequence = (self._sequence + 1) & 0xFFFF
        self._timestamp = (self._timestamp + FRAME_SAMPLES) & 0xFFFFFFFF
        return packet


class DigitPlayer:
    """DTMF digits sent as RFC 4733 telephone-events, one packet per 20 ms tick.

    Each digit lasts `duration_ms` (its packets share the event's start timestamp, §2.5.1.1);
    `gap_ms` of nothing separate digits, while the timestamp keeps advancing.
    """

    def __init__(self, digits: str, *, payload_type: int = DEFAULT_EVENT_PAYLOAD_TYPE,
                 duration_ms: int = 100, gap_ms: int = 60) -> None:
        for digit in digits:
            event_for_digit(digit)  # raises DtmfError for anything else
        if not digits:
            raise DtmfError("no digits to send")
        self.name = f"dtmf:{digits}"
        self.loop = False
        self._ssrc = random.getrandbits(32)
        self._sequence = random.getrandbits(16)
        start = random.getrandbits(31)
        self._queue: list[tuple[bool, int, bytes] | None] = []
        timestamp = start
        for digit in digits:
            self._queue += list(generate_digit(digit, timestamp=timestamp,
                                               duration_ms=duration_ms))
            self._queue += [None] * max(1, gap_ms // FRAME_MS)
            timestamp += (duration_ms + gap_ms) * 8
        self._payload_type = payload_type

    @property
    def finished(self) -> bool:
        return not self._queue

    def next_packet(self) -> bytes | None:
        """The next packet; None at the end. Gaps yield an empty packet (b""): send nothing."""
        while self._queue:
            item = self._queue.pop(0)
            if item is None:
                return b""
            marker, timestamp, payload = item
            packet = RtpPacket(self._payload_type, self._sequence, timestamp, self._ssrc,
                               payload, marker=marker).serialize()
            self._sequence = (self._sequence + 1) & 0xFFFF
            return packet
        return None
