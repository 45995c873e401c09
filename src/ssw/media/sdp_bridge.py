"""What the relay needs from an SDP body, and the body rewritten to point at the relay; pure.

The call core hands every SDP body crossing a call to `RelaySession.through` (`call_media.py`),
which uses these two functions: `endpoint_of` reads where a phone wants to receive the first
audio stream (address, port, codec, telephone-event payload type, whether it sends), and
`relay_body` rewrites the body so the other phone sends to the switch (RFC 3264 §5, §8:
only the connection address and the port change; codecs and directions pass through).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ssw.sip.sdp import (
    AUXILIARY_CODECS,
    Codec,
    Direction,
    MediaCapabilities,
    MediaDescription,
    Origin,
    SdpError,
    SessionDescription,
    address_type,
    build_answer,
    offered_direction,
    rewrite_for_relay,
)

__all__ = [
    "RELAYED_CODECS",
    "SWITCH_AUDIO",
    "MediaEndpoint",
    "NoCommonCodec",
    "announcement_answer",
    "audio_codec_names",
    "audio_index",
    "check_codecs",
    "conference_answer",
    "endpoint_of",
    "relay_answer",
    "relay_body",
]


@dataclass(frozen=True, slots=True)
class MediaEndpoint:
    """One phone's receiving side of the audio stream, as its SDP describes it."""

    address: str
    port: int
    rtcp_port: int | None
    payload_type: int | None
    event_payload_type: int | None
    sends: bool
    transport: str = "rtp"

    def update_params(self) -> dict[str, Any]:
        """Keyword arguments for `MediaClient.update` (after relay and leg)."""
        return {"address": self.address, "port": self.port, "rtcp_port": self.rtcp_port,
                "payload_type": self.payload_type,
                "event_payload_type": self.event_payload_type, "sends": self.sends,
                "transport": self.transport}


def _relayable(media: MediaDescription) -> bool:
    if media.is_rejected:
        return False
    if media.media == "audio" and media.proto.startswith("RTP/"):
        return True
    # T.38 fax (ITU-T T.38 Annex D): m=image <port> udptl t38
    return media.media == "image" and media.proto.lower() == "udptl"


def audio_index(sd: SessionDescription) -> int | None:
    """Index of the stream the switch relays: the first audio (RTP) stream, or the T.38 one
    (m=image udptl) that replaces it during a fax; None when there is neither."""
    for index, media in enumerate(sd.media):
        if _relayable(media):
            return index
    return None


def _rtcp_port(media: MediaDescription) -> int | None:
    value = media.attribute("rtcp")  # RFC 3605: a=rtcp:<port> [IN IP4 <address>]
    if value:
        head = value.split()[0]
        if head.isdigit() and 0 < int(head) <= 65535:
            return int(head)
    return None


def endpoint_of(sd: SessionDescription) -> MediaEndpoint | None:
    """Where the sender of `sd` receives audio; None when it has no audio stream."""
    index = audio_index(sd)
    if index is None:
        return None
    media = sd.media[index]
    connection = sd.effective_connection(media)
    if connection is None:
        raise SdpError("the audio stream has no c= line (RFC 4566 §5.7)")
    if media.media == "image":
        return MediaEndpoint(connection.address, media.port, None, None, None,
                             offered_direction(sd, media).sends, transport="udptl")
    payload_types = [int(f) for f in media.formats if f.isdigit()]
    events = [pt for pt, rtpmap in media.rtpmaps().items()
              if rtpmap.encoding.lower() == "telephone-event"]
    audio = [pt for pt in payload_types if pt not in events]
    direction = offered_direction(sd, media)
    return MediaEndpoint(connection.address, media.port, _rtcp_port(media),
                         audio[0] if audio else None, events[0] if events else None,
                         direction.sends)


# Audio codecs the switch relays (names of RFC 3551 and of the RTP payload format RFCs, compared
# case-insensitively). The relay does not transcode, but a body with none of these cannot
# carry a call the switch can relay, record or play into: it is refused with 488.
RELAYED_CODECS = frozenset({
    "pcmu", "pcma", "g722", "g729", "g729d", "g729e", "g723", "g728", "gsm", "gsm-efr",
    "g726-16", "g726-24", "g726-32", "g726-40", "g7221", "ilbc", "speex", "opus", "amr",
    "amr-wb", "evs", "silk", "l16", "l8", "dvi4", "lpc", "qcelp", "mpa",
})


class NoCommonCodec(SdpError):
    """The body offers no codec the switch relays."""


def audio_codec_names(sd: SessionDescription) -> list[str] | None:
    """The lower-case codec names of the relayed audio stream (`payload type N` for a format
    without a name); None when the body has no audio stream (none, or T.38 only)."""
    index = audio_index(sd)
    if index is None or sd.media[index].media != "audio":
        return None
    return [codec.encoding.lower() or f"payload type {codec.payload_type}"
            for codec in sd.media[index].codecs()]


