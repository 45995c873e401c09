"""G.711 µ-law (PCMU, payload type 0) and A-law (PCMA, payload type 8) with numpy tables.

The tables follow ITU-T G.711 and the classic reference implementation: encoding maps every
16-bit linear sample through a 65536-entry table, decoding maps every octet through a
256-entry table, so a 20 ms frame is one vectorised `take` each way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "DECODERS",
    "PAYLOAD_TYPES",
    "Law",
    "alaw_decode",
    "alaw_encode",
    "decode",
    "encode",
    "law_for_payload_type",
    "silence_octet",
    "ulaw_decode",
    "ulaw_encode",
]

Law = Literal["pcmu", "pcma"]
PAYLOAD_TYPES: Final[dict[Law, int]] = {"pcmu": 0, "pcma": 8}

Samples = npt.NDArray[np.int16]

_ULAW_BIAS = 0x21  # on 14-bit samples (0x84 on 16-bit)
_ULAW_CLIP = 8159


def _ulaw_encode_table() -> npt.NDArray[np.uint8]:
    pcm = np.arange(65536, dtype=np.int64).astype(np.uint16).view(np.int16).astype(np.int64)
    value = pcm >> 2  # 14-bit linear (G.711 Table 2a), as the G.191 reference code
    mask = np.where(value < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.where(value < 0, -value, value), _ULAW_CLIP) + _ULAW_BIAS
    segment_ends = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
    segment = np.searchsorted(segment_ends, magnitude)
    octet = np.where(segment >= 8, 0x7F,
                     segment << 4 | (magnitude >> (np.minimum(segment, 7) + 1)) & 0x0F)
    return ((octet ^ mask) & 0xFF).astype(np.uint8)


def _ulaw_decode_table() -> Samples:
    octet = ~np.arange(256, dtype=np.int64) & 0xFF
    t = (((octet & 0x0F) << 3) + 0x84) << ((octet & 0x70) >> 4)
    return np.where(octet & 0x80, 0x84 - t, t - 0x84).astype(np.int16)


def _alaw_encode_table() -> npt.NDArray[np.uint8]:
    pcm = np.arange(65536, dtype=np.int64).astype(np.uint16).view(np.int16).astype(np.int64)
    value = pcm >> 3  # 13-bit linear (G.711 Table 1a)
    mask = np.where(value >= 0, 0xD5, 0x55)
    value = np.where(value >= 0, value, -value - 1)
    segment_ends = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])
    segment = np.searchsorted(segment_ends, value)
    shift = np.where(segment < 2, 1, segment)
    octet = np.where(segment >= 8, 0x7F,
                     segment << 4 | (value >> shift) & 0x0F)
    return ((octet ^ mask) & 0xFF).astype(np.uint8)


def _alaw_decode_table() -> Samples:
    octet = np.arange(256, dtype=np.int64) ^ 0x55
    t = (octet & 0x0F) << 4
    segment = (octet & 0x70) >> 4
    t = np.where(segment == 0, t + 8, (t + 0x108) << np.maximum(segment - 1, 0))
    return np.where(octet & 0x80, t, -t).astype(np.int16)


_ULAW_ENCODE: Final = _ulaw_encode_table()
_ULAW_DECODE: Final = _ulaw_decode_table()
_ALAW_ENCODE: Final = _alaw_encode_table()
_ALAW_DECODE: Final = _alaw_decode_table()


def _as_index(samples: npt.ArrayLike) -> npt.NDArray[np.uint16]:
    return np.asarray(samples, dtype=np.int16).view(np.uint16)


def ulaw_encode(samples: npt.ArrayLike) -> bytes:
    """16-bit linear samples -> µ-law octets."""
    return _ULAW_ENCODE.take(_as_index(samples)).tobytes()


def alaw_encode(samples: npt.ArrayLike) -> bytes:
    """16-bit linear samples -> A-law octets."""
    return _ALAW_ENCODE.take(_as_index(samples)).tobytes()


def ulaw_decode(octets: bytes | bytearray | memoryview) -> Samples:
    """µ-law octets -> 16-bit linear samples."""
    return _ULAW_DECODE.take(np.frombuffer(octets, dtype=np.uint8))


def alaw_decode(octets: bytes | bytearray | memoryview) -> Samples:
    """A-law octets -> 16-bit linear samples."""
    return _ALAW_DECODE.take(np.frombuffer(octets, dtype=np.uint8))


def encode(law: Law, samples: npt.ArrayLike) -> bytes:
    """Encode with the named law."""
    return ulaw_encode(samples) if law == "pcmu" else alaw_encode(samples)


def decode(law: Law, octets: bytes | bytearray | memoryview) -> Samples:
    """Decode with the named law."""
    return ulaw_decode(octets) if law == "pcmu" else alaw_decode(octets)


DECODERS: Final[dict[Law, Callable[[bytes | bytearray | memoryview], Samples]]] = {
    "pcmu": ulaw_decode,
    "pcma": alaw_decode,
}


def law_for_payload_type(payload_type: int) -> Law | None:
    """The G.711 law of a static payload type (RFC 3551 §6), None for any other type."""
    return {0: "pcmu", 8: "pcma"}.get(payload_type)  # type: ignore[return-value]


def silence_octet(law: Law) -> int:
    """The octet that decodes to (near) zero: 0xFF for µ-law, 0xD5 for A-law."""
    return 0xFF if law == "pcmu" else 0xD5
