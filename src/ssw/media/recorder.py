"""Call recording: both directions of a relay into one stereo WAV (left = leg 0), pure core.

Received payloads go into one jitter buffer per direction; every 20 ms the engine calls
`tick()`, which takes 20 ms of decoded G.711 from each (silence for a missing packet; any
ptime) and appends one stereo frame to the file, so both channels stay aligned in time
whatever the loss or reordering. Other payloads (events, comfort noise) are not recorded.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ssw.media.g711 import DECODERS, law_for_payload_type
from ssw.media.jitter import FrameAssembler, JitterBuffer
from ssw.media.mixer import FRAME_SAMPLES
from ssw.media.rtp import read_header_fields

__all__ = ["Recorder"]


class Recorder:
    """Writes a 16-bit 8 kHz stereo WAV while a relay runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._wav = wave.open(str(path), "wb")  # noqa: SIM115 - open until close()
        self._wav.setnchannels(2)
        self._wav.setsampwidth(2)
        self._wav.setframerate(8000)
        self._buffers = (JitterBuffer(depth=2), JitterBuffer(depth=2))
        self._frames = (FrameAssembler(self._buffers[0]), FrameAssembler(self._buffers[1]))
        self._payload_types = [0, 0]
        self.frames = 0

    def receive(self, leg: int, packet: bytes) -> None:
        """A packet received from leg `leg`'s peer (already known to look like RTP)."""
        if len(packet) < 12 or packet[0] & 0xC0 != 0x80:
            return  # not RTP (a T.38 stream): nothing to record
        seq = read_header_fields(packet)[0]
        payload_type = packet[1] & 0x7F
        if law_for_payload_type(payload_type) is None:
            return  # telephone-events, comfort noise, other codecs: not recorded
        self._payload_types[leg] = payload_type
        offset = 12 + 4 * (packet[0] & 0x0F)
        self._buffers[leg].put(seq, packet[offset:])

    def _channel(self, leg: int) -> npt.NDArray[np.int16]:
        law = law_for_payload_type(self._payload_types[leg]) or "pcmu"
        frame = self._frames[leg].frame(DECODERS[law])
        return frame if frame is not None else np.zeros(FRAME_SAMPLES, dtype=np.int16)

    def tick(self) -> None:
        """Append one 20 ms stereo frame."""
        stereo = np.column_stack((self._channel(0), self._channel(1))).astype("<i2")
        self._wav.writeframes(stereo.tobytes())
        self.frames += 1

    @property
    def seconds(self) -> float:
        return self.frames * FRAME_SAMPLES / 8000

    def close(self) -> None:
        """Finish the file (the WAV header gets its final length)."""
        self._wav.close()
