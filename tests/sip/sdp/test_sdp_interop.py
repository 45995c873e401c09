"""Real peers answer our offers: baresip (auto-answer) and SIPp's built-in uas scenario.

A bare INVITE carrying `build_offer`'s SDP goes to the peer over loopback UDP; the SDP of its
200 OK must pass `negotiate` against our offer. ACK and BYE end the call.
"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from peer_processes import free_udp_port, loopback_udp_socket, running

from ssw.sip.sdp import (
    Codec,
    Direction,
    MediaCapabilities,
    Origin,
    SessionDescription,
    build_offer,
    negotiate,
)

pytestmark = pytest.mark.e2e

CAPABILITIES = MediaCapabilities(
    codecs=(
        Codec(8, "PCMA", 8000),
        Codec(0, "PCMU", 8000),
        Codec(101, "telephone-event", 8000, None, "0-15"),
    ),
    ptime=20,
)


class Caller:
    """Just enough of a UAC to place one call on a loopback socket."""

    def __init__(self, sock: socket.socket, peer_port: int) -> None:
        self.sock = sock
        self.peer = ("127.0.0.1", peer_port)
        self.port = sock.getsockname()[1]
        self.to_header = f"<sip:bob@127.0.0.1:{peer_port}>"

    def send(self, method: str, cseq: int, branch: str, body: bytes = b"") -> None:
        lines = [
            f"{method} sip:bob@127.0.0.1:{self.peer[1]} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{branch}",
            "From: <sip:alice@127.0.0.1>;tag=ssw-a",
            f"To: {self.to_header}",
            "Call-ID: sdp-interop@127.0.0.1",
            f"CSeq: {cseq} {method}",
            f"Contact: <sip:alice@127.0.0.1:{self.port}>",
            "Max-Forwards: 70",
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body)}")
        self.sock.sendto(("\r\n".join(lines) + "\r\n\r\n").encode() + body, self.peer)

    def final_response(
        self, cseq_method: str, deadline: float, resend: Callable[[], None]
    ) -> bytes:
        """Wait for the final response, resending until anything is heard (RFC 3261 Timer A:
        the peer may not be listening yet, and UDP loses what nobody reads)."""
        heard = False
        next_resend = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            if not heard and time.monotonic() >= next_resend:
                resend()
                next_resend = time.monotonic() + 0.5
            try:
                data, _ = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            heard = True
            head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
            status = head.split("\r\n", 1)[0].split(" ")
            if len(status) < 2 or not status[0].startswith("SIP/2.0") or status[1] < "200":
                continue
            if f" {cseq_method}" not in head:
                continue
            for line in head.split("\r\n"):
                if line.lower().startswith("to:"):
                    self.to_header = line.split(":", 1)[1].strip()
            return data
        raise AssertionError(f"no final response to {cseq_method}")

    def call(self, offer: SessionDescription) -> SessionDescription:
        def invite() -> None:
            self.send("INVITE", 1, "inv1", offer.serialize())

        def bye() -> None:
            self.send("BYE", 2, "bye1")

        invite()
        response = self.final_response("INVITE", time.monotonic() + 10, invite)
        assert response.startswith(b"SIP/2.0 200"), response[:80]
        self.send("ACK", 1, "ack1")
        answer = SessionDescription.parse(response.split(b"\r\n\r\n", 1)[1])
        bye()
        self.final_response("BYE", time.monotonic() + 5, bye)
        return answer


@pytest.fixture
def caller_socket() -> Iterator[socket.socket]:
    with loopback_udp_socket() as sock:
        yield sock


def our_offer() -> SessionDescription:
    origin = Origin("ssw", "7", 1, "IN", "IP4", "127.0.0.1")
    return build_offer([CAPABILITIES], address="127.0.0.1", ports=[40000], origin=origin)


@pytest.mark.skipif(shutil.which("baresip") is None, reason="baresip is not installed")
def test_baresip_answers_our_offer(tmp_path: Path, caller_socket: socket.socket) -> None:
    port = free_udp_port()
    (tmp_path / "accounts").write_text("<sip:bob@127.0.0.1>;answermode=auto;regint=0\n")
    (tmp_path / "config").write_text(
        "poll_method\t\tpoll\n"
        f"sip_listen\t\t127.0.0.1:{port}\n"
        "module_path\t\t/usr/lib/baresip/modules\n"
        "module\t\t\tg711.so\n"
        "module\t\t\tausine.so\n"
        "module_tmp\t\taccount.so\n"
        "audio_player\t\tausine,440\n"
        "audio_source\t\tausine,440\n"
        "audio_alert\t\tausine,440\n"
        "ausrc_srate\t\t48000\nauplay_srate\t\t48000\n"
        "ausrc_channels\t\t2\nauplay_channels\t\t2\n"
    )
    offer = our_offer()
    with running(["baresip", "-f", str(tmp_path)], tmp_path, stop_timeout=3):
        answer = Caller(caller_socket, port).call(offer)
    (stream,) = negotiate(offer, answer)
    assert stream.accepted
    assert [c.encoding for c in stream.codecs] == ["PCMA", "PCMU", "telephone-event"]
    assert stream.direction is Direction.SENDRECV
    assert stream.remote_port > 0


@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is not installed")
def test_sipp_uas_answers_our_offer(tmp_path: Path, caller_socket: socket.socket) -> None:
    port = free_udp_port()
    argv = ["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(port), "-m", "1", "-nostdin"]
    argv += ["-mp", str(free_udp_port())]
    offer = our_offer()
    with running(argv, tmp_path, stop_timeout=3) as sipp:
        answer = Caller(caller_socket, port).call(offer)
        assert sipp.wait(timeout=10) == 0
    (stream,) = negotiate(offer, answer)
    assert [c.encoding for c in stream.codecs] == ["PCMU"]
    assert stream.remote_address == "127.0.0.1"
