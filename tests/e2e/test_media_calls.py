"""Calls through `ssw run` with its media server and real RTP (SPEC §8, docs/MEDIA.md).

The switch starts its media server itself; every SDP is rewritten so both phones send to
it. Each phone's media is an RTP peer of the test; SIPp does the signalling.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import socket
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
from e2e_support import Sipp
from media_calls import MediaCall, RtpPeer, Talker, new_peer, wait_until
from media_peers import band_energy, dominant_frequencies
from switch import (
    CALL_SCENARIOS,
    Subscriber,
    SwitchProcess,
    assert_ok,
    cdr_between,
    received_final,
    register_callee,
    running_switch,
    udp_bound,
)

from ssw.media.dtmf import generate_digit
from ssw.media.rtp import RtpPacket
from ssw.media.wavfile import read_wav

pytestmark = pytest.mark.e2e

RTP_TIMEOUT = 3  # seconds, short for the timeout test; the other calls keep RTP flowing
UNALLOCATED_NUMBER, NORMAL_CLEARING, USER_BUSY = 1, 16, 17
BEARER_NOT_IMPLEMENTED, RECOVERY_ON_TIMER_EXPIRY = 65, 102


@pytest.fixture(scope="module")
def media_ports() -> tuple[int, int]:
    base = random.randrange(20000, 29000, 200)
    return base, base + 199


@pytest.fixture(scope="module")
def switch(tmp_path_factory: pytest.TempPathFactory,
           media_ports: tuple[int, int]) -> Iterator[SwitchProcess]:
    low, high = media_ports
    extra = ["--rtp-timeout", str(RTP_TIMEOUT), "--media-ports", f"{low}-{high}"]
    with running_switch(tmp_path_factory.mktemp("media-switch") / "data", extra) as started:
        yield started


@pytest.fixture
async def peers() -> AsyncIterator[list[RtpPeer]]:
    made = [await new_peer() for _ in range(3)]
    yield made
    for peer in made:
        if peer.transport is not None:
            peer.transport.close()


def _from_port(peer: RtpPeer, port: int) -> bool:
    return all(addr == ("127.0.0.1", port) for _, addr in peer.received)


async def test_rtp_is_relayed_through_the_switch(switch: SwitchProcess, sipp: Sipp,
                                                  peers: list[RtpPeer],
                                                  media_ports: tuple[int, int]) -> None:
    alice, bob = switch.declare(2)
    a, b, intruder = peers
    callee_port = await register_callee(sipp, switch, bob)
    call = await MediaCall.start(sipp, switch, alice, bob.number, a, callee_peer=b,
                                 callee_port=callee_port, talk_ms=9000)
    a_port, b_port = await call.relay_ports()
    # both SDPs point at the switch, not at the other phone
    low, high = media_ports
    assert low <= a_port <= high and low <= b_port <= high and a_port != b_port
    a_talks, b_talks = Talker(a, a_port, 600.0), Talker(b, b_port, 1000.0)
    try:
        await wait_until(lambda: len(a.received) >= 50 and len(b.received) >= 50, 10.0,
                         "50 relayed packets each way")
        # symmetric RTP: each phone hears the switch from the port it sends to
        assert _from_port(b, b_port) and _from_port(a, a_port)
        assert band_energy(b.audio()[800:], 600) > 0.5, "the callee does not hear 600 Hz"
        assert band_energy(a.audio()[800:], 1000) > 0.5, "the caller does not hear 1000 Hz"

        # bad input on the caller's relay port: garbage, then RTP from a wrong source
        assert intruder.transport is not None and a.transport is not None
        for junk in (b"", b"\x00", b"hello, switch", bytes(range(256)) * 4, b"\xff" * 11):
            intruder.transport.sendto(junk, ("127.0.0.1", a_port))
            a.transport.sendto(junk, ("127.0.0.1", a_port))  # garbage from the latched peer
        wrong = Talker(intruder, a_port, 1500.0)
        heard_before = len(b.received)
        await wait_until(lambda: wrong.sent >= 40 and len(b.received) >= heard_before + 40,
                         10.0, "40 intruder packets sent while the call goes on")
        await wrong.stop()
        tail = b.audio()[heard_before * 160:]
        assert band_energy(tail, 600) > 0.5 and band_energy(tail, 1500) < 0.01
        assert not intruder.received  # the switch never answers a wrong source
        lines = (f"dropped RTP from 127.0.0.1:{intruder.port}: latched to 127.0.0.1:{a.port}",
                 f"datagram from 127.0.0.1:{intruder.port} on port {a_port}: not RTP")
        await wait_until(lambda: all(line in switch.log_tail(50000) for line in lines), 10.0,
                         "the log lines about garbage and the wrong source")
    finally:
        caller, callee = await call.results()
        await a_talks.stop()
        await b_talks.stop()
    assert_ok(caller, switch)
    assert_ok(callee, switch)
    cdr = await switch.wait_cdr(cdr_between(alice, bob))
    assert cdr.release_cause == NORMAL_CLEARING and cdr.release_side == "caller"
    assert cdr.recording_file == ""  # neither party records, nor does the domain


async def test_early_update_after_the_switch_answered_in_a_reliable_ring(
        switch: SwitchProcess, sipp: Sipp, peers: list[RtpPeer]) -> None:
    """ECSS QA update/uac.xml with RTP: a caller that requires 100rel gets the relay's answer
    in the reliable 180 (the callee rings without SDP), moves its media with an early UPDATE
    the switch answers itself, and then hears the callee at its new port (and is heard)."""
    alice, bob = switch.declare(2)
    a, b, moved = peers
    callee_port = await register_callee(sipp, switch, bob)
    call = await MediaCall.start(sipp, switch, alice, bob.number, a, callee_peer=b,
                                 callee_port=callee_port, uac="uac_media_early_update.xml",
                                 uas="uas_media_ringing.xml", talk_ms=5000,
                                 uac_extra=["-key", "new_rtp_port", str(moved.port)])
    a_port, b_port = await call.relay_ports()
    await wait_until(lambda: f"update answered from {a_port}".encode() in _read(call.caller_log)
                     or call.caller_task.done(), 10.0, "the switch's answer to the UPDATE")
    b_talks, moved_talks = Talker(b, b_port, 1000.0), Talker(moved, a_port, 600.0)
    try:
        # ringback reaches the new port until the callee answers (2.5 s), then the callee
        await wait_until(lambda: _hears(moved, 1000.0) or call.caller_task.done(), 15.0,
                         "the callee's 1000 Hz at the caller's new port")
        await wait_until(lambda: _hears(b, 600.0) or call.caller_task.done(), 10.0,
                         "the caller's 600 Hz from its new port at the callee")
        assert _hears(moved, 1000.0) and _hears(b, 600.0)
        assert _from_port(moved, a_port)
    finally:
        caller, callee = await call.results()
        await b_talks.stop()
        await moved_talks.stop()
    assert_ok(caller, switch)
    assert_ok(callee, switch)


async def test_an_answer_with_two_codecs_is_settled_on_one_for_both_phones(
        switch: SwitchProcess, sipp: Sipp, peers: list[RtpPeer]) -> None:
    """ECSS QA oa_exchange `oa_send_two_codecs_in_answer_200` with RTP: the callee answers
    the caller's PCMA, PCMU with PCMU and PCMA; after the ACKs the switch offers PCMU alone
    to the callee, then to the caller (re-INVITEs, RFC 3264 §7; the scenarios check the
    bodies), and the relay carries both phones' audio at the ports it had."""
    alice, bob = switch.declare(2)
    a, b, _ = peers
    callee_port = await register_callee(sipp, switch, bob)
    call = await MediaCall.start(sipp, switch, alice, bob.number, a, callee_peer=b,
                                 callee_port=callee_port, uac="uac_media_two_codecs.xml",
                                 uas="uas_media_two_codecs.xml", talk_ms=5000)
    a_port, b_port = await call.relay_ports()
    await wait_until(lambda: b"settled at" in _read(call.caller_log)
                     or call.caller_task.done(), 10.0, "the switch's re-INVITE to the caller")
    assert f"settled at 127.0.0.1 {a_port} ".encode() in _read(call.caller_log)
    a_talks, b_talks = Talker(a, a_port, 600.0), Talker(b, b_port, 1000.0)
    try:
        await wait_until(lambda: (_hears(a, 1000.0) and _hears(b, 600.0))
                         or call.caller_task.done(), 10.0, "each phone hearing the other")
        assert _hears(a, 1000.0) and _hears(b, 600.0)
    finally:
        caller, callee = await call.results()
        await a_talks.stop()
        await b_talks.stop()
    assert_ok(caller, switch)
    assert_ok(callee, switch)


