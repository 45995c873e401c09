"""A whole call's media through RelaySession, as the call core drives it (no SIP here).

Offer and answer, ringback before answer, hold with music on hold, resume, then a transfer
that replaces the caller: the callee hears one continuous stream all along.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable

from media_peers import RtpPeer, band_energy, dominant_frequencies

from ssw.media.call_media import RelaySession
from ssw.media.client import MediaClient
from ssw.media.sdp_bridge import endpoint_of
from ssw.sip.sdp import SessionDescription

PeerFactory = Callable[[], Awaitable[RtpPeer]]


def _sdp(port: int, version: int = 1, direction: str = "sendrecv") -> bytes:
    return (f"v=0\r\no=- 7 {version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
            f"t=0 0\r\nm=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
            f"a=rtpmap:101 telephone-event/8000\r\na={direction}\r\n").encode()


def _port(body: bytes) -> int:
    endpoint = endpoint_of(SessionDescription.parse(body))
    assert endpoint is not None
    return endpoint.port


async def test_ringback_answer_hold_resume_transfer(media: MediaClient,
                                                    open_peer: PeerFactory) -> None:
    caller, callee, target = await open_peer(), await open_peer(), await open_peer()
    session = await RelaySession.open(media, "flow")
    # Try: the caller's offer goes to the callee pointing at the switch
    callee_sends_to = _port(session.through(0, _sdp(caller.port)))
    # 180 without SDP: the switch plays ringback to the caller
    session.play(0, "tone:ringback")
    await asyncio.sleep(0.4)
    assert abs(dominant_frequencies(caller.audio(), 1)[0] - 425) < 10
    # 200 with the callee's answer: ringback stops, both talk
    caller_sends_to = _port(session.through(1, _sdp(callee.port)))
    session.stop_play(0)
    await asyncio.gather(caller.send_tone(600, 0.5, caller_sends_to),
                         callee.send_tone(1000, 0.5, callee_sends_to))
    assert band_energy(callee.audio(), 600) > 0.5
    heard_by_caller = caller.audio()[3200:]  # after the ringback
    assert band_energy(heard_by_caller, 1000) > 0.5
    # re-INVITE sendonly from the caller: hold, the callee gets music on hold
    session.through(0, _sdp(caller.port, 2, "sendonly"))
    session.play(1, "moh")
    before = len(callee.received)
    await asyncio.sleep(0.5)
    on_hold = callee.audio()[before * 160:]
    assert on_hold.size >= 3200 and band_energy(on_hold, 600) < 0.05 and on_hold.any()
    # resume
    session.through(0, _sdp(caller.port, 3))
    session.stop_play(1)
    await caller.send_tone(600, 0.2, caller_sends_to)
    # transfer: the target replaces the caller on side 0 (new address, new SSRC)
    session.through(0, _sdp(target.port))
    await media.request("ping")  # the update is done
    await target.send_tone(1500, 0.4, caller_sends_to)
    tail = callee.audio()[-2400:]
    assert band_energy(tail, 1500) > 0.5
    packets = [p for p, _ in callee.received]
    assert len({p.ssrc for p in packets}) == 1
    assert all((b.sequence_number - a.sequence_number) & 0xFFFF == 1
               for a, b in itertools.pairwise(packets))
    counters = await session.release_with_counters()
    assert counters["legs"][0]["latched"] == f"127.0.0.1:{target.port}"
