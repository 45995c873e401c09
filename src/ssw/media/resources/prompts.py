"""System prompts from text with espeak-ng, stored as 8 kHz 16-bit WAV files.

espeak-ng writes 22.05 kHz WAV; the file is resampled to 8 kHz (the rate of G.711) and
normalised to -3 dBFS peak, so the media server only reads and encodes it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ssw.media.resources.catalogue import PROMPT_TEXTS, prompts_dir
from ssw.media.wavfile import WavError, read_wav, write_wav

__all__ = ["PromptError", "ensure_prompts", "generate_prompt"]


class PromptError(RuntimeError):
    """A prompt could not be generated; the message says what to install or fix."""


def generate_prompt(text: str, target: Path, *, language: str = "en",
                    espeak: str = "espeak-ng") -> Path:
    """Speak `text` into `target` (8 kHz mono 16-bit WAV)."""
    binary = shutil.which(espeak)
    if binary is None:
        raise PromptError(f"{espeak} is not installed; install the Debian package espeak-ng "
                          "to generate the system prompts")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "prompt.wav"
        result = subprocess.run([binary, "-v", language, "-s", "150", "-w", str(raw), text],
                                capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0 or not raw.exists():
            raise PromptError(f"{espeak} failed ({result.returncode}): {result.stderr.strip()}")
        try:
            samples = read_wav(raw)
        except WavError as exc:
            raise PromptError(str(exc)) from exc
    peak = int(np.abs(samples.astype(np.int32)).max()) if samples.size else 0
    if peak:
        samples = (samples.astype(np.float64) * (0.7 * 32767 / peak)).astype(np.int16)
    write_wav(target, samples)
    return target


def ensure_prompts(data_dir: Path, *, language: str = "en", force: bool = False) -> list[Path]:
    """Generate every system prompt missing under `data_dir` (all of them with `force`)."""
    made = []
    for name, texts in PROMPT_TEXTS.items():
        target = prompts_dir(data_dir) / f"{name}.wav"
        if force or not target.exists():
            made.append(generate_prompt(texts.get(language, texts["en"]), target,
                                        language=language))
    return made
