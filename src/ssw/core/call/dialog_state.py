"""The dialog a leg keeps with its peer (RFC 3261 §12), and the identifiers it mints.

Each leg of a call is its own dialog: its own Call-ID, tags and CSeq space. `LegDialog` holds
what §12.1 says a dialog state is (Call-ID, local and remote tags and URIs, local and remote
sequence numbers, remote target, route set) plus the transport address requests go to, and
builds in-dialog requests (§12.2.1.1), the ACK for a 2xx (§13.2.2.4) and a CANCEL (§9.1).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from ssw.sip.address import DEFAULT_PORTS, Address, build_via
from ssw.sip.headers import CSeq, NameAddr
from ssw.sip.message import Request, new_request
from ssw.sip.uri import SipUri, parse_uri

__all__ = ["MAGIC_COOKIE", "IdSource", "LegDialog", "address_of_uri", "cancel_for"]

MAGIC_COOKIE = "z9hG4bK"  # RFC 3261 §8.1.1.7: every branch we mint starts with it


class IdSource:
    """Mints tags, branches and Call-IDs (RFC 3261 §19.3: globally unique, cryptographically
    random). Tests substitute a deterministic subclass."""

    __slots__ = ("_pool", "_used")

    def __init__(self) -> None:
        self._pool = b""
        self._used = 0

    def token(self) -> str:
        """16 hex digits from the OS's CSPRNG, read 4 KiB at a time (one system call per
        512 tokens instead of one per token)."""
        return self._octets(8).hex()

    def _octets(self, count: int) -> bytes:
        used = self._used
        if used + count > len(self._pool):
            self._pool, used = os.urandom(4096), 0
        self._used = used + count
        return self._pool[used:used + count]

    def tag(self) -> str:
        return self.token()

    def retry_after(self) -> int:
        """A random Retry-After of 0 to 10 seconds (RFC 3261 §14.2, RFC 3311 §5.2)."""
        return self._octets(1)[0] % 11

    def branch(self) -> str:
        return MAGIC_COOKIE + self.token()

    def call_id(self, host: str) -> str:
        return f"{self.token()}{self.token()}@{host}"

    def sequence(self) -> int:
        """A first CSeq or RSeq: random below 2**31 with room to grow (§8.1.1.5)."""
        return (int.from_bytes(self._octets(3)) & 0xFFFFF) + 1


def address_of_uri(uri: str, default_transport: str = "udp") -> Address:
    """Where a request for `uri` goes when nothing better is known (host and port of the URI,
    its transport parameter or the default; §8.1.2 without DNS, the driver resolves names)."""
    parsed = parse_uri(uri)
    if not isinstance(parsed, SipUri):
        raise ValueError(f"cannot send a SIP request to {uri!r}")
    transport = (parsed.transport or default_transport).lower()
    if parsed.scheme == "sips" and transport == "udp":
        transport = "tls"
    host = parsed.params.get("maddr") or parsed.host
    port = parsed.port or DEFAULT_PORTS.get(transport, 5060)
    return Address(transport, host, port)


@dataclass(slots=True)
class LegDialog:
    """Dialog state of one leg (RFC 3261 §12.1) and the next hop for its requests.

    `local_uri` / `remote_uri` are full From/To values (tags included once known).
    """

    call_id: str
    local_tag: str
    local_uri: str
    remote_uri: str
    remote_target: str
    local_seq: int
    peer: Address
    local: Address
    contact: str
    remote_tag: str | None = None
    remote_seq: int | None = None
    route_set: list[str] = field(default_factory=list)
    follow_routes: bool = True  # False: requests go to `peer` whatever the route set says

    @property
    def key(self) -> tuple[str, str]:
        """How in-dialog requests and responses find this leg: (Call-ID, our tag)."""
        return (self.call_id, self.local_tag)

    def set_remote_tag(self, tag: str | None, *, replace: bool = False) -> None:
        if tag and (self.remote_tag is None or replace):
            self.remote_tag = tag
            self.remote_uri = str(NameAddr.parse(self.remote_uri).with_params(tag=tag))

    def next_hop(self) -> Address:
        if self.follow_routes and self.route_set:
            return address_of_uri(NameAddr.parse(self.route_set[0]).uri, self.peer.transport)
        return self.peer

    def _uri_and_routes(self) -> tuple[str, list[str]]:
        """Request-URI and Route headers (§12.2.1.1): loose routing when the first route has
        `lr`, otherwise the strict-routing form (first route as Request-URI)."""
        if not self.route_set:
            return self.remote_target, []
        first = NameAddr.parse(self.route_set[0])
        uri = parse_uri(first.uri)
        if isinstance(uri, SipUri) and "lr" in uri.params:
            return self.remote_target, list(self.route_set)
        return first.uri, [*self.route_set[1:], f"<{self.remote_target}>"]

    def request(
        self,
        method: str,
        branch: str,
        *,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        cseq: int | None = None,
        content_type: str = "application/sdp",
    ) -> Request:
        """An in-dialog request; a new CSeq unless `cseq` is given (ACK, CANCEL)."""
        if cseq is None:
            self.local_seq += 1
            cseq = self.local_seq
        uri, routes = self._uri_and_routes()
        pairs = [("Route", route) for route in routes]
        if method not in ("ACK", "CANCEL", "BYE"):
            pairs.append(("Contact", self.contact))
        pairs.extend(headers)
        return new_request(
            method,
            uri,
            via=build_via(self.local, branch),
            from_=self.local_uri,
            to=self.remote_uri,
            call_id=self.call_id,
            cseq=cseq,
            headers=pairs,
            body=body,
            content_type=content_type if body else None,
        )

    def check_remote_seq(self, request: Request) -> bool:
        """Record the peer's CSeq; False when it went backwards (§12.2.2: answer 500)."""
        seq = request.cseq.seq
        if request.method in ("ACK", "CANCEL"):
            return True
        if self.remote_seq is not None and seq < self.remote_seq:
            return False
        self.remote_seq = seq
        return True

    def refresh_target(self, contact_uri: str | None) -> None:
        """Target refresh (§12.2.2): a re-INVITE or UPDATE may move the remote target."""
        if contact_uri:
            self.remote_target = contact_uri


def cancel_for(invite: Request, reason: str | None = None) -> Request:
    """The CANCEL for `invite` (RFC 3261 §9.1): same Request-URI, Call-ID, From, To, CSeq
    number and Route set, one Via equal to the INVITE's top Via."""
    pairs: list[tuple[str, str]] = [
        ("Via", invite.headers.get("via") or ""),
        ("Max-Forwards", "70"),
        ("From", invite.headers.get("from") or ""),
        ("To", invite.headers.get("to") or ""),
        ("Call-ID", invite.call_id),
        ("CSeq", str(CSeq(invite.cseq.seq, "CANCEL"))),
    ]
    pairs.extend(("Route", value) for value in invite.headers.get_all("route"))
    if reason:
        pairs.append(("Reason", reason))  # RFC 3326 §2
    pairs.append(("Content-Length", "0"))
    return Request("CANCEL", invite.uri, pairs)
