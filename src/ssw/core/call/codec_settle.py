"""Settling on one codec after an answer that kept several (RFC 3264 §6.1, §7); pure.

An answer may list several of the offered codecs: the answerer can then receive any of them
and the offerer may switch between them at any time. Through a relay that does not transcode
both phones must send the same codec, so (as ECSS-10 does) the switch makes a new offer with
only the first codec of such an answer, the one the answerer prefers and one the caller
offered too. `codec_to_settle` reads that codec from an answer; `narrowed_offer` turns the
SDP last sent to a party into that new offer (same session, o= version one higher, §8).
An answer whose first codec the switch did not offer (RFC 3264 §6.1 does not allow that;
the QA suite's trunk in `send_answ_in_183` answers `18 8 3 98 0 101` to `8 0 101`) is left
as it is.
Telephone-events and comfort noise (`AUXILIARY_CODECS`) are not audio codecs: they stay when
the other body has them as well.

The relay passes each phone's o= line on to the other one, so the switch's own offer to a
phone takes the next version of the other phone's session; every body relayed to that phone
afterwards is counted one version higher (`versions_added`), so that versions keep growing.
"""

from __future__ import annotations

from ssw.media.sdp_bridge import audio_index
from ssw.sip.sdp import AUXILIARY_CODECS, Codec, SdpError, SessionDescription
from ssw.sip.sdp.changes import bump_version

__all__ = ["audio_codecs", "codec_to_settle", "narrowed_offer", "versions_added"]


def _audio(sd: SessionDescription) -> list[Codec] | None:
    index = audio_index(sd)
    if index is None:
        return None
    media = sd.media[index]
    if media.media != "audio" or media.is_rejected:
        return None
    return media.codecs()


def audio_codecs(sdp: bytes) -> list[Codec]:
    """The audio codecs (not telephone-event or CN) of the relayed stream of `sdp`; empty
    when it has none or does not parse."""
    try:
        codecs = _audio(SessionDescription.parse(sdp))
    except SdpError:
        return []
    return [c for c in codecs or () if c.encoding.lower() not in AUXILIARY_CODECS]


def codec_to_settle(answer: bytes) -> Codec | None:
    """The first audio codec of `answer` when it lists more than one, else None."""
    codecs = audio_codecs(answer)
    return codecs[0] if len(codecs) > 1 else None


def _same(a: Codec, b: Codec) -> bool:
    if a.encoding and b.encoding:
        return a.key == b.key
    return a.payload_type == b.payload_type


def narrowed_offer(current: bytes, codec: Codec, keep_from: bytes | None = None) -> bytes | None:
    """`current` (the SDP last sent to a party) as a new offer of `codec` alone, with the
    auxiliary codecs of `current` that `keep_from` lists too (all of them without it), and
    o= one version higher; None when `current` lists no other audio codec or not this one."""
    try:
        sd = SessionDescription.parse(current)
        kept_names = ({c.encoding.lower() for c in _audio(SessionDescription.parse(keep_from))
                       or ()} if keep_from is not None else None)
    except SdpError:
        return None
    index = audio_index(sd)
    codecs = _audio(sd)
    if index is None or not codecs:
        return None
    chosen = [c for c in codecs if _same(c, codec)][:1]
    audio = [c for c in codecs if c.encoding.lower() not in AUXILIARY_CODECS]
    if not chosen or len(audio) < 2:
        return None
    auxiliary = [c for c in codecs if c.encoding.lower() in AUXILIARY_CODECS
                 and (kept_names is None or c.encoding.lower() in kept_names)]
    keep = {str(c.payload_type) for c in [*chosen, *auxiliary]}
    offer = bump_version(sd)
    media = offer.media[index]
    media.formats = [f for f in media.formats if f in keep]
    media.attributes = [
        a for a in media.attributes
        if a.name.lower() not in ("rtpmap", "fmtp") or (a.value or "").split(" ", 1)[0] in keep
    ]
    return offer.serialize()


def versions_added(sdp: bytes, count: int) -> bytes:
    """`sdp` with its o= version `count` higher (`sdp` itself when it does not parse)."""
    if count <= 0:
        return sdp
    try:
        sd = SessionDescription.parse(sdp)
    except SdpError:
        return sdp
    sd.origin.session_version += count
    return sd.serialize()
