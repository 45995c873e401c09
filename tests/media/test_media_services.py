"""Recording, announcements and tones, DTMF events and conferences, with real RTP."""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from media_peers import RtpPeer, band_energy, dominant_frequencies

from ssw.media.client import MediaClient, MediaError
from ssw.media.dtmf import DtmfDetector, generate_digit
from ssw.media.engine import EngineConfig
from ssw.media.g711 import decode
from ssw.media.resources import PROMPT_TEXTS, prompts_dir
from ssw.media.rtp import RtpPacket
from ssw.media.server import MediaServer
from ssw.media.wavfile import read_wav, write_wav

PeerFactory = Callable[[], Awaitable[RtpPeer]]


async def _wait_for(condition: Callable[[], bool], timeout: float) -> None:
    """Poll `condition` until true or `timeout` seconds passed (then the caller asserts)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition() and loop.time() < deadline:
        await asyncio.sleep(0.02)


async def _call(media: MediaClient, open_peer: PeerFactory, name: str
                ) -> tuple[RtpPeer, RtpPeer, tuple[int, int]]:
    a, b = await open_peer(), await open_peer()
    relay = await media.allocate(name)
    await media.update(name, 0, "127.0.0.1", a.port, payload_type=0, event_payload_type=101)
    await media.update(name, 1, "127.0.0.1", b.port, payload_type=0)
    return a, b, (relay.legs[0].rtp_port, relay.legs[1].rtp_port)


async def test_recording_holds_each_direction_on_its_channel(
        media: MediaClient, open_peer: PeerFactory, tmp_path: Path) -> None:
    a, b, (port_a, port_b) = await _call(media, open_peer, "rec-1")
    path = Path(await media.record_start("rec-1", "call.wav"))
    assert path == tmp_path / "restfs" / "recordings" / "call.wav"
    await asyncio.gather(a.send_tone(700, 1.0, port_a), b.send_tone(1200, 1.0, port_b))
    await asyncio.sleep(0.1)
    answer = await media.record_stop("rec-1")
    assert answer["seconds"] >= 1.0
    import wave
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (2, 8000, 2)
        stereo = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").reshape(-1, 2)
    left, right = stereo[:, 0], stereo[:, 1]
    assert abs(dominant_frequencies(left, 1)[0] - 700) < 10
    assert abs(dominant_frequencies(right, 1)[0] - 1200) < 10
    assert band_energy(left, 1200) < 0.01 and band_energy(right, 700) < 0.01
    assert len(b.received) >= 45  # and the call was relayed meanwhile


async def test_ringback_then_announcement_then_relay(
        media: MediaClient, open_peer: PeerFactory, events: list[dict[str, Any]],
        tmp_path: Path) -> None:
    prompt = np.sin(2 * np.pi * 1000 * np.arange(2400) / 8000) * 8000  # 0.3 s at 1 kHz
    (tmp_path / "media" / "prompts").mkdir(parents=True)
    write_wav(tmp_path / "media" / "prompts" / "subscriber_busy.wav", prompt.astype(np.int16))
    a, b, (_, port_b) = await _call(media, open_peer, "ann-1")
    await media.play("ann-1", 0, "tone:ringback")
    await asyncio.sleep(0.5)
    ringback = a.audio()
    assert abs(dominant_frequencies(ringback, 1)[0] - 425) < 10
    await media.play("ann-1", 0, "prompt:subscriber_busy")
    await asyncio.sleep(0.6)
    assert any(e["event"] == "play_done" and e["source"] == "prompt:subscriber_busy"
               for e in events)
    heard_before = len(a.received)
    audio = a.audio()[ringback.size:]
    assert abs(dominant_frequencies(audio, 1)[0] - 1000) < 10
    await b.send_tone(500, 0.2, port_b)  # after the prompt the callee is heard again
    await asyncio.sleep(0.05)
    assert len(a.received) > heard_before
    packets = [p for p, _ in a.received]
    assert len({p.ssrc for p in packets}) == 1  # one stream for ringback, prompt, callee
    sequences = [p.sequence_number for p in packets]
    assert all((y - x) & 0xFFFF == 1 for x, y in itertools.pairwise(sequences))


async def test_missing_prompt_is_a_clear_error(media: MediaClient,
                                               open_peer: PeerFactory) -> None:
    await _call(media, open_peer, "ann-2")
    with pytest.raises(MediaError, match="generate the prompts"):
        await media.play("ann-2", 0, "prompt:number_does_not_exist")


async def test_dtmf_events_are_reported_once(media: MediaClient, open_peer: PeerFactory,
                                             events: list[dict[str, Any]]) -> None:
    a, b, (port_a, _) = await _call(media, open_peer, "dtmf-1")
    assert a.transport
    for index, digit in enumerate("19#"):
        for marker, ts, payload in generate_digit(digit, timestamp=1000 + 8000 * index):
            a.transport.sendto(RtpPacket(101, a.sequence, ts, a.ssrc, payload, marker
                                         ).serialize(), ("127.0.0.1", port_a))
            a.sequence += 1
    await asyncio.sleep(0.2)
    assert [e["digit"] for e in events if e["event"] == "dtmf"] == ["1", "9", "#"]
    assert len(b.received) == 3 * 7  # the events are relayed end to end too


async def _member(media: MediaClient, open_peer: PeerFactory, conference: str, name: str
                  ) -> tuple[RtpPeer, int]:
    peer = await open_peer()
    leg = await media.conference_join(conference, name)
    await media.conference_update(conference, name, "127.0.0.1", peer.port, payload_type=0)
    return peer, leg.rtp_port


async def test_three_member_conference_is_mix_minus(media: MediaClient,
                                                    open_peer: PeerFactory) -> None:
    await media.conference_create("room")
    tones = {"m1": 500.0, "m2": 900.0, "m3": 1400.0}
    members = {name: await _member(media, open_peer, "room", name) for name in tones}
    await asyncio.gather(*(peer.send_tone(tones[name], 1.5, port)
                           for name, (peer, port) in members.items()))
    for name, (peer, _) in members.items():
        audio = peer.audio()[2400:]  # skip the first 0.3 s (buffers filling)
        assert audio.size > 6000, f"{name} received too little audio"
        others = [f for n, f in tones.items() if n != name]
        for frequency in others:
            assert band_energy(audio, frequency) > 0.2, f"{name} misses {frequency} Hz"
        assert band_energy(audio, tones[name]) < 0.01, f"{name} hears itself"
    # m3 leaves while m1 and m2 talk on: they hear no gap, and no more of m3
    (m1, port1), (m2, port2), _ = members.values()
    before = len(m1.received)
    talking = asyncio.gather(m1.send_tone(500, 0.8, port1), m2.send_tone(900, 0.8, port2))
    await asyncio.sleep(0.3)
    left = await media.conference_leave("room", "m3")
    assert left["members"] == 2
    at_leave = len(m1.received)
    await talking
    # The mixer sends m1 one frame per 20 ms tick; on a loaded machine some are still being
    # mixed or in flight when the talkers stop. Wait for them (with a deadline), then check
    # that the stream m1 heard across the leave has no gap.
    await _wait_for(lambda: len(m1.received) - before >= 35, timeout=10.0)
    packets = [p for p, _ in m1.received[before:]]
    assert len(packets) >= 35  # ~40 frames in 0.8 s
    assert all((b.sequence_number - a.sequence_number) & 0xFFFF == 1
               for a, b in itertools.pairwise(packets))
    # after the leave (plus 100 ms for frames mixed before it): m2's tone, none of m3's
    after = np.concatenate([decode("pcmu", p.payload) for p, _ in m1.received[at_leave + 5:]
                            if p.payload_type == 0])
    assert after.size >= 1600, "too little audio after m3 left"
    assert band_energy(after, 900) > 0.5 and band_energy(after, 1400) < 0.01
    assert (await media.conference_destroy("room"))["members"] == 2


async def test_meet_me_pin_by_dtmf(media: MediaClient, open_peer: PeerFactory,
                                   events: list[dict[str, Any]]) -> None:
    await media.conference_create("meet", pin="4321")
    host, host_port = await _member(media, open_peer, "meet", "host")
    guest, guest_port = await _member(media, open_peer, "meet", "guest")

    def dial(peer: RtpPeer, port: int, digits: str, base: int) -> None:
        assert peer.transport
        for index, digit in enumerate(digits):
            for marker, ts, payload in generate_digit(digit, timestamp=base + 2000 * index):
                peer.transport.sendto(RtpPacket(101, peer.sequence, ts, peer.ssrc, payload,
                                                marker).serialize(), ("127.0.0.1", port))
                peer.sequence += 1

    dial(guest, guest_port, "99#", 0)
    dial(host, host_port, "4321#", 0)
    await asyncio.sleep(0.2)
    pins = [(e["member"], e["admitted"]) for e in events if e["event"] == "pin"]
    assert pins == [("guest", False), ("host", True)]
    await host.send_tone(800, 0.6, host_port)
    assert guest.audio().size == 0  # not admitted: hears nothing
    dial(guest, guest_port, "4321#", 50000)
    await asyncio.sleep(0.1)
    await host.send_tone(800, 0.8, host_port)
    await asyncio.sleep(0.1)
    assert band_energy(guest.audio(), 800) > 0.5


def test_read_wav_resamples_and_downmixes(tmp_path: Path) -> None:
    t = np.arange(16000) / 16000
    tone = (np.sin(2 * np.pi * 440 * t) * 10000).astype(np.int16)
    write_wav(tmp_path / "x.wav", np.column_stack((tone, tone)), channels=2, rate=16000)
    samples = read_wav(tmp_path / "x.wav")
    assert samples.size == 8000
    assert abs(dominant_frequencies(samples, 1)[0] - 440) < 5


async def test_first_run_generates_the_system_prompts(media_config: EngineConfig) -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    server = MediaServer(media_config, "tcp:127.0.0.1:0", generate_prompts=True)
    await server.start()
    await server.stop()  # waits for the generation
    for name in PROMPT_TEXTS:
        samples = read_wav(prompts_dir(media_config.data_dir) / f"{name}.wav")
        assert samples.size > 8000  # over a second of speech at 8 kHz
        assert np.abs(samples.astype(np.int32)).max() > 10000


async def test_send_dtmf_into_a_leg(media: MediaClient, open_peer: PeerFactory) -> None:
    _, b, _ = await _call(media, open_peer, "dtmf-out")
    answer = await media.request("send_dtmf", relay="dtmf-out", leg=1, digits="12#")
    assert answer["source"] == "dtmf:12#"
    await asyncio.sleep(0.8)
    detector = DtmfDetector()
    found = [detector.receive(p.timestamp, p.payload) for p, _ in b.received
             if p.payload_type == 101]
    assert "".join(d for d in found if d) == "12#"
    assert len({p.ssrc for p, _ in b.received}) == 1
    with pytest.raises(MediaError, match="not a DTMF digit"):
        await media.request("send_dtmf", relay="dtmf-out", leg=1, digits="1x")


async def test_recording_holds_what_a_peer_heard_during_an_announcement(
        media: MediaClient, open_peer: PeerFactory, tmp_path: Path) -> None:
    _, b, (_, port_b) = await _call(media, open_peer, "rec-ann")
    path = Path(await media.record_start("rec-ann", "ann.wav"))
    await media.play("rec-ann", 0, "tone:dial")  # A hears 425 Hz, not B
    await b.send_tone(1200, 1.0, port_b)
    await media.record_stop("rec-ann")
    heard_by_a = read_wav_channel(path, 1)[1600:]
    assert abs(dominant_frequencies(heard_by_a, 1)[0] - 425) < 10
    assert band_energy(heard_by_a, 1200) < 0.01


def read_wav_channel(path: Path, channel: int) -> np.ndarray:
    import wave
    with wave.open(str(path)) as wav:
        frames = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
    return frames.reshape(-1, 2)[:, channel]
