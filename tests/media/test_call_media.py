"""SDP through the relay: what the relay learns from a body and the body each side gets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from media_peers import RtpPeer

from ssw.media.call_media import RelaySession
from ssw.media.client import MediaClient
from ssw.media.resources import PROMPT_TEXTS, prompt_for_status
from ssw.media.sdp_bridge import announcement_answer, endpoint_of, relay_body
from ssw.sip.sdp import SdpError, SessionDescription

PeerFactory = Callable[[], Awaitable[RtpPeer]]


def _sdp(port: int, *, direction: str = "sendrecv", address: str = "127.0.0.1",
         extra: str = "") -> bytes:
    return (f"v=0\r\no=- 1 1 IN IP4 {address}\r\ns=-\r\nc=IN IP4 {address}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\n"
            f"a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
            f"a=fmtp:101 0-15\r\na=rtcp:{port + 5}\r\na={direction}\r\n{extra}").encode()


def test_endpoint_of_reads_address_codec_events_and_direction() -> None:
    endpoint = endpoint_of(SessionDescription.parse(_sdp(4000)))
    assert endpoint is not None
    assert (endpoint.address, endpoint.port, endpoint.rtcp_port) == ("127.0.0.1", 4000, 4005)
    assert (endpoint.payload_type, endpoint.event_payload_type, endpoint.sends) == (8, 101, True)
    held = endpoint_of(SessionDescription.parse(_sdp(4000, direction="inactive")))
    assert held is not None and not held.sends
    video_only = b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n" \
                 b"m=video 5000 RTP/AVP 96\r\n"
    assert endpoint_of(SessionDescription.parse(video_only)) is None


def test_t38_stream_is_relayed_as_udptl() -> None:
    body = (b"v=0\r\no=- 1 2 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"
            b"m=audio 0 RTP/AVP 0\r\nm=image 6000 udptl t38\r\na=T38FaxVersion:0\r\n")
    sd = SessionDescription.parse(body)
    endpoint = endpoint_of(sd)
    assert endpoint is not None
    assert (endpoint.port, endpoint.transport, endpoint.payload_type) == (6000, "udptl", None)
    text = relay_body(sd, "198.51.100.1", 30000).serialize().decode()
    assert "m=image 30000 udptl t38" in text and "m=audio 0 RTP/AVP 0" in text


def test_endpoint_without_connection_is_refused() -> None:
    body = b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"
    with pytest.raises(SdpError, match="no c= line"):
        endpoint_of(SessionDescription.parse(body))


def test_relay_body_points_audio_at_the_switch_and_keeps_codecs() -> None:
    candidate = "a=candidate:1 1 UDP 1 192.0.2.7 4000 typ host\r\n"
    original = SessionDescription.parse(_sdp(4000, address="192.0.2.7", extra=candidate))
    relayed = relay_body(original, "198.51.100.1", 30000)
    text = relayed.serialize().decode()
    assert "c=IN IP4 198.51.100.1" in text and "m=audio 30000 RTP/AVP 8 0 101" in text
    assert "192.0.2.7" not in text and "a=candidate" not in text
    assert "a=rtpmap:101 telephone-event/8000" in text and "a=rtcp:30001" in text


@dataclass(frozen=True)
class _Answer:
    sdp: bytes | None = None


async def test_a_call_through_the_relay(media: MediaClient, open_peer: PeerFactory) -> None:
    caller, callee = await open_peer(), await open_peer()
    call = await RelaySession.open(media, "call-sdp")
    offer_for_callee = call.through(0, _sdp(caller.port))
    answer_for_caller = call.rewrite_event(1, _Answer(_sdp(callee.port))).sdp
    assert answer_for_caller is not None and call.rewrite_event(1, _Answer()) == _Answer()
    to_callee = endpoint_of(SessionDescription.parse(offer_for_callee))
    to_caller = endpoint_of(SessionDescription.parse(answer_for_caller))
    assert to_callee is not None and to_caller is not None
    assert to_callee.port != callee.port and to_caller.port != caller.port
    await media.request("ping")  # the updates were sent before: they are done
    assert caller.transport and callee.transport
    caller.transport.sendto(caller.packet(b"\xd5" * 160, 8), ("127.0.0.1", to_caller.port))
    callee.transport.sendto(callee.packet(b"\xd5" * 160, 8), ("127.0.0.1", to_callee.port))
    for _ in range(100):
        if callee.received and caller.received:
            break
        await asyncio.sleep(0.01)
    assert callee.received[0][0].ssrc == caller.ssrc
    assert caller.received[0][0].ssrc == callee.ssrc
    counters = await call.release_with_counters()
    assert counters["legs"][0]["received"] == 1 and await call.release_with_counters() == {}


async def test_refused_notifications_are_logged(media: MediaClient,
                                                caplog: pytest.LogCaptureFixture) -> None:
    call = await RelaySession.open(media, "call-log")
    call.play(0, "tone:nonexistent")
    call.release()
    call.release()  # once only
    await media.request("ping")
    assert "media server: play call-log: unknown source" in caplog.text
    assert (await media.request("ping"))["relays"] == 0


def test_announcement_answer_is_one_g711_codec_sendonly_from_the_relay() -> None:
    offer = SessionDescription.parse(_sdp(4000, address="192.0.2.7"))
    answer = announcement_answer(offer, "198.51.100.1", 30000).serialize().decode()
    assert "c=IN IP4 198.51.100.1" in answer and "m=audio 30000 RTP/AVP 8 101" in answer
    assert "a=sendonly" in answer
    g729_only = SessionDescription.parse(
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
        b"m=audio 5000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n")
    with pytest.raises(SdpError, match="no common codec"):
        announcement_answer(g729_only, "198.51.100.1", 30000)


def test_prompt_for_status() -> None:
    assert prompt_for_status(404) == "prompt:number_does_not_exist"
    assert prompt_for_status(486) == "prompt:subscriber_busy"
    assert prompt_for_status(480) == "prompt:subscriber_unavailable"
    assert prompt_for_status(500) is None
    assert {p.removeprefix("prompt:") for p in map(prompt_for_status, (404, 486, 480))
            if p} <= set(PROMPT_TEXTS)