def _hears(peer: RtpPeer, frequency: float) -> bool:
    """Whether the last 40 packets `peer` received are mostly a tone of `frequency`."""
    return len(peer.received) >= 40 and band_energy(peer.audio()[-40 * 160:], frequency) > 0.5


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


async def test_silent_call_is_released_on_rtp_timeout(switch: SwitchProcess, sipp: Sipp,
                                                      peers: list[RtpPeer]) -> None:
    alice, bob = switch.declare(2)
    a, b, _ = peers
    callee_port = await register_callee(sipp, switch, bob)
    call = await MediaCall.start(sipp, switch, alice, bob.number, a, callee_peer=b,
                                 callee_port=callee_port, uac="uac_media_released.xml")
    await call.relay_ports()
    caller, callee = await call.results()  # both get a BYE from the switch
    assert_ok(caller, switch)
    assert_ok(callee, switch)
    cdr = await switch.wait_cdr(cdr_between(alice, bob))
    assert cdr.release_cause == RECOVERY_ON_TIMER_EXPIRY and cdr.release_side == "system"
    assert cdr.answer_at is not None
    assert RTP_TIMEOUT * 1000 * 0.9 <= cdr.duration_ms <= 30_000, cdr


async def test_offer_without_a_known_codec_gets_488(switch: SwitchProcess, sipp: Sipp) -> None:
    alice, bob = switch.declare(2)
    await register_callee(sipp, switch, bob)
    result = await sipp.run(
        "media/uac_unknown_codec.xml", switch.target, calls=1, timeout=20,
        extra=["-p", str(_free_udp()), "-s", bob.number, "-key", "caller", alice.number,
               "-key", "domain", alice.domain, "-au", alice.number, "-ap", alice.password])
    assert_ok(result, switch)
    cdr = await switch.wait_cdr(cdr_between(alice, bob))
    assert cdr.release_cause == BEARER_NOT_IMPLEMENTED and cdr.answer_at is None
    assert "no common codec" in switch.log_tail(20000)


