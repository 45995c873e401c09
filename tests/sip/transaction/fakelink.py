"""Fake time, an in-memory lossy link and real SIP messages for the transaction tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ssw.sip.address import Address
from ssw.sip.message import Request, Response, make_response, parse_message
from ssw.sip.transaction import (
    Event,
    Outgoing,
    RequestReceived,
    ServerTransaction,
    TransactionLayer,
)

ALICE = Address("udp", "192.0.2.10", 5060)
BOB = Address("udp", "192.0.2.20", 5060)


def request_bytes(
    method: str = "INVITE",
    *,
    branch: str | None = "z9hG4bK-alice-1",
    sent_by: str = "192.0.2.10:5060",
    transport: str = "UDP",
    uri: str = "sip:bob@192.0.2.20",
    call_id: str = "call-1@192.0.2.10",
    from_tag: str = "alice-tag",
    to_tag: str | None = None,
    cseq: int = 1,
    cseq_method: str | None = None,
    extra: str = "",
) -> bytes:
    branch_param = f";branch={branch}" if branch is not None else ""
    to_param = f";tag={to_tag}" if to_tag is not None else ""
    return (
        f"{method} {uri} SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} {sent_by}{branch_param}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: Alice <sip:alice@192.0.2.10>;tag={from_tag}\r\n"
        f"To: Bob <sip:bob@192.0.2.20>{to_param}\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} {cseq_method or method}\r\n"
        "Contact: <sip:alice@192.0.2.10:5060>\r\n"
        f"{extra}"
        "Content-Length: 0\r\n"
        "\r\n"
    ).encode()


def make_request(method: str = "INVITE", **kwargs: object) -> Request:
    message = parse_message(request_bytes(method, **kwargs))  # type: ignore[arg-type]
    assert isinstance(message, Request)
    return message


def answer(request: Request, status: int, to_tag: str | None = "bob-tag") -> Response:
    return make_response(request, status, to_tag=to_tag)


def drain(layer: TransactionLayer) -> list[Event]:
    events: list[Event] = []
    while (event := layer.next_event()) is not None:
        events.append(event)
    return events


def server_transaction(layer: TransactionLayer) -> ServerTransaction:
    """The one server transaction the layer reports (its events are drained)."""
    events = [e for e in drain(layer) if isinstance(e, RequestReceived)]
    assert len(events) == 1
    return events[0].transaction


@dataclass
class Sent:
    time: float
    sender: str
    start_line: str
    data: bytes


@dataclass
class Link:
    """Two layers joined by an in-memory link that may drop messages.

    `drop(sent)` decides per message; `log` records every message put on the link with the
    time it was sent. `run_until(t)` advances fake time, firing timers in order.
    """

    a: TransactionLayer
    b: TransactionLayer
    a_addr: Address = ALICE
    b_addr: Address = BOB
    drop: Callable[[Sent], bool] = lambda sent: False
    now: float = 0.0
    log: list[Sent] = field(default_factory=list)

    def flush(self) -> None:
        """Deliver everything queued on both sides (repeatedly, as answers queue more)."""
        while True:
            moved = False
            for sender, receiver, source in (
                (self.a, self.b, self.a_addr),
                (self.b, self.a, self.b_addr),
            ):
                out: list[Outgoing] = sender.data_to_send()
                for item in out:
                    moved = True
                    name = "a" if sender is self.a else "b"
                    sent = Sent(self.now, name, item.data.split(b"\r\n", 1)[0].decode(), item.data)
                    self.log.append(sent)
                    if not self.drop(sent):
                        receiver.receive(parse_message(item.data), source, self.now)
            if not moved:
                return

    def run_until(self, end: float) -> None:
        self.flush()
        while True:
            deadlines = [t for t in (self.a.get_timer(), self.b.get_timer()) if t is not None]
            if not deadlines or min(deadlines) > end:
                break
            self.now = min(deadlines)
            self.a.handle_timer(self.now)
            self.b.handle_timer(self.now)
            self.flush()
        self.now = max(self.now, end)

    def sent_times(self, sender: str, start: str) -> list[float]:
        return [s.time for s in self.log if s.sender == sender and s.start_line.startswith(start)]
