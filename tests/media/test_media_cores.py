"""Pure cores: mix-minus, stream continuity, players, the control table."""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssw.media.control import COMMANDS, ControlError, encode_event, parse_request
from ssw.media.g711 import decode
from ssw.media.leg import Clock, Leg
from ssw.media.mixer import mix_minus
from ssw.media.player import Player
from ssw.media.rtp import RtpPacket
from ssw.media.stream import OutboundStream
from ssw.media.tones import TONES, music_on_hold


def test_mix_minus_excludes_own_signal_and_clips() -> None:
    frames = {name: np.full(160, value, dtype=np.int16)
              for name, value in (("a", 100), ("b", 20000), ("c", 30000))}
    mixes = mix_minus({**frames, "silent": None})
    assert mixes["a"][0] == 32767  # 50000 clipped
    assert mixes["b"][0] == 30100 and mixes["c"][0] == 20100
    assert mixes["silent"][0] == 32767
    assert set(mix_minus({"x": None})) == {"x"} and not mix_minus({"x": None})["x"].any()


def test_mix_minus_fits_odd_frame_lengths() -> None:
    mixes = mix_minus({"a": np.ones(80, dtype=np.int16), "b": np.ones(200, dtype=np.int16)})
    assert mixes["a"].size == mixes["b"].size == 160


def _packet(ssrc: int, seq: int, ts: int) -> bytes:
    return RtpPacket(0, seq, ts, ssrc, b"\xff" * 160).serialize()


def test_stream_passes_first_source_untouched_then_continues() -> None:
    stream = OutboundStream()
    first = _packet(1, 100, 1000)
    assert stream.rewrite(first, 0.0) is first and stream.passthrough
    stream.rewrite(_packet(1, 101, 1160), 0.02)
    moved = RtpPacket.parse(stream.rewrite(_packet(7, 5000, 99), 0.52))
    assert (moved.ssrc, moved.sequence_number, moved.timestamp) == (1, 102, 1160 + 4000)
    after = RtpPacket.parse(stream.rewrite(_packet(7, 5001, 259), 0.54))
    assert (after.sequence_number, after.timestamp) == (103, 5320)
    back = RtpPacket.parse(stream.rewrite(_packet(1, 102, 1320), 0.56))
    assert back.sequence_number == 104 and back.timestamp > after.timestamp


def test_stream_wraps_sequence_and_timestamp() -> None:
    stream = OutboundStream()
    stream.rewrite(_packet(1, 0xFFFF, 0xFFFFFF60), 0.0)
    out = RtpPacket.parse(stream.rewrite(_packet(2, 10, 10), 0.02))
    assert out.sequence_number == 0 and out.timestamp == 0


def test_player_frames_and_end() -> None:
    player = Player(np.zeros(400, dtype=np.int16), law="pcma", name="x")
    packets = [RtpPacket.parse(p) for p in iter(player.next_packet, None)]
    assert [len(p.payload) for p in packets] == [160, 160, 160]
    assert packets[0].marker and packets[0].payload_type == 8
    assert player.finished and player.next_packet() is None
    looping = Player(np.zeros(160, dtype=np.int16), law="pcmu", loop=True)
    assert all(looping.next_packet() for _ in range(10))
    with pytest.raises(ValueError, match="no samples"):
        Player(np.zeros(0, dtype=np.int16), law="pcmu", name="empty")


def test_tone_cadences_and_music_on_hold() -> None:
    busy = TONES["busy"].cycle()
    assert busy.size == 5600 and busy[:2800].any() and not busy[2800:].any()
    assert TONES["ringback"].cycle().size == 40000
    moh = music_on_hold()
    assert moh.size == 16 * 8000 and np.abs(moh.astype(np.int32)).max() < 32767 * 0.25
    assert decode("pcmu", Player(moh, law="pcmu").next_packet()[12:]).size == 160  # type: ignore[index]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"{", "not a JSON object"),
        (b"[1]", "must be a JSON object"),
        (b'{"cmd":"fly"}', "unknown command 'fly'"),
        (b'{"cmd":"allocate"}', "missing relay"),
        (b'{"cmd":"allocate","relay":"x","colour":1}', "unknown parameter"),
        (b'{"cmd":"update","relay":"x","leg":true,"address":"a","port":1}', "leg must be int"),
        (b"{" + b" " * 70000 + b"}", "exceeds"),
    ],
)
def test_control_refusals(line: bytes, message: str) -> None:
    with pytest.raises(ControlError, match=message):
        parse_request(line)


