"""SIP parse + serialize benchmark: ssw.sip against sipmessage and Sippy, in one run.

Each round parses a realistic INVITE (about 900 octets with SDP), touches what a B2BUA reads
(method, parsed Request-URI, top Via branch, From tag, To tag, Call-ID, CSeq, Contact) and
serializes the message back to bytes; a second table only parses and serializes. The figure
is the best of many short samples (the least disturbed by other load), in microseconds per
message.

A third table follows one INVITE through what the switch does with it (`ssw.sip` only): the
transaction layer takes it in (Via stamped with received/rport, transaction key, INVITE
server transaction, 100 Trying made and serialized), the transaction user answers 180 with
`make_response`, which is serialized and queued. Each of its INVITEs has its own branch and
Call-ID, so every one opens a new transaction; each cumulative step is timed separately.

    .venv/bin/python bench/parse.py [--rounds N] [--repeats N]
"""

from __future__ import annotations

import argparse
import gc
import timeit
from collections.abc import Callable

from ssw.sip import Request, make_response, parse_message
from ssw.sip.address import Address
from ssw.sip.transaction import RequestReceived, TransactionLayer

try:  # the comparison parsers (the `bench` extra of pyproject.toml)
    import sipmessage
except ImportError:  # pragma: no cover - reported as missing
    sipmessage = None
try:
    from sippy.SipRequest import SipRequest
except ImportError:  # pragma: no cover - reported as missing
    SipRequest = None

SDP = (
    b"v=0\r\n"
    b"o=- 20518 0 IN IP4 192.0.2.10\r\n"
    b"s=SDP data\r\n"
    b"c=IN IP4 192.0.2.10\r\n"
    b"t=0 0\r\n"
    b"m=audio 11780 RTP/AVP 8 0 18 101\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:18 G729/8000\r\n"
    b"a=fmtp:18 annexb=no\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-15\r\n"
    b"a=ptime:20\r\n"
    b"a=sendrecv\r\n"
)
INVITE = (
    b"INVITE sip:+74951234567@ssw.example.net;user=phone SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1---a1f4c2b9e8d7;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b"Contact: <sip:2001@192.0.2.10:5060;transport=udp>\r\n"
    b"To: <sip:+74951234567@ssw.example.net;user=phone>\r\n"
    b'From: "Reception 2001" <sip:2001@ssw.example.net>;tag=8a1c6f2e\r\n'
    b"Call-ID: 7d5c2f3a-91e4-4b0a-a8c6-3e1f0b9d2c47@192.0.2.10\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, OPTIONS, INFO, UPDATE\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Supported: replaces, timer, 100rel\r\n"
    b"User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
    b"Session-Expires: 1800\r\n"
    b"Content-Length: " + str(len(SDP)).encode() + b"\r\n"
    b"\r\n" + SDP
)


def ssw_b2bua(data: bytes = INVITE) -> bytes:
    msg = parse_message(data)
    assert isinstance(msg, Request)
    msg.method  # noqa: B018
    msg.ruri  # noqa: B018 - parsed, as the other two parse it
    msg.top_via.branch  # noqa: B018
    msg.from_.tag  # noqa: B018
    msg.to.tag  # noqa: B018
    msg.call_id  # noqa: B018
    msg.cseq  # noqa: B018
    msg.contacts  # noqa: B018
    return msg.serialize()


def ssw_forward(data: bytes = INVITE) -> bytes:
    return parse_message(data).serialize()


def sipmessage_b2bua(data: bytes = INVITE) -> bytes:
    msg = sipmessage.Message.parse(data)
    msg.method  # type: ignore[union-attr]  # noqa: B018
    msg.uri  # type: ignore[union-attr]  # noqa: B018
    msg.via[0].parameters.get("branch")
    msg.from_address.parameters.get("tag")
    msg.to_address.parameters.get("tag")
    msg.call_id  # noqa: B018
    msg.cseq  # noqa: B018
    msg.contact  # noqa: B018
    return bytes(msg)


def sipmessage_forward(data: bytes = INVITE) -> bytes:
    return bytes(sipmessage.Message.parse(data))


def sippy_b2bua(data: bytes = INVITE) -> bytes:
    msg = SipRequest(data.decode())
    msg.getMethod()
    msg.getRURI()
    msg.getHFBody("via").getBranch()
    msg.getHFBody("from").getTag()
    msg.getHFBody("to").getTag()
    msg.getHFBody("call-id")
    msg.getHFBody("cseq").getCSeq()
    msg.getHFBody("contact")
    return str(msg).encode()


