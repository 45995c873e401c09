"""What the switch answers itself because a call's media is anchored in its relay (docs/MEDIA.md).

With a media server every RTP packet of a call passes the relay, so each phone negotiates its
session with the relay's port facing it, not with the other phone. Two things follow:

- **The relay's own answers** (`answer`, RFC 3264 §6). The switch answers an offer itself
  when the other party cannot be asked: the caller's INVITE offer in a reliable 18x while the
  callee has not answered it yet (RFC 3262 §5), the caller's early UPDATE then, and an
  UPDATE towards a party that takes no UPDATE (RFC 3311). The answer lists every offered codec
  the relay carries, so whatever the other phone uses from the same offer stays within it.
- **Answers wait for the relay** (`pass_on`). An answer sent before the media server has
  taken the new address would have the phones send where the relay does not forward yet;
  so an answer (to an UPDATE or re-INVITE) is passed on once the relay has carried out the
  updates sent so far, and every later event of the call queues behind it. Meanwhile the
  offerer's leg still has the offer pending: a second UPDATE gets 500 with Retry-After
  (RFC 3311 §5.2). If the media server does not answer within `RELAY_WAIT_LIMIT` seconds the
  answer goes anyway.

Sans-I/O: the relay reports completion through `RelaySession.when_updated`; time comes from
the injected clock.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

from ssw.core.ports import Cancellable, Clock
from ssw.media.call_media import RelaySession
from ssw.media.sdp_bridge import relay_answer
from ssw.sip.sdp import SdpError, SessionDescription

__all__ = ["RELAY_WAIT_LIMIT", "MediaAnchor"]

_log = logging.getLogger(__name__)

#: seconds an answer waits for the media server to confirm a relay update, at most
RELAY_WAIT_LIMIT = 2.0


class MediaAnchor:
    """One call's relay as the party that answers offers and orders the call's events."""

    def __init__(self, relay: RelaySession, clock: Clock) -> None:
        self.relay = relay
        self.clock = clock
        # RFC 3264 §5: o= session id fixed for the call, version one more per answer
        self._session_id = str(int(clock.now()))
        self._versions = [0, 0]
        # by side: offers the switch made itself to that phone (codec_settle.py), added to
        # the o= version of every body relayed to it afterwards
        self.own_offers = [0, 0]
        self._queue: deque[tuple[Callable[[], None], bool]] = deque()
        self._draining = False
        self._waiting: object | None = None  # the token of the wait in progress
        self._limit: Cancellable | None = None

    def answer(self, side: int, offer: bytes) -> bytes | None:
        """The relay's answer to `offer` from side `side`'s phone (0 caller, 1 callee), at
        the relay's port facing it; None when the offer has no audio the relay carries."""
        leg = self.relay.allocation.legs[side]
        try:
            answer = relay_answer(SessionDescription.parse(offer), leg.address, leg.rtp_port,
                                  session_id=self._session_id,
                                  version=self._versions[side] + 1)
        except SdpError as error:
            _log.info("relay %s: no answer of its own for side %d: %s", self.relay.relay_id,
                      side, error)
            return None
        self._versions[side] += 1
        return answer.serialize()

    def own_offer_made(self, side: int) -> None:
        """The switch made an offer of its own to side `side` (codec_settle.py): one more
        version for the relay's later answers and the bodies relayed to that phone."""
        self.own_offers[side] += 1
        self._versions[side] += 1

    # -- events in order, answers after the relay -------------------------------------------

    def pass_on(self, work: Callable[[], None], *, after_relay: bool = False) -> None:
        """Run `work` (hand an event to the call or a leg) after the work queued before it;
        with `after_relay`, only once the relay has carried out the updates sent so far."""
        self._queue.append((work, after_relay))
        self._drain()

    def _drain(self) -> None:
        if self._draining or self._waiting is not None:
            return
        self._draining = True
        try:
            while self._queue and self._waiting is None:
                work, after_relay = self._queue[0]
                if after_relay and self.relay.updates_pending:
                    self._wait()
                    break
                self._queue.popleft()
                work()
        finally:
            self._draining = False

    def _wait(self) -> None:
        token = self._waiting = object()
        self._limit = self.clock.call_later(RELAY_WAIT_LIMIT, lambda: self._resume(token, True))
        self.relay.when_updated(lambda: self._resume(token, False))

    def _resume(self, token: object, timed_out: bool) -> None:
        if token is not self._waiting:
            return
        self._waiting = None
        if self._limit is not None:
            self._limit.cancel()
            self._limit = None
        if timed_out:
            _log.warning("relay %s: no confirmation of an update within %s s; answering anyway",
                         self.relay.relay_id, RELAY_WAIT_LIMIT)
        if self._queue:
            work, _ = self._queue[0]
            self._queue[0] = (work, False)  # waited for: it goes now
        self._drain()
