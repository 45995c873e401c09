"""Release causes: one value that names why a call ended, in SIP and in Q.850 terms.

CDRs carry the Q.850 cause (what billing and ECSS operators read) and the SIP status (what the
phones saw). The two tables below are the interworking mappings of RFC 3398: §8.2.6.1 maps a SIP
final response to an ISUP/Q.850 cause, §7.2.4.1 maps a cause back to the SIP status to answer with.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ANSWERED_ELSEWHERE",
    "CANCELLED",
    "CONVERSATION_TIMEOUT",
    "LICENCE_LIMIT",
    "MEDIA_TIMEOUT",
    "MEDIA_UNAVAILABLE",
    "NORMAL_CLEARING",
    "NOT_REGISTERED",
    "NO_ANSWER",
    "NO_COMMON_CODEC",
    "NO_RESPONSE",
    "SESSION_EXPIRED",
    "UNKNOWN_NUMBER",
    "UNUSABLE_SDP",
    "ReleaseCause",
    "best_failure",
    "cause_for_status",
]

# RFC 3398 §8.2.6.1: SIP status -> Q.850 cause ("Receipt of the response").
_CAUSE_OF_STATUS: dict[int, int] = {
    400: 41, 401: 21, 402: 21, 403: 21, 404: 1, 405: 63, 406: 79, 407: 21, 408: 102, 410: 22,
    413: 127, 414: 127, 415: 79, 416: 127, 420: 127, 421: 127, 423: 127, 480: 18, 481: 41,
    482: 25, 483: 25, 484: 28, 485: 1, 486: 17, 487: 16, 488: 65, 500: 41, 501: 79, 502: 38,
    503: 41, 504: 102, 505: 127, 513: 127, 600: 17, 603: 21, 604: 1, 606: 58,
}

_CAUSE_NAMES: dict[int, str] = {
    1: "Unallocated number",
    16: "Normal call clearing",
    17: "User busy",
    18: "No user responding",
    19: "No answer from user",
    20: "Subscriber absent",
    21: "Call rejected",
    22: "Number changed",
    25: "Exchange routing error",
    26: "Non-selected user clearing",
    28: "Invalid number format",
    31: "Normal, unspecified",
    38: "Network out of order",
    41: "Temporary failure",
    58: "Bearer capability not presently available",
    63: "Service or option not available",
    65: "Bearer capability not implemented",
    79: "Service or option not implemented",
    102: "Recovery on timer expiry",
    127: "Interworking, unspecified",
}


@dataclass(frozen=True, slots=True)
class ReleaseCause:
    """Why a call (or one attempt) ended.

    `status` is the SIP status the caller is (or would be) answered with; `q850` the cause value
    recorded in CDRs; `text` a short human reason (also sent in a Reason header, RFC 3326).
    """

    status: int
    q850: int
    text: str

    def __post_init__(self) -> None:
        if not 100 <= self.status <= 699:
            raise ValueError(f"release status {self.status} is not a SIP status (100..699)")
        if not 0 < self.q850 <= 127:
            raise ValueError(f"Q.850 cause {self.q850} is out of range (1..127)")

    def reason_header(self) -> str:
        """The Reason header value (RFC 3326 §2) carrying the Q.850 cause."""
        return f'Q.850;cause={self.q850};text="{self.text}"'


def cause_for_status(status: int, reason: str = "") -> ReleaseCause:
    """The release cause for a final SIP response `status` (RFC 3398 §8.2.6.1)."""
    if 200 <= status < 300:
        q850 = 16
    else:
        # Statuses the table does not list fall back by class, as §8.2.6.1 suggests.
        by_class = {3: 127, 4: 21, 5: 41, 6: 31}.get(status // 100, 127)
        q850 = _CAUSE_OF_STATUS.get(status, by_class)
    return ReleaseCause(status, q850, reason or _CAUSE_NAMES.get(q850, f"SIP {status}"))


NORMAL_CLEARING = ReleaseCause(200, 16, "Normal call clearing")
CANCELLED = ReleaseCause(487, 16, "Request Terminated")
ANSWERED_ELSEWHERE = ReleaseCause(200, 26, "Call completed elsewhere")
UNKNOWN_NUMBER = ReleaseCause(404, 1, "Unallocated number")
NOT_REGISTERED = ReleaseCause(480, 20, "Subscriber absent")
NO_ANSWER = ReleaseCause(480, 19, "No answer from user")
NO_RESPONSE = ReleaseCause(408, 18, "No user responding")
SESSION_EXPIRED = ReleaseCause(408, 102, "Session timer expired")
CONVERSATION_TIMEOUT = ReleaseCause(200, 102, "Conversation time limit reached")
#: the media server saw no RTP for its timeout; Q.850 102 recovery on timer expiry
MEDIA_TIMEOUT = ReleaseCause(408, 102, "No RTP received")
#: the media server refused or is unreachable; Q.850 47 resource unavailable
MEDIA_UNAVAILABLE = ReleaseCause(503, 47, "Media server unavailable")
#: the SDP cannot be relayed (no audio address); Q.850 65 bearer capability not implemented
UNUSABLE_SDP = ReleaseCause(488, 65, "SDP cannot be relayed")
#: the offer names no codec the switch relays (RFC 3261 §21.4.26); Q.850 65
NO_COMMON_CODEC = ReleaseCause(488, 65, "No common codec")
#: the licence's simultaneous-call limit is reached (SPEC §9); Q.850 47 resource unavailable
LICENCE_LIMIT = ReleaseCause(403, 47, "Licence limit of simultaneous calls")


def best_failure(causes: list[ReleaseCause]) -> ReleaseCause:
    """Pick the response to give the caller when every fork failed (RFC 3261 §16.7 step 6).

    A 6xx wins; otherwise the lowest class wins (4xx before 5xx), and within a class busy (486)
    is the most useful answer for the caller, then the first failure seen.
    """
    if not causes:
        raise ValueError("best_failure needs at least one failure")
    global_failures = [c for c in causes if c.status >= 600]
    if global_failures:
        return global_failures[0]
    lowest_class = min(c.status // 100 for c in causes)
    candidates = [c for c in causes if c.status // 100 == lowest_class]
    for cause in candidates:
        if cause.status == 486:
            return cause
    return candidates[0]
