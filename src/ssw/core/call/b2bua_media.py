"""The B2BUA's side of the media server (docs/MEDIA.md), mixed into `B2bua`.

Every call with a relay: the offer checked and rewritten at the INVITE (`_open_relay`), every
later SDP body passed through the relay by the legs' sink (`_sink`), music on hold on Hold,
the caller's leg wrapped in `CallerMedia` (ringback, announcements, recording), the media
server's events (`on_media_event`: RTP timeout, end of an announcement, meet-me members).
Calls that never reach routing: announcements for an unroutable number
(`_announce_unroutable`) and the meet-me conference (`_join_meet_me`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ssw.core.call.call import Call, Phase
from ssw.core.call.causes import (
    MEDIA_TIMEOUT,
    MEDIA_UNAVAILABLE,
    NO_COMMON_CODEC,
    UNUSABLE_SDP,
    ReleaseCause,
)
from ssw.core.call.cdr import CdrBuilder
from ssw.core.call.codec_settle import audio_codecs, codec_to_settle, versions_added
from ssw.core.call.early_media import CallerMedia
from ssw.core.call.events import (
    Answer,
    CallEvent,
    Fail,
    Hold,
    Resume,
    Ring,
    SessionOffer,
    Settled,
    Side,
    Try,
    UpdateAccepted,
    UpdateRejected,
)
from ssw.core.call.leg_base import SipLeg
from ssw.core.call.leg_context import LegContext
from ssw.core.call.leg_uac import OutgoingLeg
from ssw.core.call.leg_uas import IncomingLeg
from ssw.core.call.media_anchor import MediaAnchor
from ssw.core.call.media_policy import MediaPolicy, MeetMeRoom, offer_refused
from ssw.core.call.meet_me import MeetMeRooms
from ssw.core.call.session_timer import SessionTimerSettings
from ssw.core.ports import CdrSink, Clock, SubscriberProfile
from ssw.media.call_media import RelaySession
from ssw.media.client import MediaClient, MediaError
from ssw.media.resources import prompt_for_status
from ssw.media.sdp_bridge import NoCommonCodec, check_codecs
from ssw.sip.address import Address
from ssw.sip.message import Request
from ssw.sip.sdp import SdpError, SessionDescription

__all__ = ["CallMedia"]

_log = logging.getLogger("ssw.core.call.b2bua")


class CallMedia:
    """The media methods of `B2bua` (which sets these attributes)."""

    media: MediaClient | None
    media_policy: MediaPolicy | None
    meet_me: MeetMeRooms | None
    calls: dict[str, Call]
    cdrs: CdrSink
    clock: Clock
    ctx: LegContext
    _relays: dict[str, RelaySession]
    _caller_media: dict[str, CallerMedia]
    _anchors: dict[str, MediaAnchor]
    # by connection id: the codecs the media profiles of the caller (side 0) and callee refuse
    _refused_codecs: dict[str, tuple[frozenset[str], frozenset[str]]]
    _by_invite: dict[object, IncomingLeg]

    if TYPE_CHECKING:
        def _reject(self, txn: object, request: Request, status: int,
                    reason: str | None = None) -> None: ...

        def _timer_settings(self, profile: SubscriberProfile) -> SessionTimerSettings: ...

    def _incoming_leg(self, invite: tuple[object, Request, Address],
                      caller: SubscriberProfile, timer: Any,
                      timers: SessionTimerSettings | None = None) -> IncomingLeg:
        """The caller's leg of an INVITE, registered under its transaction."""
        txn, request, source = invite
        leg = IncomingLeg(
            self.ctx, invite_txn=txn, invite=request, source=source, session_timer=timer,
            session_timer_mode=caller.session_timer,
            reliable_provisional=caller.reliable_provisional,
            session_timers=timers if timers is not None else self._timer_settings(caller))
        self._by_invite[txn] = leg
        return leg

    def replace_media(self, media: MediaClient) -> None:
        """A new media server replaced one that died: new calls use `media`. The relays
        and conferences of the old one are gone; its calls go on without media until they
        end (their commands fail and are logged)."""
        self.media = media
        if self.meet_me is not None:
            self.meet_me.replace_media(media)

    def _caller_media_finished(self, media: CallerMedia) -> None:
        self._caller_media.pop(media.relay.relay_id, None)
        self._relays.pop(media.relay.relay_id, None)

    async def _open_relay(self, connection_id: str, attempt: Try) -> Try | ReleaseCause:
        """Allocate the call's relay; the attempt with the caller's offer rewritten for the
        callee, or the cause to refuse the call with."""
        assert self.media is not None
        if attempt.sdp:
            try:
                check_codecs(SessionDescription.parse(attempt.sdp))
            except SdpError as error:
                _log.warning("call %s: offer refused: %s", connection_id, error)
                return NO_COMMON_CODEC if isinstance(error, NoCommonCodec) else UNUSABLE_SDP
        try:
            relay = await RelaySession.open(self.media, connection_id)
        except MediaError as error:
            _log.warning("call %s: no relay: %s", connection_id, error)
            return MEDIA_UNAVAILABLE
        try:
            attempt = relay.rewrite_event(0, attempt)
        except SdpError as error:
            _log.warning("call %s: offer not relayed: %s", connection_id, error)
            relay.release()
            return UNUSABLE_SDP
        self._relays[connection_id] = relay
        return attempt

    async def _meet_me_room(self, domain: str, number: str) -> MeetMeRoom | None:
        if self.meet_me is None or self.media_policy is None or not number:
            return None
        return await self.media_policy.meet_me(domain, number)

    async def _join_meet_me(self, room: MeetMeRoom, connection_id: str,
                            invite: tuple[object, Request, Address],
                            caller: SubscriberProfile, timer: Any, cdr: CdrBuilder) -> None:
        """The caller dialled the domain's meet-me number: the switch answers it into the
        conference (`ssw.core.call.meet_me`), or refuses it with a cause."""
        assert self.meet_me is not None
        txn, request, _ = invite
        refusal = await self.meet_me.join(room, connection_id, request.body or None,
                                          lambda: self._incoming_leg(invite, caller, timer),
                                          cdr)
        if refusal is not None:
            self._reject(txn, request, refusal.status, refusal.text)
            self.cdrs.write(cdr.finish(self.clock.now(), refusal, Side.SWITCH))

    async def _recording_wanted(self, domain: str, caller: str, callee: str) -> bool:
        if self.media_policy is None:
            return False
        try:
            return await self.media_policy.recording_wanted(domain, caller, callee)
        except Exception:
            _log.exception("call recording setting of %s -> %s unreadable", caller, callee)
            return False

    async def _refused_codecs_of(self, domain: str, number: str) -> frozenset[str]:
        """The codecs the media profile of `number`'s alias refuses (none when unreadable)."""
        if self.media_policy is None or not number:
            return frozenset()
        try:
            return await self.media_policy.refused_codecs(domain, number)
        except Exception:
            _log.exception("media profile of %s unreadable", number)
            return frozenset()

    async def _announce_unroutable(self, connection_id: str, attempt: Try,
                                   cause: ReleaseCause,
                                   invite: tuple[object, Request, Address],
                                   caller: SubscriberProfile, timer: Any) -> bool:
        """A call that cannot be routed (404, 480) hears its announcement as early media
        before the final response; False when there is none (no media, no SDP, no prompt)."""
        if self.media is None or not attempt.sdp or prompt_for_status(cause.status) is None:
            return False
        opened = await self._open_relay(connection_id, attempt)
        if isinstance(opened, ReleaseCause):
            return False
        relay = self._relays[connection_id]
        request = invite[1]
        incoming = self._incoming_leg(invite, caller, timer)
        media = CallerMedia(incoming, relay, request.body, self.clock,
                            self._caller_media_finished)
        incoming.sink = lambda leg, event: media.caller_event(event)
        self._caller_media[connection_id] = media
        media.deliver(Fail(cause))  # the announcement, or the final response at once
        if media.announcing is None:  # the switch could not play to this caller
            relay.release()
            self._caller_media_finished(media)
        return True

    def _sink(self, call: Call, side: int, caller: Any = None
              ) -> Callable[[Any, CallEvent], None]:
        """Where a leg's events go: the call, through the relay when there is one (side 0 is
        the caller's leg, 1 any outgoing leg), so every SDP body points at the switch.
        `caller` stands for the caller's leg in the call (its `CallerMedia`). An offer
        (re-INVITE, UPDATE) with only codecs the party's media profile refuses is answered
        488 by its own leg (RFC 3261 §21.4.26) and not relayed."""
        handler = self._relayed_sink(call, side, caller)
        refused = self._refused_codecs.get(call.connection_id, (frozenset(), frozenset()))[side]
        if not refused:
            return handler

        def within_profile(leg: Any, event: CallEvent) -> None:
            if (isinstance(event, SessionOffer) and event.sdp
                    and offer_refused(event.sdp, refused)):
                _log.info("call %s: offer from side %d refused by its media profile",
                          call.connection_id, side)
                leg.deliver(UpdateRejected(488, "Not Acceptable Here"))
                return
            handler(leg, event)

        return within_profile

    def _relayed_sink(self, call: Call, side: int, caller: Any
                      ) -> Callable[[Any, CallEvent], None]:
        relay = self._relays.get(call.connection_id)
        anchor = self._anchors.get(call.connection_id)
        if relay is None or anchor is None:
            return call.handle

        def through_relay(leg: Any, event: CallEvent) -> None:
            offer = event.sdp if isinstance(event, SessionOffer) else None
            original = event.sdp if isinstance(event, Ring | Answer | Settled) else None
            try:
                event = relay.rewrite_event(side, event)
            except SdpError as error:
                _log.warning("call %s: SDP from side %d not relayed: %s", call.connection_id,
                             side, error)
                offer = None  # the relay does not follow it: not for the relay to answer
            if isinstance(event, Settled):
                anchor.own_offer_made(side)
                if side == 1 and original and leg in (call.callee, call.early_leg):
                    _settle_caller(call, original)
                return  # the switch's own offer: its answer is for the relay only
            sdp = getattr(event, "sdp", None)
            if isinstance(sdp, bytes) and sdp and anchor.own_offers[1 - side]:
                added = versions_added(sdp, anchor.own_offers[1 - side])
                event = dataclasses.replace(event, sdp=added)  # type: ignore[arg-type]
            if isinstance(event, Hold):
                relay.play(1 - side, "moh")  # the held phone hears music on hold
            elif isinstance(event, Resume):
                relay.stop_play(1 - side)
            if offer and _relay_answers(call, side, event, caller):
                answer = anchor.answer(side, offer)
                if answer is not None:
                    _log.info("call %s: offer from side %d answered by the relay",
                              call.connection_id, side)
                    anchor.pass_on(lambda: leg.deliver(UpdateAccepted(answer)),
                                   after_relay=True)
                    return
            target = leg
            if caller is not None and side == 0:
                if isinstance(caller, CallerMedia):
                    caller.caller_event(event)
                target = caller
            anchor.pass_on(lambda: call.handle(target, event),
                           after_relay=isinstance(event, UpdateAccepted))
            if original and isinstance(leg, OutgoingLeg) and original is leg.invite_answer:
                codec = codec_to_settle(original)
                if codec is not None:
                    _log.info("call %s: the callee answered with several codecs; offering %s",
                              call.connection_id, codec.encoding or codec.payload_type)
                    leg.settle(codec, keep_from=original)

        return through_relay

    def on_media_event(self, message: dict[str, Any]) -> None:
        """An event of the media server: a relay that timed out ends its call; an
        announcement that has played lets its call fail."""
        if "conference" in message:
            if self.meet_me is not None:
                self.meet_me.on_media_event(message)
            return
        connection_id = str(message.get("relay"))
        if message.get("event") == "play_done":
            media = self._caller_media.get(connection_id)
            if media is not None and message.get("source") == media.announced:
                media.play_done()
            return
        if message.get("event") != "timeout":
            return
        relay = self._relays.pop(connection_id, None)
        if relay is not None:
            relay.released = True  # the media server has already freed it
        call = self.calls.get(connection_id)
        if call is not None:
            _log.warning("call %s: no RTP for %s s; ended", connection_id, message.get("silent"))
            call.terminate(MEDIA_TIMEOUT)