def _free_udp() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _prompt_frames(switch: SwitchProcess, name: str) -> int:
    """How many 20 ms frames the system prompt `name` lasts."""
    return read_wav(switch.data_dir / "media" / "prompts" / f"{name}.wav").size // 160


async def _assert_heard_prompt(peer: RtpPeer, port: int, frames: int) -> None:
    # datagrams still queued on the peer's socket are read first (deadline, not a sleep)
    await wait_until(lambda: len(peer.received) >= 0.8 * frames, 5.0, "the prompt's packets")
    packets = [p for p, addr in peer.received if addr == ("127.0.0.1", port)]
    assert len(packets) == len(peer.received), "RTP from somewhere else than the relay"
    # the whole prompt (a few frames may be lost to a loaded machine), and nothing else
    assert 0.8 * frames <= len(packets) <= frames + 25, (len(packets), frames)
    audio = peer.audio().astype(np.float64)
    assert np.sqrt(np.mean(audio ** 2)) > 300, "the announcement is silent"


async def test_caller_to_an_unknown_number_hears_the_announcement(
        switch: SwitchProcess, sipp: Sipp, peers: list[RtpPeer]) -> None:
    (alice,) = switch.declare(1)
    a = peers[0]
    call = await MediaCall.start(sipp, switch, alice, "5550199", a, uac="uac_announced.xml")
    _, port = await call.relay(call.caller_log)
    caller, _ = await call.results()
    assert_ok(caller, switch)
    assert received_final(caller) == {404}
    await _assert_heard_prompt(a, port, _prompt_frames(switch, "number_does_not_exist"))
    cdr = await switch.wait_cdr(cdr_between(alice, "5550199"))
    assert cdr.release_cause == UNALLOCATED_NUMBER and cdr.answer_at is None


