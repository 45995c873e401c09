"""The offer/answer model (RFC 3264): make an offer, answer one, read the outcome.

    answer = build_answer(offer, [AUDIO], address="192.0.2.10", ports=[40000], origin=origin)
    streams = negotiate(offer, answer)    # per m= line: accepted?, codecs, remote address

The answer has exactly one m= line per offered one, in the same order (§6). A stream is
accepted when the local side handles its media type and transport and shares at least one
real codec with it; the answer then lists the shared codecs in the offerer's order with the
offerer's payload types (§6.1), plus telephone-event and comfort noise when both sides know
them. Anything else is rejected with port zero. Directions follow §6.1's table below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ssw.sip.sdp.fields import (
    STATIC_PAYLOAD_TYPES,
    Attribute,
    Codec,
    Connection,
    Direction,
    Origin,
    SdpError,
)
from ssw.sip.sdp.session import MediaDescription, SessionDescription

__all__ = [
    "ANSWER_DIRECTION",
    "AUXILIARY_CODECS",
    "MediaCapabilities",
    "NegotiatedStream",
    "address_type",
    "answer_direction",
    "build_answer",
    "build_offer",
    "negotiate",
    "offered_direction",
]

D = Direction

# RFC 3264 §6.1: (direction offered, direction the answerer wants) -> direction answered.
# "If a stream is offered as sendonly, the corresponding stream MUST be marked as recvonly or
# inactive in the answer. If ... recvonly, ... MUST be marked as sendonly or inactive. If ...
# sendrecv ..., MAY be marked as sendonly, recvonly, or inactive. If ... inactive, ... MUST be
# marked as inactive."
ANSWER_DIRECTION: dict[tuple[Direction, Direction], Direction] = {
    (D.SENDRECV, D.SENDRECV): D.SENDRECV,
    (D.SENDRECV, D.SENDONLY): D.SENDONLY,
    (D.SENDRECV, D.RECVONLY): D.RECVONLY,
    (D.SENDRECV, D.INACTIVE): D.INACTIVE,
    (D.SENDONLY, D.SENDRECV): D.RECVONLY,
    (D.SENDONLY, D.SENDONLY): D.INACTIVE,
    (D.SENDONLY, D.RECVONLY): D.RECVONLY,
    (D.SENDONLY, D.INACTIVE): D.INACTIVE,
    (D.RECVONLY, D.SENDRECV): D.SENDONLY,
    (D.RECVONLY, D.SENDONLY): D.SENDONLY,
    (D.RECVONLY, D.RECVONLY): D.INACTIVE,
    (D.RECVONLY, D.INACTIVE): D.INACTIVE,
    (D.INACTIVE, D.SENDRECV): D.INACTIVE,
    (D.INACTIVE, D.SENDONLY): D.INACTIVE,
    (D.INACTIVE, D.RECVONLY): D.INACTIVE,
    (D.INACTIVE, D.INACTIVE): D.INACTIVE,
}

# Formats that ride along with a codec but cannot carry a call alone (RFC 4733, RFC 3389).
AUXILIARY_CODECS = frozenset({"telephone-event", "cn"})


def answer_direction(offered: Direction, wanted: Direction = Direction.SENDRECV) -> Direction:
    return ANSWER_DIRECTION[(offered, wanted)]


def offered_direction(offer: SessionDescription, media: MediaDescription) -> Direction:
    """The offerer's direction, reading c=0.0.0.0 as "do not send to me" (RFC 3264 §8.4)."""
    direction = offer.effective_direction(media)
    connection = offer.effective_connection(media)
    if connection is not None and connection.is_null:
        return Direction.from_flags(sends=direction.sends, receives=False)
    return direction


def address_type(address: str) -> str:
    """IP6 for an IPv6 literal, IP4 otherwise (RFC 4566 §5.7 <addrtype>)."""
    return "IP6" if ":" in address else "IP4"


