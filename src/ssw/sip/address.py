"""Peer addresses and the Via rules that tie them to messages (RFC 3261 §18, RFC 3581).

`Address(transport, host, port)` names one end of a SIP hop as the drivers in
`ssw.transport` see it: a transport name (udp, tcp, tls, ws, wss), an IP address or host
name without IPv6 brackets, and a port. On the receiving side `stamp_via_received` records
where a request really came from in its top Via (§18.2.1, RFC 3581 §4); on the sending side
`response_destination` reads that Via back to decide where the response goes (§18.2.2).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from ssw.sip.headers import Via
from ssw.sip.message import Request

__all__ = [
    "DEFAULT_PORTS",
    "RELIABLE_TRANSPORTS",
    "TRANSPORTS",
    "Address",
    "build_via",
    "replace_top_via",
    "response_destination",
    "stamp_via_received",
    "stamped_via",
    "via_sent_by",
]

TRANSPORTS: frozenset[str] = frozenset({"udp", "tcp", "tls", "ws", "wss"})
RELIABLE_TRANSPORTS: frozenset[str] = frozenset({"tcp", "tls", "ws", "wss"})

# RFC 3261 §19.1.2 (5060/5061) and RFC 7118 §5 (WebSocket: the HTTP ports).
DEFAULT_PORTS: dict[str, int] = {"udp": 5060, "tcp": 5060, "tls": 5061, "ws": 80, "wss": 443}


def _bare_host(host: str) -> str:
    """The host without IPv6 brackets, lower-cased (host names are case-insensitive)."""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host.lower()


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(_bare_host(host))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Address:
    """A transport address: `transport` in udp/tcp/tls/ws/wss, bare `host`, `port`.

    The host is kept without brackets and lower-cased, the transport lower-cased, so two
    spellings of one address compare equal. A bad value raises ValueError.
    """

    transport: str
    host: str
    port: int

    def __post_init__(self) -> None:
        transport = self.transport.lower() if isinstance(self.transport, str) else ""
        if transport not in TRANSPORTS:
            raise ValueError(
                f"unknown transport {self.transport!r}; expected one of {sorted(TRANSPORTS)}"
            )
        if not isinstance(self.host, str) or not _bare_host(self.host):
            raise ValueError(f"address host must be a non-empty string, not {self.host!r}")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise ValueError(f"address port must be an integer, not {self.port!r}")
        if not 0 < self.port <= 65535:
            raise ValueError(f"address port {self.port} is outside 1..65535")
        object.__setattr__(self, "transport", transport)
        object.__setattr__(self, "host", _bare_host(self.host))

    @property
    def reliable(self) -> bool:
        """A stream transport: no retransmissions, zero absorption timers (§17, Appendix A)."""
        return self.transport in RELIABLE_TRANSPORTS

    @property
    def via_transport(self) -> str:
        """The transport token of a Via header (UDP, TCP, TLS, WS, WSS)."""
        return self.transport.upper()

    @property
    def host_for_uri(self) -> str:
        """The host as written in a URI or Via: IPv6 references in brackets (RFC 3261 §25.1)."""
        return f"[{self.host}]" if ":" in self.host else self.host

    def __str__(self) -> str:
        return f"{self.transport}:{self.host_for_uri}:{self.port}"


def via_sent_by(via: Via) -> tuple[str, int]:
    """The sent-by of `via` as (bare lower-case host, port), the port defaulted by transport.

    Used to compare sent-by values (§17.2.3 matching, §18.1.2 response check).
    """
    default = DEFAULT_PORTS.get(via.transport.lower(), 5060)
    return _bare_host(via.host), via.port if via.port is not None else default


def build_via(local: Address, branch: str, *, rport: bool = True) -> Via:
    """A Via for a request sent from `local` (§8.1.1.7), asking for rport (RFC 3581 §3)."""
    params: dict[str, str | None] = {"branch": branch}
    if rport:
        params["rport"] = None
    return Via(local.via_transport, local.host_for_uri, local.port, params)


def stamped_via(via: Via, source: Address) -> Via | None:
    """`via` with received/rport filled in for a request from `source`, or None if unchanged.

    RFC 3261 §18.2.1: add `received` when the sent-by host is a domain name or an IP that
    differs from the packet's source address. RFC 3581 §4: when `rport` is present without a
    value, set it to the source port and add `received` even if it equals sent-by.
    """
    params: dict[str, str | None] = {}
    if via.rport is True:
        params["rport"] = str(source.port)
        params["received"] = source.host
    elif _bare_host(via.host) != source.host:
        # Equal text is the common case; otherwise compare as addresses ("::1" = "0::1").
        sent_by_ip = _ip(via.host)
        if sent_by_ip is None or sent_by_ip != _ip(source.host):
            params["received"] = source.host
    if all(via.params.get(name) == value for name, value in params.items()):
        return None
    return via.with_params(**params)


# A bare `;rport` flag in a Via as written (RFC 3581 §3), to be filled in where it stands.
_RPORT_FLAG = re.compile(r";[ \t]*rport(?=[ \t]*(?:;|$))", re.IGNORECASE)


def _stamped_text(via: Via, source: Address) -> str | None:
    """The usual case done on the text: `via` as written asks for rport (empty) and has no
    `received`, so `;rport=<port>` fills the flag in place and `;received=<host>` is appended
    (RFC 3581 §4). None when the Via is not of that shape (the caller rebuilds it instead)."""
    raw = via.raw
    if not raw or "received" in raw.lower() or via.rport is not True:
        return None
    flags = [match.span() for match in _RPORT_FLAG.finditer(raw)]
    if len(flags) != 1:
        return None
    start, end = flags[0]
    return f"{raw[:start]};rport={source.port}{raw[end:]};received={source.host}"


def stamp_via_received(request: Request, source: Address) -> Via:
    """Write received/rport into the top Via of `request` as it arrived from `source`.

    Returns the top Via after stamping. Only the first Via value is rewritten; every other
    header keeps its bytes, and in the usual case (`;rport` asked for, no `received` yet) the
    top Via keeps its own too, with the two parameters written into it. Raises `HeaderError`
    when the request has no Via.
    """
    top = request.top_via
    text = _stamped_text(top, source)
    if text is not None:
        headers = request.headers
        headers.replace_first("via", text)
        via = Via.parse(text)
        # What `top_via` would decode from the new line: kept so it is not decoded again.
        headers._cache["top_via"] = via
        return via
    stamped = stamped_via(top, source)
    if stamped is None:
        return top
    replace_top_via(request, stamped)
    return stamped


def replace_top_via(request: Request, via: Via) -> None:
    """Replace the first Via value of `request` with `via`, keeping the others as written."""
    request.headers.replace_first("via", str(via))


def response_destination(top_via: Via, source: Address, *, connection_open: bool = True) -> Address:
    """Where the response to a request with `top_via`, received from `source`, goes.

    RFC 3261 §18.2.2 with RFC 3581 §4:
    * reliable transport: back over the connection the request came on (`source`); if that
      connection is gone, to the `received` address and the sent-by port;
    * `maddr` present: to maddr at the sent-by port;
    * `rport` filled in (unreliable): to the source IP and port the request came from;
    * `received` present: to that address at the sent-by port (default 5060);
    * otherwise to sent-by itself (the driver resolves a host name per RFC 3263 §5).
    """
    _, sent_by_port = via_sent_by(top_via)
    if source.reliable:
        if connection_open:
            return source
        host = top_via.received or top_via.host
        return Address(source.transport, host, sent_by_port)
    if top_via.maddr:
        return Address(source.transport, top_via.maddr, sent_by_port)
    rport = top_via.rport
    if isinstance(rport, int) and not isinstance(rport, bool):
        return Address(source.transport, top_via.received or source.host, rport)
    if rport is True:
        # Requested but not stamped: the request came from `source` (RFC 3581 §4).
        return source
    if top_via.received:
        return Address(source.transport, top_via.received, sent_by_port)
    return Address(source.transport, top_via.host, sent_by_port)
