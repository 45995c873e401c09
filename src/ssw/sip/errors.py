"""SIP errors: every error knows the response that answers it.

The choice of status code for a message that cannot be processed is made here and in
`ssw.sip.rejection` only (ARCHITECTURE rule 5). A `SipError` carries the status, the reason
phrase and any extra header fields the answer needs (Unsupported for 420, Allow for 405/501,
Accept for 415). Parsers raise the subclasses below; callers catch `SipError` and hand it to
`ssw.sip.rejection.rejection_for`, or build the answer with `make_response` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "REASON_PHRASES",
    "BadExtension",
    "BadRequest",
    "FramingError",
    "HeaderError",
    "LoopDetected",
    "MessageTooLarge",
    "MethodNotAllowed",
    "MethodNotImplemented",
    "NotAcceptable",
    "ParseError",
    "SipError",
    "StartLineError",
    "TooManyHops",
    "UnsupportedMediaType",
    "UnsupportedUriScheme",
    "UriError",
    "VersionNotSupported",
    "reason_phrase",
]

# RFC 3261 §21 and the extensions that define further codes (RFC 3262, 3265, 3329, 3892,
# 4028, 4412, 4474, 5079, 5360, 5393, 5626, 6086, 8599, 8224).
REASON_PHRASES: dict[int, str] = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    199: "Early Dialog Terminated",
    200: "OK",
    202: "Accepted",
    204: "No Notification",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    305: "Use Proxy",
    380: "Alternative Service",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    410: "Gone",
    412: "Conditional Request Failed",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    417: "Unknown Resource-Priority",
    420: "Bad Extension",
    421: "Extension Required",
    422: "Session Interval Too Small",
    423: "Interval Too Brief",
    428: "Use Identity Header",
    429: "Provide Referrer Identity",
    430: "Flow Failed",
    433: "Anonymity Disallowed",
    436: "Bad Identity Info",
    437: "Unsupported Credential",
    438: "Invalid Identity Header",
    439: "First Hop Lacks Outbound Support",
    440: "Max-Breadth Exceeded",
    469: "Bad Info Package",
    470: "Consent Needed",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    484: "Address Incomplete",
    485: "Ambiguous",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    489: "Bad Event",
    491: "Request Pending",
    493: "Undecipherable",
    494: "Security Agreement Required",
    500: "Server Internal Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Server Time-out",
    505: "Version Not Supported",
    513: "Message Too Large",
    555: "Push Notification Service Not Supported",
    580: "Precondition Failure",
    600: "Busy Everywhere",
    603: "Decline",
    604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
    607: "Unwanted",
    608: "Rejected",
}


def reason_phrase(status: int) -> str:
    """The standard reason phrase for `status`, or the class's generic one (RFC 3261 §21)."""
    phrase = REASON_PHRASES.get(status)
    if phrase is not None:
        return phrase
    return REASON_PHRASES.get(status // 100 * 100, "Unknown")


class SipError(Exception):
    """A SIP message could not be accepted; `status`/`reason`/`headers` say how to answer.

    `headers` are (name, value) pairs to add to the answer, e.g. ("Unsupported", "foo").
    `close_connection` is true when a stream transport lost framing and must be closed.
    """

    status: int = 400
    close_connection: bool = False

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        self.reason = reason if reason is not None else reason_phrase(self.status)
        self.headers: tuple[tuple[str, str], ...] = tuple(headers)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status} {self.reason}: {self.detail})"


class BadRequest(SipError):
    """400: the request is syntactically or semantically malformed (RFC 3261 §21.4.1)."""

    status = 400


class ParseError(BadRequest):
    """The bytes are not a well-formed SIP message (RFC 3261 §25 grammar)."""


class StartLineError(ParseError):
    """The Request-Line or Status-Line is malformed (RFC 3261 §7.1, §7.2)."""


class HeaderError(ParseError):
    """A header field is malformed, missing, or repeated where only one is allowed."""

    def __init__(self, detail: str, *, header: str = "") -> None:
        super().__init__(detail)
        self.header = header


class UriError(ParseError):
    """A URI is malformed (RFC 3261 §19.1, RFC 3966)."""


class FramingError(ParseError):
    """The message boundary cannot be determined (RFC 3261 §18.3, §20.14).

    Over a stream transport the connection has lost framing and must be closed.
    """

    close_connection = True


class VersionNotSupported(SipError):
    """505: the SIP-Version is not SIP/2.0 (RFC 3261 §8.2.2, §21.5.6)."""

    status = 505


class UnsupportedUriScheme(SipError):
    """416: the Request-URI scheme is not served here (RFC 3261 §8.2.2.1)."""

    status = 416


class UnsupportedMediaType(SipError):
    """415: the body's Content-Type or encoding is not understood (RFC 3261 §8.2.3).

    The answer lists what is understood in Accept (and Accept-Encoding).
    """

    status = 415


class NotAcceptable(SipError):
    """406: the response would need a body type the request's Accept excludes (§21.4.7)."""

    status = 406


class BadExtension(SipError):
    """420: Require/Proxy-Require names option tags not supported (RFC 3261 §8.2.2.3).

    The answer lists them in Unsupported.
    """

    status = 420

    def __init__(self, unsupported: Iterable[str]) -> None:
        tags = list(unsupported)
        super().__init__(
            "unsupported extension(s): " + ", ".join(tags),
            headers=[("Unsupported", ", ".join(tags))],
        )
        self.unsupported = tuple(tags)


class TooManyHops(SipError):
    """483: Max-Forwards reached 0 at an element that would forward (RFC 3261 §16.3)."""

    status = 483


class LoopDetected(SipError):
    """482: the request already passed through this element (RFC 3261 §8.2.2.2, §16.3)."""

    status = 482


class MethodNotImplemented(SipError):
    """501: the method is not known here (RFC 3261 §8.2.1); the answer carries Allow."""

    status = 501

    def __init__(self, method: str, allowed: Iterable[str] = ()) -> None:
        allow = ", ".join(sorted(allowed))
        super().__init__(
            f"method {method!r} is not implemented",
            headers=[("Allow", allow)] if allow else [],
        )
        self.method = method


class MethodNotAllowed(SipError):
    """405: a known method this element does not accept (RFC 3261 §8.2.1); carries Allow."""

    status = 405

    def __init__(self, method: str, allowed: Iterable[str]) -> None:
        super().__init__(
            f"method {method!r} is not allowed here",
            headers=[("Allow", ", ".join(sorted(allowed)))],
        )
        self.method = method


class MessageTooLarge(SipError):
    """513: the message exceeds the size this element accepts (RFC 3261 §21.5.7).

    Over a stream transport the framer cannot resynchronise, so the connection is closed.
    """

    status = 513
    close_connection = True
