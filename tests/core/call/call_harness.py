"""A switch on a bench: the B2BUA with a fake clock, an in-memory SIP port and fake storage.

`Bench` plays both phones by hand: it builds the caller's requests, reads what the switch sent,
and answers the switch's requests as the callee would, so each test reads as a call flow.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from ssw.core.call.b2bua import B2bua, B2buaConfig
from ssw.core.call.cdr import MemoryCdrSink
from ssw.core.call.dialog_state import IdSource
from ssw.core.ports import Binding, SubscriberProfile
from ssw.sip.address import Address
from ssw.sip.message import Request, Response, make_response, new_request

SWITCH = Address("udp", "192.0.2.1", 5060)
CALLER_ADDR = Address("udp", "10.0.0.1", 5062)
DOMAIN = "ssw.test"
OFFER = (
    b"v=0\r\no=alice 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
    b"m=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n"
)
ANSWER = (
    b"v=0\r\no=bob 2 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
    b"m=audio 5000 RTP/AVP 0\r\na=sendrecv\r\n"
)
HOLD = OFFER.replace(b"o=alice 1 1", b"o=alice 1 2").replace(b"a=sendrecv", b"a=sendonly")
RESUME = OFFER.replace(b"o=alice 1 1", b"o=alice 1 3")


class FakeTimer:
    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """Epoch time that moves only when the test says so."""

    def __init__(self, start: float = 1_760_000_000.0) -> None:
        self.t = start
        self._heap: list[tuple[float, int, FakeTimer]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self.t

    def call_later(self, delay: float, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(self.t + delay, callback)
        heapq.heappush(self._heap, (timer.when, next(self._order), timer))
        return timer

    def advance(self, seconds: float) -> None:
        target = self.t + seconds
        while self._heap and self._heap[0][0] <= target:
            when, _, timer = heapq.heappop(self._heap)
            if not timer.cancelled:
                self.t = when
                timer.callback()
        self.t = target

    def pending(self) -> list[float]:
        return sorted(when - self.t for when, _, timer in self._heap if not timer.cancelled)


@dataclass
class FakePort:
    """Records everything the switch sends."""

    requests: list[tuple[Request, Address]] = field(default_factory=list)
    responses: list[tuple[object, Response]] = field(default_factory=list)
    stateless: list[tuple[Request | Response, Address]] = field(default_factory=list)

    def send_request(self, request: Request, dest: Address) -> object:
        self.requests.append((request, dest))
        return object()

    def send_response(self, server_txn: object, response: Response) -> None:
        self.responses.append((server_txn, response))

    def send_stateless(self, msg: Request | Response, dest: Address) -> None:
        self.stateless.append((msg, dest))

    def sent(self, method: str) -> list[Request]:
        return [r for r, _ in self.requests if r.method == method]

    def dest_of(self, request: Request) -> Address:
        return next(d for r, d in self.requests if r is request)

    def answers(self, txn: object) -> list[Response]:
        return [r for t, r in self.responses if t is txn]

    def statuses(self, txn: object) -> list[int]:
        return [r.status for r in self.answers(txn)]

    def acks(self) -> list[Request]:
        return [m for m, _ in self.stateless if isinstance(m, Request) and m.method == "ACK"]


class FakeSubscribers:
    def __init__(self, profiles: Sequence[SubscriberProfile]) -> None:
        self.profiles = {(p.domain, p.number): p for p in profiles}

    async def find(self, domain: str, number: str) -> SubscriberProfile | None:
        return self.profiles.get((domain, number))


class FakeLocations:
    def __init__(self) -> None:
        self.bindings: dict[tuple[str, str], list[Binding]] = {}

    async def lookup(self, domain: str, number: str) -> Sequence[Binding]:
        return self.bindings.get((domain, number), [])


class CountingIds(IdSource):
    """Deterministic tags, branches and Call-IDs."""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def token(self) -> str:
        return f"t{next(self._n)}"

    def sequence(self) -> int:
        return 100

    def retry_after(self) -> int:
        return 7


class Txn:
    """Stands for a server transaction of the transaction layer."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<Txn {self.name}>"


