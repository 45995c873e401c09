"""Settling on one codec after an answer with several (RFC 3264 §6.1, §7; codec_settle.py).

ECSS QA oa_exchange/oa_exchange.json: `oa_send_two_codecs_in_answer_180` (the callee answers
`0 8` in a reliable 180 and waits for an UPDATE offering one codec) and `..._200` (the
answer in the 200, a re-INVITE after the ACK).
"""

from __future__ import annotations

from call_harness import ANSWER, CALLER_ADDR, OFFER, Bench
from media_harness import RELAY_HOST, media_bench

from ssw.core.call.codec_settle import codec_to_settle, narrowed_offer, versions_added
from ssw.sip.message import Request
from ssw.sip.sdp import SessionDescription

# the caller offers PCMA, PCMU and telephone-events (as the QA suite's tester does)
OFFER3 = OFFER.replace(b"RTP/AVP 0\r\n", b"RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\n"
                       b"a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n")
TWO = ANSWER.replace(b"RTP/AVP 0\r\n", b"RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n"
                     b"a=rtpmap:8 PCMA/8000\r\n")
SETTLED = ANSWER.replace(b"o=bob 2 2", b"o=bob 2 3")
NO_100REL = {"supported": "timer"}


def _stream(body: bytes) -> tuple[str, int, list[str], int]:
    sd = SessionDescription.parse(body)
    connection = sd.effective_connection(sd.media[0])
    assert connection is not None
    return connection.address, sd.media[0].port, list(sd.media[0].formats), \
        sd.origin.session_version


def _to(bench: Bench, address: object, method: str) -> list[Request]:
    return [r for r in bench.port.sent(method) if bench.port.dest_of(r) == address]


def test_two_codecs_in_the_200_are_settled_by_a_re_invite_to_each_side() -> None:
    bench, media = media_bench()
    bench.caller_invite(body=OFFER3, **NO_100REL)  # type: ignore[arg-type]
    [invite] = bench.port.sent("INVITE")
    callee = bench.port.dest_of(invite)
    bench.callee_answers(invite, 180)
    bench.callee_answers(invite, 200, body=TWO)
    # RFC 3264 §7: the offerer settles on the answer's first codec once the dialog is
    # confirmed (ACK first, then the re-INVITE)
    [_, settle] = _to(bench, callee, "INVITE")
    assert [a.cseq.seq for a in bench.port.acks()] == [invite.cseq.seq]
    assert _stream(settle.body)[:3] == (RELAY_HOST, 20002, ["0"])
    assert _stream(settle.body)[3] == _stream(invite.body)[3] + 1  # §8: the next version
    ok = bench.port.answers(bench.invite_txn)[-1]
    assert ok.status == 200 and _stream(ok.body)[2] == ["0", "8"]  # what the callee said
    bench.callee_answers(settle, 200, body=SETTLED)
    assert bench.port.acks()[-1].cseq.seq == settle.cseq.seq
    last = media.commands("update")[-1]
    assert (last["leg"], last["payload_type"]) == (1, 0)
    assert _to(bench, CALLER_ADDR, "INVITE") == []  # not before the caller's ACK
    bench.caller_ack()
    [to_caller] = _to(bench, CALLER_ADDR, "INVITE")
    assert _stream(to_caller.body)[:3] == (RELAY_HOST, 20000, ["0"])
    assert _stream(to_caller.body)[3] == _stream(ok.body)[3] + 1
    before = len(media.commands("update"))
    bench.callee_answers(to_caller, 200, tag="alice", body=OFFER.replace(b"o=alice 1 1",
                                                                         b"o=alice 1 2"))
    assert len(media.commands("update")) == before + 1  # the relay follows, nobody else
    assert len(_to(bench, callee, "INVITE")) == 2 and bench.port.sent("UPDATE") == []


