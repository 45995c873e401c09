"""SDP session descriptions (RFC 4566): parse, inspect, change, serialise.

    sdp = SessionDescription.parse(request.body)
    audio = sdp.media[0]
    audio.codecs()            # [Codec(0, "PCMU", 8000), Codec(101, "telephone-event", ...)]
    sdp.effective_direction(audio), sdp.effective_connection(audio)
    body = sdp.serialize()    # bytes; a well-formed body comes back byte for byte

The model follows RFC 4566 §5: session-level lines `v o s i u e p c b t r z k a`, then media
descriptions `m` with their own `i c b k a`. The order in which the line types came is
remembered per section (some senders put t= before c=, or a= before c=), so a body whose lines
of one type are together, with consistent CRLF (or LF) endings, serialises to exactly the
bytes it was parsed from; new content goes where RFC 4566 puts it. Lines with a type letter this
module does not know are kept verbatim at the end of their section (RFC 4566 §5 tells a
parser to ignore such a description; a B2BUA forwarding it must not lose them). Anything
malformed raises `SdpError` naming the line; sizes are bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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
    parse_decimal,
    split_fields,
)

__all__ = [
    "MAX_LINES",
    "MAX_LINE_LENGTH",
    "MAX_MEDIA",
    "MAX_SDP_SIZE",
    "MediaDescription",
    "SessionDescription",
]

MAX_SDP_SIZE = 65536
MAX_LINES = 2048
MAX_LINE_LENGTH = 4096
MAX_MEDIA = 64

_DIRECTIONS = frozenset(d.value for d in Direction)


class _Attributes:
    """Attribute access shared by the session level and media descriptions."""

    attributes: list[Attribute]

    def has_attribute(self, name: str) -> bool:
        return any(a.name == name for a in self.attributes)

    def attribute_values(self, name: str) -> list[str | None]:
        """Values of every a=`name` line, in order (None for a property attribute)."""
        return [a.value for a in self.attributes if a.name == name]

    def attribute(self, name: str) -> str | None:
        """Value of the first a=`name` line, or None."""
        for a in self.attributes:
            if a.name == name:
                return a.value
        return None

    def set_attribute(self, name: str, value: str | None = None) -> None:
        """Leave exactly one a=`name`, where the first one was (else at the end)."""
        self._replace(lambda a: a.name == name, Attribute(name, value))

    def remove_attributes(self, name: str) -> None:
        self.attributes = [a for a in self.attributes if a.name != name]

    @property
    def direction(self) -> Direction | None:
        """The direction attribute at this level, None when there is none (RFC 3264 §5.1)."""
        for a in self.attributes:
            if a.value is None and a.name in _DIRECTIONS:
                return Direction(a.name)
        return None

    @direction.setter
    def direction(self, value: Direction | None) -> None:
        def is_direction(a: Attribute) -> bool:
            return a.value is None and a.name in _DIRECTIONS

        if value is None:
            self.attributes = [a for a in self.attributes if not is_direction(a)]
        else:
            self._replace(is_direction, Attribute(value.value))

    def _replace(self, matches: Callable[[Attribute], bool], new: Attribute) -> None:
        kept: list[Attribute] = []
        placed = False
        for a in self.attributes:
            if matches(a):
                if not placed:
                    kept.append(new)
                    placed = True
            else:
                kept.append(a)
        if not placed:
            kept.append(new)
        self.attributes = kept


@dataclass(eq=True)
class MediaDescription(_Attributes):
    """m=<media> <port>[/<count>] <proto> <fmt> ... and its i c b k a lines (§5.14)."""

    media: str
    port: int
    proto: str
    formats: list[str]
    port_count: int | None = None
    title: str | None = None
    connections: list[Connection] = field(default_factory=list)
    bandwidths: list[Bandwidth] = field(default_factory=list)
    key: str | None = None
    attributes: list[Attribute] = field(default_factory=list)
    extra_lines: list[str] = field(default_factory=list)
    line_order: str = field(default="", compare=False)

    @classmethod
    def parse_media_line(cls, value: str) -> MediaDescription:
        parts = split_fields(value)
        if len(parts) < 3:
            raise SdpError(f"m= needs '<media> <port> <proto> <fmt> ...', got {value!r}")
        media, port_text, proto, *formats = parts
        port_part, slash, count_part = port_text.partition("/")
        port = parse_decimal(port_part, "m= port", high=65535)
        count = parse_decimal(count_part, "m= port count", low=1) if slash else None
        return cls(media, port, proto, formats, port_count=count)

    def media_line(self) -> str:
        port = f"{self.port}/{self.port_count}" if self.port_count is not None else str(self.port)
        return " ".join([self.media, port, self.proto, *self.formats])

    @property
    def is_rejected(self) -> bool:
        """Port zero: the stream was rejected or removed (RFC 3264 §6, §8.2)."""
        return self.port == 0

    @property
    def ptime(self) -> int | None:
        value = self.attribute("ptime")
        if value is None:
            return None
        try:
            return parse_decimal(value.strip(), "a=ptime", low=1)
        except SdpError:
            return None

    def rtpmaps(self, *, strict: bool = False) -> dict[int, RtpMap]:
        """The a=rtpmap lines by payload type.

        A malformed rtpmap (RFC 4475's sdp01 has "a=rtpmap:31 LPC") is skipped, so its format
        reads as if it had none; with `strict` it raises `SdpError` instead.
        """
        maps: dict[int, RtpMap] = {}
        for value in self.attribute_values("rtpmap"):
            try:
                rtpmap = RtpMap.parse(value or "")
            except SdpError:
                if strict:
                    raise
                continue
            maps.setdefault(rtpmap.payload_type, rtpmap)
        return maps

    def fmtps(self) -> dict[str, str]:
        """a=fmtp parameters by format (RFC 4566 §6: a=fmtp:<format> <parameters>)."""
        found: dict[str, str] = {}
        for value in self.attribute_values("fmtp"):
            fmt, _, params = (value or "").partition(" ")
            if fmt:
                found.setdefault(fmt, params)
        return found

    def codecs(self) -> list[Codec]:
        """The RTP formats of the m= line in order, named by rtpmap or RFC 3551's table."""
        maps = self.rtpmaps()
        fmtps = self.fmtps()
        result: list[Codec] = []
        for fmt in self.formats:
            if not fmt.isascii() or not fmt.isdigit() or int(fmt) > 127:
                continue
            pt = int(fmt)
            rtpmap = maps.get(pt) or STATIC_PAYLOAD_TYPES.get(pt) or RtpMap(pt, "", 0)
            result.append(
                Codec(pt, rtpmap.encoding, rtpmap.clock_rate, rtpmap.channels, fmtps.get(fmt))
            )
        return result

    def lines(self) -> list[str]:
        groups: dict[str, list[str]] = {
            "i": [f"i={self.title}"] if self.title is not None else [],
            "c": [f"c={c}" for c in self.connections],
            "b": [f"b={b}" for b in self.bandwidths],
            "k": [f"k={self.key}"] if self.key is not None else [],
            "a": [f"a={a}" for a in self.attributes],
            "*": list(self.extra_lines),
        }
        return [f"m={self.media_line()}", *_in_order(groups, self.line_order, _MEDIA_ORDER)]


@dataclass(eq=True)
class SessionDescription(_Attributes):
    """A whole SDP body (RFC 4566 §5). `line_ending` is kept for exact round trips."""

    origin: Origin
    session_name: str | None = "-"
    version: int = 0
    information: str | None = None
    uri: str | None = None
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    connection: Connection | None = None
    bandwidths: list[Bandwidth] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=lambda: [Timing()])
    time_zones: str | None = None
    key: str | None = None
    attributes: list[Attribute] = field(default_factory=list)
    media: list[MediaDescription] = field(default_factory=list)
    extra_lines: list[str] = field(default_factory=list)
    line_ending: str = "\r\n"
    line_order: str = field(default="", compare=False)

    # -- reading -------------------------------------------------------------------------

    @classmethod
    def parse(cls, data: bytes | str) -> SessionDescription:
        """Parse an SDP body; `SdpError` says which line is wrong and why."""
        if len(data) > MAX_SDP_SIZE:
            raise SdpError(f"SDP body is {len(data)} bytes, over the {MAX_SDP_SIZE} limit")
        # Bytes that are not UTF-8 (a Latin-1 s= line, say) are kept as they are: they come
        # back from serialize() unchanged (surrogateescape), so a relayed body loses nothing.
        text = data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data
        return _Parser(text).parse()

    def copy(self) -> SessionDescription:
        """A deep copy, field by field (`copy.deepcopy` cost a B2BUA about 40 µs per offer)."""
        return SessionDescription(
            origin=Origin(*_origin_fields(self.origin)),
            session_name=self.session_name,
            version=self.version,
            information=self.information,
            uri=self.uri,
            emails=list(self.emails),
            phones=list(self.phones),
            connection=_copy_connection(self.connection),
            bandwidths=[Bandwidth(b.bw_type, b.bandwidth) for b in self.bandwidths],
            timings=[Timing(t.start, t.stop, list(t.repeats)) for t in self.timings],
            time_zones=self.time_zones,
            key=self.key,
            attributes=[Attribute(a.name, a.value) for a in self.attributes],
            media=[_copy_media(m) for m in self.media],
            extra_lines=list(self.extra_lines),
            line_ending=self.line_ending,
            line_order=self.line_order,
        )

    def effective_direction(self, media: MediaDescription) -> Direction:
        """Media-level direction, else session-level, else sendrecv (RFC 3264 §5.1)."""
        return media.direction or self.direction or Direction.SENDRECV

    def effective_connection(self, media: MediaDescription) -> Connection | None:
        """The media's own c= line, else the session's (RFC 4566 §5.7)."""
        return media.connections[0] if media.connections else self.connection

    # -- writing -------------------------------------------------------------------------

    def lines(self) -> list[str]:
        def one(letter: str, value: object) -> list[str]:
            return [f"{letter}={value}"] if value is not None else []

        timings: list[str] = []
        for timing in self.timings:
            timings.append(f"t={timing}")
            timings.extend(f"r={r}" for r in timing.repeats)
        groups: dict[str, list[str]] = {
            "o": [f"o={self.origin}"],
            "s": one("s", self.session_name),
            "i": one("i", self.information),
            "u": one("u", self.uri),
            "e": [f"e={e}" for e in self.emails],
            "p": [f"p={p}" for p in self.phones],
            "c": one("c", self.connection),
            "b": [f"b={b}" for b in self.bandwidths],
            "t": timings,
            "z": one("z", self.time_zones),
            "k": one("k", self.key),
            "a": [f"a={a}" for a in self.attributes],
            "*": list(self.extra_lines),
        }
        out = [f"v={self.version}", *_in_order(groups, self.line_order, _SESSION_ORDER)]
        for media in self.media:
            out.extend(media.lines())
        return out

    def to_text(self) -> str:
        lines = self.lines()
        joined = "".join(lines)
        if "\r" in joined or "\n" in joined or "\0" in joined:
            for line in lines:
                if "\r" in line or "\n" in line or "\0" in line:
                    raise SdpError(f"SDP line contains CR, LF or NUL: {line!r}")
        ending = self.line_ending
        return ending.join(lines) + ending

    def serialize(self) -> bytes:
        try:
            return self.to_text().encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            raise SdpError(f"SDP text cannot be encoded: {exc.reason}") from None

    def __str__(self) -> str:
        return self.to_text()


