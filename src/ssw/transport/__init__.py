"""SIP transports: asyncio UDP, TCP and TLS around the sans-I/O stack of `ssw.sip`.

The only code that owns SIP sockets and reads the loop's clock. The composition root does:

    install_event_loop_policy()                       # uvloop when installed (or use run())
    tls = ensure_certificate(cert_dir, [hostname, address])     # self-signed on first start
    endpoint = SipEndpoint(EndpointConfig(hosts=(address,), tls=tls))   # 5060 UDP/TCP, 5061 TLS
    endpoint.on_event = transaction_user.on_event     # RequestReceived, ResponseReceived, ...
    await endpoint.start()
    tune_garbage_collector()                          # start-up done: rare collections
    ...
    await endpoint.stop()

and the transaction user answers with `endpoint.send_response(txn, resp)` or
`endpoint.reject(txn, error)`, sends with `endpoint.send_request(req, dest)` and
`endpoint.send_stateless(msg, dest)`, and names itself with `endpoint.local_address_for(dest)`.
"""

from ssw.transport.certificates import (
    CertificateError,
    TlsConfig,
    client_context,
    ensure_certificate,
    generate_self_signed,
    server_context,
)
from ssw.transport.config import EndpointConfig, TransportStats
from ssw.transport.connections import ConnectionState, StreamConnection
from ssw.transport.endpoint import EventHandler, SipEndpoint
from ssw.transport.loop import (
    SERVING_GC_THRESHOLDS,
    install_event_loop_policy,
    loop_implementation,
    run,
    tune_garbage_collector,
)

__all__ = [
    "SERVING_GC_THRESHOLDS",
    "CertificateError",
    "ConnectionState",
    "EndpointConfig",
    "EventHandler",
    "SipEndpoint",
    "StreamConnection",
    "TlsConfig",
    "TransportStats",
    "client_context",
    "ensure_certificate",
    "generate_self_signed",
    "install_event_loop_policy",
    "loop_implementation",
    "run",
    "server_context",
    "tune_garbage_collector",
]