async def test_caller_of_a_busy_subscriber_hears_the_announcement(
        switch: SwitchProcess, sipp: Sipp, peers: list[RtpPeer]) -> None:
    alice, bob = switch.declare(2)
    a = peers[0]
    callee_port = await register_callee(sipp, switch, bob)
    busy = asyncio.create_task(sipp.run(f"{CALL_SCENARIOS}/uas_busy.xml", switch.target,
                                        calls=1, timeout=30, extra=["-p", str(callee_port)]))
    await udp_bound(callee_port)
    call = await MediaCall.start(sipp, switch, alice, bob.number, a, uac="uac_announced.xml")
    _, port = await call.relay(call.caller_log)
    caller, _ = await call.results()
    assert_ok(caller, switch)
    assert_ok(await busy, switch)
    assert received_final(caller) == {486}
    await _assert_heard_prompt(a, port, _prompt_frames(switch, "subscriber_busy"))
    cdr = await switch.wait_cdr(cdr_between(alice, bob))
    assert cdr.release_cause == USER_BUSY


async def test_caller_of_an_unregistered_subscriber_hears_the_announcement(
        switch: SwitchProcess, sipp: Sipp, peers: list[RtpPeer]) -> None:
    alice, bob = switch.declare(2)  # bob never registers
    a = peers[0]
    call = await MediaCall.start(sipp, switch, alice, bob.number, a, uac="uac_announced.xml")
    _, port = await call.relay(call.caller_log)
    caller, _ = await call.results()
    assert_ok(caller, switch)
    assert received_final(caller) == {480}
    await _assert_heard_prompt(a, port, _prompt_frames(switch, "subscriber_unavailable"))


async def test_ringback_while_the_callee_rings_then_conversation(
        switch: SwitchProcess, sipp: Sipp, peers: list[RtpPeer]) -> None:
    alice, bob = switch.declare(2)
    a, b, _ = peers
    callee_port = await register_callee(sipp, switch, bob)
    call = await MediaCall.start(sipp, switch, alice, bob.number, a, callee_peer=b,
                                 callee_port=callee_port, uas="uas_media_ringing.xml",
                                 talk_ms=5000)
    _, b_port = await call.relay(call.callee_log)  # type: ignore[arg-type]
    # while the callee rings (2.5 s, no early media) the caller hears 425 Hz ringback
    await wait_until(lambda: len(a.received) >= 40, 10.0, "ringback packets")
    ringback = a.audio()[:40 * 160]
    assert abs(dominant_frequencies(ringback, 1)[0] - 425) < 15
    a_port, _ = await call.relay_ports()
    talkers = [Talker(a, a_port, 600.0), Talker(b, b_port, 1000.0)]
    try:
        heard = len(a.received)
        await wait_until(lambda: len(a.received) >= heard + 40 and len(b.received) >= 40,
                         10.0, "conversation after the answer")
        assert band_energy(a.audio()[(heard + 10) * 160:], 1000) > 0.5
        assert band_energy(b.audio()[1600:], 600) > 0.5
        # one stream towards the caller: ringback and the callee's voice, no gap
        packets = [p for p, _ in a.received]
        assert len({p.ssrc for p in packets}) == 1
        assert all((y.sequence_number - x.sequence_number) & 0xFFFF == 1
                   for x, y in itertools.pairwise(packets))
    finally:
        caller, callee = await call.results()
        for talker in talkers:
            await talker.stop()
    assert_ok(caller, switch)
    assert_ok(callee, switch)


def _read_stereo(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, 8000)
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return frames[0::2], frames[1::2]


