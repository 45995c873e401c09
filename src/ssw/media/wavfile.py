"""WAV files of 16-bit linear PCM (stdlib `wave`) as numpy arrays.

Prompts and recordings are 8 kHz 16-bit; `read_wav` also accepts other rates and converts
them to 8 kHz mono by linear interpolation, so operator-supplied files play as they are.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["SAMPLE_RATE", "WavError", "read_wav", "resample", "write_wav"]

SAMPLE_RATE = 8000


class WavError(ValueError):
    """A file that is not a usable 16-bit PCM WAV file."""


def resample(samples: npt.NDArray[np.int16], rate: int, target: int = SAMPLE_RATE
             ) -> npt.NDArray[np.int16]:
    """Linear-interpolation resampling (adequate for speech prompts played over G.711)."""
    if rate == target or samples.size == 0:
        return samples
    count = round(samples.size * target / rate)
    positions = np.arange(count) * (rate / target)
    resampled = np.interp(positions, np.arange(samples.size), samples.astype(np.float64))
    return np.asarray(resampled, dtype=np.float64).astype(np.int16)


def read_wav(path: Path) -> npt.NDArray[np.int16]:
    """Mono 8 kHz samples of a 16-bit PCM WAV (stereo files are averaged)."""
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getsampwidth() != 2:
                raise WavError(f"{path}: {8 * wav.getsampwidth()}-bit samples; "
                               "convert it to 16-bit PCM")
            channels, rate = wav.getnchannels(), wav.getframerate()
            data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    except (wave.Error, EOFError) as exc:
        raise WavError(f"{path}: not a PCM WAV file ({exc})") from exc
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return resample(data.astype(np.int16), rate)


def write_wav(path: Path, samples: npt.ArrayLike, *, channels: int = 1,
              rate: int = SAMPLE_RATE) -> None:
    """Write 16-bit PCM; for stereo pass an array of shape (frames, 2)."""
    array = np.asarray(samples, dtype="<i2")
    if channels > 1 and (array.ndim != 2 or array.shape[1] != channels):
        raise WavError(f"{channels}-channel WAV needs an array of shape (frames, {channels})")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(array.tobytes())
