"""Mix-minus conference mixing, pure: each member hears the sum of all others, not itself.

One call of `mix_minus` per packet time: the frames of the members who sent audio are
stacked into an int32 matrix, summed once, and each member's own row is subtracted from the
total before clipping to 16 bits, so N members cost one sum and N subtractions, not N².
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

__all__ = ["FRAME_SAMPLES", "mix_minus"]

FRAME_SAMPLES = 160  # 20 ms at 8 kHz

Frame = npt.NDArray[np.int16]


def _fit(frame: Frame, samples: int) -> Frame:
    if frame.size == samples:
        return frame
    if frame.size > samples:
        return frame[:samples]
    return np.pad(frame, (0, samples - frame.size))


def mix_minus(
    inputs: Mapping[str, Frame | None],
    *,
    samples: int = FRAME_SAMPLES,
) -> dict[str, Frame]:
    """For every member in `inputs`, the clipped sum of the other members' frames.

    A member whose input is None (silent, missing packet, still joining) contributes nothing
    but still receives the mix. Frames of another length are cut or padded to `samples`.
    """
    members = list(inputs)
    speaking = [m for m in members if inputs[m] is not None]
    silence = np.zeros(samples, dtype=np.int16)
    if not speaking:
        return {m: silence for m in members}
    stacked = np.empty((len(speaking), samples), dtype=np.int32)
    for row, member in enumerate(speaking):
        frame = inputs[member]
        assert frame is not None
        stacked[row] = _fit(frame, samples)
    total = stacked.sum(axis=0, dtype=np.int32)
    own = dict(zip(speaking, range(len(speaking)), strict=True))
    minus = np.clip(total[np.newaxis, :] - stacked, -32768, 32767).astype(np.int16)
    clipped_total = np.clip(total, -32768, 32767).astype(np.int16)
    return {m: minus[own[m]] if m in own else clipped_total for m in members}
