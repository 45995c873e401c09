"""Outgoing RTP stream continuity across source changes (RFC 3550 §5.1, §8.2), pure.

What a leg's peer receives from the switch must look like one RTP stream, although its
source changes: the far phone after a re-INVITE or a transfer, an announcement played before
answer, music on hold. `OutboundStream` keeps one SSRC per leg and, whenever the incoming
SSRC changes, recomputes offsets so that the sequence number continues by one and the
timestamp advances by the wall-clock time elapsed since the last packet sent.

The first source passes unchanged (its own SSRC becomes the stream's), so in a plain call
the relay forwards the received datagram without touching a byte.
"""

from __future__ import annotations

from ssw.media.rtp import read_header_fields, rewrite_header

__all__ = ["OutboundStream"]


class OutboundStream:
    """Rewrites packets of successive sources into one continuous stream."""

    __slots__ = ("_clock_rate", "_last_out_seq", "_last_out_ts", "_last_sent_at", "_seq_offset",
                 "_source", "_ts_offset", "packets", "ssrc")

    def __init__(self, *, clock_rate: int = 8000) -> None:
        self._clock_rate = clock_rate
        self.ssrc: int | None = None  # the SSRC the peer sees; set by the first source
        self._source: int | None = None  # SSRC of the current source
        self._seq_offset = 0
        self._ts_offset = 0
        self._last_out_seq = 0
        self._last_out_ts = 0
        self._last_sent_at = 0.0
        self.packets = 0

    @property
    def passthrough(self) -> bool:
        """True while packets leave exactly as they arrived (first source, no offsets)."""
        return self._source == self.ssrc and self._seq_offset == 0 and self._ts_offset == 0

    def _switch_to(self, ssrc: int, seq: int, ts: int, now: float) -> None:
        if self.ssrc is None:
            self.ssrc = ssrc
            self._seq_offset = self._ts_offset = 0
        else:
            elapsed = max(now - self._last_sent_at, 0.0)
            advance = max(round(elapsed * self._clock_rate), 1)
            self._seq_offset = (self._last_out_seq + 1 - seq) & 0xFFFF
            self._ts_offset = (self._last_out_ts + advance - ts) & 0xFFFFFFFF
        self._source = ssrc

    def rewrite(self, packet: bytes, now: float) -> bytes | bytearray:
        """The packet as it must leave (the same object when nothing needs changing).

        `packet` must satisfy `looks_like_rtp`. `now` is only read when the source changes
        and to time-stamp the last packet sent.
        """
        seq, ts, ssrc = read_header_fields(packet)
        if ssrc != self._source:
            self._switch_to(ssrc, seq, ts, now)
        self.packets += 1
        self._last_sent_at = now
        if self._source == self.ssrc and self._seq_offset == 0 and self._ts_offset == 0:
            self._last_out_seq, self._last_out_ts = seq, ts
            return packet
        out_seq = (seq + self._seq_offset) & 0xFFFF
        out_ts = (ts + self._ts_offset) & 0xFFFFFFFF
        self._last_out_seq, self._last_out_ts = out_seq, out_ts
        buffer = bytearray(packet)
        assert self.ssrc is not None
        rewrite_header(buffer, out_seq, out_ts, self.ssrc)
        return buffer