def check_codecs(sd: SessionDescription) -> None:
    """Raise `NoCommonCodec` when the relayed audio stream has no codec of `RELAYED_CODECS` (no
    common codec: RFC 3261 §21.4.26, 488). Bodies without audio and T.38 pass."""
    names = audio_codec_names(sd)
    if names is not None and not any(name in RELAYED_CODECS for name in names):
        raise NoCommonCodec(f"no common codec: offered {', '.join(names) or 'nothing'}")


def relay_body(sd: SessionDescription, address: str, port: int) -> SessionDescription:
    """`sd` with its first audio stream at the relay's `address`/`port`.

    Other streams keep their port but are not relayed (only audio passes the media server);
    ICE candidates are dropped since they name the phone's own addresses.
    """
    index = audio_index(sd)
    ports: list[int | None] = [None] * len(sd.media)
    if index is not None:
        ports[index] = port
    return rewrite_for_relay(sd, address=address, ports=ports, strip_ice=True)


def relay_answer(offer: SessionDescription, address: str, port: int, *,
                 session_id: str = "0", version: int = 1) -> SessionDescription:
    """The relay's own answer to a phone's `offer` (RFC 3264 §6), from its port facing that
    phone at `address`/`port`: the relayed audio stream with every offered codec the switch
    relays (`RELAYED_CODECS`, with telephone-event and comfort noise), its direction mirrored
    (§6.1); every other stream refused (port 0), since only that one passes the relay.

    Listing all of them keeps whichever codec the other phone picks from the same codecs
    (relayed to it unchanged) within this answer: the relay does not transcode. `version` is
    the o= version, one more for each new answer in the session (§8). Raises `SdpError` when
    the relayed stream is not audio or has no codec the switch relays.
    """
    index = audio_index(offer)
    if index is None or offer.media[index].media != "audio":
        raise SdpError("the offer has no audio stream the switch relays")
    offered = offer.media[index]
    wanted = RELAYED_CODECS | AUXILIARY_CODECS
    codecs = tuple(c for c in offered.codecs() if c.encoding.lower() in wanted)
    capabilities = MediaCapabilities(codecs=codecs, protos=(offered.proto,))
    ports = [port if i == index else 0 for i in range(len(offer.media))]
    origin = Origin("ssw", session_id, version, "IN", address_type(address), address)
    answer = build_answer(offer, [capabilities], address=address, ports=ports, origin=origin)
    if answer.media[index].is_rejected:
        raise NoCommonCodec("no common codec: the offer has no codec the switch relays")
    return answer


# What the media server can play: G.711 both laws, and telephone-events to collect digits.
SWITCH_AUDIO = MediaCapabilities(
    codecs=(Codec(0, "PCMU", 8000), Codec(8, "PCMA", 8000),
            Codec(101, "telephone-event", 8000, fmtp="0-15")),
    protos=("RTP/AVP", "RTP/SAVP"),
    max_codecs=1,
)


def announcement_answer(offer: SessionDescription, address: str, port: int, *,
                        session_id: str = "0", direction: Direction = Direction.SENDONLY,
                        version: int = 1) -> SessionDescription:
    """The switch's own SDP answer to the caller's `offer`, for early media it plays itself
    (an announcement or ringback in a 183) from the relay's leg 0 at `address`/`port`.

    One G.711 codec (the caller's first choice of PCMU/PCMA), sendonly: the caller is not
    expected to speak to an announcement (RFC 3264 §6.1). Raises `SdpError` when the offer
    has no G.711 (the call is then refused with 488). A conference member gets the same
    answer `sendrecv` (`conference_answer`); `version` is the o= version (RFC 3264 §8).
    """
    index = audio_index(offer)
    if index is None or offer.media[index].media != "audio":
        raise SdpError("the offer has no audio stream the switch can play into")
    ports = [port if i == index else 0 for i in range(len(offer.media))]
    origin = Origin("ssw", session_id, version, "IN", address_type(address), address)
    capabilities = [replace(SWITCH_AUDIO, direction=direction)]
    answer = build_answer(offer, capabilities, address=address, ports=ports, origin=origin)
    if answer.media[index].is_rejected:
        raise SdpError("no common codec: the switch plays G.711 (PCMU or PCMA) only")
    return answer


def conference_answer(offer: SessionDescription, address: str, port: int, *,
                      session_id: str = "0", version: int = 1) -> SessionDescription:
    """The switch's answer to a conference member's `offer`: G.711 and telephone-events
    (the PIN, RFC 4733) at the member's port pair, sendrecv; `SdpError` without G.711."""
    return announcement_answer(offer, address, port, session_id=session_id,
                               direction=Direction.SENDRECV, version=version)
