"""The B2BUA behind the real transaction layer, phones speaking bytes on an in-memory link.

This is the wiring the composition root does: a `SipPort` over `TransactionLayer`, every
transaction event handed to `B2bua.handle`, and the layer's timers driven with fake time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from call_harness import (
    ANSWER,
    DOMAIN,
    OFFER,
    SWITCH,
    FakeClock,
    FakeLocations,
    FakeSubscribers,
    profile,
    run,
)

from ssw.core.call.b2bua import B2bua, B2buaConfig
from ssw.core.call.cdr import MemoryCdrSink
from ssw.core.ports import Binding
from ssw.sip.address import Address
from ssw.sip.message import Request, Response, make_response, new_request, parse_message
from ssw.sip.transaction.base import ServerTransaction
from ssw.sip.transaction.layer import TransactionLayer

CALLER = Address("udp", "10.0.0.1", 5062)
CALLEE = Address("udp", "10.0.0.2", 5070)


class LayerPort:
    def __init__(self, layer: TransactionLayer, clock: FakeClock) -> None:
        self.layer = layer
        self.clock = clock

    def send_request(self, request: Request, dest: Address) -> object:
        return self.layer.send_request(request, dest, self.clock.now())

    def send_response(self, server_txn: object, response: Response) -> None:
        assert isinstance(server_txn, ServerTransaction)
        self.layer.send_response(server_txn, response, self.clock.now())

    def send_stateless(self, msg: Request | Response, dest: Address) -> None:
        self.layer.send_stateless(msg, dest)


@dataclass
class Link:
    """The switch and two phones; `inbox[address]` is what reached each phone."""

    clock: FakeClock = field(default_factory=FakeClock)
    layer: TransactionLayer = field(default_factory=TransactionLayer)
    cdrs: MemoryCdrSink = field(default_factory=MemoryCdrSink)
    inbox: dict[Address, list[Request | Response]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        locations = FakeLocations()
        locations.bindings[(DOMAIN, "200")] = [Binding("sip:200@10.0.0.2:5070", 1.0, CALLEE)]
        self.b2bua = B2bua(
            LayerPort(self.layer, self.clock),
            self.clock,
            locations,
            FakeSubscribers([profile("100"), profile("200")]),
            self.cdrs,
            B2buaConfig(SWITCH, b"link-secret-0123456789"),
        )

    def deliver(self, message: Request | Response, source: Address) -> None:
        self.layer.receive(parse_message(bytes(message)), source, self.clock.now())
        self.pump()

    def pump(self) -> None:
        while (event := self.layer.next_event()) is not None:
            run(self.b2bua.handle(event))
        for out in self.layer.data_to_send():
            self.inbox.setdefault(out.dest, []).append(parse_message(out.data))

    def tick(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.layer.handle_timer(self.clock.now())
        self.pump()

    def take(self, phone: Address) -> list[Request | Response]:
        messages, self.inbox[phone] = self.inbox.get(phone, []), []
        return messages


def _caller_invite() -> Request:
    return new_request(
        "INVITE",
        f"sip:200@{DOMAIN}",
        via="SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKinv1;rport",
        from_=f"<sip:100@{DOMAIN}>;tag=alice",
        to=f"<sip:200@{DOMAIN}>",
        call_id="call-a",
        cseq=1,
        contact="<sip:100@10.0.0.1:5062>",
        body=OFFER,
        content_type="application/sdp",
    )


def _in_dialog(method: str, cseq: int, to_tag: str, branch: str) -> Request:
    return new_request(
        method,
        "sip:200@192.0.2.1:5060",
        via=f"SIP/2.0/UDP 10.0.0.1:5062;branch={branch}",
        from_=f"<sip:100@{DOMAIN}>;tag=alice",
        to=f"<sip:200@{DOMAIN}>;tag={to_tag}",
        call_id="call-a",
        cseq=cseq,
    )


def _answer(request: Request, status: int, body: bytes = b"") -> Response:
    return make_response(
        request,
        status,
        to_tag="bob",
        headers=[("Contact", "<sip:200@10.0.0.2:5070>")] if status < 300 else [],
        body=body,
        content_type="application/sdp" if body else None,
    )


def test_call_answered_and_released_over_the_transaction_layer() -> None:
    link = Link()
    link.deliver(_caller_invite(), CALLER)
    assert [m.status for m in link.take(CALLER) if isinstance(m, Response)] == [100]
    [invite] = link.take(CALLEE)
    assert isinstance(invite, Request) and invite.method == "INVITE" and invite.body == OFFER

    link.deliver(_answer(invite, 180), CALLEE)
    link.deliver(_answer(invite, 200, ANSWER), CALLEE)
    to_caller = link.take(CALLER)
    assert [m.status for m in to_caller if isinstance(m, Response)] == [180, 200]
    ok = to_caller[-1]
    assert isinstance(ok, Response) and ok.body == ANSWER
    [ack] = link.take(CALLEE)
    assert isinstance(ack, Request) and ack.method == "ACK"

    tag = ok.to.tag or ""
    link.deliver(_in_dialog("ACK", 1, tag, "z9hG4bKack1"), CALLER)
    link.tick(5.0)
    assert link.take(CALLER) == []  # the ACK stopped the 2xx retransmissions

    link.deliver(_in_dialog("BYE", 2, tag, "z9hG4bKbye1"), CALLER)
    [bye_ok] = link.take(CALLER)
    assert isinstance(bye_ok, Response) and bye_ok.status == 200
    [bye] = link.take(CALLEE)
    assert isinstance(bye, Request) and bye.method == "BYE"
    link.deliver(_answer(bye, 200), CALLEE)
    [record] = link.cdrs.records
    assert record.duration_ms == 5000
    link.tick(40.0)
    assert link.layer.transaction_count == 0
    assert link.b2bua.leg_count == 0 and link.b2bua.calls == {}


def test_cancel_over_the_transaction_layer() -> None:
    link = Link()
    invite_from_caller = _caller_invite()
    link.deliver(invite_from_caller, CALLER)
    [invite] = link.take(CALLEE)
    assert isinstance(invite, Request)
    link.deliver(_answer(invite, 180), CALLEE)
    link.take(CALLER)
    cancel = Request(
        "CANCEL",
        invite_from_caller.uri,
        [
            ("Via", "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKinv1;rport"),
            ("From", f"<sip:100@{DOMAIN}>;tag=alice"),
            ("To", f"<sip:200@{DOMAIN}>"),
            ("Call-ID", "call-a"),
            ("CSeq", "1 CANCEL"),
            ("Content-Length", "0"),
        ],
    )
    link.deliver(cancel, CALLER)
    statuses = sorted(
        (m.cseq.method, m.status) for m in link.take(CALLER) if isinstance(m, Response)
    )
    assert statuses == [("CANCEL", 200), ("INVITE", 487)]
    [cancel_out] = link.take(CALLEE)
    assert isinstance(cancel_out, Request) and cancel_out.method == "CANCEL"
    link.deliver(_answer(cancel_out, 200), CALLEE)
    link.deliver(_answer(invite, 487), CALLEE)
    [ack_487] = link.take(CALLEE)  # the transaction layer ACKs the 487 (§17.1.1.3)
    assert isinstance(ack_487, Request) and ack_487.method == "ACK"
    assert link.cdrs.records[0].release_status == 487
    link.tick(40.0)
    assert link.layer.transaction_count == 0
    assert link.b2bua.leg_count == 0
