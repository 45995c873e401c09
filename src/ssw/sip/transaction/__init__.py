"""SIP transactions (RFC 3261 §17 with RFC 6026), sans-I/O.

`TransactionLayer` is the entry point; the four machines are tables in their own modules
(`client_invite`, `client_non_invite`, `server_invite`, `server_non_invite`), matching rules
in `matching`, timer durations in `timers`.

A driver runs it like this (only the driver reads a clock)::

    layer.receive(parse_message(datagram), Address("udp", host, port), now)
    while (event := layer.next_event()) is not None:
        ...  # RequestReceived -> layer.send_response(event.transaction, response, now)
    for item in layer.data_to_send():
        ...  # send item.data to item.dest; on failure layer.report_transport_error(item, now)
    deadline = layer.get_timer()  # call layer.handle_timer(now) once it is reached
"""

from ssw.sip.transaction.base import ClientTransaction, ServerTransaction, Transaction
from ssw.sip.transaction.client_invite import InviteClientTransaction, build_non2xx_ack
from ssw.sip.transaction.client_non_invite import NonInviteClientTransaction
from ssw.sip.transaction.events import (
    AckReceived,
    CancelReceived,
    Event,
    InvalidMessage,
    RequestReceived,
    ResponseReceived,
    StrayResponse,
    TransactionTerminated,
    TransactionTimeout,
    TransportError,
)
from ssw.sip.transaction.layer import Outgoing, TransactionLayer
from ssw.sip.transaction.machine import State, TransactionStateError
from ssw.sip.transaction.matching import new_branch
from ssw.sip.transaction.server_invite import InviteServerTransaction
from ssw.sip.transaction.server_non_invite import NonInviteServerTransaction
from ssw.sip.transaction.timers import TimerConfig, TimerName

__all__ = [
    "AckReceived",
    "CancelReceived",
    "ClientTransaction",
    "Event",
    "InvalidMessage",
    "InviteClientTransaction",
    "InviteServerTransaction",
    "NonInviteClientTransaction",
    "NonInviteServerTransaction",
    "Outgoing",
    "RequestReceived",
    "ResponseReceived",
    "ServerTransaction",
    "State",
    "StrayResponse",
    "TimerConfig",
    "TimerName",
    "Transaction",
    "TransactionLayer",
    "TransactionStateError",
    "TransactionTerminated",
    "TransactionTimeout",
    "TransportError",
    "build_non2xx_ack",
    "new_branch",
]
