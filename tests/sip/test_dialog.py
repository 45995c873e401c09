"""Dialogs (RFC 3261 §12, §13.2.2.4, §9.1) with real messages."""

from __future__ import annotations

import pytest

from ssw.sip.dialog import (
    CSeqOutOfOrder,
    Dialog,
    DialogError,
    DialogId,
    DialogSet,
    DialogState,
    NoSuchDialog,
    build_cancel,
    uac_dialog_id,
    uas_dialog_id,
)
from ssw.sip.message import Request, Response, parse_message

VIA = "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-next"


def _request(text: str) -> Request:
    message = parse_message(text.replace("\n", "\r\n").encode())
    assert isinstance(message, Request)
    return message


def _response(text: str) -> Response:
    message = parse_message(text.replace("\n", "\r\n").encode())
    assert isinstance(message, Response)
    return message


INVITE = """\
INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:alice@pc33.atlanta.example.com>
Proxy-Authorization: Digest username="alice", realm="atlanta.example.com", nonce="n",
 uri="sip:bob@biloxi.example.com", response="r"
Content-Length: 0

"""


def _answer(status: int, reason: str, tag: str | None, contact: str | None, rr: list[str]) -> str:
    lines = [
        f"SIP/2.0 {status} {reason}",
        "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1",
    ]
    lines += [f"Record-Route: {value}" for value in rr]
    lines += [
        "To: Bob <sip:bob@biloxi.example.com>" + (f";tag={tag}" if tag else ""),
        "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774",
        "Call-ID: a84b4c76e66710@pc33.atlanta.example.com",
        "CSeq: 314159 INVITE",
    ]
    if contact:
        lines.append(f"Contact: {contact}")
    lines += ["Content-Length: 0", "", ""]
    return "\n".join(lines)


RR = ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]


def test_uac_early_then_confirmed_with_route_set_recomputed() -> None:
    invite = _request(INVITE)
    ringing = _response(_answer(180, "Ringing", "314159", "<sip:bob@192.0.2.4>", RR))
    dialog = Dialog.as_uac(invite, ringing)
    assert dialog.id == DialogId("a84b4c76e66710@pc33.atlanta.example.com", "1928301774", "314159")
    assert dialog.state is DialogState.EARLY
    # §12.1.2: Record-Route reversed at the UAC.
    assert [r.uri for r in dialog.route_set] == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    assert dialog.remote_target == "sip:bob@192.0.2.4"
    assert dialog.local_seq == 314159 and dialog.remote_seq is None
    ok = _response(_answer(200, "OK", "314159", "<sip:bob@192.0.2.5>", ["<sip:p3.example.com;lr>"]))
    dialog.receive_response(invite, ok)
    assert dialog.state is DialogState.CONFIRMED
    assert [r.uri for r in dialog.route_set] == ["sip:p3.example.com;lr"]
    assert dialog.remote_target == "sip:bob@192.0.2.5"


def test_a_response_without_tag_or_a_100_creates_no_dialog() -> None:
    invite = _request(INVITE)
    with pytest.raises(DialogError):
        Dialog.as_uac(invite, _response(_answer(180, "Ringing", None, None, [])))
    with pytest.raises(DialogError):
        Dialog.as_uac(invite, _response(_answer(100, "Trying", "x", None, [])))
    dialogs = DialogSet(invite)
    assert dialogs.receive_response(_response(_answer(100, "Trying", None, None, []))) is None
    assert dialogs.receive_response(_response(_answer(180, "Ringing", None, None, []))) is None
    assert dialogs.dialogs == {}