_SESSION_ONLY = frozenset("vosuepztr")
# RFC 4566 §5 order of line types; "*" stands for lines of unknown types (kept last).
_SESSION_ORDER = "osiuepcbtzka*"
_MEDIA_ORDER = "icbka*"


def _in_order(groups: dict[str, list[str]], recorded: str, canonical: str) -> list[str]:
    """The lines of `groups` by type, in the order the types were parsed in (`recorded`).

    Types missing from `recorded` (new content, or a description built in code) go where
    RFC 4566 puts them: after the nearest type that precedes them in `canonical`.
    """
    order = _ORDERS.get((recorded, canonical))
    if order is None:
        order = _line_type_order(recorded, canonical)
        if len(_ORDERS) >= 256:  # bounded: orders seen are few (one per kind of phone)
            _ORDERS.clear()
        _ORDERS[(recorded, canonical)] = order
    return [line for letter in order for line in groups[letter]]


_ORDERS: dict[tuple[str, str], tuple[str, ...]] = {}


def _line_type_order(recorded: str, canonical: str) -> tuple[str, ...]:
    order = [letter for letter in dict.fromkeys(recorded) if letter in canonical]
    for index, letter in enumerate(canonical):
        if letter in order:
            continue
        position = 0
        for before in reversed(canonical[:index]):
            if before in order:
                position = order.index(before) + 1
                break
        order.insert(position, letter)
    return tuple(order)


