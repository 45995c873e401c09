"""The jitter buffer reorders, conceals losses, drops late and duplicate packets."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ssw.media.jitter import FrameAssembler, JitterBuffer


def test_reorders_after_filling_to_depth() -> None:
    buffer = JitterBuffer(depth=2)
    for seq in (10, 12, 11):
        buffer.put(seq, bytes([seq]))
    assert [buffer.pop() for _ in range(4)] == [b"\x0a", b"\x0b", b"\x0c", None]


def test_waits_for_depth_then_conceals_a_gap() -> None:
    buffer = JitterBuffer(depth=2)
    buffer.put(1, b"a")
    assert buffer.pop() is None  # still filling
    buffer.put(3, b"c")
    buffer.put(4, b"d")
    assert [buffer.pop(), buffer.pop(), buffer.pop(), buffer.pop()] == [b"a", None, b"c", b"d"]
    assert buffer.stats.missing == 1 and buffer.stats.played == 3


def test_sequence_wraps_around() -> None:
    buffer = JitterBuffer(depth=1)
    for seq in (0xFFFE, 0xFFFF, 0, 1):
        buffer.put(seq, seq.to_bytes(2, "big"))
    assert [buffer.pop() for _ in range(4)] == [b"\xff\xfe", b"\xff\xff", b"\x00\x00",
                                                b"\x00\x01"]


def test_late_and_duplicate_packets_are_counted_and_dropped() -> None:
    buffer = JitterBuffer(depth=0)
    buffer.put(5, b"5")
    buffer.put(5, b"x")
    assert buffer.pop() == b"5"
    buffer.put(4, b"late")
    assert buffer.stats.duplicate == 1 and buffer.stats.late == 1 and len(buffer) == 0


def test_bounded_under_a_flood() -> None:
    buffer = JitterBuffer(depth=2, capacity=10)
    for seq in range(100):
        buffer.put(seq, b"x")
    assert len(buffer) == 10 and buffer.stats.overflow == 90


def _decode(payload: bytes) -> np.ndarray:
    return np.frombuffer(payload, dtype=np.uint8).astype(np.int16)


def test_assembler_gives_20_ms_frames_from_30_ms_packets() -> None:
    buffer = JitterBuffer(depth=0)
    assembler = FrameAssembler(buffer)
    for seq in range(4):  # 4 x 240 samples = 6 frames of 160
        buffer.put(seq, bytes([seq]) * 240)
    frames = [assembler.frame(_decode) for _ in range(7)]
    assert [f.size for f in frames[:6] if f is not None] == [160] * 6
    assert frames[6] is None
    joined = np.concatenate([f for f in frames if f is not None])
    assert list(np.flatnonzero(np.diff(joined)) + 1) == [240, 480, 720]


def test_assembler_conceals_a_short_tail_with_silence() -> None:
    buffer = JitterBuffer(depth=0)
    assembler = FrameAssembler(buffer)
    buffer.put(1, b"\x05" * 100)
    frame = assembler.frame(_decode)
    assert frame is not None and frame.size == 160
    assert frame[:100].tolist() == [5] * 100 and not frame[100:].any()


@given(st.lists(st.integers(0, 0xFFFF), max_size=60), st.integers(0, 5))
def test_jitter_buffer_never_grows_past_capacity_nor_repeats(sequences: list[int],
                                                            depth: int) -> None:
    buffer = JitterBuffer(depth=depth, capacity=20)
    played: list[bytes] = []
    for seq in sequences:
        buffer.put(seq, seq.to_bytes(2, "big"))
        assert len(buffer) <= 20
        frame = buffer.pop()
        if frame is not None:
            played.append(frame)
    assert len(played) == len(set(played))
