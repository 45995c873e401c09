"""RTP peers and spectrum helpers for the media tests (real sockets on loopback)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any, cast

import numpy as np

from ssw.media.g711 import decode, encode
from ssw.media.rtp import RtpError, RtpPacket
from ssw.media.tones import sine


class RtpPeer(asyncio.DatagramProtocol):
    """A phone's media side: sends a G.711 tone, keeps what it receives."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.received: list[tuple[RtpPacket, tuple[str, int]]] = []
        self.raw: list[bytes] = []
        self.ssrc = random.getrandbits(32)
        self.sequence = random.getrandbits(16)
        self.timestamp = random.getrandbits(32)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # the selector loop's datagram transport does not subclass DatagramTransport
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.raw.append(data)
        with contextlib.suppress(RtpError):  # T.38 and other non-RTP streams: raw only
            self.received.append((RtpPacket.parse(data), addr))

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def packet(self, payload: bytes, payload_type: int = 0) -> bytes:
        data = RtpPacket(payload_type, self.sequence, self.timestamp, self.ssrc,
                         payload).serialize()
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.timestamp = (self.timestamp + 160) & 0xFFFFFFFF
        return data

    async def send_tone(self, frequency: float, seconds: float, port: int,
                        law: str = "pcmu") -> None:
        samples = sine(frequency, seconds)
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index in range(0, samples.size, 160):
            payload = encode(law, samples[index:index + 160])  # type: ignore[arg-type]
            self.transport.sendto(self.packet(payload, 0 if law == "pcmu" else 8),
                                  ("127.0.0.1", port))
            await asyncio.sleep(max(0.0, start + (index // 160 + 1) * 0.02 - loop.time()))

    def audio(self, law: str = "pcmu") -> np.ndarray:
        frames = [decode(law, p.payload) for p, _ in self.received  # type: ignore[arg-type]
                  if p.payload_type in (0, 8)]
        return np.concatenate(frames) if frames else np.zeros(0, dtype=np.int16)


async def new_peer() -> RtpPeer:
    loop = asyncio.get_running_loop()
    _, peer = await loop.create_datagram_endpoint(RtpPeer, local_addr=("127.0.0.1", 0))
    return peer


def dominant_frequencies(samples: np.ndarray, count: int = 3, rate: int = 8000
                         ) -> list[float]:
    """The `count` strongest spectral peaks (Hz), at least 40 Hz apart."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(samples.size)))
    freqs = np.fft.rfftfreq(samples.size, 1 / rate)
    peaks: list[float] = []
    for index in np.argsort(spectrum)[::-1]:
        if all(abs(freqs[index] - p) > 40 for p in peaks):
            peaks.append(float(freqs[index]))
        if len(peaks) == count:
            break
    return peaks


def band_energy(samples: np.ndarray, frequency: float, rate: int = 8000) -> float:
    """Share of the signal's energy within ±20 Hz of `frequency`."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1 / rate)
    total = spectrum.sum() or 1.0
    return float(spectrum[np.abs(freqs - frequency) <= 20].sum() / total)
