"""RFC 4475 torture messages through the transaction layer (`../shared/conformance/rfc4475`).

The layer must never fail on a message the parser accepts: each one either starts or
matches a transaction, reaches the TU, or is reported as InvalidMessage.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from fakelink import ALICE, drain

from ssw.sip.errors import SipError
from ssw.sip.message import Request, parse_message
from ssw.sip.transaction import (
    InvalidMessage,
    InviteServerTransaction,
    RequestReceived,
    State,
    TransactionLayer,
)
from ssw.sip.transaction.matching import is_rfc3261_request


def _corpus(shared_dir: Path) -> Path:
    folder = shared_dir / "conformance" / "rfc4475"
    if not (folder / "MANIFEST.tsv").is_file():
        pytest.skip(f"RFC 4475 messages not found in {folder}")
    return folder


def _load(folder: Path, name: str) -> Request:
    message = parse_message((folder / name).read_bytes())
    assert isinstance(message, Request)
    return message


def test_every_parsable_message_is_handled_without_failure(shared_dir: Path) -> None:
    folder = _corpus(shared_dir)
    with (folder / "MANIFEST.tsv").open(newline="") as manifest:
        rows = list(csv.DictReader(manifest, delimiter="\t"))
    assert rows
    handled = 0
    for row in rows:
        try:
            message = parse_message((folder / row["file"]).read_bytes())
        except SipError:
            continue  # the parser's concern, tested with the message layer
        layer = TransactionLayer()
        layer.receive(message, ALICE, 0.0)
        events = drain(layer)
        assert len(events) == 1, (row["file"], events)
        if isinstance(events[0], InvalidMessage):
            assert layer.transaction_count == 0
        handled += 1
        # Everything settles: the layer ends empty once all timers have run.
        layer.handle_timer(1000.0)
        drain(layer)
        if layer.transaction_count:
            (transaction,) = layer.server_transactions()
            assert transaction.state in (State.TRYING, State.PROCEEDING)  # awaits the TU
    assert handled >= 20


def test_rfc2543_invite_is_matched_without_branch(shared_dir: Path) -> None:
    folder = _corpus(shared_dir)
    invite = _load(folder, "inv2543.dat")
    assert not is_rfc3261_request(invite)
    layer = TransactionLayer()
    layer.receive(invite, ALICE, 0.0)
    (event,) = drain(layer)
    assert isinstance(event, RequestReceived)
    server = event.transaction
    assert isinstance(server, InviteServerTransaction)
    layer.data_to_send()
    # The same datagram again is a retransmission: absorbed, the 100 Trying re-sent.
    layer.receive(_load(folder, "inv2543.dat"), ALICE, 0.5)
    assert drain(layer) == []
    assert [o.data.split(b"\r\n")[0] for o in layer.data_to_send()] == [b"SIP/2.0 100 Trying"]


def test_bare_magic_cookie_falls_back_to_rfc2543_matching(shared_dir: Path) -> None:
    folder = _corpus(shared_dir)
    first = _load(folder, "badbranch.dat")
    assert not is_rfc3261_request(first)
    layer = TransactionLayer()
    layer.receive(first, ALICE, 0.0)
    layer.receive(_load(folder, "badbranch.dat"), ALICE, 0.1)  # retransmission: absorbed
    other = (folder / "badbranch.dat").read_bytes().replace(b"CSeq: 8", b"CSeq: 9")
    layer.receive(parse_message(other), ALICE, 0.2)  # another request, not a copy
    assert [type(e) for e in drain(layer)] == [RequestReceived, RequestReceived]
    assert layer.transaction_count == 2