def test_forking_gives_several_early_dialogs_and_confirms_each_2xx() -> None:
    invite = _request(INVITE)
    dialogs = DialogSet(invite)
    a = dialogs.receive_response(_response(_answer(180, "Ringing", "a", "<sip:a@192.0.2.7>", [])))
    b = dialogs.receive_response(_response(_answer(183, "Progress", "b", "<sip:b@192.0.2.8>", [])))
    assert a is not None and b is not None and a is not b
    assert dialogs.early == [a, b]
    confirmed = dialogs.receive_response(
        _response(_answer(200, "OK", "b", "<sip:b@192.0.2.9>", []))
    )
    assert confirmed is b
    assert dialogs.confirmed == [b] and dialogs.early == [a]
    assert b.remote_target == "sip:b@192.0.2.9"
    # A second branch answers 2xx too: another confirmed dialog (the TU ACKs and BYEs it).
    c = dialogs.receive_response(_response(_answer(200, "OK", "c", "<sip:c@192.0.2.10>", [])))
    assert c is not None and c.state is DialogState.CONFIRMED
    assert len(dialogs.confirmed) == 2
    # A final error from a branch ends what is still early.
    dialogs.receive_response(_response(_answer(487, "Request Terminated", "a", None, [])))
    assert a.state is DialogState.TERMINATED
    assert b.state is DialogState.CONFIRMED


def test_early_dialog_ends_on_a_final_error() -> None:
    invite = _request(INVITE)
    dialogs = DialogSet(invite)
    early = dialogs.receive_response(_response(_answer(180, "Ringing", "a", "<sip:a@h>", [])))
    dialogs.receive_response(_response(_answer(486, "Busy Here", "z", None, [])))
    assert early is not None and early.state is DialogState.TERMINATED
    assert dialogs.early == [] and dialogs.confirmed == []


def _uas_dialog() -> tuple[Request, Dialog]:
    invite = _request(
        INVITE.replace(
            "Max-Forwards: 70\n",
            "Max-Forwards: 69\nRecord-Route: <sip:p1.example.com;lr>\n"
            "Record-Route: <sip:p2.example.com;lr>\n",
        )
    )
    ok = _response(_answer(200, "OK", "bob-1", "<sip:bob@192.0.2.4>", []))
    return invite, Dialog.as_uas(invite, ok)


def test_uas_dialog_and_a_bye_with_loose_routing() -> None:
    invite, dialog = _uas_dialog()
    assert dialog.id == DialogId("a84b4c76e66710@pc33.atlanta.example.com", "bob-1", "1928301774")
    assert dialog.state is DialogState.CONFIRMED
    assert [r.uri for r in dialog.route_set] == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    assert dialog.remote_target == "sip:alice@pc33.atlanta.example.com"
    assert dialog.remote_seq == 314159 and dialog.local_seq is None
    bye = dialog.create_request("BYE", via=VIA)
    parsed = parse_message(bytes(bye))  # what goes on the wire parses back
    assert isinstance(parsed, Request)
    assert parsed.method == "BYE"
    assert parsed.uri == "sip:alice@pc33.atlanta.example.com"
    assert [r.uri for r in parsed.routes] == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    assert parsed.from_.tag == "bob-1" and parsed.from_.uri == "sip:bob@biloxi.example.com"
    assert parsed.to.tag == "1928301774"
    assert parsed.call_id == invite.call_id
    assert parsed.cseq.seq == 1 and parsed.cseq.method == "BYE"
    assert dialog.local_seq == 1
    assert dialog.create_request("INFO", via=VIA).cseq.seq == 2
    assert dialog.next_hop == "sip:p1.example.com;lr"


def test_strict_routing_puts_the_first_route_in_the_request_uri() -> None:
    invite = _request(INVITE)
    ok = _response(
        _answer(
            200,
            "OK",
            "t",
            "<sip:bob@192.0.2.4>",
            ["<sip:p2.example.com>", "<sip:p1.example.com;lr>"],
        )
    )
    dialog = Dialog.as_uac(invite, ok)
    # Route set (reversed): p1 (loose), p2 (strict). The first is loose: loose routing.
    assert dialog.request_target()[0] == "sip:bob@192.0.2.4"
    strict = Dialog.as_uac(
        invite,
        _response(
            _answer(
                200,
                "OK",
                "t",
                "<sip:bob@192.0.2.4>",
                ["<sip:p2.example.com;lr>", "<sip:p1.example.com;maddr=10.0.0.1>"],
            )
        ),
    )
    request = strict.create_request("BYE", via=VIA)
    assert request.uri == "sip:p1.example.com;maddr=10.0.0.1"
    assert [str(r) for r in request.routes] == [
        "<sip:p2.example.com;lr>",
        "<sip:bob@192.0.2.4>",
    ]


