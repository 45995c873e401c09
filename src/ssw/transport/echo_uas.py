"""A tiny user agent server on the SIP stack, to check a transport from the outside.

It answers OPTIONS with 200 (Allow, Accept, Supported), an INVITE with 180 and a 200 carrying an
SDP answer (the 100 comes from the INVITE server transaction, RFC 3261 §17.2.1), absorbs the
ACK, answers BYE with 200 (481 outside a dialog it created, §15.1.2), CANCEL with 200 and the
INVITE with 487 (§9.2), and anything else as `check_request` decides (501 for unknown methods,
405 for known ones it does not serve). No media flows: the SDP only names a port.

Run it by hand to see how a peer (SIPp, a phone) talks to the stack:

    python -m ssw.transport.echo_uas --host 127.0.0.1 --udp 5060 --tcp 5060 --tls 5061 \\
        --cert-dir ./ssl
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import signal
from collections import Counter
from pathlib import Path

from ssw.sip.address import Address
from ssw.sip.errors import SipError
from ssw.sip.message import Request, make_response
from ssw.sip.rejection import check_request
from ssw.sip.transaction import (
    AckReceived,
    CancelReceived,
    Event,
    RequestReceived,
    ServerTransaction,
)
from ssw.transport.certificates import TlsConfig, generate_self_signed
from ssw.transport.config import EndpointConfig
from ssw.transport.endpoint import SipEndpoint
from ssw.transport.loop import run

__all__ = ["ALLOWED_METHODS", "EchoUas", "sdp_answer"]

logger = logging.getLogger(__name__)

ALLOWED_METHODS = frozenset({"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"})
_ALLOW = ", ".join(sorted(ALLOWED_METHODS))
_MEDIA_PORT = 40000  # named in the SDP answer; nothing listens there


def sdp_answer(offer: bytes, host: str, session_id: int) -> bytes:
    """An RFC 3264 answer accepting the first codec of the offer's first audio stream.

    Without an offer (or without audio in it), an offer of PCMU/8000 is returned instead.
    """
    codec, rtpmap = "0", "a=rtpmap:0 PCMU/8000"
    lines = offer.decode("utf-8", "replace").splitlines()
    for line in lines:
        if line.startswith("m=audio "):
            fields = line.split()
            if len(fields) > 3:
                codec = fields[3]
                rtpmap = next(
                    (ln for ln in lines if ln.startswith(f"a=rtpmap:{codec} ")), ""
                )
            break
    family = "IP6" if ":" in host else "IP4"
    body = [
        "v=0",
        f"o=ssw {session_id} {session_id} IN {family} {host}",
        "s=ssw",
        f"c=IN {family} {host}",
        "t=0 0",
        f"m=audio {_MEDIA_PORT} RTP/AVP {codec}",
    ]
    if rtpmap:
        body.append(rtpmap)
    body.append("a=sendrecv")
    return ("\r\n".join(body) + "\r\n").encode()


class EchoUas:
    """The transaction user of `endpoint`: answers as the module says and counts requests."""

    def __init__(
        self, endpoint: SipEndpoint, *, user: str = "echo", ring_time: float = 0.0
    ) -> None:
        self.endpoint = endpoint
        self.user = user
        self.ring_time = ring_time  # seconds between 180 and 200
        self.received: Counter[str] = Counter()
        self._dialogs: set[tuple[str, str]] = set()  # (Call-ID, our To tag), §12.1.1
        # INVITEs between 180 and 200: the pending answer and the To tag of the early dialog.
        self._ringing: dict[ServerTransaction, tuple[asyncio.TimerHandle, str]] = {}
        endpoint.on_event = self.handle

    def close(self) -> None:
        """Drop the answers still waiting for their ring time."""
        for handle, _ in self._ringing.values():
            handle.cancel()
        self._ringing.clear()

    def handle(self, event: Event) -> None:
        if isinstance(event, RequestReceived):
            self.received[event.request.method] += 1
            self._answer(event.transaction, event.request, event.source)
        elif isinstance(event, AckReceived):
            self.received["ACK"] += 1  # the 2xx ACK ends the exchange (§13.3.1.4)
        elif isinstance(event, CancelReceived):
            self.received["CANCEL"] += 1
            self._cancel(event)

    def _answer(self, transaction: ServerTransaction, request: Request, source: Address) -> None:
        tag = secrets.token_hex(6)
        try:
            check_request(request, allowed_methods=ALLOWED_METHODS)
        except SipError as error:
            self.endpoint.reject(transaction, error, to_tag=tag)
            return
        method = request.method
        if method == "OPTIONS":
            headers = [("Allow", _ALLOW), ("Accept", "application/sdp"), ("Supported", "")]
            self._respond(transaction, request, 200, tag, headers)
        elif method == "INVITE":
            self._invite(transaction, request, source, tag)
        elif method == "BYE":
            key = (request.call_id, request.to.tag or "")
            status = 200 if key in self._dialogs else 481
            self._dialogs.discard(key)
            self._respond(transaction, request, status, tag)

    def _invite(
        self, transaction: ServerTransaction, request: Request, source: Address, tag: str
    ) -> None:
        if request.to.tag is not None:
            key = (request.call_id, request.to.tag)
            # A re-INVITE inside one of our dialogs is answered like the first; anything
            # else with a To tag belongs to no dialog here (§12.2.2).
            if key not in self._dialogs:
                self._respond(transaction, request, 481, tag)
                return
            tag = request.to.tag
        local = self.endpoint.local_address(source.transport, ipv6=":" in source.host)
        contact = (
            f"<sip:{self.user}@{local.host_for_uri}:{local.port};transport={local.transport}>"
        )
        self._respond(transaction, request, 180, tag, [("Contact", contact)])
        if self.ring_time > 0:
            handle = asyncio.get_running_loop().call_later(
                self.ring_time, self._answer_invite, transaction, request, local, contact, tag
            )
            self._ringing[transaction] = (handle, tag)
        else:
            self._answer_invite(transaction, request, local, contact, tag)

    def _answer_invite(
        self,
        transaction: ServerTransaction,
        request: Request,
        local: Address,
        contact: str,
        tag: str,
    ) -> None:
        self._ringing.pop(transaction, None)
        answer = sdp_answer(request.body, local.host, secrets.randbelow(2**31))
        response = make_response(
            request,
            200,
            to_tag=tag,
            headers=[("Contact", contact), ("Allow", _ALLOW)],
            body=answer,
            content_type="application/sdp",
        )
        self._dialogs.add((request.call_id, tag))
        self.endpoint.send_response(transaction, response)

    def _cancel(self, event: CancelReceived) -> None:
        tag = secrets.token_hex(6)
        invite = event.invite_transaction
        if invite is None:
            self._respond(event.transaction, event.request, 481, tag)
            return
        self._respond(event.transaction, event.request, 200, tag)
        ringing = self._ringing.pop(invite, None)
        if ringing is not None:
            # §9.2: the INVITE had no final response yet; it ends with 487.
            handle, early_tag = ringing
            handle.cancel()
            self._respond(invite, invite.request, 487, early_tag)

    def _respond(
        self,
        transaction: ServerTransaction,
        request: Request,
        status: int,
        tag: str,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        response = make_response(request, status, to_tag=tag, headers=headers or [])
        self.endpoint.send_response(transaction, response)


async def _serve(config: EndpointConfig, ring_time: float) -> None:
    endpoint = SipEndpoint(config)
    uas = EchoUas(endpoint, ring_time=ring_time)
    await endpoint.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        uas.close()
        await endpoint.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A tiny SIP UAS on the SSW stack")
    parser.add_argument("--host", action="append", help="address to listen on (repeatable)")
    parser.add_argument("--udp", type=int, default=5060, help="UDP port (-1 disables)")
    parser.add_argument("--tcp", type=int, default=5060, help="TCP port (-1 disables)")
    parser.add_argument("--tls", type=int, default=-1, help="TLS port (-1 disables)")
    parser.add_argument("--cert-dir", type=Path, help="directory with ecss10.crt/ecss10.key")
    parser.add_argument("--ring", type=float, default=0.0, help="seconds between 180 and 200")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    tls = None
    if args.tls >= 0:
        if args.cert_dir is None:
            parser.error("--tls needs --cert-dir")
        tls = TlsConfig(args.cert_dir)
        if not tls.cert_path.exists():
            tls = generate_self_signed(args.cert_dir, [*(args.host or ["127.0.0.1"]), "localhost"])
    config = EndpointConfig(
        hosts=tuple(args.host or ["127.0.0.1"]),
        udp_port=args.udp if args.udp >= 0 else None,
        tcp_port=args.tcp if args.tcp >= 0 else None,
        tls_port=args.tls if args.tls >= 0 else None,
        tls=tls,
    )
    run(_serve(config, args.ring))


if __name__ == "__main__":
    main()