def _settle_caller(call: Call, callee_answer: bytes) -> None:
    """The callee settled on one codec (`codec_settle.py`): the caller gets it too, when
    the answer it was given listed several (the relay does not transcode)."""
    codecs = audio_codecs(callee_answer)
    caller = call.caller.leg if isinstance(call.caller, CallerMedia) else call.caller
    if len(codecs) == 1 and isinstance(caller, SipLeg):
        caller.settle(codecs[0])


def _relay_answers(call: Call, side: int, offer: CallEvent, caller: Any) -> bool:
    """Whether the relay answers the `offer` of side `side` itself (`media_anchor.py`):

    - before the answer, the caller's offer while the relay answered its INVITE's offer and
      the callee has no early session (the callee cannot take an offer before it has
      answered the INVITE's, RFC 3311 §5.1);
    - after it, an offer made with UPDATE towards a party that takes no UPDATE: rather than a
      re-INVITE that party did not ask for, the relay follows the new address itself.
    """
    if call.phase is Phase.SETUP:
        return side == 0 and isinstance(caller, CallerMedia) and caller.relay_answers_early_offers
    if call.phase is not Phase.ANSWERED or not isinstance(offer, SessionOffer):
        return False
    if not offer.prefer_update:
        return False
    other = call.callee if side == 0 else call.caller
    if isinstance(other, CallerMedia):
        return "UPDATE" not in other.peer_allow
    return isinstance(other, SipLeg) and "UPDATE" not in other.peer_allow
