"""Dialogs (RFC 3261 §12): identity, route set, targets and sequence numbers; forking.

A `Dialog` is the state two user agents share between an INVITE (or SUBSCRIBE) and its end:
the dialog id (Call-ID, local tag, remote tag), the route set taken from Record-Route, the
remote target taken from Contact, and the local and remote CSeq numbers. It builds the
requests sent inside the dialog (§12.2.1.1, with loose and strict routing), the ACK for a
2xx (§13.2.2.4), and checks requests received inside it (§12.2.2).

`DialogSet` follows the responses to one INVITE sent: a forking proxy may create several
early dialogs, and more than one may be confirmed by a 2xx (§13.2.2.4, §12.1.2).

`build_cancel` builds the CANCEL for a request (§9.1); it needs no dialog.

Nothing here sends: requests are built and handed back, like every part of `ssw.sip`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from ssw.sip.errors import SipError
from ssw.sip.headers import NameAddr, Via
from ssw.sip.message import Request, Response, new_request
from ssw.sip.uri import SipUri

__all__ = [
    "TARGET_REFRESH_METHODS",
    "CSeqOutOfOrder",
    "Dialog",
    "DialogError",
    "DialogId",
    "DialogSet",
    "DialogState",
    "NoSuchDialog",
    "build_cancel",
    "uac_dialog_id",
    "uas_dialog_id",
]

# Requests that may change the remote target (RFC 3261 §12.2, RFC 3311, RFC 6665 §4.1.2.4).
TARGET_REFRESH_METHODS = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY"})

# Methods whose 1xx/2xx with a To tag create a dialog (RFC 3261 §12.1, RFC 6665 §4.1.2.1).
DIALOG_CREATING_METHODS = frozenset({"INVITE", "SUBSCRIBE", "REFER"})


class DialogError(ValueError):
    """A message cannot create or update a dialog (no To tag, a 100, a foreign Call-ID)."""


class CSeqOutOfOrder(SipError):
    """500: a request inside a dialog has a CSeq lower than the last one (§12.2.2)."""

    status = 500


class NoSuchDialog(SipError):
    """481: a request carries a To tag that names no dialog here (§12.2.2)."""

    status = 481


class DialogState(enum.StrEnum):
    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


@dataclass(frozen=True, slots=True)
class DialogId:
    """Call-ID, local tag and remote tag (§12): the same dialog has mirrored ids at each end."""

    call_id: str
    local_tag: str
    remote_tag: str


def uas_dialog_id(request: Request) -> DialogId | None:
    """The id, seen by the receiver, of the dialog a request belongs to (None: no To tag)."""
    to_tag = request.to.tag
    if not to_tag:
        return None
    return DialogId(request.call_id, to_tag, request.from_.tag or "")


def uac_dialog_id(response: Response) -> DialogId | None:
    """The id, seen by the sender of the request, of the dialog a response belongs to."""
    to_tag = response.to.tag
    if not to_tag:
        return None
    return DialogId(response.call_id, response.from_.tag or "", to_tag)


def _contact_uri(message: Request | Response) -> str | None:
    contacts = message.contacts
    if not contacts or contacts[0].star:
        return None
    return contacts[0].uri


def _is_loose(route: NameAddr) -> bool:
    address = route.address
    return isinstance(address, SipUri) and address.lr


def _request_uri_from_route(route: NameAddr) -> str:
    """A route URI as a Request-URI: without headers and `method` (§12.2.1.1, §19.1.1)."""
    address = route.address
    if isinstance(address, SipUri):
        return str(address.without_headers().without_params("method"))
    return route.uri


class Dialog:
    """One dialog as one of its two user agents sees it (RFC 3261 §12).

    Build it with `Dialog.as_uac(request, response)` from a 1xx (with To tag) or 2xx to a
    request we sent, or `Dialog.as_uas(request, response)` from a request received and the
    1xx/2xx (with our To tag) we answer it with.
    """

    def __init__(
        self,
        dialog_id: DialogId,
        *,
        state: DialogState,
        local: NameAddr,
        remote: NameAddr,
        remote_target: str,
        route_set: Iterable[NameAddr],
        local_seq: int | None,
        remote_seq: int | None,
        secure: bool = False,
    ) -> None:
        self.id = dialog_id
        self.state = state
        self.local = local  # our From (as UAC) / To (as UAS), with our tag
        self.remote = remote  # the peer's, with its tag
        self.remote_target = remote_target
        self.route_set: list[NameAddr] = list(route_set)
        self.local_seq = local_seq
        self.remote_seq = remote_seq
        self.secure = secure

    def __repr__(self) -> str:
        return f"<Dialog {self.id.call_id} {self.id.local_tag}/{self.id.remote_tag} {self.state}>"

    # -- creation (§12.1) --------------------------------------------------------------------

    @classmethod
    def as_uac(cls, request: Request, response: Response, *, secure: bool = False) -> Dialog:
        """The dialog a 101-299 response with a To tag creates at the UAC (§12.1.2).

        Route set: the response's Record-Route in reverse order; remote target: its Contact;
        local sequence number: the request's CSeq; remote sequence number: empty.
        """
        dialog_id = uac_dialog_id(response)
        if dialog_id is None or not 101 <= response.status <= 299:
            raise DialogError(
                f"a {response.status} response without To tag creates no dialog (§12.1.2)"
            )
        if response.call_id != request.call_id or response.cseq.seq != request.cseq.seq:
            raise DialogError("the response does not answer this request")
        target = _contact_uri(response)
        if target is None:
            # A 1xx may lack Contact; the request's target stands in until one arrives.
            target = request.uri
        return cls(
            dialog_id,
            state=DialogState.CONFIRMED if response.status >= 200 else DialogState.EARLY,
            local=request.from_,
            remote=response.to,
            remote_target=target,
            route_set=reversed(response.record_routes),
            local_seq=request.cseq.seq,
            remote_seq=None,
            secure=secure,
        )

    @classmethod
    def as_uas(cls, request: Request, response: Response, *, secure: bool = False) -> Dialog:
        """The dialog a 101-299 response we send (with our To tag) creates at the UAS (§12.1.1).

        Route set: the request's Record-Route in order; remote target: its Contact; remote
        sequence number: the request's CSeq; local sequence number: empty. `secure` when the
        request came over TLS with a sips Request-URI.
        """
        to_tag = response.to.tag
        if not to_tag or not 101 <= response.status <= 299:
            raise DialogError("only a 101-299 response with a To tag creates a dialog (§12.1.1)")
        if request.to.tag:
            raise DialogError("a request with a To tag is inside a dialog already")
        target = _contact_uri(request)
        if target is None:
            raise DialogError(f"the {request.method} has no Contact to use as remote target")
        return cls(
            DialogId(request.call_id, to_tag, request.from_.tag or ""),
            state=DialogState.CONFIRMED if response.status >= 200 else DialogState.EARLY,
            local=response.to,
            remote=request.from_,
            remote_target=target,
            route_set=request.record_routes,
            local_seq=None,
            remote_seq=request.cseq.seq,
            secure=secure,
        )

    # -- routing (§12.2.1.1) -----------------------------------------------------------------

    def request_target(self) -> tuple[str, list[NameAddr]]:
        """(Request-URI, Route values) for a request inside the dialog (§12.2.1.1).

        No route set: the remote target, no Route. Loose routing (first route has `lr`):
        the remote target, and the route set as Route. Strict routing: the first route as
        Request-URI, the rest of the route set and then the remote target as Route.
        """
        if not self.route_set:
            return self.remote_target, []
        first = self.route_set[0]
        if _is_loose(first):
            return self.remote_target, list(self.route_set)
        rest = [*self.route_set[1:], NameAddr(self.remote_target)]
        return _request_uri_from_route(first), rest

    @property
    def next_hop(self) -> str:
        """The URI the request goes to first (RFC 3263 resolves it): the first route, or the
        remote target when there is no route set (§8.1.2)."""
        return self.route_set[0].uri if self.route_set else self.remote_target

    # -- requests we send --------------------------------------------------------------------

    def create_request(
        self,
        method: str,
        *,
        via: Via | str,
        contact: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        content_type: str | None = None,
        max_forwards: int = 70,
    ) -> Request:
        """A request inside the dialog (§12.2.1.1); the local CSeq goes up by one.

        ACK and CANCEL have their own rules: use `create_ack` and `build_cancel`.
        """
        if method in ("ACK", "CANCEL"):
            raise DialogError(f"{method} is built with create_ack / build_cancel")
        if self.state is DialogState.TERMINATED:
            raise DialogError(f"{self!r} is terminated")
        seq = 1 if self.local_seq is None else self.local_seq + 1
        if seq >= 2**31:
            raise DialogError("the local CSeq would exceed 2**31 - 1 (§8.1.1.5)")
        request = self._build(method, seq, via, contact, headers, body, content_type, max_forwards)
        self.local_seq = seq
        return request

    def create_ack(
        self,
        invite: Request,
        *,
        via: Via | str,
        body: bytes = b"",
        content_type: str | None = None,
        max_forwards: int = 70,
    ) -> Request:
        """The ACK for a 2xx to `invite` (§13.2.2.4): built like any in-dialog request, with
        the INVITE's CSeq number, method ACK, and the INVITE's credentials. `via` should
        carry a new branch (or none: the layer's `send_stateless` adds one)."""
        if invite.method != "INVITE":
            raise DialogError(f"an ACK acknowledges an INVITE, not a {invite.method}")
        credentials = [
            (name, value)
            for key, name in (
                ("authorization", "Authorization"),
                ("proxy-authorization", "Proxy-Authorization"),
            )
            for value in invite.headers.get_lines(key)
        ]
        return self._build(
            "ACK", invite.cseq.seq, via, None, credentials, body, content_type, max_forwards
        )

    def _build(
        self,
        method: str,
        seq: int,
        via: Via | str,
        contact: str | None,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        content_type: str | None,
        max_forwards: int,
    ) -> Request:
        request_uri, routes = self.request_target()
        pairs = [("Route", str(route)) for route in routes]
        pairs.extend(headers)
        return new_request(
            method,
            request_uri,
            via=via,
            from_=str(self.local),
            to=str(self.remote),
            call_id=self.id.call_id,
            cseq=seq,
            max_forwards=max_forwards,
            contact=contact,
            headers=pairs,
            body=body,
            content_type=content_type,
        )

    def receive_response(self, request: Request, response: Response) -> None:
        """Update the dialog from a response to a request we sent in it (§12.1.2, §12.2.1.2,
        §13.2.2.4).

        * 1xx to the INVITE while early: a Contact updates the remote target;
        * 2xx to the INVITE while early: confirmed; the route set is recomputed from the
          2xx's Record-Route (reversed) and the remote target taken from its Contact;
        * 2xx to a target refresh request: the Contact replaces the remote target;
        * a 300-699 final to the INVITE that created an early dialog ends it;
        * 481 or 408 to any request ends the dialog (§12.2.1.2).
        """
        dialog_id = uac_dialog_id(response)
        if dialog_id is not None and dialog_id != self.id:
            raise DialogError(f"response for dialog {dialog_id} given to {self!r}")
        if response.status in (408, 481):
            self.state = DialogState.TERMINATED
            return
        contact = _contact_uri(response)
        if self.state is DialogState.EARLY and request.method == "INVITE":
            if response.status < 200:
                if contact is not None:
                    self.remote_target = contact
            elif response.status < 300:
                self.state = DialogState.CONFIRMED
                self.route_set = list(reversed(response.record_routes))
                if contact is not None:
                    self.remote_target = contact
            else:
                self.state = DialogState.TERMINATED
            return
        refresh = 200 <= response.status < 300 and request.method in TARGET_REFRESH_METHODS
        if refresh and contact is not None:
            self.remote_target = contact

    # -- requests we receive (§12.2.2) -------------------------------------------------------

    def receive_request(self, request: Request) -> None:
        """Check and account a request received inside the dialog (§12.2.2).

        Raises NoSuchDialog (481) when it belongs to another dialog and CSeqOutOfOrder (500)
        when its CSeq is lower than the remote sequence number; either way nothing changes.
        Otherwise records the CSeq and, for a target refresh request with Contact, replaces
        the remote target. ACK and CANCEL carry the INVITE's CSeq and change nothing.
        """
        if uas_dialog_id(request) != self.id:
            raise NoSuchDialog(f"{request.method} does not belong to {self!r}")
        if request.method in ("ACK", "CANCEL"):
            return
        seq = request.cseq.seq
        if self.remote_seq is not None and seq < self.remote_seq:
            raise CSeqOutOfOrder(
                f"CSeq {seq} is lower than the dialog's remote sequence number {self.remote_seq}"
            )
        self.remote_seq = seq
        if request.method in TARGET_REFRESH_METHODS:
            contact = _contact_uri(request)
            if contact is not None:
                self.remote_target = contact
        if request.method == "BYE":
            self.state = DialogState.TERMINATED

    def sent_response(self, response: Response) -> None:
        """Account a final response we (UAS) sent to the request that created the dialog:
        a 2xx confirms an early dialog, a 300-699 ends it (§12.1.1, §13.3.1)."""
        if self.state is not DialogState.EARLY or response.status < 200:
            return
        self.state = DialogState.CONFIRMED if response.status < 300 else DialogState.TERMINATED

    def terminate(self) -> None:
        """The dialog ended (BYE sent or answered, §15)."""
        self.state = DialogState.TERMINATED


class DialogSet:
    """The dialogs created by the responses to one INVITE we sent (forking, §12.1.2, §13.2.2.4).

    Each remote tag gets its own dialog: several early ones, and possibly several confirmed
    ones when more than one branch answers 2xx (the TU then ACKs and BYEs the extra ones). A
    300-699 final response ends every dialog still early.
    """

    def __init__(self, invite: Request, *, secure: bool = False) -> None:
        if invite.method not in DIALOG_CREATING_METHODS:
            raise DialogError(f"a {invite.method} creates no dialog")
        self.invite = invite
        self.secure = secure
        self.dialogs: dict[str, Dialog] = {}

    def receive_response(self, response: Response) -> Dialog | None:
        """Create or update the dialog of `response`; None when it concerns no dialog."""
        if response.cseq.seq != self.invite.cseq.seq or response.cseq.method != self.invite.method:
            raise DialogError("the response does not answer this dialog set's request")
        if response.status >= 300:
            for dialog in self.dialogs.values():
                if dialog.state is DialogState.EARLY:
                    dialog.state = DialogState.TERMINATED
            return None
        remote_tag = response.to.tag
        if not remote_tag or response.status == 100:
            return None
        existing = self.dialogs.get(remote_tag)
        if existing is not None:
            existing.receive_response(self.invite, response)
            return existing
        dialog = Dialog.as_uac(self.invite, response, secure=self.secure)
        self.dialogs[remote_tag] = dialog
        return dialog

    @property
    def early(self) -> list[Dialog]:
        return [d for d in self.dialogs.values() if d.state is DialogState.EARLY]

    @property
    def confirmed(self) -> list[Dialog]:
        return [d for d in self.dialogs.values() if d.state is DialogState.CONFIRMED]


def build_cancel(request: Request, *, max_forwards: int = 70) -> Request:
    """The CANCEL for `request` (§9.1).

    Request-URI, Call-ID, To, From and the CSeq number are those of the request; the CSeq
    method is CANCEL; the single Via is the request's top Via (so the CANCEL reaches the same
    server transaction and shares its branch); Route header fields are copied.
    """
    if request.method == "ACK":
        raise DialogError("an ACK cannot be cancelled (§9.1)")
    headers = request.headers
    pairs: list[tuple[str, str]] = [("Via", str(request.top_via))]
    pairs.append(("Max-Forwards", str(max_forwards)))
    pairs.extend(("From", value) for value in headers.get_lines("from"))
    pairs.extend(("To", value) for value in headers.get_lines("to"))
    pairs.extend(("Call-ID", value) for value in headers.get_lines("call-id"))
    pairs.append(("CSeq", f"{request.cseq.seq} CANCEL"))
    pairs.extend(("Route", value) for value in headers.get_lines("route"))
    pairs.append(("Content-Length", "0"))
    return Request("CANCEL", request.uri, pairs)