def profile(number: str, **settings: object) -> SubscriberProfile:
    base: dict[str, object] = {
        "domain": DOMAIN,
        "number": number,
        "login": number,
        "password": f"pw{number}",
        "authenticate_invite": False,
    }
    base.update(settings)
    return SubscriberProfile(**base)  # type: ignore[arg-type]


class Bench:
    """The switch, caller 100 and callee 200 (one contact unless a test adds more)."""

    def __init__(
        self,
        caller: SubscriberProfile | None = None,
        callee: SubscriberProfile | None = None,
        contacts: Sequence[Binding] | None = None,
        extra: Sequence[SubscriberProfile] = (),
        **config: object,
    ) -> None:
        self.clock = FakeClock()
        self.port = FakePort()
        self.cdrs = MemoryCdrSink()
        self.locations = FakeLocations()
        self.subscribers = FakeSubscribers(
            [caller or profile("100"), callee or profile("200", no_answer_timeout=30.0), *extra]
        )
        self.spawned: list[Coroutine[Any, Any, None]] = []
        if contacts is None:
            contacts = [Binding("sip:200@10.0.0.2:5070", 1.0, Address("udp", "10.0.0.2", 5070))]
        self.locations.bindings[(DOMAIN, "200")] = list(contacts)
        self.b2bua = B2bua(
            self.port,
            self.clock,
            self.locations,
            self.subscribers,
            self.cdrs,
            B2buaConfig(SWITCH, b"bench-secret-0123456789", **config),  # type: ignore[arg-type]
            CountingIds(),
            spawn=self.spawned.append,
        )
        self.caller_cseq = 1
        self.invite: Request | None = None
        self.invite_txn = Txn("INVITE")

    def run_spawned(self) -> None:
        """Run the lookups the switch started (the fake storage answers at once)."""
        while self.spawned:
            run(self.spawned.pop(0))

    # -- the caller ---------------------------------------------------------------------------

    def caller_invite(
        self,
        called: str = "200",
        body: bytes = OFFER,
        headers: Sequence[tuple[str, str]] = (),
        authorization: str | None = None,
        supported: str = "100rel, timer",
    ) -> Txn:
        extra = [("Supported", supported), *headers]
        if authorization:
            extra.append(("Authorization", authorization))
        self.invite = new_request(
            "INVITE",
            f"sip:{called}@{DOMAIN}",
            via=f"SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKc{self.caller_cseq}",
            from_=f'"Alice" <sip:100@{DOMAIN}>;tag=alice',
            to=f"<sip:{called}@{DOMAIN}>",
            call_id="call-a@10.0.0.1",
            cseq=self.caller_cseq,
            contact="<sip:100@10.0.0.1:5062>",
            headers=extra,
            body=body,
            content_type="application/sdp" if body else None,
        )
        self.invite_txn = Txn(f"INVITE {self.caller_cseq}")
        run(self.b2bua.on_invite(self.invite_txn, self.invite, CALLER_ADDR))
        return self.invite_txn

    def rack(self, rseq: int) -> tuple[str, str]:
        """The RAck header acknowledging reliable response `rseq` to the caller's INVITE."""
        assert self.invite is not None
        return ("RAck", f"{rseq} {self.invite.cseq.seq} INVITE")

    def caller_tag(self) -> str:
        tags = [r.to.tag for r in self.port.answers(self.invite_txn) if r.to.tag]
        assert tags, "the switch has not answered the caller with a tag yet"
        return tags[-1] or ""

    def caller_request(
        self, method: str, body: bytes = b"", headers: Sequence[tuple[str, str]] = ()
    ) -> Txn:
        self.caller_cseq += 1
        request = new_request(
            method,
            "sip:200@192.0.2.1:5060",
            via=f"SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKc{self.caller_cseq}",
            from_=f'"Alice" <sip:100@{DOMAIN}>;tag=alice',
            to=f"<sip:200@{DOMAIN}>;tag={self.caller_tag()}",
            call_id="call-a@10.0.0.1",
            cseq=self.caller_cseq,
            contact="<sip:100@10.0.0.1:5062>",
            headers=headers,
            body=body,
            content_type="application/sdp" if body else None,
        )
        txn = Txn(f"{method} {self.caller_cseq}")
        self.b2bua.on_request(txn, request)
        return txn

    def caller_ack(self, body: bytes = b"", cseq: int | None = None) -> None:
        """The caller's ACK for the 2xx to its INVITE (or to the re-INVITE with `cseq`)."""
        assert self.invite is not None
        ack = new_request(
            "ACK",
            "sip:200@192.0.2.1:5060",
            via="SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bKack",
            from_=f'"Alice" <sip:100@{DOMAIN}>;tag=alice',
            to=f"<sip:200@{DOMAIN}>;tag={self.caller_tag()}",
            call_id="call-a@10.0.0.1",
            cseq=cseq if cseq is not None else self.invite.cseq.seq,
            body=body,
            content_type="application/sdp" if body else None,
        )
        self.b2bua.on_ack(ack)

    def caller_cancel(self) -> Txn:
        assert self.invite is not None
        cancel = Request(
            "CANCEL",
            self.invite.uri,
            [
                ("Via", self.invite.headers.get("via") or ""),
                ("From", self.invite.headers.get("from") or ""),
                ("To", self.invite.headers.get("to") or ""),
                ("Call-ID", self.invite.call_id),
                ("CSeq", f"{self.invite.cseq.seq} CANCEL"),
                ("Content-Length", "0"),
            ],
        )
        txn = Txn("CANCEL")
        self.b2bua.on_cancel(txn, cancel, self.invite_txn)
        return txn

    # -- the callee ---------------------------------------------------------------------------

    def callee_answers(
        self,
        request: Request,
        status: int,
        *,
        tag: str = "bob",
        body: bytes = b"",
        headers: Sequence[tuple[str, str]] = (),
    ) -> Response:
        extra = list(headers)
        if request.method in ("INVITE", "UPDATE") and 100 < status < 300:
            extra.insert(0, ("Contact", "<sip:200@10.0.0.2:5070>"))
        response = make_response(
            request,
            status,
            to_tag=tag if status > 100 else None,
            headers=extra,
            body=body,
            content_type="application/sdp" if body else None,
        )
        self.b2bua.on_response(response)
        return response

    def callee_request(
        self,
        method: str,
        invite: Request,
        *,
        cseq: int,
        tag: str = "bob",
        body: bytes = b"",
        headers: Sequence[tuple[str, str]] = (),
    ) -> Txn:
        """A request from the callee inside the dialog its answer to `invite` created."""
        request = new_request(
            method,
            "sip:100@192.0.2.1:5060",
            via=f"SIP/2.0/UDP 10.0.0.2:5070;branch=z9hG4bKb{cseq}",
            from_=f"{invite.headers.get('to')};tag={tag}",
            to=invite.headers.get("from") or "",
            call_id=invite.call_id,
            cseq=cseq,
            contact="<sip:200@10.0.0.2:5070>",
            headers=headers,
            body=body,
            content_type="application/sdp" if body else None,
        )
        txn = Txn(f"callee {method} {cseq}")
        self.b2bua.on_request(txn, request)
        return txn

    def establish(self, body: bytes = OFFER) -> Request:
        """caller INVITE -> callee 180, 200 -> caller ACK; returns the callee's INVITE."""
        self.caller_invite(body=body)
        invite = self.port.sent("INVITE")[-1]
        self.callee_answers(invite, 180)
        self.callee_answers(invite, 200, body=ANSWER)
        self.caller_ack()
        return invite


def run(coro: object) -> None:
    """Drive a coroutine whose awaits never suspend (the fake storage answers at once)."""
    try:
        coro.send(None)  # type: ignore[attr-defined]
    except StopIteration:
        return
    raise AssertionError("the coroutine suspended; the fakes should answer at once")