@dataclass(frozen=True, slots=True)
class MediaCapabilities:
    """What the local side handles for one media type.

    `codecs` name what is supported (payload types matter only in offers); a codec's `fmtp`,
    when set, replaces the offerer's in the answer. `max_codecs` limits how many real codecs
    an answer keeps (auxiliary ones are not counted), e.g. 1 for a single-codec answer.
    """

    codecs: tuple[Codec, ...]
    media: str = "audio"
    protos: tuple[str, ...] = ("RTP/AVP",)
    direction: Direction = Direction.SENDRECV
    ptime: int | None = None
    max_codecs: int | None = None

    def find(self, codec: Codec) -> Codec | None:
        for local in self.codecs:
            if local.key == codec.key:
                return local
        return None


@dataclass(frozen=True, slots=True)
class NegotiatedStream:
    """The outcome of one m= line, seen from the side that reads `negotiate`'s result.

    `codecs` are the answer's formats named as the offer named them (payload types are the
    offerer's, which the answerer kept, §6.1). `remote_*` describe the answerer's side and
    `direction` is the answerer's: what the answer says, within what the offer allowed.
    """

    index: int
    media: str
    accepted: bool
    codecs: tuple[Codec, ...] = ()
    remote_address: str | None = None
    remote_port: int = 0
    direction: Direction = Direction.INACTIVE
    attributes: tuple[Attribute, ...] = field(default=())


def _rejected(offered: MediaDescription) -> MediaDescription:
    # §6: "the port number in the corresponding stream in the answer MUST be set to zero";
    # the formats are ignored but SDP needs at least one: keep the offer's.
    return MediaDescription(offered.media, 0, offered.proto, list(offered.formats) or ["0"])


def _shared_codecs(offered: MediaDescription, local: MediaCapabilities) -> list[Codec]:
    chosen: list[Codec] = []
    real = 0
    for codec in offered.codecs():
        mine = local.find(codec)
        if mine is None:
            continue
        auxiliary = codec.encoding.lower() in AUXILIARY_CODECS
        if not auxiliary:
            if local.max_codecs is not None and real >= local.max_codecs:
                continue
            real += 1
        fmtp = mine.fmtp if mine.fmtp is not None else codec.fmtp
        chosen.append(replace(codec, fmtp=fmtp))
    return chosen if real else []


def _media_with_codecs(
    kind: str,
    port: int,
    proto: str,
    codecs: Sequence[Codec],
    direction: Direction,
    ptime: int | None,
) -> MediaDescription:
    media = MediaDescription(kind, port, proto, [str(c.payload_type) for c in codecs])
    for codec in codecs:
        media.attributes.append(Attribute("rtpmap", str(codec.rtpmap())))
        if codec.fmtp is not None:
            media.attributes.append(Attribute("fmtp", f"{codec.payload_type} {codec.fmtp}"))
    if ptime is not None:
        media.attributes.append(Attribute("ptime", str(ptime)))
    media.attributes.append(Attribute(direction.value))
    return media


def _session(origin: Origin, address: str, session_name: str) -> SessionDescription:
    return SessionDescription(
        origin=origin,
        session_name=session_name,
        connection=Connection(address, address_type(address)),
    )


def build_answer(
    offer: SessionDescription,
    capabilities: Sequence[MediaCapabilities],
    *,
    address: str,
    ports: Sequence[int],
    origin: Origin,
    session_name: str = "-",
) -> SessionDescription:
    """The answer to `offer` (RFC 3264 §6): one m= line per offered one.

    `ports[i]` is the local port for the i-th offered stream if it is accepted. Raises
    `SdpError` when there are fewer ports than offered streams. The offer is not changed.
    """
    if len(ports) < len(offer.media):
        raise SdpError(f"{len(offer.media)} streams offered but {len(ports)} local ports given")
    answer = _session(origin, address, session_name)
    for index, offered in enumerate(offer.media):
        local = next(
            (c for c in capabilities if c.media == offered.media and offered.proto in c.protos),
            None,
        )
        codecs = _shared_codecs(offered, local) if local and not offered.is_rejected else []
        if local is None or not codecs:
            answer.media.append(_rejected(offered))
            continue
        direction = answer_direction(offered_direction(offer, offered), local.direction)
        answer.media.append(
            _media_with_codecs(
                offered.media, ports[index], offered.proto, codecs, direction, local.ptime
            )
        )
    return answer