def sippy_forward(data: bytes = INVITE) -> bytes:
    return str(SipRequest(data.decode())).encode()


SCENARIOS: dict[str, dict[str, Callable[[], bytes] | None]] = {
    "parse + touch 8 fields + serialize (what a B2BUA does)": {
        "ssw.sip": ssw_b2bua,
        "sipmessage": sipmessage_b2bua if sipmessage else None,
        "sippy": sippy_b2bua if SipRequest else None,
    },
    "parse + serialize (what a proxy forwarding an unchanged message does)": {
        "ssw.sip": ssw_forward,
        "sipmessage": sipmessage_forward if sipmessage else None,
        "sippy": sippy_forward if SipRequest else None,
    },
}


SOURCE = Address("udp", "192.0.2.10", 5060)
SWITCH_STEPS = (
    "parse",
    "+ TransactionLayer.receive (100 Trying sent)",
    "+ next_event",
    "+ make_response 180",
    "+ send_response (serialized)",
    "+ data_to_send",
)


def distinct_invites(count: int) -> list[bytes]:
    """`count` INVITEs differing in branch and Call-ID (same length as INVITE)."""
    return [
        INVITE.replace(b"a1f4c2b9e8d7", b"%012d" % i).replace(b"7d5c2f3a", b"%08x" % i)
        for i in range(count)
    ]


def switch_round(invites: list[bytes], steps: int) -> float:
    """Seconds for `invites` through the first `steps` of SWITCH_STEPS, on a fresh layer."""
    layer = TransactionLayer()
    started = timeit.default_timer()
    for data in invites:
        message = parse_message(data)
        if steps > 1:
            layer.receive(message, SOURCE, 0.0)
        if steps > 2:
            event = layer.next_event()
        if steps > 3:
            assert isinstance(message, Request)
            ringing = make_response(message, 180, to_tag="as9f8")
        if steps > 4:
            assert isinstance(event, RequestReceived)
            layer.send_response(event.transaction, ringing, 0.0)
        if steps > 5:
            layer.data_to_send()
    return timeit.default_timer() - started


def measure_switch(rounds: int, repeats: int) -> list[float]:
    """Best microseconds per INVITE for each cumulative step of SWITCH_STEPS.

    The steps take turns within each repeat (so a burst of outside load hits them alike), each
    sample starting from a collected heap; the collector stays on while timing, as it runs in
    the switch.
    """
    invites = distinct_invites(rounds)
    best = [float("inf")] * len(SWITCH_STEPS)
    for _ in range(repeats):
        for index in range(len(SWITCH_STEPS)):
            gc.collect()
            best[index] = min(best[index], switch_round(invites, index + 1))
    return [seconds / rounds * 1e6 for seconds in best]


def measure(round_fn: Callable[[], bytes], rounds: int, repeats: int) -> float:
    """Best time per round over `repeats` samples, in microseconds (the least disturbed)."""
    round_fn()  # warm caches outside the timing
    best = min(timeit.repeat(round_fn, number=rounds, repeat=repeats))
    return best / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()
    assert ssw_b2bua() == INVITE, "an unmodified message must serialize to its input"
    print(f"{len(INVITE)}-octet INVITE with SDP; best of {args.repeats} samples "
          f"of {args.rounds} messages")
    for title, contenders in SCENARIOS.items():
        print(f"\n{title}\n")
        print(f"| {'parser':<11} | {'µs/message':>10} | {'vs ssw.sip':>10} |")
        print(f"|{'-' * 13}|{'-' * 11}:|{'-' * 11}:|")
        base = None
        for name, fn in contenders.items():
            if fn is None:
                print(f"| {name:<11} | {'-':>10} | {'missing':>10} |")
                continue
            micros = measure(fn, args.rounds, args.repeats)
            base = base or micros
            print(f"| {name:<11} | {micros:>10.2f} | {micros / base:>9.2f}x |")
    print("\none INVITE through the switch's SIP path (ssw.sip; cumulative steps)\n")
    print(f"| {'step':<44} | {'µs/INVITE':>9} | {'this step':>9} |")
    print(f"|{'-' * 46}|{'-' * 10}:|{'-' * 10}:|")
    previous = 0.0
    for step, micros in zip(SWITCH_STEPS, measure_switch(args.rounds, args.repeats), strict=True):
        print(f"| {step:<44} | {micros:>9.2f} | {micros - previous:>9.2f} |")
        previous = micros


if __name__ == "__main__":
    main()
