"""What the SIP endpoint is told (`EndpointConfig`) and what it counts (`TransportStats`)."""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field

from ssw.sip.transaction import TimerConfig
from ssw.transport.certificates import TlsConfig

__all__ = ["EndpointConfig", "TransportStats"]


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """Where and how the endpoint listens.

    `hosts` are the local addresses to bind (one listener per address and transport). A port
    of None disables that transport; 0 binds a free port (see `SipEndpoint.local_address`).
    TLS needs `tls` (the certificate directory). `idle_timeout` closes a TCP/TLS connection
    after that many seconds without traffic; `max_connections` caps TCP+TLS connections;
    `max_write_buffer` bounds the unsent bytes per connection; `max_header_size` and
    `max_body_size` bound a message read from a stream. `advertise` is the host put in Via
    and Contact in place of a wildcard bound address (0.0.0.0, ::), e.g. the switch's name or
    its public address. `udp_buffer_size` is asked of the kernel for each UDP socket's
    receive and send buffers.
    """

    hosts: tuple[str, ...] = ("127.0.0.1",)
    udp_port: int | None = 5060
    tcp_port: int | None = 5060
    tls_port: int | None = 5061
    tls: TlsConfig | None = None
    timers: TimerConfig = field(default_factory=TimerConfig)
    idle_timeout: float = 120.0
    max_connections: int = 1024
    max_write_buffer: int = 1024 * 1024
    max_header_size: int = 16 * 1024
    max_body_size: int = 64 * 1024
    connect_timeout: float = 10.0
    advertise: str | None = None
    udp_buffer_size: int = 4 * 1024 * 1024

    def __post_init__(self) -> None:
        if not self.hosts:
            raise ValueError("the endpoint needs at least one address to listen on")
        for host in self.hosts:
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise ValueError(f"listen address {host!r} is not an IP address") from None
        for name in ("udp_port", "tcp_port", "tls_port"):
            port = getattr(self, name)
            if port is not None and not 0 <= port <= 65535:
                raise ValueError(f"{name} {port} is outside 0..65535")
        if self.tls_port is not None and self.tls is None:
            raise ValueError(
                "TLS needs a certificate directory (tls=TlsConfig(...)) or tls_port=None"
            )
        for name in (
            "idle_timeout",
            "connect_timeout",
            "max_connections",
            "max_write_buffer",
            "max_body_size",
            "udp_buffer_size",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)!r}")
        if self.max_header_size < 64:
            raise ValueError(f"max_header_size must be at least 64, not {self.max_header_size}")

    def port_for(self, transport: str) -> int | None:
        return {"udp": self.udp_port, "tcp": self.tcp_port, "tls": self.tls_port}.get(transport)


@dataclass(slots=True)
class TransportStats:
    """Plain counters; the endpoint increments them, nothing resets them but a new endpoint."""

    datagrams_received: int = 0
    datagrams_sent: int = 0
    stream_bytes_received: int = 0
    stream_messages_sent: int = 0
    malformed: int = 0  # input that did not parse or lost stream framing
    rejected: int = 0  # malformed requests answered with rejection_for
    invalid: int = 0  # parsed messages the transaction layer could not match (InvalidMessage)
    send_failures: int = 0  # messages that could not be sent (reported to their transaction)
    internal_errors: int = 0  # messages dropped because the stack raised unexpectedly

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
