"""G.711 tables against the reference algorithm (CPython's audioop when present)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from ssw.media import g711


def _audioop() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop
        except ImportError:
            pytest.skip("audioop (reference G.711) not in this Python")
    return audioop


ALL = np.arange(-32768, 32768, dtype=np.int16)
OCTETS = bytes(range(256))


def test_ulaw_matches_reference_for_every_sample_and_octet() -> None:
    audioop = _audioop()
    assert g711.ulaw_encode(ALL) == audioop.lin2ulaw(ALL.tobytes(), 2)
    assert g711.ulaw_decode(OCTETS).tobytes() == audioop.ulaw2lin(OCTETS, 2)


def test_alaw_matches_reference_for_every_sample_and_octet() -> None:
    audioop = _audioop()
    assert g711.alaw_encode(ALL) == audioop.lin2alaw(ALL.tobytes(), 2)
    assert g711.alaw_decode(OCTETS).tobytes() == audioop.alaw2lin(OCTETS, 2)


@pytest.mark.parametrize("law", ["pcmu", "pcma"])
def test_round_trip_error_is_logarithmic(law: g711.Law) -> None:
    decoded = g711.decode(law, g711.encode(law, ALL)).astype(np.int64)
    loud = np.abs(ALL) > 512
    relative = np.abs(decoded - ALL)[loud] / np.abs(ALL.astype(np.int64))[loud]
    assert relative.max() < 0.07
    assert g711.decode(law, bytes([g711.silence_octet(law)]))[0] in (0, 8, -8)


def test_payload_types() -> None:
    assert g711.law_for_payload_type(0) == "pcmu"
    assert g711.law_for_payload_type(8) == "pcma"
    assert g711.law_for_payload_type(18) is None
