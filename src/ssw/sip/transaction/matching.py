"""Which transaction a message belongs to (RFC 3261 §17.1.3, §17.2.3, §9.2).

Every rule here yields a dictionary key, so the layer finds a transaction with one lookup
whatever the number of transactions.

Server side (§17.2.3): a request whose top Via branch starts with the magic cookie
"z9hG4bK" matches by (branch, sent-by, method), where an ACK matches the INVITE it
acknowledges. Other requests come from RFC 2543 elements and match by Request-URI, To tag,
From tag, Call-ID, CSeq and top Via; their ACK and CANCEL find the INVITE through the same
fields without the To tag and CSeq method (the ACK's To tag must then equal the tag of the
response the transaction sent).

Client side (§17.1.3): a response matches by the top Via branch and the CSeq method.
"""

from __future__ import annotations

import secrets

from ssw.sip.address import via_sent_by
from ssw.sip.headers import Via
from ssw.sip.message import Request, Response

__all__ = [
    "MAGIC_COOKIE",
    "TransactionKey",
    "client_key",
    "dialog_invite_key",
    "invite_key_for",
    "is_rfc3261_branch",
    "is_rfc3261_request",
    "legacy_invite_key",
    "new_branch",
    "server_key",
]

MAGIC_COOKIE = "z9hG4bK"

TransactionKey = tuple[str, ...]


def new_branch() -> str:
    """A fresh branch: the magic cookie and 64 random bits, unique in space and time (§8.1.1.7)."""
    return MAGIC_COOKIE + secrets.token_hex(8)


def is_rfc3261_branch(branch: str | None) -> bool:
    """The branch carries the magic cookie and something after it (§17.2.3).

    A branch that is the bare cookie identifies nothing (RFC 4475 §3.2.1): such a request is
    matched by the RFC 2543 rules instead of colliding with every other one like it.
    """
    return (
        branch is not None and len(branch) > len(MAGIC_COOKIE) and branch.startswith(MAGIC_COOKIE)
    )


def is_rfc3261_request(request: Request) -> bool:
    """The request's top Via branch is an RFC 3261 transaction identifier (§17.2.3)."""
    return is_rfc3261_branch(request.top_via.branch)


def _via_identity(via: Via) -> str:
    """The top Via as compared by the RFC 2543 rules: transport, sent-by and parameters."""
    host, port = via_sent_by(via)
    params = ";".join(
        name if value is None else f"{name}={value}" for name, value in sorted(via.params.items())
    )
    return f"{via.transport.upper()} {host}:{port};{params}"


def server_key(request: Request, *, top_via: Via | None = None) -> TransactionKey:
    """The key of the server transaction `request` belongs to (§17.2.3).

    An ACK gets the key of the INVITE it acknowledges (a non-2xx ACK shares its branch).
    `top_via`, when given, is the request's top Via already decoded (as the layer has it
    after stamping received/rport), so it is not decoded again.
    Raises `HeaderError` when the request lacks Via, CSeq, Call-ID, From or To as needed.
    """
    via = request.top_via if top_via is None else top_via
    method = "INVITE" if request.method == "ACK" else request.method
    branch = via.branch
    if branch is not None and is_rfc3261_branch(branch):
        host, port = via_sent_by(via)
        return ("3261", branch, host, str(port), method)
    cseq = request.cseq
    return (
        "2543",
        request.uri,
        request.to.tag or "",
        request.from_.tag or "",
        request.call_id,
        str(cseq.seq),
        method,
        _via_identity(via),
    )


def legacy_invite_key(request: Request) -> TransactionKey:
    """The key by which an RFC 2543 ACK or CANCEL finds its INVITE (§17.2.3, §9.2).

    Computed alike from the INVITE and from the ACK/CANCEL: Request-URI, From tag, Call-ID,
    CSeq number and top Via; the To tag and the CSeq method are left out.
    """
    return (
        "2543-invite",
        request.uri,
        request.from_.tag or "",
        request.call_id,
        str(request.cseq.seq),
        _via_identity(request.top_via),
    )


def dialog_invite_key(request: Request) -> TransactionKey:
    """Call-ID, From tag and CSeq number: what an INVITE shares with its ACK and CANCEL
    whatever their branch. Not a transaction key of RFC 3261; the layer uses it only to
    match an ACK or CANCEL that carries a branch of its own (see its lenient matching)."""
    return ("dialog-invite", request.call_id, request.from_.tag or "", str(request.cseq.seq))


def invite_key_for(request: Request) -> TransactionKey:
    """The key of the INVITE server transaction an ACK or CANCEL refers to (§17.2.3, §9.2).

    With the magic cookie that is the INVITE's own key (same branch and sent-by); without
    it, the RFC 2543 `legacy_invite_key`.
    """
    via = request.top_via
    branch = via.branch
    if branch is not None and is_rfc3261_branch(branch):
        host, port = via_sent_by(via)
        return ("3261", branch, host, str(port), "INVITE")
    return legacy_invite_key(request)


def client_key(message: Request | Response) -> TransactionKey | None:
    """The key of the client transaction for a request sent or a response received (§17.1.3).

    The top Via branch and the CSeq method (a CANCEL has the INVITE's branch but its own
    transaction). None when the top Via has no branch: such a response matches nothing.
    """
    branch = message.top_via.branch
    if branch is None:
        return None
    return ("client", branch, message.cseq.method)