def test_ack_for_2xx_keeps_the_invite_cseq_and_credentials() -> None:
    invite = _request(INVITE)
    ok = _response(_answer(200, "OK", "t", "<sip:bob@192.0.2.4>", ["<sip:p1.example.com;lr>"]))
    dialog = Dialog.as_uac(invite, ok)
    ack = dialog.create_ack(invite, via="SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-ack")
    assert ack.method == "ACK"
    assert ack.cseq.seq == 314159 and ack.cseq.method == "ACK"
    assert ack.uri == "sip:bob@192.0.2.4"
    assert [r.uri for r in ack.routes] == ["sip:p1.example.com;lr"]
    assert ack.headers.get("proxy-authorization") == invite.headers.get("proxy-authorization")
    assert ack.to.tag == "t"
    assert dialog.local_seq == 314159  # an ACK does not consume a sequence number
    with pytest.raises(DialogError):
        dialog.create_request("ACK", via=VIA)
    with pytest.raises(DialogError):
        dialog.create_ack(dialog.create_request("BYE", via=VIA), via=VIA)


def test_cancel_copies_the_request_identity() -> None:
    invite = _request(
        INVITE.replace("Max-Forwards: 70\n", "Max-Forwards: 70\nRoute: <sip:p1.example.com;lr>\n")
    )
    cancel = build_cancel(invite)
    assert cancel.method == "CANCEL" and cancel.uri == invite.uri
    assert cancel.cseq.seq == 314159 and cancel.cseq.method == "CANCEL"
    assert [str(v) for v in cancel.vias] == [str(invite.top_via)]
    assert cancel.from_ == invite.from_ and cancel.to == invite.to
    assert cancel.call_id == invite.call_id
    assert [str(r) for r in cancel.routes] == ["<sip:p1.example.com;lr>"]
    assert cancel.headers.get("proxy-authorization") is None
    with pytest.raises(DialogError):
        build_cancel(
            _request(INVITE.replace("INVITE sip", "ACK sip").replace("314159 INVITE", "314159 ACK"))
        )


def _in_dialog(
    method: str, cseq: int, *, tag: str = "bob-1", contact: str | None = None
) -> Request:
    return _request(
        f"{method} sip:bob@192.0.2.4 SIP/2.0\n"
        "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK-in-dialog\n"
        "Max-Forwards: 70\n"
        f"To: Bob <sip:bob@biloxi.example.com>;tag={tag}\n"
        "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n"
        "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\n"
        f"CSeq: {cseq} {method}\n"
        + (f"Contact: {contact}\n" if contact else "")
        + "Content-Length: 0\n\n"
    )


def test_in_dialog_requests_are_checked_and_refresh_the_target() -> None:
    _, dialog = _uas_dialog()
    reinvite = _in_dialog("INVITE", 314160, contact="<sip:alice@192.0.2.99>")
    assert uas_dialog_id(reinvite) == dialog.id
    dialog.receive_request(reinvite)
    assert dialog.remote_seq == 314160
    assert dialog.remote_target == "sip:alice@192.0.2.99"
    dialog.receive_request(_in_dialog("ACK", 314160))
    assert dialog.remote_seq == 314160
    # Lower CSeq: 500, and nothing changes.
    with pytest.raises(CSeqOutOfOrder) as error:
        dialog.receive_request(_in_dialog("UPDATE", 314150, contact="<sip:x@192.0.2.1>"))
    assert error.value.status == 500
    assert dialog.remote_seq == 314160 and dialog.remote_target == "sip:alice@192.0.2.99"
    # Another dialog's To tag: 481.
    with pytest.raises(NoSuchDialog) as missing:
        dialog.receive_request(_in_dialog("BYE", 314170, tag="other"))
    assert missing.value.status == 481
    dialog.receive_request(_in_dialog("UPDATE", 314171, contact="<sip:alice@192.0.2.100>"))
    assert dialog.remote_target == "sip:alice@192.0.2.100"
    dialog.receive_request(_in_dialog("BYE", 314172))
    assert dialog.state is DialogState.TERMINATED
    with pytest.raises(DialogError):
        dialog.create_request("BYE", via=VIA)


