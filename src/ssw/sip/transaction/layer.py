"""The transaction layer: routes messages to transactions and keeps their timers (RFC 3261 §17).

Sans-I/O in the manner of h11 and aioquic: the driver hands in parsed messages with their
source and the current time (`receive`), takes out bytes to send (`data_to_send`) and
events for the transaction user (`next_event`), and asks when to call back
(`get_timer` / `handle_timer`). Transactions are found by dictionary lookup
(`ssw.sip.transaction.matching`); timers live in one heap whose stale entries are skipped
when they surface. A transaction that reaches Terminated is dropped from every table at
once and announced with `TransactionTerminated`.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ssw.sip.address import Address, replace_top_via, response_destination, stamp_via_received
from ssw.sip.errors import BadRequest, SipError
from ssw.sip.message import Request, Response
from ssw.sip.transaction.base import ClientTransaction, ServerTransaction, Transaction
from ssw.sip.transaction.client_invite import InviteClientTransaction
from ssw.sip.transaction.client_non_invite import NonInviteClientTransaction
from ssw.sip.transaction.events import (
    AckReceived,
    Event,
    InvalidMessage,
    StrayResponse,
    TransactionTerminated,
)
from ssw.sip.transaction.machine import Input, State, TransactionStateError
from ssw.sip.transaction.matching import (
    TransactionKey,
    client_key,
    dialog_invite_key,
    invite_key_for,
    is_rfc3261_request,
    legacy_invite_key,
    new_branch,
    server_key,
)
from ssw.sip.transaction.server_invite import InviteServerTransaction
from ssw.sip.transaction.server_non_invite import NonInviteServerTransaction
from ssw.sip.transaction.timers import TimerConfig, TimerName

__all__ = ["Outgoing", "TransactionLayer"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """Bytes for the driver to send to `dest`.

    `transaction` is the transaction that sent them (None for stateless sends); hand the
    Outgoing back to `TransactionLayer.report_transport_error` if sending fails.
    """

    data: bytes
    dest: Address
    transaction: Transaction | None = None


_RESPONSE_INPUTS = {1: Input.RESPONSE_1XX, 2: Input.RESPONSE_2XX}


class TransactionLayer:
    """All client and server transactions of one SIP element.

    `timers` gives T1/T2/T4; `send_trying=False` stops INVITE server transactions from
    answering 100 (Trying) by themselves (§17.2.1 allows it when the TU answers within
    200 ms); `branch_factory` makes the branch of requests sent without one.
    """

    def __init__(
        self,
        timers: TimerConfig | None = None,
        *,
        send_trying: bool = True,
        branch_factory: Callable[[], str] = new_branch,
    ) -> None:
        self.timers = timers if timers is not None else TimerConfig()
        self.send_trying = send_trying
        self._branch_factory = branch_factory
        self._server: dict[TransactionKey, ServerTransaction] = {}
        self._client: dict[TransactionKey, ClientTransaction] = {}
        self._legacy_invites: dict[TransactionKey, InviteServerTransaction] = {}
        # INVITE server transactions by `dialog_invite_key`, for the lenient matching of an
        # ACK or CANCEL sent with a branch of its own (see `_find_invite_leniently`).
        self._invites_by_dialog: dict[TransactionKey, InviteServerTransaction] = {}
        self._events: deque[Event] = deque()
        self._outgoing: list[Outgoing] = []
        self._heap: list[tuple[float, int, Transaction, TimerName]] = []
        self._tokens = itertools.count()

    # -- what the driver calls ---------------------------------------------------------------

    def receive(self, message: Request | Response, source: Address, now: float) -> None:
        """A message arrived from `source` at time `now` (already parsed)."""
        try:
            if isinstance(message, Request):
                self._receive_request(message, source, now)
            else:
                self._receive_response(message, source, now)
        except SipError as error:
            self._events.append(InvalidMessage(message, source, error))

    def data_to_send(self) -> list[Outgoing]:
        """Everything queued for sending since the last call, in order."""
        out, self._outgoing = self._outgoing, []
        return out

    def get_timer(self) -> float | None:
        """When `handle_timer` must be called next, or None when no timer runs."""
        heap = self._heap
        while heap:
            _, token, transaction, timer = heap[0]
            if transaction.is_current(timer, token):
                return heap[0][0]
            heapq.heappop(heap)
        return None

    def handle_timer(self, now: float) -> None:
        """Fire every timer due at `now`, each at its own deadline (the schedule never drifts)."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            deadline, token, transaction, timer = heapq.heappop(heap)
            if transaction.is_current(timer, token):
                transaction.fire(timer, deadline)

    def report_transport_error(self, outgoing: Outgoing, now: float) -> None:
        """The driver could not send `outgoing` (§17.1.4, §17.2.4): tell its transaction."""
        transaction = outgoing.transaction
        if transaction is not None and not transaction.terminated:
            transaction.feed(Input.TRANSPORT_ERROR, now)

    # -- what the transaction user calls -----------------------------------------------------

    def next_event(self) -> Event | None:
        """The oldest event not yet taken, or None."""
        return self._events.popleft() if self._events else None

    def send_request(
        self, request: Request, dest: Address, now: float, *, timers: TimerConfig | None = None
    ) -> ClientTransaction:
        """Start a client transaction for `request` towards `dest` (§17.1).

        The top Via must be present (the sender knows its sent-by); a branch is added when
        it has none. ACK is never a transaction: send it with `send_stateless`. `timers`
        overrides the layer's T1/T2/T4 for this transaction (a domain's own values).
        """
        if request.method == "ACK":
            raise ValueError("an ACK is not a transaction; send it with send_stateless")
        if not request.headers.get_all("via"):
            raise ValueError(f"{request.method} request has no Via header to send it with")
        if request.top_via.branch is None:
            replace_top_via(request, request.top_via.with_params(branch=self._branch_factory()))
        key = client_key(request)
        if key is None or key in self._client:
            raise ValueError(f"branch {request.top_via.branch!r} is already used by a transaction")
        transaction: ClientTransaction
        config = timers if timers is not None else self.timers
        if request.method == "INVITE":
            transaction = InviteClientTransaction(key, request, dest, timers=config, host=self)
        else:
            transaction = NonInviteClientTransaction(key, request, dest, timers=config, host=self)
        self._client[key] = transaction
        transaction.start(now)
        return transaction

    def send_response(self, transaction: ServerTransaction, response: Response, now: float) -> None:
        """Send `response` through its server transaction (§17.2).

        Raises TransactionStateError, changing nothing, when the transaction has ended or its
        state forbids the response (a second final response, a 1xx after a 2xx).
        """
        if self._server.get(transaction.key) is not transaction:
            raise TransactionStateError(f"{transaction!r} is not an active server transaction")
        transaction.feed(transaction.respond_input(response), now, response)

    def send_stateless(self, message: Request | Response, dest: Address) -> None:
        """Send outside any transaction: the ACK for a 2xx (§13.2.2.4), stateless answers.

        A request without a branch in its top Via gets a new one.
        """
        if (
            isinstance(message, Request)
            and message.headers.get_all("via")
            and message.top_via.branch is None
        ):
            replace_top_via(message, message.top_via.with_params(branch=self._branch_factory()))
        self._outgoing.append(Outgoing(bytes(message), dest))

    def invite_transaction_for_cancel(self, cancel: Request) -> InviteServerTransaction | None:
        """The INVITE server transaction a CANCEL targets (§9.2), if it still exists."""
        return self._find_invite(cancel) or self._find_invite_leniently(cancel, State.PROCEEDING)

    # -- inspection --------------------------------------------------------------------------

    @property
    def transaction_count(self) -> int:
        """Live transactions, client and server (zero once everything has settled)."""
        return len(self._server) + len(self._client)

    def server_transactions(self) -> list[ServerTransaction]:
        return list(self._server.values())

    def client_transactions(self) -> list[ClientTransaction]:
        return list(self._client.values())

    # -- the host interface the transactions call -------------------------------------------

    def transmit(self, transaction: Transaction, data: bytes) -> None:
        self._outgoing.append(Outgoing(data, transaction.peer, transaction))

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def arm_timer(self, transaction: Transaction, timer: TimerName, deadline: float) -> int:
        token = next(self._tokens)
        heapq.heappush(self._heap, (deadline, token, transaction, timer))
        if len(self._heap) > 64 + 4 * self.transaction_count:
            self._compact_heap()
        return token

    def retire(self, transaction: Transaction) -> None:
        if isinstance(transaction, ServerTransaction):
            if self._server.get(transaction.key) is transaction:
                del self._server[transaction.key]
            if isinstance(transaction, InviteServerTransaction) and transaction.method == "INVITE":
                legacy = self._legacy_key_of(transaction)
                if legacy is not None and self._legacy_invites.get(legacy) is transaction:
                    del self._legacy_invites[legacy]
                by_dialog = transaction.dialog_key
                if by_dialog is not None and self._invites_by_dialog.get(by_dialog) is transaction:
                    del self._invites_by_dialog[by_dialog]
        elif self._client.get(transaction.key) is transaction:
            del self._client[transaction.key]
        self._events.append(TransactionTerminated(transaction))

    # -- internals ---------------------------------------------------------------------------

    def _receive_request(self, request: Request, source: Address, now: float) -> None:
        top_via = stamp_via_received(request, source)  # §18.2.1, RFC 3581 §4
        if request.method == "ACK":
            self._receive_ack(request, source, now)
            return
        key = server_key(request, top_via=top_via)
        existing = self._server.get(key)
        if existing is not None:
            # A retransmission: the machine re-sends the last response or discards it.
            existing.feed(Input.REQUEST_RETRANSMISSION, now, request)
            return
        cancels = None
        if request.method == "CANCEL":
            cancels = self._find_invite(request) or self._find_invite_leniently(
                request, State.PROCEEDING)
        try:
            peer = response_destination(top_via, source)
        except ValueError as error:
            # The Via parses but names no usable address (e.g. port 0): nowhere to answer.
            raise BadRequest(f"no response address in the top Via: {error}") from None
        transaction: ServerTransaction
        if request.method == "INVITE":
            invite = InviteServerTransaction(
                key, request, peer, source=source, timers=self.timers, host=self
            )
            invite.send_trying = self.send_trying
            legacy = self._legacy_key_of(invite)
            if legacy is not None:
                self._legacy_invites[legacy] = invite
            invite.dialog_key = dialog_invite_key(request)
            self._invites_by_dialog[invite.dialog_key] = invite
            transaction = invite
        else:
            transaction = NonInviteServerTransaction(
                key, request, peer, source=source, timers=self.timers, host=self
            )
            transaction.cancels = cancels
        self._server[key] = transaction
        transaction.start(now)

    def _receive_ack(self, ack: Request, source: Address, now: float) -> None:
        invite = self._find_invite(ack)
        if (
            invite is not None
            and not is_rfc3261_request(ack)
            and (invite.final_to_tag is None or ack.to.tag != invite.final_to_tag)
        ):
            # RFC 2543: the ACK's To tag must be that of the final response sent (§17.2.3).
            invite = None
        if invite is None:
            invite = self._find_invite_leniently(ack, State.COMPLETED)
            if invite is not None and ack.to.tag != invite.final_to_tag:
                invite = None
        if invite is None:
            # The ACK for a 2xx (a new branch), or one that matches nothing: the TU's.
            self._events.append(AckReceived(ack, source, None))
            return
        invite.feed(Input.ACK, now, ack)

    def _receive_response(self, response: Response, source: Address, now: float) -> None:
        key = client_key(response)
        transaction = self._client.get(key) if key is not None else None
        if transaction is None:
            self._events.append(StrayResponse(response, source))
            return
        inp = _RESPONSE_INPUTS.get(response.status // 100, Input.RESPONSE_3XX_6XX)
        transaction.feed(inp, now, response)

    def _find_invite(self, request: Request) -> InviteServerTransaction | None:
        key = invite_key_for(request)
        found = self._server.get(key) if key[0] == "3261" else self._legacy_invites.get(key)
        return found if isinstance(found, InviteServerTransaction) else None

    def _find_invite_leniently(
        self, request: Request, state: State
    ) -> InviteServerTransaction | None:
        """The INVITE server transaction in `state` that an ACK or CANCEL with a branch of its
        own was meant for, found by Call-ID, From tag and CSeq number.

        RFC 3261 wants the INVITE's branch in the ACK for a non-2xx (§17.1.1.3) and in a
        CANCEL (§9.1), but some phones and test tools make a new one. Taken only where the
        branch matched nothing and the transaction is in the one state the request can act
        on (Proceeding for a CANCEL, Completed for an ACK: the ACK for a 2xx, which has a
        new branch by rule, never reaches an INVITE transaction this way), so every request
        sent as the RFC says is matched exactly as before.
        """
        found = self._invites_by_dialog.get(dialog_invite_key(request))
        return found if found is not None and found.state is state else None

    def _legacy_key_of(self, invite: InviteServerTransaction) -> TransactionKey | None:
        if is_rfc3261_request(invite.request):
            return None
        return legacy_invite_key(invite.request)

    def _compact_heap(self) -> None:
        # In place: the heap stays the long-lived list the collector promoted long ago, not a
        # new one of 100,000 entries that every young-generation collection would walk.
        heap = self._heap
        heap[:] = [entry for entry in heap if entry[2].is_current(entry[3], entry[1])]
        heapq.heapify(heap)
