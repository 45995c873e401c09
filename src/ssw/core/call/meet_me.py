"""Meet-me conferences: a number of the domain the switch answers itself (docs/MEDIA.md).

A caller who dials the domain's `meet_me_number` is answered by the switch (200 with SDP
pointing at its own port pair in the media server's conference) and becomes a member of the
mix-minus conference `meetme:<number>@<domain>`. With a `meet_me_pin` the member neither
hears nor is heard until it has sent the PIN and `#` as RFC 4733 telephone-events; three
wrong PINs end the call (403, Q.850 21). The conference is created when its first member
joins and destroyed when the last one leaves, so a changed PIN applies from the next
session. A member that sends no RTP for the RTP timeout is released (Q.850 102).

Re-INVITEs and UPDATEs of a member (hold, codec change, session refresh) are answered by
the switch: the member's new address goes to the media server and the answer keeps the
member's port pair, with the o= version increased (RFC 3264 §8).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ssw.core.call.causes import (
    MEDIA_TIMEOUT,
    MEDIA_UNAVAILABLE,
    NO_COMMON_CODEC,
    NORMAL_CLEARING,
    ReleaseCause,
)
from ssw.core.call.cdr import CdrBuilder
from ssw.core.call.events import (
    Answer,
    CallEvent,
    Disconnect,
    SessionOffer,
    Side,
    UpdateAccepted,
    UpdateRejected,
)
from ssw.core.call.leg_uas import IncomingLeg
from ssw.core.call.media_policy import MeetMeRoom
from ssw.core.ports import CdrSink, Clock
from ssw.media.client import LegAddress, MediaClient, MediaError
from ssw.media.sdp_bridge import audio_index, conference_answer, endpoint_of
from ssw.sip.sdp import SdpError, SessionDescription

__all__ = ["MAX_PIN_ATTEMPTS", "WRONG_PIN", "MeetMeRooms"]

_log = logging.getLogger(__name__)

#: wrong PINs a member may enter before the switch ends its call
MAX_PIN_ATTEMPTS = 3
WRONG_PIN = ReleaseCause(403, 21, "Wrong conference PIN")


@dataclass
class _Member:
    room: MeetMeRoom
    member: str
    leg: IncomingLeg
    cdr: CdrBuilder
    port: LegAddress
    offer: SessionDescription
    version: int = 1
    wrong_pins: int = 0
    ended: bool = False


@dataclass
class _Room:
    members: set[str] = field(default_factory=set)


class MeetMeRooms:
    """The meet-me members of one switch and their conferences on the media server."""

    def __init__(self, media: MediaClient, cdrs: CdrSink, clock: Clock) -> None:
        self.media = media
        self.cdrs = cdrs
        self.clock = clock
        self._members: dict[str, _Member] = {}
        self._rooms: dict[str, _Room] = {}

    def replace_media(self, media: MediaClient) -> None:
        """A new media server: its conferences start empty (members of the old one stay
        until they hang up, their leave commands fail and are logged)."""
        self.media = media
        self._rooms.clear()

    @property
    def member_count(self) -> int:
        return len(self._members)

    async def join(self, room: MeetMeRoom, member: str, offer: bytes | None,
                   make_leg: Callable[[], IncomingLeg], cdr: CdrBuilder) -> ReleaseCause | None:
        """Answer the caller into `room`; the cause to refuse the call with otherwise."""
        if not offer:
            return NO_COMMON_CODEC  # a delayed offer: the switch has nothing to answer with
        try:
            sd = SessionDescription.parse(offer)
            endpoint = endpoint_of(sd)
            conference_answer(sd, "127.0.0.1", 9)  # G.711 offered?
        except SdpError as error:
            _log.warning("meet-me %s: offer refused: %s", room.number, error)
            return NO_COMMON_CODEC
        if endpoint is None:
            return NO_COMMON_CODEC
        conference = room.conference_id
        try:
            if conference not in self._rooms:
                self._rooms[conference] = _Room()
                try:
                    await self.media.conference_create(conference, room.pin)
                except MediaError as error:
                    if "exists" not in str(error):
                        raise
            self._rooms[conference].members.add(member)
            port = await self.media.conference_join(conference, member)
            answer = conference_answer(sd, port.address, port.rtp_port)
            params = endpoint.update_params()
            index = audio_index(answer)
            if index is not None:  # the law the member gets: the one the answer chose
                params["payload_type"] = int(answer.media[index].formats[0])
            await self.media.conference_update(conference, member, **params)
        except (MediaError, SdpError, ValueError) as error:
            _log.warning("meet-me %s: %s cannot join: %s", room.number, member, error)
            self._left(conference, member)
            return MEDIA_UNAVAILABLE
        leg = make_leg()
        joined = _Member(room, member, leg, cdr, port, sd)
        self._members[member] = joined
        leg.sink = lambda _leg, event: self._member_event(joined, event)
        cdr.answered(self.clock.now(), f"meet-me {room.number}")
        leg.deliver(Answer(answer.serialize()))
        _log.info("meet-me %s@%s: %s joined", room.number, room.domain, member)
        return None

    # -- what the member's leg raises -------------------------------------------------------

    def _member_event(self, member: _Member, event: CallEvent) -> None:
        if isinstance(event, Disconnect):
            cause = NORMAL_CLEARING if event.cause.status < 300 else event.cause
            self._end(member, cause, event.side, tell_leg=False)
        elif isinstance(event, SessionOffer):
            self._answer_offer(member, event)

    def _answer_offer(self, member: _Member, offer: SessionOffer) -> None:
        """A re-INVITE or UPDATE: the member's new address, the same port pair answered."""
        try:
            sd = SessionDescription.parse(offer.sdp) if offer.sdp else member.offer
            endpoint = endpoint_of(sd)
            member.version += 1
            answer = conference_answer(sd, member.port.address, member.port.rtp_port,
                                       version=member.version)
        except SdpError as error:
            _log.warning("meet-me member %s: offer refused: %s", member.member, error)
            member.leg.deliver(UpdateRejected(488, "Not Acceptable Here"))
            return
        if offer.sdp and endpoint is not None:
            member.offer = sd
            self.media.notify("conference_update", conference=member.room.conference_id,
                              member=member.member, **endpoint.update_params())
        member.leg.deliver(UpdateAccepted(answer.serialize()))

    # -- what the media server reports ------------------------------------------------------

    def on_media_event(self, message: dict[str, Any]) -> bool:
        """A `timeout` or `pin` event of a member; False when it is not about one."""
        member = self._members.get(str(message.get("member")))
        if member is None or message.get("conference") != member.room.conference_id:
            return False
        event = message.get("event")
        if event == "timeout":
            _log.warning("meet-me member %s: no RTP for %s s; released", member.member,
                         message.get("silent"))
            self._end(member, MEDIA_TIMEOUT, Side.SWITCH, tell_leg=True, left=True)
        elif event == "pin" and not message.get("admitted"):
            member.wrong_pins += 1
            _log.info("meet-me member %s: wrong PIN (%d)", member.member, member.wrong_pins)
            if member.wrong_pins >= MAX_PIN_ATTEMPTS:
                self._end(member, WRONG_PIN, Side.SWITCH, tell_leg=True)
        elif event == "pin":
            _log.info("meet-me member %s: admitted to %s", member.member,
                      member.room.conference_id)
        return True

    # -- leaving ------------------------------------------------------------------------------

    def _end(self, member: _Member, cause: ReleaseCause, side: Side, *, tell_leg: bool,
             left: bool = False) -> None:
        if member.ended:
            return
        member.ended = True
        self._members.pop(member.member, None)
        if tell_leg:
            member.leg.deliver(Disconnect(cause, side))
        conference = member.room.conference_id
        if not left:  # a timed-out member has already been removed by the media server
            self.media.notify("conference_leave", conference=conference, member=member.member)
        self._left(conference, member.member)
        self.cdrs.write(member.cdr.finish(self.clock.now(), cause, side))

    def _left(self, conference: str, member: str) -> None:
        room = self._rooms.get(conference)
        if room is None:
            return
        room.members.discard(member)
        if not room.members:
            del self._rooms[conference]
            self.media.notify("conference_destroy", conference=conference)
