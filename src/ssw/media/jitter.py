"""A fixed-delay jitter buffer for the decoding paths (mixer, recorder), pure.

Packets are put in by sequence number (RFC 3550 §A.1 wrap-around handled by extending to
32 bits); `pop(now)` hands out one frame per packet time once the buffer has held
`delay` of audio, or None for a missing frame (the caller conceals it, e.g. with silence).
Late packets (behind the play-out point) and duplicates are counted and dropped; the size is
bounded so a flood cannot grow memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["FrameAssembler", "JitterBuffer", "JitterStats"]


@dataclass(slots=True)
class JitterStats:
    received: int = 0
    played: int = 0
    missing: int = 0
    late: int = 0
    duplicate: int = 0
    overflow: int = 0


class JitterBuffer:
    """Reorders by sequence number and releases frames at the packet rate."""

    def __init__(self, *, depth: int = 3, capacity: int = 50) -> None:
        if depth < 0 or capacity <= depth:
            raise ValueError(f"depth {depth} must be >= 0 and below capacity {capacity}")
        self.depth = depth
        self.capacity = capacity
        self.stats = JitterStats()
        self._frames: dict[int, bytes] = {}
        self._next: int | None = None  # extended sequence number to play next
        self._highest: int | None = None
        self._started = False

    def _extend(self, sequence: int) -> int:
        """32-bit extended sequence closest to the highest seen (§A.1)."""
        highest = self._highest
        if highest is None:
            return sequence + 0x10000
        base = highest & ~0xFFFF
        candidates = (base - 0x10000 + sequence, base + sequence, base + 0x10000 + sequence)
        return min(candidates, key=lambda c: abs(c - highest))

    def put(self, sequence: int, payload: bytes) -> None:
        """Store a received packet's payload."""
        self.stats.received += 1
        extended = self._extend(sequence & 0xFFFF)
        if self._next is not None and extended < self._next:
            self.stats.late += 1
            return
        if extended in self._frames:
            self.stats.duplicate += 1
            return
        if len(self._frames) >= self.capacity:
            self.stats.overflow += 1
            self._frames.pop(min(self._frames))
            if self._next is not None:
                self._next = min(self._frames) if self._frames else extended
        self._frames[extended] = payload
        if self._highest is None or extended > self._highest:
            self._highest = extended
        if self._next is None or extended < self._next:
            self._next = extended

    def __len__(self) -> int:
        return len(self._frames)

    def pop(self) -> bytes | None:
        """The next frame in order, None when it is missing or the buffer is still filling.

        Call once per packet time (20 ms for G.711 at the usual ptime).
        """
        if self._next is None:
            return None
        if not self._started:
            if self._highest is None or self._highest - self._next < self.depth:
                return None
            self._started = True
        frame = self._frames.pop(self._next, None)
        if frame is None:
            if not self._frames:  # underrun: wait to refill to depth again
                self._started = False
                return None
            self.stats.missing += 1
        else:
            self.stats.played += 1
        self._next += 1
        return frame


class FrameAssembler:
    """20 ms frames of decoded samples from a jitter buffer, whatever the sender's ptime.

    `frame(decode)` pops packets from the buffer, decodes them into a small sample queue and
    hands out exactly `samples` per call (None while nothing is there), so 10, 20 or 30 ms
    packets all play at the right speed in the mixer and the recorder.
    """

    def __init__(self, buffer: JitterBuffer, *, samples: int = 160) -> None:
        self.buffer = buffer
        self.samples = samples
        self._pending: list[npt.NDArray[np.int16]] = []
        self._pending_size = 0

    def frame(self, decode: Callable[[bytes], npt.NDArray[np.int16]]
              ) -> npt.NDArray[np.int16] | None:
        """The next frame; a missing packet is concealed with silence of one frame."""
        while self._pending_size < self.samples:
            payload = self.buffer.pop()
            if payload is None:
                if self._pending_size == 0:
                    return None
                self._pending.append(np.zeros(self.samples - self._pending_size, np.int16))
                self._pending_size = self.samples
                break
            decoded = decode(payload)
            self._pending.append(decoded)
            self._pending_size += decoded.size
            if len(self._pending) > 8:  # bounded: absurd packet sizes cannot pile up
                break
        joined = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        out, rest = joined[:self.samples], joined[self.samples:]
        if out.size < self.samples:
            out = np.pad(out, (0, self.samples - out.size))
        self._pending = [rest] if rest.size else []
        self._pending_size = int(rest.size)
        return out
