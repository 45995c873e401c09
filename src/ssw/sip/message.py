"""SIP requests and responses: parse, typed access, mutation, serialization (RFC 3261 §7).

Parsing splits the head from the body once and keeps each header line as it was received,
next to its lookup key (`ssw.sip.fields.Headers`); values are unfolded when read, and typed
values (`top_via`, `cseq`, `from_`, ...) are decoded on first access and cached until the
headers change. A message that was not changed
serializes to exactly the bytes it was parsed from (less any octets after Content-Length in a
datagram, RFC 3261 §18.3), so proxies forward unknown headers byte-exact.

`parse_message` checks what is needed to delimit and classify the message (start line, header
line syntax, Content-Length); the semantic checks an element makes before acting on a request
(mandatory headers, CSeq method, Require, ...) are in `ssw.sip.rejection.check_request`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable

from ssw.sip.errors import (
    FramingError,
    HeaderError,
    StartLineError,
    VersionNotSupported,
    reason_phrase,
)
from ssw.sip.fields import NAME_KEYS, Headers, Line, TypedAccess, _new_line
from ssw.sip.headers import CSeq, NameAddr, Via
from ssw.sip.uri import SIP_URI_USUAL, SipUri, Uri, parse_uri

__all__ = [
    "Headers",
    "Message",
    "Request",
    "Response",
    "TypedAccess",
    "make_response",
    "new_request",
    "parse_message",
]

_ENCODING = "utf-8"
_ERRORS = "surrogateescape"  # byte-transparent: undecodable octets survive a round trip

_METHOD = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_REQUEST_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"]+")
# The usual Request-Line read and checked in one step: an upper-case method, a SIP URI of the
# usual shape (`ssw.sip.uri.SIP_URI_USUAL`, its parts kept for `ruri`) and SIP/2.0.
_USUAL_REQUEST_LINE = re.compile(f"([A-Z]+) ({SIP_URI_USUAL}) SIP/2\\.0")
_known_name = NAME_KEYS.get
_KNOWN_METHODS = frozenset({
    "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE", "NOTIFY",
    "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE",
})


class Message(TypedAccess, ABC):
    """What requests and responses share: headers, body, typed access, serialization."""

    __slots__ = ("_body", "_raw", "headers")

    def __init__(self, headers: Headers | None = None, body: bytes = b"") -> None:
        self.headers = headers if headers is not None else Headers()
        self._body = body
        self._raw: bytes | None = None

    # -- body -------------------------------------------------------------------------------

    @property
    def body(self) -> bytes:
        return self._body

    @body.setter
    def body(self, value: bytes) -> None:
        """Replace the body; Content-Length follows (RFC 3261 §20.14)."""
        self._body = bytes(value)
        self._raw = None
        self.headers.set("Content-Length", str(len(self._body)))

    def set_body(self, body: bytes, content_type: str | None) -> None:
        """Replace body and Content-Type together (None removes Content-Type)."""
        if content_type is None:
            self.headers.remove("content-type")
        else:
            self.headers.set("Content-Type", content_type)
        self.body = body

    # -- serialization ----------------------------------------------------------------------

    @abstractmethod
    def start_line(self) -> str:
        """The Request-Line or Status-Line, without CRLF."""

    def serialize(self) -> bytes:
        """The message on the wire; the received bytes when nothing was changed.

        A changed message without Content-Length gets one (RFC 3261 §18.3 needs it on
        streams), written after the other header fields.
        """
        if self._raw is not None and not self.headers.modified:
            return self._raw
        headers = self.headers.serialize()
        if "content-length" not in self.headers._keys:
            headers += f"Content-Length: {len(self._body)}\r\n"
        head = self.start_line() + "\r\n" + headers + "\r\n"
        return head.encode(_ENCODING, _ERRORS) + self._body

    def __bytes__(self) -> bytes:
        return self.serialize()

    def forget_decoded(self) -> None:
        """Drop the typed values decoded so far; they are decoded again if read. A message
        kept only in case it is sent again (by a transaction waiting out Timer J, say) then
        holds a handful of objects instead of dozens for the garbage collector to walk."""
        self.headers._cache = {}

    def _same_content(self, other: Message) -> bool:
        return self.headers == other.headers and self._body == other._body

    __hash__ = None  # type: ignore[assignment]


class Request(Message):
    """A SIP request (RFC 3261 §7.1). `uri` is the Request-URI text, `ruri` its parsed form."""

    __slots__ = ("_method", "_ruri", "_uri", "_uri_parts", "version")

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Headers | Iterable[tuple[str, str]] | None = None,
        body: bytes = b"",
        *,
        version: str = "SIP/2.0",
        uri_parts: list[str | None] | None = None,
    ) -> None:
        """`uri_parts`: the groups of `SIP_URI_USUAL` matched against `uri`, when the parser
        has them (the match proves `uri` valid; `ruri` is then made from them)."""
        if method not in _KNOWN_METHODS and _METHOD.fullmatch(method) is None:
            raise ValueError(f"invalid method {method!r}")
        if uri_parts is None and _REQUEST_URI.fullmatch(uri) is None:
            raise ValueError(f"invalid Request-URI {uri!r}")
        if headers is None:
            headers = Headers()
        elif not isinstance(headers, Headers):
            headers = Headers.from_pairs(headers)
        # Message.__init__, written out: a request is made for every one received.
        self.headers = headers
        self._body = body
        self._raw = None
        self._method = method
        self._uri = uri
        self._ruri: Uri | None = None
        self._uri_parts = uri_parts
        self.version = version

    @property
    def method(self) -> str:
        return self._method

    @property
    def uri(self) -> str:
        return self._uri

    @uri.setter
    def uri(self, value: str) -> None:
        """Retarget the request (RFC 3261 §16.5, §16.12); `value` may be a parsed URI."""
        text = str(value)
        if _REQUEST_URI.fullmatch(text) is None:
            raise ValueError(f"invalid Request-URI {text!r}")
        self._uri = text
        self._ruri = None
        self._uri_parts = None
        self._raw = None

    @property
    def ruri(self) -> Uri:
        """The parsed Request-URI (raises `UriError`, a 400, when malformed)."""
        ruri = self._ruri
        if ruri is None:
            parts = self._uri_parts
            if parts is not None:  # read with the Request-Line: already checked
                ruri = self._ruri = SipUri.from_usual(parts, self._uri)
            else:
                ruri = self._ruri = parse_uri(self._uri)
        return ruri

    def start_line(self) -> str:
        return f"{self._method} {self._uri} {self.version}"

    def forget_decoded(self) -> None:
        super().forget_decoded()
        self._ruri = None

    def copy(self) -> Request:
        """An independent copy (headers and body); the copy still serializes byte-exact."""
        clone = Request(
            self._method, self._uri, self.headers.copy(), self._body,
            version=self.version, uri_parts=self._uri_parts,
        )
        clone._raw = self._raw
        clone._ruri = self._ruri
        return clone

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Request):
            return NotImplemented
        return (self._method, self._uri, self.version.upper()) == (
            other._method,
            other._uri,
            other.version.upper(),
        ) and self._same_content(other)

    def __repr__(self) -> str:
        return f"<Request {self._method} {self._uri}>"


class Response(Message):
    """A SIP response (RFC 3261 §7.2)."""

    __slots__ = ("_reason", "_status", "version")

    def __init__(
        self,
        status: int,
        reason: str | None = None,
        headers: Headers | Iterable[tuple[str, str]] | None = None,
        body: bytes = b"",
        *,
        version: str = "SIP/2.0",
    ) -> None:
        if not 100 <= status <= 699:
            raise ValueError(f"status {status} is not in 100..699")
        if reason is not None and ("\r" in reason or "\n" in reason):
            raise ValueError("reason phrase must not contain CR or LF")
        if headers is None:
            headers = Headers()
        elif not isinstance(headers, Headers):
            headers = Headers.from_pairs(headers)
        self.headers = headers
        self._body = body
        self._raw = None
        self._status = status
        self._reason = reason if reason is not None else reason_phrase(status)
        self.version = version

    @property
    def status(self) -> int:
        return self._status

    @property
    def reason(self) -> str:
        return self._reason

    @property
    def is_provisional(self) -> bool:
        return self._status < 200

    @property
    def is_final(self) -> bool:
        return self._status >= 200

    def start_line(self) -> str:
        return f"{self.version} {self._status} {self._reason}"

    def copy(self) -> Response:
        clone = Response(
            self._status, self._reason, self.headers.copy(), self._body, version=self.version
        )
        clone._raw = self._raw
        return clone

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Response):
            return NotImplemented
        return (self._status, self._reason, self.version.upper()) == (
            other._status,
            other._reason,
            other.version.upper(),
        ) and self._same_content(other)

    def __repr__(self) -> str:
        return f"<Response {self._status} {self._reason}>"


def parse_message(data: bytes) -> Request | Response:
    """Parse one SIP message from a datagram (or a frame cut by `ssw.sip.framer`).

    Raises `StartLineError`/`HeaderError`/`FramingError` (400) or `VersionNotSupported` (505).
    Octets beyond Content-Length are ignored (RFC 3261 §18.3); without Content-Length the body
    is the rest of the datagram (RFC 3261 §18.3 on UDP, RFC 2543 compatibility).
    """
    start = 0
    while data.startswith(b"\r\n", start):  # RFC 3261 §7.5: CRLFs before the start line
        start += 2
    end = data.find(b"\r\n\r\n", start)
    if end < 0:
        # No empty line: a message without body whose final CRLF was lost (RFC 5118 §4.10).
        head_end = len(data) - 2 if data.endswith(b"\r\n") else len(data)
        body_start = len(data)
    else:
        head_end = end
        body_start = end + 4
    if head_end <= start:
        raise StartLineError("empty message")
    head = data[start:head_end].decode(_ENCODING, _ERRORS)
    # Every line break of a head is CRLF (RFC 3261 §7.3.1): `splitlines` then finds one line
    # more than there are CRLFs. If not, a lone CR or LF (a 400) or another line separator
    # (allowed in a value) is in there.
    lines = head.splitlines()
    if len(lines) != head.count("\r\n") + 1:
        lines = head.split("\r\n")
        _reject_bare_line_break(lines)
    # The header lines, as `Headers.parse_lines` reads them, with its usual case done here:
    # every name already seen (so valid), no folding, one Content-Length of a few digits.
    parts = [line.partition(":") for line in lines[1:]]
    keys = [_known_name(name) if colon else None for name, colon, _ in parts]
    content_length: int | None
    if None in keys or keys.count("content-length") != 1:
        headers, content_length = Headers.parse_lines(lines)
    else:
        headers = Headers(parts, keys)  # type: ignore[arg-type]
        text = parts[keys.index("content-length")][2].strip(" \t")
        if text.isdigit() and text.isascii() and len(text) < 10:
            content_length = int(text)
        else:
            headers, content_length = Headers.parse_lines(lines)  # says what is wrong
    if content_length is None:
        body = data[body_start:]
        message_end = len(data)
    else:
        if content_length > len(data) - body_start:
            raise FramingError(
                f"Content-Length {content_length} exceeds the "
                f"{len(data) - body_start} octets received"
            )
        message_end = body_start + content_length
        body = data[body_start:message_end]
    first = lines[0]
    message: Request | Response
    usual = _USUAL_REQUEST_LINE.fullmatch(first)
    if usual is not None:
        method, uri, *uri_parts = usual.groups()
        message = Request(method, uri, headers, body, uri_parts=uri_parts)
    elif first.startswith("SIP/") or first[:4].upper() == "SIP/":
        message = _parse_status_line(first, headers, body)
    else:
        message = _parse_request_line(first, headers, body)
    message._raw = data[start:message_end] if end >= 0 else None
    return message


def _reject_bare_line_break(lines: list[str]) -> None:
    """CR and LF appear in a message head only as the CRLF ending a line (RFC 3261 §7.3.1,
    §25.1: not even a quoted-pair may hold them), so a lone one is a 400, never copied on."""
    for index, line in enumerate(lines):
        if "\r" in line or "\n" in line:
            if index == 0:
                raise StartLineError(f"bare CR or LF in the start line {line[:80]!r}")
            name = line.partition(":")[0].strip()[:40]
            raise HeaderError(f"bare CR or LF in header field {name!r}", header=name)


def _parse_request_line(line: str, headers: Headers, body: bytes) -> Request:
    """Request-Line = Method SP Request-URI SP SIP-Version (RFC 3261 §7.1)."""
    parts = line.split(" ")
    if len(parts) != 3:
        raise StartLineError(f"malformed Request-Line {line[:80]!r}")
    method, uri, version = parts
    if method not in _KNOWN_METHODS and _METHOD.fullmatch(method) is None:
        raise StartLineError(f"invalid method in Request-Line {line[:80]!r}")
    if version != "SIP/2.0":
        _check_version(version, line)
    if _REQUEST_URI.fullmatch(uri) is None:
        raise StartLineError(f"invalid Request-URI in {line[:80]!r}")
    return Request(method, uri, headers, body, version=version)


def _parse_status_line(line: str, headers: Headers, body: bytes) -> Response:
    """Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 §7.2)."""
    version, _, rest = line.partition(" ")
    code, _, reason = rest.partition(" ")
    _check_version(version, line)
    if len(code) != 3 or not code.isdigit() or not code.isascii() or code[0] not in "123456":
        raise StartLineError(f"invalid status code in Status-Line {line[:80]!r}")
    return Response(int(code), reason, headers, body, version=version)


def _check_version(version: str, line: str) -> None:
    if version.upper() == "SIP/2.0":
        return
    if re.fullmatch(r"SIP/[0-9]+\.[0-9]+", version, re.IGNORECASE):
        raise VersionNotSupported(f"SIP version {version!r} is not supported")
    raise StartLineError(f"malformed SIP-Version in {line[:80]!r}")


def new_request(
    method: str,
    uri: str,
    *,
    via: Via | str,
    from_: NameAddr | str,
    to: NameAddr | str,
    call_id: str,
    cseq: int,
    max_forwards: int = 70,
    contact: NameAddr | str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    content_type: str | None = None,
) -> Request:
    """A new request with the mandatory header fields of RFC 3261 §8.1.1, in the usual order.

    `from_`, `to` and `contact` are header values or `NameAddr`s; extra `headers` follow
    Contact.
    """
    pairs: list[tuple[str, str]] = [
        ("Via", str(via)),
        ("Max-Forwards", str(max_forwards)),
        ("From", str(from_)),
        ("To", str(to)),
        ("Call-ID", call_id),
        ("CSeq", str(CSeq(cseq, method))),
    ]
    if contact is not None:
        pairs.append(("Contact", str(contact)))
    pairs.extend(headers)
    if content_type is not None:
        pairs.append(("Content-Type", content_type))
    pairs.append(("Content-Length", str(len(body))))
    return Request(method, uri, pairs, body)


def make_response(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    content_type: str | None = None,
) -> Response:
    """A response to `request` per RFC 3261 §8.2.6.

    Copies every Via (in order), From, Call-ID and CSeq, and To with `to_tag` added when the
    request's To has no tag yet (§8.2.6.2; never on 100 Trying). 100 Trying copies Timestamp
    (§8.2.6.1). Extra `headers` are added after these.
    """
    if not 100 <= status <= 699:
        raise ValueError(f"status {status} is not in 100..699")
    if reason is not None and ("\r" in reason or "\n" in reason):
        raise ValueError("reason phrase must not contain CR or LF")
    # The copied values come from a parsed message (whose head holds no lone CR or LF) and
    # are copied as read, unfolded, without checking them again: a quoted-pair may hold
    # octets (NUL, RFC 4475 §3.1.1.2) that a value written by the application may not.
    source = request.headers
    keys: list[str] = []
    lines: list[Line] = []
    for key, name in _COPIED_TO_RESPONSES:
        for value in source._values(key):
            if key == "to" and to_tag is not None and status != 100:
                value = _with_to_tag(value, to_tag, source._cache.get("to"))
            keys.append(key)
            lines.append((name, ":", " " + value))
    if status == 100:
        for value in source._values("timestamp"):
            keys.append("timestamp")
            lines.append(("Timestamp", ":", " " + value))
    for name, value in headers:
        key, line = _new_line(name, value)
        keys.append(key)
        lines.append(line)
    if content_type is not None:
        key, line = _new_line("Content-Type", content_type)
        keys.append(key)
        lines.append(line)
    keys.append("content-length")
    lines.append(("Content-Length", ":", f" {len(body)}"))
    return Response(status, reason, Headers(lines, keys, True), bytes(body))


# RFC 3261 §8.2.6.2: the header fields a response copies from its request.
_COPIED_TO_RESPONSES = (
    ("via", "Via"), ("from", "From"), ("to", "To"), ("call-id", "Call-ID"), ("cseq", "CSeq"),
)


def _with_to_tag(value: str, tag: str, decoded: NameAddr | None) -> str:
    """`value` (a To) with `tag` unless it has one; `decoded` is the request's own To.

    A To that does not parse (the 400 answering it, §8.2.6.2) is copied as written, with the
    tag added unless a `;tag=` is found in it: the request still gets its answer.
    """
    try:
        to = decoded if decoded is not None and decoded.raw == value else NameAddr.parse(value)
    except HeaderError:
        has_tag = _TO_TAG_PARAM.search(value) is not None
        return value if has_tag else f"{value.rstrip()};tag={tag}"
    if to.tag is not None:
        return value
    return f"{value.rstrip()};tag={tag}"


_TO_TAG_PARAM = re.compile(r";[ \t]*tag[ \t]*=", re.IGNORECASE)