async def _recording_of(switch: SwitchProcess, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The stereo recording `name` (relative to the RestFS directory) once it is complete."""
    path = switch.data_dir / "restfs" / name

    def complete() -> bool:
        try:
            _read_stereo(path)
        except (OSError, EOFError, wave.Error, AssertionError):
            return False
        return True

    await wait_until(complete, 15.0, f"the recording {name}")
    return _read_stereo(path)


async def _talk(sipp: Sipp, switch: SwitchProcess, caller: Subscriber, callee: Subscriber,
                peers: list[RtpPeer], talk_ms: int) -> None:
    a, b, _ = peers
    callee_port = await register_callee(sipp, switch, callee)
    call = await MediaCall.start(sipp, switch, caller, callee.number, a, callee_peer=b,
                                 callee_port=callee_port, talk_ms=talk_ms)
    a_port, b_port = await call.relay_ports()
    talkers = [Talker(a, a_port, 600.0), Talker(b, b_port, 1000.0)]
    try:
        results = await call.results()
    finally:
        for talker in talkers:
            await talker.stop()
    for result in results:
        assert_ok(result, switch)


async def test_call_recording_service_records_each_leg_on_its_channel(
        switch: SwitchProcess, sipp: Sipp, peers: list[RtpPeer]) -> None:
    alice, bob = switch.declare(2)
    switch.cocon(f"/domain/{alice.domain}/ss/enable {alice.number} call_recording",
                 f"/domain/{alice.domain}/ss/activate {alice.number} call_recording")
    await _talk(sipp, switch, alice, bob, peers, talk_ms=4000)
    cdr = await switch.wait_cdr(cdr_between(alice, bob))
    assert cdr.recording_file.startswith("recordings/") and cdr.recording_file.endswith(".wav")
    assert cdr.connection_id in cdr.recording_file
    row = next(r for r in switch.csv_rows() if r["connection_id"] == cdr.connection_id)
    assert row["recording_file"] == cdr.recording_file
    left, right = await _recording_of(switch, cdr.recording_file)
    assert left.size >= 8000 * 2, "less than 2 s recorded"
    # left: what the caller sent (600 Hz), right: what the callee sent (1000 Hz)
    assert abs(dominant_frequencies(left, 1)[0] - 600) < 10
    assert abs(dominant_frequencies(right, 1)[0] - 1000) < 10
    assert band_energy(left, 1000) < 0.05 and band_energy(right, 600) < 0.05


async def test_domain_switch_records_every_call_of_the_domain(
        switch: SwitchProcess, sipp: Sipp, peers: list[RtpPeer]) -> None:
    domain = "recorded.e2e.ssw"
    carol, dave = switch.declare(2, domain=domain)
    switch.cocon(f"/domain/{domain}/media/properties/set call_recording true")
    await _talk(sipp, switch, carol, dave, peers, talk_ms=2500)
    cdr = await switch.wait_cdr(cdr_between(carol, dave), domain=domain)
    left, right = await _recording_of(switch, cdr.recording_file)
    assert band_energy(left, 600) > 0.5 and band_energy(right, 1000) > 0.5


def _dial(peer: RtpPeer, port: int, digits: str, base: int) -> None:
    """`digits` as RFC 4733 telephone-events (payload type 101) to the switch's `port`."""
    assert peer.transport is not None
    for index, digit in enumerate(digits):
        for marker, timestamp, payload in generate_digit(digit, timestamp=base + 2000 * index):
            packet = RtpPacket(101, peer.sequence, timestamp, peer.ssrc, payload, marker)
            peer.transport.sendto(packet.serialize(), ("127.0.0.1", port))
            peer.sequence = (peer.sequence + 1) & 0xFFFF


async def test_meet_me_conference_with_pin_mixes_three_members(
        switch: SwitchProcess, sipp: Sipp) -> None:
    domain = "conference.e2e.ssw"
    members = switch.declare(3, domain=domain)
    switch.cocon(f"/domain/{domain}/media/properties/set meet_me_number 7000",
                 f"/domain/{domain}/media/properties/set meet_me_pin 2468")
    peers = [await new_peer() for _ in members]
    tones = (500.0, 900.0, 1400.0)
    calls = [await MediaCall.start(sipp, switch, member, "7000", peer, talk_ms=10000)
             for member, peer in zip(members, peers, strict=True)]
    talkers: list[Talker] = []
    try:
        ports = [(await call.relay(call.caller_log))[1] for call in calls]
        assert len(set(ports)) == 3  # each member has its own port pair
        _dial(peers[2], ports[2], "1111#", 0)  # a wrong PIN first: not admitted yet
        await wait_until(lambda: "wrong PIN (1)" in switch.log_tail(50000), 10.0,
                         "the wrong PIN noticed")
        assert not any(p.received for p in peers)  # nobody admitted hears anything yet
        for peer, port in zip(peers, ports, strict=True):
            _dial(peer, port, "2468#", 20000)
        # admitted members get the mix (silence at first) every 20 ms
        await wait_until(lambda: all(len(p.received) >= 10 for p in peers), 10.0,
                         "all three members admitted")
        talkers = [Talker(peer, port, tone) for peer, port, tone in zip(peers, ports, tones,
                                                                         strict=True)]
        starts = [len(p.received) for p in peers]
        await wait_until(lambda: all(len(p.received) >= s + 75 for p, s in zip(
            peers, starts, strict=True)), 15.0, "1.5 s of conference audio for everyone")
        for index, (peer, start) in enumerate(zip(peers, starts, strict=True)):
            audio = peer.audio()[(start + 15) * 160:]  # after the jitter buffers filled
            others = [tone for i, tone in enumerate(tones) if i != index]
            for tone in others:
                assert band_energy(audio, tone) > 0.2, f"member {index} misses {tone} Hz"
            assert band_energy(audio, tones[index]) < 0.01, f"member {index} hears itself"
    finally:
        results = [await call.results() for call in calls]
        for talker in talkers:
            await talker.stop()
        for peer in peers:
            if peer.transport is not None:
                peer.transport.close()
    for caller, _ in results:
        assert_ok(caller, switch)
    for member in members:
        cdr = await switch.wait_cdr(cdr_between(member, "7000"), domain=domain)
        assert cdr.answer_at is not None and cdr.release_cause == NORMAL_CLEARING


def _labels(audio: np.ndarray, tone: float, window: int = 640) -> str:
    """Per 80 ms window: "T" for `tone`, "m" for other sound (music), "." for silence."""
    labels = []
    for start in range(0, audio.size - window + 1, window):
        part = audio[start:start + window]
        if np.sqrt(np.mean(part.astype(np.float64) ** 2)) < 200:
            labels.append(".")
        elif band_energy(part, tone) > 0.5:
            labels.append("T")
        elif band_energy(part, tone) < 0.1:
            labels.append("m")
        else:
            labels.append("?")  # the window where one source follows the other
    return "".join(labels)


async def test_held_callee_hears_music_on_hold_then_the_caller_again(
        switch: SwitchProcess, sipp: Sipp, peers: list[RtpPeer]) -> None:
    alice, bob = switch.declare(2)
    a, b, _ = peers
    callee_port = await register_callee(sipp, switch, bob)
    call = await MediaCall.start(sipp, switch, alice, bob.number, a, callee_peer=b,
                                 callee_port=callee_port, uac="uac_media_hold.xml",
                                 uas="uas_media_hold.xml")
    a_port, b_port = await call.relay_ports()
    talkers = [Talker(a, a_port, 600.0), Talker(b, b_port, 1000.0)]
    try:
        results = await call.results()  # talk 2 s, hold 2 s, talk 1.5 s
    finally:
        for talker in talkers:
            await talker.stop()
    for result in results:
        assert_ok(result, switch)
    labels = _labels(b.audio(), 600.0)
    # the caller's tone, then 1.2 s or more of music while on hold (its notes fade in and
    # out: some quiet windows), then the tone again; no music before or after
    found = re.search(r"T{5,}(?P<hold>[m.?]{15,})T{5,}", labels)
    assert found and found["hold"].count("m") >= 10, f"callee heard: {labels}"
    assert "m" not in labels[:found.start()] + labels[found.end():], labels
