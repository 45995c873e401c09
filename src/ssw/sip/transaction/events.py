"""What the transaction layer tells its user (RFC 3261 §17: "inform the TU").

`TransactionLayer.next_event()` returns these one at a time, in the order they happened.
They are plain frozen values: the layer keeps no reference to a handed-out event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ssw.sip.address import Address
from ssw.sip.errors import SipError
from ssw.sip.message import Request, Response

if TYPE_CHECKING:
    from ssw.sip.transaction.base import ClientTransaction, ServerTransaction, Transaction
    from ssw.sip.transaction.server_invite import InviteServerTransaction

__all__ = [
    "AckReceived",
    "CancelReceived",
    "Event",
    "InvalidMessage",
    "RequestReceived",
    "ResponseReceived",
    "StrayResponse",
    "TransactionTerminated",
    "TransactionTimeout",
    "TransportError",
]


@dataclass(frozen=True, slots=True)
class RequestReceived:
    """A new request (not ACK, not CANCEL) created `transaction`; answer through it."""

    transaction: ServerTransaction
    request: Request
    source: Address


@dataclass(frozen=True, slots=True)
class AckReceived:
    """An ACK the transaction layer does not absorb (RFC 3261 §17.2.3, RFC 6026 §7.1).

    The ACK for a 2xx is its own transaction-less request (§13.2.2.4): `transaction` is the
    INVITE server transaction in Accepted when the ACK matched one, otherwise None (the usual
    case: the 2xx ACK carries a new branch) and the TU matches it to a dialog.
    """

    request: Request
    source: Address
    transaction: InviteServerTransaction | None


@dataclass(frozen=True, slots=True)
class CancelReceived:
    """A CANCEL created `transaction` (answer 200 or 481 through it, RFC 3261 §9.2).

    `invite_transaction` is the INVITE server transaction it cancels, or None when none
    matches (answer 481). If that INVITE has no final response yet, the UAS answers it 487.
    """

    transaction: ServerTransaction
    request: Request
    source: Address
    invite_transaction: InviteServerTransaction | None


@dataclass(frozen=True, slots=True)
class ResponseReceived:
    """A response for `transaction` that the machine passes up (1xx, finals, 2xx copies)."""

    transaction: ClientTransaction
    response: Response


@dataclass(frozen=True, slots=True)
class StrayResponse:
    """A response that matches no client transaction (§18.1.2): e.g. a 2xx retransmitted
    after Timer M; a UA core may still ACK it (RFC 6026 §7.2), a proxy forwards it."""

    response: Response
    source: Address


@dataclass(frozen=True, slots=True)
class TransactionTimeout:
    """Timer B, F or H fired: the peer never answered (or never ACKed)."""

    transaction: Transaction
    timer: str


@dataclass(frozen=True, slots=True)
class TransportError:
    """The driver reported that a message of `transaction` could not be sent."""

    transaction: Transaction


@dataclass(frozen=True, slots=True)
class TransactionTerminated:
    """`transaction` reached Terminated and is no longer held by the layer."""

    transaction: Transaction


@dataclass(frozen=True, slots=True)
class InvalidMessage:
    """A received message lacks what transaction matching needs (Via, CSeq, Call-ID, ...).

    Nothing was created. For a request the TU may answer `error.status` statelessly
    (`ssw.sip.rejection`); a response is dropped (§18.1.2 / §8.1.3.3).
    """

    message: Request | Response
    source: Address
    error: SipError


Event = (
    RequestReceived
    | AckReceived
    | CancelReceived
    | ResponseReceived
    | StrayResponse
    | TransactionTimeout
    | TransportError
    | TransactionTerminated
    | InvalidMessage
)
