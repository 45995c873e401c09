"""Call-progress tones and music on hold, synthesised at 8 kHz.

Tone plans follow ITU-T E.180 Supplement 2 for Russia and most of Europe: 425 Hz, ringback
1 s on / 4 s off, busy 0.35 s on / 0.35 s off, congestion 0.175 s on / 0.175 s off, dial tone
continuous. A `Tone` renders one full cadence cycle; players loop it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ssw.media.wavfile import SAMPLE_RATE

__all__ = ["TONES", "Tone", "music_on_hold", "sine"]


def sine(frequency: float, seconds: float, *, amplitude: float = 0.3,
         rate: int = SAMPLE_RATE, phase: float = 0.0) -> npt.NDArray[np.int16]:
    """A sine at `amplitude` of full scale (0.3 ≈ -10 dBm0)."""
    t = np.arange(round(seconds * rate)) / rate
    return (np.sin(2 * np.pi * frequency * t + phase) * amplitude * 32767).astype(np.int16)


@dataclass(frozen=True, slots=True)
class Tone:
    """A cadenced single-frequency tone: (on, off) seconds repeated; off=0 is continuous."""

    name: str
    frequency: float
    cadence: tuple[tuple[float, float], ...]

    def cycle(self, amplitude: float = 0.3) -> npt.NDArray[np.int16]:
        """One cycle of the cadence; for a continuous tone one whole number of periods."""
        parts: list[npt.NDArray[np.int16]] = []
        for on, off in self.cadence:
            parts.append(sine(self.frequency, on, amplitude=amplitude))
            parts.append(np.zeros(round(off * SAMPLE_RATE), dtype=np.int16))
        return np.concatenate(parts)


TONES: dict[str, Tone] = {
    "ringback": Tone("ringback", 425.0, ((1.0, 4.0),)),
    "busy": Tone("busy", 425.0, ((0.35, 0.35),)),
    "congestion": Tone("congestion", 425.0, ((0.175, 0.175),)),
    "dial": Tone("dial", 425.0, ((1.0, 0.0),)),  # 425 Hz has whole periods in 1 s
}


def music_on_hold(amplitude: float = 0.2) -> npt.NDArray[np.int16]:
    """A calm 16-second arpeggio (C major, A minor, F major, G major) with soft envelopes."""
    chords = ((261.63, 329.63, 392.00), (220.00, 261.63, 329.63),
              (174.61, 220.00, 261.63), (196.00, 246.94, 293.66))
    note_seconds = 0.5
    envelope = np.sin(np.linspace(0, np.pi, int(note_seconds * SAMPLE_RATE))) ** 2
    notes: list[npt.NDArray[np.float64]] = []
    for chord in chords:
        for _ in range(2):
            for frequency in (*chord, chord[1] * 2, chord[0] * 2, *reversed(chord[1:])):
                t = np.arange(envelope.size) / SAMPLE_RATE
                tone = np.sin(2 * np.pi * frequency * t) + 0.3 * np.sin(4 * np.pi * frequency * t)
                notes.append(tone * envelope / 1.3)
    return (np.concatenate(notes)[: 16 * SAMPLE_RATE] * amplitude * 32767).astype(np.int16)
