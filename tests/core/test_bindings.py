"""REGISTER binding rules (RFC 3261 §10.3) without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ssw.core.bindings import ExpiryLimits, Source, apply_register, contact_header_values
from ssw.sip.message import parse_message
from ssw.storage.records import Binding

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
SOURCE = Source("127.0.0.1", 5070, "udp")
LIMITS = ExpiryLimits(minimum=60, maximum=3600)


def register(contacts: list[str], *, expires: int | None = None, cseq: int = 1,
             call_id: str = "reg-1") -> bytes:
    lines = [
        "REGISTER sip:127.0.0.1 SIP/2.0",
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1",
        "From: <sip:100@example.org>;tag=a",
        "To: <sip:100@example.org>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        "Max-Forwards: 70",
    ]
    lines += [f"Contact: {c}" for c in contacts]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def apply(data: bytes, current: list[Binding] | None = None):  # type: ignore[no-untyped-def]
    request = parse_message(data)
    return apply_register(request, "100@example.org", current or [], now=NOW,  # type: ignore[arg-type]
                          limits=LIMITS, source=SOURCE)


def test_new_bindings_with_q_and_expiry() -> None:
    outcome = apply(register(["<sip:100@127.0.0.1:5070>;q=0.5", "<sip:100@127.0.0.1:5071>"],
                             expires=120))
    assert outcome.ok
    assert [b.contact for b in outcome.bindings] == ["sip:100@127.0.0.1:5071",
                                                     "sip:100@127.0.0.1:5070"]
    assert outcome.bindings[1].q == 0.5
    assert outcome.bindings[0].expires_at == NOW + timedelta(seconds=120)
    assert contact_header_values(outcome.bindings, NOW)[1] == \
        "<sip:100@127.0.0.1:5070>;expires=120;q=0.5"


def test_expiry_capped_at_maximum_and_too_brief_is_423() -> None:
    capped = apply(register(["<sip:100@127.0.0.1:5070>"], expires=99999))
    assert capped.bindings[0].expires_at == NOW + timedelta(seconds=3600)
    brief = apply(register(["<sip:100@127.0.0.1:5070>;expires=10"]))
    assert (brief.status, brief.min_expires) == (423, 60)
    assert brief.bindings == ()


def test_unregister_one_and_all() -> None:
    first = apply(register(["<sip:100@127.0.0.1:5070>", "<sip:100@127.0.0.1:5071>"]))
    one = apply(register(["<sip:100@127.0.0.1:5070>"], expires=0, cseq=2), list(first.bindings))
    assert [b.contact for b in one.bindings] == ["sip:100@127.0.0.1:5071"]
    everything = apply(register(["*"], expires=0, cseq=3), list(one.bindings))
    assert everything.ok and everything.bindings == ()


def test_star_needs_expires_zero_and_stale_cseq_is_500() -> None:
    assert apply(register(["*"], expires=60)).status == 400
    first = apply(register(["<sip:100@127.0.0.1:5070>"], cseq=5))
    stale = apply(register(["<sip:100@127.0.0.1:5070>"], cseq=4), list(first.bindings))
    assert stale.status == 500
    other_call = apply(register(["<sip:100@127.0.0.1:5070>"], cseq=1, call_id="reg-2"),
                       list(first.bindings))
    assert other_call.ok