def build_offer(
    capabilities: Sequence[MediaCapabilities],
    *,
    address: str,
    ports: Sequence[int],
    origin: Origin,
    session_name: str = "-",
) -> SessionDescription:
    """An offer with one stream per capability (RFC 3264 §5), codecs in local order.

    Codecs without a static payload type (RFC 3551) get their own or one from 96 upwards.
    """
    if len(ports) < len(capabilities):
        raise SdpError(f"{len(capabilities)} streams to offer but {len(ports)} ports given")
    offer = _session(origin, address, session_name)
    for local, port in zip(capabilities, ports, strict=False):
        codecs: list[Codec] = []
        used: set[int] = set()
        dynamic = 96
        for codec in local.codecs:
            pt = _static_payload_type(codec)
            if pt is None and 96 <= codec.payload_type <= 127 and codec.payload_type not in used:
                pt = codec.payload_type
            while pt is None or pt in used:
                if dynamic > 127:
                    raise SdpError("more than 32 dynamic payload types in one stream")
                pt, dynamic = dynamic, dynamic + 1
            used.add(pt)
            codecs.append(replace(codec, payload_type=pt))
        offer.media.append(
            _media_with_codecs(
                local.media, port, local.protos[0], codecs, local.direction, local.ptime
            )
        )
    return offer


def _static_payload_type(codec: Codec) -> int | None:
    for pt, rtpmap in STATIC_PAYLOAD_TYPES.items():
        static = Codec(pt, rtpmap.encoding, rtpmap.clock_rate, rtpmap.channels)
        if static.key == codec.key:
            return pt
    return None


def _clipped(
    offered: Direction, answer: SessionDescription, answered: MediaDescription
) -> Direction:
    """The answer's direction, less what the offer did not allow (RFC 3264 §6.1).

    An answer that sends towards an offerer that will not receive (or the reverse) breaks
    §6.1; rather than fail the call, the stream is read as if the answer had obeyed.
    """
    stated = answer.effective_direction(answered)
    connection = answer.effective_connection(answered)
    receives = stated.receives and not (connection is not None and connection.is_null)
    return Direction.from_flags(
        sends=stated.sends and offered.receives, receives=receives and offered.sends
    )


def negotiate(offer: SessionDescription, answer: SessionDescription) -> list[NegotiatedStream]:
    """Check `answer` against `offer` (RFC 3264 §6, §7) and say what each stream became.

    Raises `SdpError` if the answer has a different number of m= lines, another media type
    in a position, or a codec the offer did not contain.
    """
    if len(answer.media) != len(offer.media):
        raise SdpError(
            f"answer has {len(answer.media)} m= lines for {len(offer.media)} offered (RFC 3264 §6)"
        )
    streams: list[NegotiatedStream] = []
    for index, (offered, answered) in enumerate(zip(offer.media, answer.media, strict=True)):
        if answered.media != offered.media:
            raise SdpError(f"m= line {index + 1}: {answered.media} answers {offered.media}")
        if answered.is_rejected or offered.is_rejected:
            streams.append(NegotiatedStream(index, offered.media, accepted=False))
            continue
        by_pt = {c.payload_type: c for c in offered.codecs()}
        codecs: list[Codec] = []
        for codec in answered.codecs():
            known = by_pt.get(codec.payload_type)
            if known is None or (codec.encoding and codec.key != known.key):
                raise SdpError(
                    f"m= line {index + 1}: payload type {codec.payload_type} was not offered"
                )
            codecs.append(known if codec.fmtp is None else replace(known, fmtp=codec.fmtp))
        connection = answer.effective_connection(answered)
        streams.append(
            NegotiatedStream(
                index,
                offered.media,
                accepted=True,
                codecs=tuple(codecs),
                remote_address=connection.address if connection is not None else None,
                remote_port=answered.port,
                direction=_clipped(offered_direction(offer, offered), answer, answered),
                attributes=tuple(answered.attributes),
            )
        )
    return streams
