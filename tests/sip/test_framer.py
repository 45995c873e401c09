"""Stream framing (RFC 3261 §18.3) and keep-alives (RFC 5626 §3.5.1)."""

from __future__ import annotations

import pytest

from ssw.sip import parse_message, rejection_for
from ssw.sip.errors import FramingError, MessageTooLarge
from ssw.sip.framer import PONG, Frame, FramerEvent, Ping, Pong, StreamFramer

REGISTER = (
    b"REGISTER sip:registrar.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/TCP 192.0.2.4:5060;branch=z9hG4bKnashds7\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@example.com>\r\n"
    b"From: Bob <sip:bob@example.com>;tag=456248\r\n"
    b"Call-ID: 843817637684230@998sdasdh09\r\n"
    b"CSeq: 1826 REGISTER\r\n"
    b"Contact: <sip:bob@192.0.2.4;transport=tcp>\r\n"
    b"Expires: 7200\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)
MESSAGE_BODY = b"Watson, come here.\x00\r\n\r\n"
MESSAGE = (
    b"MESSAGE sip:user2@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/TCP 192.0.2.4;branch=z9hG4bK776sgdkse\r\n"
    b"Max-Forwards: 70\r\n"
    b"From: sip:user1@example.com;tag=49583\r\n"
    b"To: sip:user2@example.com\r\n"
    b"Call-ID: asd88asd77a@1.2.3.4\r\n"
    b"CSeq: 1 MESSAGE\r\n"
    b"Content-Type: text/plain\r\n"
    b"l: " + str(len(MESSAGE_BODY)).encode() + b"\r\n"
    b"\r\n" + MESSAGE_BODY
)


def drain(framer: StreamFramer) -> list[FramerEvent]:
    events = []
    while (event := framer.next_event()) is not None:
        events.append(event)
    return events


def feed(framer: StreamFramer, data: bytes, chunk: int) -> list[FramerEvent]:
    events: list[FramerEvent] = []
    for start in range(0, len(data), chunk):
        framer.receive_data(data[start : start + chunk])
        events += drain(framer)
    return events


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 100000])
def test_messages_in_any_chunking(chunk: int) -> None:
    stream = REGISTER + MESSAGE + b"\r\n\r\n" + REGISTER + b"\r\n"
    events = feed(StreamFramer(), stream, chunk)
    assert events[:2] == [Frame(REGISTER), Frame(MESSAGE)]
    # A ping cut by the chunking after its first CRLF reads as two pongs (see _keep_alive).
    whole_ping = [Ping(), Frame(REGISTER)]
    assert events[2:4] == whole_ping or events[2:5] == [Pong(), Pong(), Frame(REGISTER)]
    ping_cut = (len(REGISTER + MESSAGE) + 2) % chunk == 0
    assert (events[2:4] == whole_ping) is not ping_cut
    assert isinstance(events[-1], Pong)


def test_body_is_framed_by_content_length_not_by_content() -> None:
    framer = StreamFramer()
    framer.receive_data(MESSAGE)
    (frame,) = drain(framer)
    assert isinstance(frame, Frame)
    assert parse_message(frame.data).body == MESSAGE_BODY


def test_waits_for_the_whole_body() -> None:
    framer = StreamFramer()
    framer.receive_data(MESSAGE[:-5])
    assert framer.next_event() is None
    assert framer.in_message
    framer.receive_data(MESSAGE[-5:])
    assert framer.next_event() == Frame(MESSAGE)
    assert framer.buffered == 0 and not framer.in_message


def test_keep_alives() -> None:
    framer = StreamFramer()
    framer.receive_data(b"\r\n\r\n")
    assert drain(framer) == [Ping()]
    framer.receive_data(b"\r\n")
    assert drain(framer) == [Pong()]
    assert PONG == b"\r\n"


def test_missing_content_length_means_no_body() -> None:
    framer = StreamFramer()
    data = REGISTER.replace(b"Content-Length: 0\r\n", b"")
    framer.receive_data(data + REGISTER)
    assert drain(framer) == [Frame(data), Frame(REGISTER)]


@pytest.mark.parametrize(
    "line",
    [b"Content-Length: -1", b"Content-Length: five", b"Content-Length: 0\r\nl: 12",
     b"Content-Length: 99999999999"],
)
def test_unreadable_content_length_loses_framing(line: bytes) -> None:
    framer = StreamFramer()
    framer.receive_data(REGISTER.replace(b"Content-Length: 0", line))
    with pytest.raises(FramingError) as raised:
        framer.next_event()
    assert raised.value.close_connection
    # The framer stays broken: the connection must be closed.
    with pytest.raises(FramingError):
        framer.receive_data(REGISTER)
    with pytest.raises(FramingError):
        framer.next_event()


def test_folded_content_length_is_read() -> None:
    data = MESSAGE.replace(b"l: ", b"Content-Length:\r\n  ")
    framer = StreamFramer()
    framer.receive_data(data)
    assert drain(framer) == [Frame(data)]


def test_header_block_is_bounded() -> None:
    framer = StreamFramer(max_header_size=1024)
    with pytest.raises(MessageTooLarge) as raised:
        for _ in range(100):
            framer.receive_data(b"X-Filler: " + b"a" * 50 + b"\r\n")
            framer.next_event()
    assert raised.value.status == 513 and raised.value.close_connection
    assert framer.buffered == 0


def test_complete_but_oversized_header_block() -> None:
    framer = StreamFramer(max_header_size=128)
    framer.receive_data(REGISTER)
    with pytest.raises(MessageTooLarge):
        framer.next_event()


def test_body_is_bounded_and_the_request_can_still_be_answered() -> None:
    framer = StreamFramer(max_body_size=10)
    framer.receive_data(MESSAGE[: MESSAGE.index(b"\r\n\r\n") + 4])
    with pytest.raises(MessageTooLarge) as raised:
        framer.next_event()
    answer = rejection_for(framer.failed_head, raised.value)
    assert answer is not None
    response = parse_message(answer)
    assert response.status == 513  # type: ignore[union-attr]
    assert response.call_id == "asd88asd77a@1.2.3.4"


def test_eof_inside_a_message() -> None:
    framer = StreamFramer()
    framer.receive_data(REGISTER[:20])
    assert framer.next_event() is None
    with pytest.raises(FramingError):
        framer.receive_eof()


def test_eof_between_messages() -> None:
    framer = StreamFramer()
    framer.receive_data(REGISTER)
    drain(framer)
    framer.receive_eof()


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError):
        StreamFramer(max_header_size=10)
    with pytest.raises(ValueError):
        StreamFramer(max_body_size=-1)


def test_large_stream_does_not_rescan() -> None:
    # Many small reads of one big header block stay linear: the search resumes where it stopped.
    framer = StreamFramer(max_header_size=1 << 20)
    filler = b"X-Filler: " + b"b" * 80 + b"\r\n"
    head, _, _ = REGISTER.partition(b"Content-Length")
    framer.receive_data(head)
    for _ in range(5000):
        framer.receive_data(filler)
        assert framer.next_event() is None
    framer.receive_data(b"Content-Length: 0\r\n\r\n")
    (frame,) = drain(framer)
    assert isinstance(frame, Frame)
    assert len(parse_message(frame.data).headers.get_all("x-filler")) == 5000
