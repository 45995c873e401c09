"""The transaction user of the switch: where each transaction-layer event goes.

Reads top to bottom like a routing script (STYLE.md, Kamailio): requests are checked once
(RFC 3261 §8.2: method, Require, URI scheme, syntax of what we need), then REGISTER goes to
the registrar, OPTIONS outside a dialog is answered here, every call-related event goes to
the B2BUA. Work that needs storage runs as a coroutine handed to the injected `spawn`, so
this module starts no tasks and reads no clock of its own.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from ssw.core.call.b2bua import B2bua
from ssw.core.keepalive import KeepAlive
from ssw.core.ports import Clock, SipPort
from ssw.core.registrar import Registrar
from ssw.sip.errors import SipError
from ssw.sip.message import Request, make_response
from ssw.sip.rejection import check_request
from ssw.sip.transaction.events import (
    AckReceived,
    CancelReceived,
    Event,
    RequestReceived,
    ResponseReceived,
    StrayResponse,
    TransactionTimeout,
    TransportError,
)

__all__ = ["ALLOWED_METHODS", "SUPPORTED_OPTIONS", "Dispatcher"]

logger = logging.getLogger(__name__)

#: methods the switch serves as a UAS (Allow, RFC 3261 §20.5)
ALLOWED_METHODS = (
    "INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER", "PRACK", "UPDATE", "INFO",
    "REFER", "NOTIFY", "MESSAGE",
)
#: option tags the switch implements (Supported / Require, RFC 3261 §8.2.2.3)
SUPPORTED_OPTIONS = ("100rel", "timer", "replaces")
# the same as sets, made once for the check of every request
_ALLOWED = frozenset(ALLOWED_METHODS)
_SUPPORTED = frozenset(SUPPORTED_OPTIONS)

Spawn = Callable[[Coroutine[Any, Any, None]], None]


class Dispatcher:
    """Routes every event of the transaction layer; `on_event` never blocks."""

    def __init__(self, port: SipPort, clock: Clock, registrar: Registrar, b2bua: B2bua,
                 spawn: Spawn, *, keepalive: KeepAlive | None = None,
                 user_agent: str = "SSW") -> None:
        self.port = port
        self.clock = clock
        self.registrar = registrar
        self.b2bua = b2bua
        self.spawn = spawn
        self.keepalive = keepalive
        self.user_agent = user_agent

    def on_event(self, event: Event) -> None:
        try:
            self._route(event)
        except SipError as exc:
            # A header the checks did not need turned out malformed: answer, never crash.
            if isinstance(event, RequestReceived):
                self._answer(event, exc.status, exc.reason)
            logger.info("dropped a malformed message: %s", exc)

    def _route(self, event: Event) -> None:
        if isinstance(event, RequestReceived):
            self._request(event)
        elif isinstance(event, AckReceived):
            self.b2bua.on_ack(event.request)
        elif isinstance(event, CancelReceived):
            self.b2bua.on_cancel(event.transaction, event.request, event.invite_transaction)
        elif isinstance(event, ResponseReceived | StrayResponse):
            if not self.b2bua.on_response(event.response) and self.keepalive is not None:
                self.keepalive.on_response(event.response)
        elif isinstance(event, TransactionTimeout | TransportError):
            request = event.transaction.request
            if not self.b2bua.on_timeout(request) and self.keepalive is not None:
                self.keepalive.on_timeout(request)

    def _request(self, event: RequestReceived) -> None:
        request = event.request
        try:
            check_request(request, supported=_SUPPORTED, allowed_methods=_ALLOWED,
                          acting_as="uas")
        except SipError as exc:
            headers = list(exc.headers) if exc.headers else []
            self._answer(event, exc.status, exc.reason, headers)
            return
        method = request.method
        in_dialog = request.to.tag is not None
        if method == "REGISTER":
            self.spawn(self._register(event))
        elif method == "INVITE" and not in_dialog:
            self.spawn(self.b2bua.on_invite(event.transaction, request, event.source))
        elif method == "OPTIONS" and not in_dialog:
            self._answer(event, 200, "OK", self._capabilities())
        elif in_dialog:
            self.b2bua.on_request(event.transaction, request)
        else:
            # Out of dialog BYE, PRACK, UPDATE, ...: no dialog to act on (§12.2.2).
            self._answer(event, 481, "Call/Transaction Does Not Exist")

    async def _register(self, event: RequestReceived) -> None:
        try:
            response = await self.registrar.handle(event.request, event.source, self.clock.now())
        except SipError as exc:
            response = make_response(event.request, exc.status, exc.reason)
        except Exception:
            logger.exception("REGISTER from %s failed", event.source)
            response = make_response(event.request, 500, "Server Internal Error")
        self.port.send_response(event.transaction, response)

    def _capabilities(self) -> list[tuple[str, str]]:
        return [
            ("Allow", ", ".join(ALLOWED_METHODS)),
            ("Accept", "application/sdp"),
            ("Supported", ", ".join(SUPPORTED_OPTIONS)),
            ("Server", self.user_agent),
        ]

    def _answer(self, event: RequestReceived, status: int, reason: str | None,
                headers: list[tuple[str, str]] | None = None) -> None:
        response = make_response(event.request, status, reason, to_tag=_local_tag(event.request),
                                 headers=headers or [])
        self.port.send_response(event.transaction, response)


def _local_tag(request: Request) -> str:
    """A To tag for responses sent outside any dialog (stable across retransmissions)."""
    seed = f"{request.call_id}/{request.cseq.seq}".encode()
    return hashlib.blake2s(seed, digest_size=6).hexdigest()