def _origin_fields(origin: Origin) -> tuple[str, str, int, str, str, str]:
    return (origin.username, origin.session_id, origin.session_version, origin.net_type,
            origin.addr_type, origin.address)


def _copy_connection(connection: Connection | None) -> Connection | None:
    if connection is None:
        return None
    return Connection(connection.address, connection.addr_type, connection.net_type,
                      connection.multicast_suffix)


def _copy_media(media: MediaDescription) -> MediaDescription:
    return MediaDescription(
        media=media.media,
        port=media.port,
        proto=media.proto,
        formats=list(media.formats),
        port_count=media.port_count,
        title=media.title,
        connections=[Connection(c.address, c.addr_type, c.net_type, c.multicast_suffix)
                     for c in media.connections],
        bandwidths=[Bandwidth(b.bw_type, b.bandwidth) for b in media.bandwidths],
        key=media.key,
        attributes=[Attribute(a.name, a.value) for a in media.attributes],
        extra_lines=list(media.extra_lines),
        line_order=media.line_order,
    )


class _Parser:
    """One pass over the lines; `SdpError` messages carry the 1-based line number."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_ending = "\r\n" if "\r\n" in text else "\n"
        self.origin: Origin | None = None
        self.session = SessionDescription(Origin("-", "0", 0, "IN", "IP4", "0.0.0.0"))
        self.session.session_name = None
        self.session.timings = []
        self.current: MediaDescription | None = None
        self.seen: set[str] = set()

    def parse(self) -> SessionDescription:
        raw_lines = self.text.split("\n")
        if raw_lines and raw_lines[-1] == "":
            raw_lines.pop()
        if len(raw_lines) > MAX_LINES:
            raise SdpError(f"SDP has {len(raw_lines)} lines, over the {MAX_LINES} limit")
        numbered = [(n, line.removesuffix("\r")) for n, line in enumerate(raw_lines, 1)]
        numbered = [(n, line) for n, line in numbered if line]
        if not numbered:
            raise SdpError("SDP body is empty")
        first_number, first = numbered[0]
        if first != "v=0":
            raise SdpError(f"line {first_number}: SDP must start with 'v=0', got {first[:40]!r}")
        for number, line in numbered[1:]:
            try:
                self._line(line)
            except SdpError as exc:
                raise SdpError(f"line {number}: {exc}") from None
        if self.origin is None:
            raise SdpError("SDP has no o= line (RFC 4566 §5.2)")
        self.session.origin = self.origin
        self.session.line_ending = self.line_ending
        return self.session

    def _line(self, line: str) -> None:
        if len(line) > MAX_LINE_LENGTH:
            raise SdpError(f"line is {len(line)} characters, over {MAX_LINE_LENGTH}")
        if len(line) < 2 or line[1] != "=" or not ("a" <= line[0] <= "z"):
            raise SdpError(f"expected '<letter>=<value>', got {line[:40]!r}")
        kind, value = line[0], line[2:]
        if "\0" in value or "\r" in value:
            raise SdpError("line contains a NUL or a CR that does not end it")
        if kind == "m":
            if len(self.session.media) >= MAX_MEDIA:
                raise SdpError(f"more than {MAX_MEDIA} media descriptions")
            self.current = MediaDescription.parse_media_line(value)
            self.session.media.append(self.current)
        elif self.current is not None:
            self._media_line(self.current, kind, value, line)
            self.current.line_order += kind if kind in _MEDIA_ORDER else "*"
        else:
            self._session_line(kind, value, line)
            self.session.line_order += (
                "t" if kind == "r" else kind if kind in _SESSION_ORDER else "*"
            )

    def _once(self, kind: str) -> None:
        if kind in self.seen:
            raise SdpError(f"{kind}= appears twice at session level")
        self.seen.add(kind)

    def _session_line(self, kind: str, value: str, line: str) -> None:
        session = self.session
        if kind == "v":
            raise SdpError("v= appears twice")
        if kind in "osiuczk":
            self._once(kind)
        if kind == "o":
            self.origin = Origin.parse(value)
        elif kind == "s":
            session.session_name = value
        elif kind == "i":
            session.information = value
        elif kind == "u":
            session.uri = value
        elif kind == "e":
            session.emails.append(value)
        elif kind == "p":
            session.phones.append(value)
        elif kind == "c":
            session.connection = Connection.parse(value)
        elif kind == "b":
            session.bandwidths.append(Bandwidth.parse(value))
        elif kind == "t":
            session.timings.append(Timing.parse(value))
        elif kind == "r":
            if not session.timings:
                raise SdpError("r= must follow a t= line (RFC 4566 §5.10)")
            session.timings[-1].repeats.append(value)
        elif kind == "z":
            session.time_zones = value
        elif kind == "k":
            session.key = value
        elif kind == "a":
            session.attributes.append(Attribute.parse(value))
        else:
            session.extra_lines.append(line)

    @staticmethod
    def _media_line(media: MediaDescription, kind: str, value: str, line: str) -> None:
        if kind in _SESSION_ONLY:
            raise SdpError(f"{kind}= is not allowed inside a media description")
        if kind == "i":
            if media.title is not None:
                raise SdpError("i= appears twice in a media description")
            media.title = value
        elif kind == "c":
            media.connections.append(Connection.parse(value))
        elif kind == "b":
            media.bandwidths.append(Bandwidth.parse(value))
        elif kind == "k":
            if media.key is not None:
                raise SdpError("k= appears twice in a media description")
            media.key = value
        elif kind == "a":
            media.attributes.append(Attribute.parse(value))
        else:
            media.extra_lines.append(line)