def test_control_request_and_event_encoding() -> None:
    request = parse_request(b'{"id":3,"cmd":"play","relay":"r","leg":0,"source":"moh"}')
    assert (request.id, request.command) == (3, "play")
    assert request.params == {"relay": "r", "leg": 0, "source": "moh"}
    assert json.loads(encode_event("timeout", relay="r", leg=1)) == {
        "event": "timeout", "relay": "r", "leg": 1}
    assert all(description for _, description in COMMANDS.values())


def test_server_runs_as_its_own_process(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ssw.media.server", "--control", "tcp:127.0.0.1:0",
         "--data-dir", str(tmp_path), "--ports", "41000-41099", "--prompts", "skip"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        ready = process.stdout.readline().split()
        assert ready[0] == "ready", process.stderr.read() if process.stderr else ""
        host, port = ready[1].removeprefix("tcp:").rsplit(":", 1)
        import socket
        with socket.create_connection((host, int(port)), timeout=5) as control:
            control.sendall(b'{"id":1,"cmd":"allocate","relay":"p"}\n{"id":2,"cmd":"ping"}\n')
            buffer = b""
            deadline = time.monotonic() + 5
            while buffer.count(b"\n") < 2 and time.monotonic() < deadline:
                buffer += control.recv(4096)
        first, second = (json.loads(line) for line in buffer.splitlines())
        assert first["ok"] and first["legs"][0]["rtp_port"] in range(41000, 41100)
        assert second == {"id": 2, "ok": True, "node": "msr1", "relays": 1, "conferences": 0}
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        finally:
            if process.poll() is None:
                process.kill()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
    assert process.returncode == 0


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 5)), min_size=1, max_size=12))
def test_outbound_stream_is_continuous_whatever_the_sources(runs: list[tuple[int, int]]
                                                            ) -> None:
    stream = OutboundStream()
    sources = {n: [random.getrandbits(16), random.getrandbits(32)] for n in range(4)}
    out: list[RtpPacket] = []
    now = 0.0
    for source, count in runs:
        for _ in range(count):
            seq, ts = sources[source]
            now += 0.02
            out.append(RtpPacket.parse(stream.rewrite(_packet(100 + source, seq, ts), now)))
            sources[source] = [(seq + 1) & 0xFFFF, (ts + 160) & 0xFFFFFFFF]
    assert {p.ssrc for p in out} == {out[0].ssrc}
    assert all((b.sequence_number - a.sequence_number) & 0xFFFF == 1
               for a, b in itertools.pairwise(out))
    assert all(0 < (b.timestamp - a.timestamp) & 0xFFFFFFFF <= 160
               for a, b in itertools.pairwise(out))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                               max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(st.sampled_from(["id", "cmd", "relay", "leg", "port", "address",
                                        "source", "x"]), _JSON, max_size=6),
       st.sampled_from(sorted(COMMANDS)))
def test_any_request_is_accepted_or_refused_with_control_error(body: dict[str, object],
                                                               command: str) -> None:
    body.setdefault("cmd", command)
    try:
        request = parse_request(json.dumps(body).encode())
    except ControlError:
        return
    params, _ = COMMANDS[request.command]
    assert set(request.params) <= {p.name for p in params}
    assert all(p.name in request.params for p in params if p.required)


@given(st.binary(max_size=200))
def test_any_bytes_are_a_request_or_a_control_error(line: bytes) -> None:
    with contextlib.suppress(ControlError):
        parse_request(line)


class _FakeTransport:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, object]] = []

    def sendto(self, data: bytes, addr: object) -> None:
        self.sent.append((bytes(data), addr))


@given(st.lists(st.tuples(st.binary(max_size=40), st.sampled_from([1, 2])), max_size=30))
def test_a_leg_survives_any_datagrams(datagrams: list[tuple[bytes, int]]) -> None:
    clock = Clock(1.0)
    a, b = Leg("a", 0, clock=clock), Leg("b", 1, clock=clock)
    out = _FakeTransport()
    b.transport = out  # type: ignore[assignment]
    b.rtcp_transport = out  # type: ignore[assignment]
    b.set_remote(("127.0.0.1", 9000), ("127.0.0.1", 9001))
    a.sink, a.rtcp_peer, a.event_payload_type = b.relay_to, b, 101
    for data, source in datagrams:
        a.datagram_received(data, ("127.0.0.1", 7000 + source))
        a.rtcp_received(data, ("127.0.0.1", 7000 + source))
    assert a.received + a.garbage <= len(datagrams)  # each counted once on the RTP port
    assert a.wrong_source <= 2 * len(datagrams)  # RTP and RTCP sources both count
    assert all(addr in (("127.0.0.1", 9000), ("127.0.0.1", 9001)) for _, addr in out.sent)