def test_two_codecs_in_a_reliable_180_are_settled_by_an_update_after_the_prack() -> None:
    bench, media = media_bench()
    txn = bench.caller_invite(body=OFFER3, **NO_100REL)  # type: ignore[arg-type]
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 180, body=TWO, headers=[("Require", "100rel"),
                                                         ("RSeq", "1")])
    [prack] = bench.port.sent("PRACK")
    assert bench.port.sent("UPDATE") == []  # RFC 3311 §5.1: not before the PRACK's 2xx
    bench.callee_answers(prack, 200)
    # no Allow in the 180: its 100rel is taken for UPDATE support (as ECSS-10 does)
    [update] = bench.port.sent("UPDATE")
    assert _stream(update.body)[:3] == (RELAY_HOST, 20002, ["0"])
    bench.callee_answers(update, 200, body=SETTLED)
    assert media.commands("update")[-1]["leg"] == 1
    ring = bench.port.answers(txn)[-1]
    assert ring.status == 180 and _stream(ring.body)[2] == ["0", "8"]  # unreliable preview
    bench.callee_answers(invite, 200)  # its 200 has no SDP (the answer was in the 180)
    ok = bench.port.answers(txn)[-1]
    assert ok.status == 200 and ok.body == ring.body  # RFC 3261 §13.2.1: the same answer
    bench.caller_ack()
    [to_caller] = _to(bench, CALLER_ADDR, "INVITE")
    assert _stream(to_caller.body)[2] == ["0"]


def test_a_callee_whose_allow_lacks_update_is_settled_after_the_answer() -> None:
    bench, _ = media_bench()
    bench.caller_invite(body=OFFER3)
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 183, body=TWO, headers=[
        ("Require", "100rel"), ("RSeq", "1"), ("Allow", "INVITE, ACK, BYE, PRACK")])
    bench.caller_request("PRACK", headers=[bench.rack(101)])
    [prack] = bench.port.sent("PRACK")
    bench.callee_answers(prack, 200)
    assert bench.port.sent("UPDATE") == []
    bench.callee_answers(invite, 200)
    settle = bench.port.sent("INVITE")[-1]
    assert settle is not invite and _stream(settle.body)[2] == ["0"]


def test_an_answer_with_one_codec_needs_no_new_offer() -> None:
    bench, _ = media_bench()
    bench.establish(body=OFFER3)
    assert len(bench.port.sent("INVITE")) == 1 and bench.port.sent("UPDATE") == []


def test_without_media_the_sdp_passes_end_to_end_and_nothing_is_settled() -> None:
    bench = Bench()
    bench.caller_invite(body=OFFER3)
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 200, body=TWO)
    bench.caller_ack()
    assert len(bench.port.sent("INVITE")) == 1


def test_a_relayed_body_after_the_switchs_own_offer_has_a_higher_version() -> None:
    bench, _ = media_bench()
    bench.caller_invite(body=OFFER3)
    [invite] = bench.port.sent("INVITE")
    bench.callee_answers(invite, 200, body=TWO)
    bench.caller_ack()
    settle = bench.port.sent("INVITE")[-1]
    bench.callee_answers(settle, 200, body=SETTLED)
    [to_caller] = _to(bench, CALLER_ADDR, "INVITE")
    bench.callee_answers(to_caller, 200, tag="alice", body=OFFER3)
    # the caller's next offer counts on from its own version 1: the callee saw 2 from us
    txn = bench.caller_request("INVITE", body=OFFER.replace(b"o=alice 1 1", b"o=alice 1 2"))
    relayed = bench.port.sent("INVITE")[-1]
    assert bench.port.dest_of(relayed) == bench.port.dest_of(invite)
    assert relayed is not settle and _stream(relayed.body)[3] == 3
    bench.callee_answers(relayed, 200, body=SETTLED.replace(b"o=bob 2 3", b"o=bob 2 4"))
    [ok] = bench.port.answers(txn)
    assert _stream(ok.body)[3] == 5  # the callee's 4, and the caller saw 3 from us


def test_narrowed_offer_keeps_the_telephone_events_both_bodies_have() -> None:
    answer = TWO.replace(b"RTP/AVP 0 8\r\n",
                         b"RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n")
    codec = codec_to_settle(answer)
    assert codec is not None and codec.encoding == "PCMU"
    assert _stream(narrowed_offer(OFFER3, codec, answer) or b"")[2:] == (["0", "101"], 2)
    assert _stream(narrowed_offer(OFFER3, codec, TWO) or b"")[2] == ["0"]
    assert narrowed_offer(OFFER, codec) is None  # one codec already
    assert codec_to_settle(answer.replace(b" 8 101", b" 101")) is None
    assert _stream(versions_added(OFFER, 2))[3] == 3 and versions_added(b"junk", 1) == b"junk"
