"""Stream framing for SIP over TCP/TLS (RFC 3261 §18.3, RFC 5626 §3.5.1).

On a stream the only message boundary is Content-Length: the framer finds the end of the
header block (the first empty line), reads Content-Length from it and waits until the whole
body has arrived. Between messages, a double CRLF is a keep-alive ping (to be answered with a
single CRLF pong) and a single CRLF is a pong (RFC 5626 §3.5.1).

Buffers are bounded: a header block longer than `max_header_size` or a body longer than
`max_body_size` raises `MessageTooLarge`; an unreadable Content-Length raises `FramingError`.
Both have `close_connection` set: framing is lost, so the driver closes the connection (RFC
4475 §3.1.2.3, §3.3.9) after answering the request if it can (`ssw.sip.rejection`). After an
error the framer stays broken and raises the same error again.

    framer = StreamFramer()
    framer.receive_data(chunk)
    while (event := framer.next_event()) is not None:
        ...  # Frame(data) -> parse_message(event.data); Ping -> send b"\\r\\n"; Pong
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

from ssw.sip.errors import FramingError, MessageTooLarge, SipError

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_HEADER_SIZE",
    "PONG",
    "Frame",
    "FramerEvent",
    "Ping",
    "Pong",
    "StreamFramer",
]

DEFAULT_MAX_HEADER_SIZE = 16 * 1024
DEFAULT_MAX_BODY_SIZE = 64 * 1024
PONG = b"\r\n"  # the answer to a ping (RFC 5626 §3.5.1)

# Content-Length or its compact form "l" at the start of a header line, value possibly folded.
_CONTENT_LENGTH = re.compile(
    rb"\r\n(?:content-length|l)[ \t]*:[ \t]*(?:\r\n[ \t]+)?([^\r\n]*)", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Frame:
    """The bytes of exactly one SIP message, ready for `parse_message`."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Ping:
    """A CRLFCRLF keep-alive from the peer; answer with `PONG`."""


@dataclass(frozen=True, slots=True)
class Pong:
    """A single CRLF: the peer's answer to our ping."""


FramerEvent = Frame | Ping | Pong


class StreamFramer:
    """Cuts a byte stream into SIP messages and keep-alives; owns no socket."""

    def __init__(
        self,
        *,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        if max_header_size < 64 or max_body_size < 0:
            raise ValueError("max_header_size must be >= 64 and max_body_size >= 0")
        self.max_header_size = max_header_size
        self.max_body_size = max_body_size
        self._buffer = bytearray()
        self._scanned = 0  # the empty line is not before this offset
        self._body_start = -1  # set once the header block is complete
        self._body_length = 0
        self._error: SipError | None = None
        # The header block of the message whose framing failed, when it was complete: enough
        # for `rejection_for(failed_head, error)` to answer before the connection is closed.
        self.failed_head = b""

    @property
    def buffered(self) -> int:
        """Octets received and not yet returned as events."""
        return len(self._buffer)

    @property
    def in_message(self) -> bool:
        """True while part of a message has been received (a driver's idle timer uses it)."""
        return bool(self._buffer.strip(b"\r\n")) or self._body_start >= 0

    def receive_data(self, data: bytes) -> None:
        """Append octets read from the connection."""
        if self._error is not None:
            raise self._error
        self._buffer += data

    def receive_eof(self) -> None:
        """The peer closed; raises `FramingError` if a message was cut off."""
        if self._error is not None:
            raise self._error
        if self.in_message:
            self._fail(FramingError(f"connection closed inside a message ({self.buffered} octets)"))

    def next_event(self) -> FramerEvent | None:
        """The next complete message or keep-alive, or None until more data arrives."""
        if self._error is not None:
            raise self._error
        buffer = self._buffer
        if self._body_start < 0:
            if buffer.startswith(b"\r\n"):
                if buffer == b"\r\n\r":  # most of a ping: wait for its last octet
                    return None
                return self._keep_alive()
            end = buffer.find(b"\r\n\r\n", self._scanned)
            if end < 0:
                if len(buffer) > self.max_header_size:
                    self._fail(self._too_large_head())
                self._scanned = max(0, len(buffer) - 3)
                return None
            head = bytes(buffer[: end + 4])
            if end + 4 > self.max_header_size:
                self._fail(self._too_large_head())
            self._body_length = self._content_length(head)
            self._body_start = end + 4
        message_end = self._body_start + self._body_length
        if len(buffer) < message_end:
            return None
        frame = bytes(buffer[:message_end])
        del buffer[:message_end]
        self._scanned = 0
        self._body_start = -1
        return Frame(frame)

    def _too_large_head(self) -> MessageTooLarge:
        return MessageTooLarge(f"header block exceeds {self.max_header_size} octets")

    def _keep_alive(self) -> Ping | Pong:
        """CRLFs between messages: CRLFCRLF is a ping, a lone CRLF a pong (RFC 5626 §3.5.1).

        A lone CRLF is reported at once, since a pong comes alone; a ping cut after its first
        CRLF by the network therefore reads as two pongs (and goes unanswered once).
        """
        if self._buffer.startswith(b"\r\n\r\n"):
            del self._buffer[:4]
            return Ping()
        del self._buffer[:2]
        return Pong()

    def _content_length(self, head: bytes) -> int:
        """Content-Length from the header block; absent means no body (RFC 3261 §20.14)."""
        values = {match.strip() for match in _CONTENT_LENGTH.findall(head)}
        if not values:
            return 0
        if len(values) > 1:
            self._fail(FramingError("conflicting Content-Length values"), head)
        (text,) = values
        if not text.isdigit() or len(text) > 10:
            self._fail(FramingError(f"invalid Content-Length {text[:20]!r}"), head)
        length = int(text)
        if length > self.max_body_size:
            error = MessageTooLarge(f"body of {length} octets exceeds {self.max_body_size}")
            self._fail(error, head)
        return length

    def _fail(self, error: SipError, head: bytes = b"") -> NoReturn:
        self._error = error
        self.failed_head = head
        self._buffer.clear()
        raise error
