"""The media profile of a party's alias: offers with only refused codecs are answered 488."""

from __future__ import annotations

from call_harness import ANSWER, OFFER, Bench

from ssw.core.call.media_policy import MeetMeRoom, offer_refused

G729_ONLY = (OFFER.replace(b"o=alice 1 1", b"o=alice 1 2")
             .replace(b"RTP/AVP 0", b"RTP/AVP 18 101")
             + b"a=rtpmap:18 G729/8000\r\na=rtpmap:101 telephone-event/8000\r\n")
CALLEE_G729 = (ANSWER.replace(b"o=bob 2 2", b"o=bob 2 3")
               .replace(b"RTP/AVP 0", b"RTP/AVP 18") + b"a=rtpmap:18 G729/8000\r\n")
CALLEE_PCMU = ANSWER.replace(b"o=bob 2 2", b"o=bob 2 4")
DROP_729 = frozenset({"g729"})


class ProfilePolicy:
    """`MediaPolicy` with a media profile refusing G.729 on some numbers."""

    def __init__(self, *numbers: str) -> None:
        self.numbers = numbers

    async def recording_wanted(self, domain: str, caller: str, callee: str) -> bool:
        return False

    async def meet_me(self, domain: str, number: str) -> MeetMeRoom | None:
        return None

    async def refused_codecs(self, domain: str, number: str) -> frozenset[str]:
        return DROP_729 if number in self.numbers else frozenset()


def _bench(*numbers: str) -> Bench:
    bench = Bench()
    bench.b2bua.media_policy = ProfilePolicy(*numbers)
    return bench


def test_offer_refused_only_when_no_allowed_codec_is_left() -> None:
    assert offer_refused(G729_ONLY, DROP_729)  # telephone-event is no codec of its own
    assert not offer_refused(OFFER, DROP_729)
    assert not offer_refused(G729_ONLY.replace(b"RTP/AVP 18", b"RTP/AVP 18 0"), DROP_729)
    assert not offer_refused(G729_ONLY, frozenset())


def test_callee_update_with_refused_codec_is_answered_488_then_allowed_one_relayed() -> None:
    # ECSS QA update/uas_recv_488_to_update: 200's profile drops G.729.
    bench = _bench("200")
    invite = bench.establish()
    refused = bench.callee_request("UPDATE", invite, cseq=invite.cseq.seq + 1,
                                   body=CALLEE_G729)
    assert bench.port.statuses(refused) == [488]
    assert bench.port.sent("UPDATE") == []  # not relayed to the caller
    accepted = bench.callee_request("UPDATE", invite, cseq=invite.cseq.seq + 2,
                                    body=CALLEE_PCMU)
    # relayed as a re-INVITE: the caller did not list UPDATE in Allow (RFC 3311 §5.1)
    reinvite = bench.port.sent("INVITE")[-1]
    assert reinvite.body == CALLEE_PCMU
    assert bench.port.statuses(accepted) == []


def test_caller_reinvite_with_refused_codec_is_answered_488() -> None:
    bench = _bench("100")
    bench.establish()
    txn = bench.caller_request("INVITE", body=G729_ONLY)
    assert bench.port.statuses(txn)[-1] == 488
    assert len(bench.port.sent("INVITE")) == 1  # only the call's own INVITE went out
    assert len(bench.b2bua.calls) == 1  # the call goes on


def test_caller_invite_with_refused_codec_is_refused_488() -> None:
    bench = _bench("100")
    txn = bench.caller_invite(body=G729_ONLY)
    assert bench.port.statuses(txn)[-1] == 488
    assert bench.port.sent("INVITE") == []
    [record] = bench.cdrs.records
    assert record.release_cause == 65


def test_without_profile_the_offer_is_relayed() -> None:
    bench = _bench()
    bench.establish()
    bench.caller_request("INVITE", body=G729_ONLY)
    assert len(bench.port.sent("INVITE")) == 2
