"""SDP (RFC 4566) and the offer/answer model (RFC 3264), sans-I/O.

`SessionDescription.parse` / `.serialize` read and write bodies (exact round trip for
well-formed input); `build_offer`, `build_answer` and `negotiate` implement offer/answer;
`make_hold_offer`, `make_resume_offer`, `next_version` and `rewrite_for_relay` change a session.
"""

from ssw.sip.sdp.changes import (
    HOLD_DIRECTION,
    ICE_ATTRIBUTES,
    HoldStyle,
    bump_version,
    is_on_hold,
    is_stream_on_hold,
    make_hold_offer,
    make_resume_offer,
    next_version,
    rewrite_for_relay,
)
from ssw.sip.sdp.fields import (
    STATIC_PAYLOAD_TYPES,
    Attribute,
    Bandwidth,
    Codec,
    Connection,
    Direction,
    Origin,
    RtpMap,
    SdpError,
    Timing,
)
from ssw.sip.sdp.offer_answer import (
    ANSWER_DIRECTION,
    AUXILIARY_CODECS,
    MediaCapabilities,
    NegotiatedStream,
    address_type,
    answer_direction,
    build_answer,
    build_offer,
    negotiate,
    offered_direction,
)
from ssw.sip.sdp.session import (
    MAX_LINE_LENGTH,
    MAX_LINES,
    MAX_MEDIA,
    MAX_SDP_SIZE,
    MediaDescription,
    SessionDescription,
)

__all__ = [
    "ANSWER_DIRECTION",
    "AUXILIARY_CODECS",
    "HOLD_DIRECTION",
    "ICE_ATTRIBUTES",
    "MAX_LINES",
    "MAX_LINE_LENGTH",
    "MAX_MEDIA",
    "MAX_SDP_SIZE",
    "STATIC_PAYLOAD_TYPES",
    "Attribute",
    "Bandwidth",
    "Codec",
    "Connection",
    "Direction",
    "HoldStyle",
    "MediaCapabilities",
    "MediaDescription",
    "NegotiatedStream",
    "Origin",
    "RtpMap",
    "SdpError",
    "SessionDescription",
    "Timing",
    "address_type",
    "answer_direction",
    "build_answer",
    "build_offer",
    "bump_version",
    "is_on_hold",
    "is_stream_on_hold",
    "make_hold_offer",
    "make_resume_offer",
    "negotiate",
    "next_version",
    "offered_direction",
    "rewrite_for_relay",
]
