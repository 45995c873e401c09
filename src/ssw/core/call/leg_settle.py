"""A leg's own offer of one codec, after an answer that kept several (`codec_settle.py`).

Mixed into `SipLeg`. The B2BUA asks a leg to `settle` on a codec; the leg makes the offer as
soon as its dialog can carry one: an UPDATE in the early dialog when the peer takes it
(`early_update_allowed`, RFC 3311 §5.1: only after the answer to the INVITE's offer), else a
re-INVITE once the dialog is confirmed (RFC 3261 §14.1), never while another offer is
pending in either direction. The peer's answer goes to the relay only (`Settled`); the
other leg does not hear of it. A refused offer leaves the session as it was (§14.1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssw.core.call.codec_settle import narrowed_offer
from ssw.core.call.events import CallEvent, Settled
from ssw.core.call.leg_context import Purpose
from ssw.sip.sdp import Codec

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ssw.core.call.dialog_state import LegDialog
    from ssw.sip.message import Request, Response

__all__ = ["CodecSettling"]


class CodecSettling:
    """The settling half of a leg (see the module doc)."""

    if TYPE_CHECKING:
        dialog: LegDialog | None
        ended: bool
        confirmed: bool
        local_sdp: bytes | None
        remote_sdp: bytes | None
        _offer_in: object | None
        _offer_out: str | None
        _held_ack: Request | None

        def emit(self, event: CallEvent) -> None: ...

        def offer_outstanding(self) -> bool: ...

        def send_in_dialog(self, method: str, purpose: Purpose, *, body: bytes = b"",
                           headers: Iterable[tuple[str, str]] = (),
                           content_type: str = "application/sdp") -> Request: ...

        def _refresh_headers(self) -> list[tuple[str, str]]: ...

        def _ack_2xx(self, invite: Request, response: Response, *, hold: bool) -> None: ...

        def _timer_from_2xx(self, response: Response) -> None: ...

    _settle: tuple[Codec, bytes | None] | None = None  # the codec to offer, what to keep
    _settle_out: str | None = None  # branch of our settling offer awaiting its answer
    _settle_before: bytes | None = None  # local SDP before that offer

    def settle(self, codec: Codec, keep_from: bytes | None = None) -> None:
        """Offer `codec` alone to the peer as soon as the dialog allows (`keep_from`: the
        body whose telephone-event/CN the offer keeps; all of them without it)."""
        if self._settle is None and self._settle_out is None:
            self._settle = (codec, keep_from)
            self.try_settle()

    def early_update_allowed(self) -> bool:
        """Whether an UPDATE may carry the offer before the dialog is confirmed."""
        return False

    def try_settle(self) -> None:
        """Make the pending settling offer if nothing stands in its way now."""
        if self._settle is None or self.ended or self.dialog is None:
            return
        busy = (self._offer_in is not None or self._offer_out is not None
                or self._settle_out is not None or self._held_ack is not None
                or self.offer_outstanding() or self.local_sdp is None)
        if busy:
            return
        if self.confirmed:
            method = "INVITE"
        elif self.early_update_allowed():
            method = "UPDATE"
        else:
            return
        codec, keep_from = self._settle
        self._settle = None
        assert self.local_sdp is not None
        body = narrowed_offer(self.local_sdp, codec, keep_from)
        if body is None:
            return  # one codec already, or not this one: nothing to settle
        self._settle_before = self.local_sdp
        self.local_sdp = body
        request = self.send_in_dialog(method, Purpose.SETTLE, body=body,
                                      headers=self._refresh_headers())
        self._settle_out = request.top_via.branch

    def settle_answered(self, request: Request, response: Response) -> None:
        if response.status < 200:
            return
        self._settle_out = None
        if response.status >= 300:
            self.local_sdp = self._settle_before  # §14.1: the session stays as it was
            return
        if request.method == "INVITE":
            self._ack_2xx(request, response, hold=False)
        if response.body:
            self.remote_sdp = response.body
        self._timer_from_2xx(response)
        self.emit(Settled(response.body or None))