def test_uac_target_refresh_and_481_end() -> None:
    invite = _request(INVITE)
    ok = _response(_answer(200, "OK", "t", "<sip:bob@192.0.2.4>", []))
    dialog = Dialog.as_uac(invite, ok)
    assert uac_dialog_id(ok) == dialog.id
    reinvite = dialog.create_request("INVITE", via=VIA, contact="<sip:alice@192.0.2.10>")
    assert reinvite.cseq.seq == 314160
    refreshed = _response(
        _answer(200, "OK", "t", "<sip:bob@192.0.2.44>", []).replace(
            "314159 INVITE", "314160 INVITE"
        )
    )
    dialog.receive_response(reinvite, refreshed)
    assert dialog.remote_target == "sip:bob@192.0.2.44"
    with pytest.raises(DialogError):
        dialog.receive_response(reinvite, _response(_answer(200, "OK", "other", None, [])))
    info = dialog.create_request("INFO", via=VIA)
    dialog.receive_response(info, _response(_answer(481, "Gone", "t", None, [])))
    assert dialog.state is DialogState.TERMINATED


def test_uas_early_dialog_is_confirmed_or_ended_by_the_final_response() -> None:
    invite = _request(INVITE)
    ringing = _response(_answer(180, "Ringing", "bob-2", "<sip:bob@192.0.2.4>", []))
    dialog = Dialog.as_uas(invite, ringing)
    assert dialog.state is DialogState.EARLY
    dialog.sent_response(_response(_answer(200, "OK", "bob-2", "<sip:bob@192.0.2.4>", [])))
    assert dialog.state is DialogState.CONFIRMED
    other = Dialog.as_uas(invite, ringing)
    other.sent_response(_response(_answer(486, "Busy Here", "bob-2", None, [])))
    assert other.state is DialogState.TERMINATED
    with pytest.raises(DialogError):
        Dialog.as_uas(invite, _response(_answer(200, "OK", None, None, [])))


def test_subscribe_creates_a_dialog_at_the_notifier() -> None:
    subscribe = _request(
        INVITE.replace("INVITE sip:bob", "SUBSCRIBE sip:bob")
        .replace("314159 INVITE", "7 SUBSCRIBE")
        .replace("Content-Length: 0", "Event: presence\nExpires: 600\nContent-Length: 0")
    )
    accepted = _response(
        _answer(202, "Accepted", "n-1", "<sip:bob@192.0.2.4>", []).replace(
            "314159 INVITE", "7 SUBSCRIBE"
        )
    )
    dialog = Dialog.as_uas(subscribe, accepted)
    assert dialog.state is DialogState.CONFIRMED
    assert dialog.remote_seq == 7
    notify = dialog.create_request(
        "NOTIFY",
        via=VIA,
        contact="<sip:bob@192.0.2.4>",
        headers=[("Event", "presence"), ("Subscription-State", "active;expires=600")],
    )
    assert notify.to.tag == "1928301774" and notify.from_.tag == "n-1"
    assert notify.headers.get("event") == "presence"
    # The subscriber sees the 202 as the dialog's creation (§12.1.2, RFC 6665 §4.1.2.1).
    dialogs = DialogSet(subscribe)
    created = dialogs.receive_response(accepted)
    assert created is not None and created.id == DialogId(subscribe.call_id, "1928301774", "n-1")
    with pytest.raises(DialogError):
        DialogSet(
            _request(INVITE.replace("INVITE sip", "OPTIONS sip").replace(" INVITE", " OPTIONS"))
        )
    with pytest.raises(DialogError):
        Dialog.as_uas(_in_dialog("INVITE", 9), accepted)
