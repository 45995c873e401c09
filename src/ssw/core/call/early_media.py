"""The switch's own media towards the caller: ringback, announcements (docs/MEDIA.md).

With a media server, the call talks to the caller's leg through `CallerMedia`, which passes
every event on and adds what the switch plays itself on the relay's leg 0 (facing the
caller):

- **Ringback.** A Ring without SDP while the caller offered SDP and has no early session
  yet: the Ring is sent with the switch's own SDP answer (`announcement_answer`: the relay's
  leg 0, one G.711 codec, sendonly; RFC 3960 §3, gateway model) and `tone:ringback` plays
  until the callee's own early media (a Ring with SDP) or its answer arrives.
- **Announcements.** A Fail whose status has a system prompt (404 "number does not exist",
  486 busy, 480 unavailable, `prompt_for_status`): a 183 with the switch's SDP if the caller
  has no early session yet, the prompt, and the final response once it has played
  (`play_done`), was refused, or after `ANNOUNCEMENT_LIMIT` seconds at most. A CANCEL
  meanwhile ends it (487). The relay is released when the announcement is over.
- **Recording.** With `cdr` given (the call is to be recorded), the answer starts the
  relay's stereo recording (`recording_name`) and the CDR gets the file name.

- **The relay's answer in a reliable ring.** A Ring without SDP that goes to the caller
  reliably (RFC 3262) while its offer has no answer yet carries the relay's answer to that
  offer (`MediaAnchor.answer`: every offered codec the relay carries, sendrecv; RFC 3262 §5)
  and ringback plays as above. That answer is final: the callee's later early SDP and the
  SDP of its 200 re-point the relay only and reach the caller without a body (a second
  answer to the same offer is not allowed, RFC 3264 §8), and the caller's offers before the
  callee's own early session are answered by the relay too (`relay_answers_early_offers`).

The ringback SDP of an unreliable provisional response is a preview the callee's answer
replaces. Sans-I/O: the relay is driven with `RelaySession`'s notifications; time comes
from `clock`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ssw.core.call.causes import ReleaseCause
from ssw.core.call.cdr import CdrBuilder
from ssw.core.call.events import Answer, CallEvent, Disconnect, Fail, Ring
from ssw.core.call.leg_uas import IncomingLeg
from ssw.core.call.media_anchor import MediaAnchor
from ssw.core.call.media_policy import recording_name
from ssw.core.ports import Cancellable, Clock
from ssw.media.call_media import RelaySession
from ssw.media.resources import prompt_for_status
from ssw.media.sdp_bridge import announcement_answer
from ssw.sip.sdp import SdpError, SessionDescription

__all__ = ["ANNOUNCEMENT_LIMIT", "CallerMedia"]

_log = logging.getLogger(__name__)

#: seconds an announcement may take before the caller gets its final response anyway
ANNOUNCEMENT_LIMIT = 20.0


class CallerMedia:
    """The caller's leg with the switch's early media; the call delivers events to it."""

    def __init__(self, leg: IncomingLeg, relay: RelaySession, offer: bytes | None,
                 clock: Clock, on_finished: Callable[[CallerMedia], None] | None = None,
                 *, record_into: CdrBuilder | None = None,
                 anchor: MediaAnchor | None = None) -> None:
        self.leg = leg
        self.anchor = anchor
        self.offer_answered = False  # the relay answered the INVITE's offer in a reliable 18x
        self.callee_early_media = False  # a Ring with the callee's SDP came
        self.relay = relay
        self.offer = offer
        self.clock = clock
        self.on_finished = on_finished
        self.ringback = False
        self.announcing: ReleaseCause | None = None
        self.announced: str | None = None  # the prompt played, once started
        self._early_sdp: bytes | None = None
        self._limit: Cancellable | None = None
        self._record_into = record_into

    # -- what the call delivers ------------------------------------------------------------

    def deliver(self, event: CallEvent) -> None:
        if isinstance(event, Ring):
            self._ring(event)
        elif isinstance(event, Fail) and self._announce(event.cause):
            return
        else:
            if isinstance(event, Answer | Disconnect):
                self._stop_ringback()
            if isinstance(event, Answer):
                self._start_recording()
                if self.offer_answered and event.sdp is not None:
                    event = Answer(None)  # the offer has its answer (RFC 3264 §8)
            self.leg.deliver(event)

    @property
    def peer_allow(self) -> tuple[str, ...]:
        return self.leg.peer_allow

    @property
    def relay_answers_early_offers(self) -> bool:
        """Whether the relay answers the caller's offers before the call is answered: it
        answered the INVITE's offer and the callee has no early session of its own."""
        return self.offer_answered and not self.callee_early_media

    def _start_recording(self) -> None:
        cdr, self._record_into = self._record_into, None
        if cdr is not None:
            name = recording_name(self.relay.relay_id, self.clock.now())
            self.relay.record_start(name.rsplit("/", 1)[-1])
            cdr.recording_file = name

    def _ring(self, ring: Ring) -> None:
        if ring.sdp is not None:
            self._stop_ringback()  # the callee's own early media from now on
            self.callee_early_media = True
            if self.offer_answered:
                ring = Ring(None, ring.reliable, ring.status)  # the relay answered already
            self.leg.deliver(ring)
            return
        if self.leg.local_sdp is None and self.leg.will_send_reliably(ring):
            answer = self._relay_answer()
            if answer is not None:
                self.offer_answered = True
                self.leg.deliver(Ring(answer, ring.reliable, ring.status))
                self._start_ringback()
                return
        elif self.leg.local_sdp is None and not ring.reliable:
            early = self._switch_sdp(ring.status)
            if early is not None:
                self.leg.deliver(Ring(early, False, ring.status))
                self._start_ringback()
                return
        self.leg.deliver(ring)

    def _relay_answer(self) -> bytes | None:
        """The relay's answer to the caller's INVITE offer, for a reliable 18x (RFC 3262 §5)."""
        if self.anchor is None or self.offer is None or self.leg.final_sent:
            return None
        return self.anchor.answer(0, self.offer)

    def _start_ringback(self) -> None:
        self.relay.play(0, "tone:ringback")
        self.ringback = True

    def _stop_ringback(self) -> None:
        if self.ringback:
            self.ringback = False
            self.relay.stop_play(0)

    def _switch_sdp(self, status: int) -> bytes | None:
        """The switch's SDP answer for early media on leg 0, if the caller may get one in an
        unreliable provisional response of `status`."""
        if self.offer is None or self.leg.final_sent:
            return None
        if self._early_sdp is None:
            leg0 = self.relay.allocation.legs[0]
            try:
                answer = announcement_answer(SessionDescription.parse(self.offer),
                                             leg0.address, leg0.rtp_port)
            except SdpError as error:
                _log.info("relay %s: no early media for the caller: %s", self.relay.relay_id,
                          error)
                return None
            self._early_sdp = answer.serialize()
        if self.leg.will_send_reliably(Ring(self._early_sdp, False, status)):
            return None
        return self._early_sdp

    # -- announcements ---------------------------------------------------------------------

    def _announce(self, cause: ReleaseCause) -> bool:
        """Start the announcement of `cause`; False when there is none to play."""
        prompt = prompt_for_status(cause.status)
        if prompt is None or self.announcing is not None or self.relay.released:
            return False
        if self.leg.local_sdp is None:
            early = self._switch_sdp(183)
            if early is None:
                return False
            self.leg.deliver(Ring(early, False, 183))
        self.ringback = False  # the prompt replaces the ringback on leg 0
        self.announcing = cause
        self.announced = prompt
        self.relay.play(0, prompt, loop=False, on_error=lambda reason: self.finish())
        self._limit = self.clock.call_later(ANNOUNCEMENT_LIMIT, self.finish)
        return True

    def play_done(self) -> None:
        """The media server reports the prompt has played."""
        self.finish()

    def finish(self) -> None:
        """End the announcement: the final response, then the relay is released."""
        cause, self.announcing = self.announcing, None
        if cause is None:
            return
        if self._limit is not None:
            self._limit.cancel()
            self._limit = None
        self.leg.deliver(Fail(cause))
        self.relay.release()
        if self.on_finished is not None:
            self.on_finished(self)

    def caller_event(self, event: CallEvent) -> None:
        """An event of the caller's leg while announcing: a CANCEL (already answered 487)."""
        if isinstance(event, Disconnect) and self.announcing is not None:
            self.announcing = None
            if self._limit is not None:
                self._limit.cancel()
            self.relay.release()
            if self.on_finished is not None:
                self.on_finished(self)
