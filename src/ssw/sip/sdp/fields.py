"""The typed values of SDP lines (RFC 4566 §5) and of the attributes offer/answer reads.

Each class parses the text after `x=` with `parse` and gives it back with `str()`, so that a
well-formed line serialises to exactly the text it came from. Errors raise `SdpError` with a
message naming the field that was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "STATIC_PAYLOAD_TYPES",
    "Attribute",
    "Bandwidth",
    "Codec",
    "Connection",
    "Direction",
    "Origin",
    "RtpMap",
    "SdpError",
    "Timing",
    "parse_decimal",
    "split_fields",
]


class SdpError(ValueError):
    """An SDP body is malformed or cannot be used; the message says which line and why."""


def parse_decimal(text: str, what: str, *, low: int = 0, high: int | None = None) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 20:
        raise SdpError(f"{what} must be a decimal number of up to 20 digits, got {text[:24]!r}")
    value = int(text)
    if value < low or (high is not None and value > high):
        limit = f"{low}..{high}" if high is not None else f">= {low}"
        raise SdpError(f"{what} {value} is out of range ({limit})")
    return value


def split_fields(value: str) -> list[str]:
    """The space-separated fields of a line (RFC 4566 §5: single spaces).

    Runs of spaces or tabs, and trailing ones, are tolerated: some devices send them. Such a
    line is read, and written back with single spaces.
    """
    return [part for part in value.replace("\t", " ").split(" ") if part]


def _fields(value: str, count: int, line: str) -> list[str]:
    parts = split_fields(value)
    if len(parts) != count:
        raise SdpError(f"{line}= needs {count} space-separated fields, got {value!r}")
    return parts


class Direction(StrEnum):
    """Media direction attributes (RFC 4566 §6, RFC 3264 §5.1); sendrecv is the default."""

    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"

    @property
    def sends(self) -> bool:
        return self in (Direction.SENDRECV, Direction.SENDONLY)

    @property
    def receives(self) -> bool:
        return self in (Direction.SENDRECV, Direction.RECVONLY)

    @classmethod
    def from_flags(cls, *, sends: bool, receives: bool) -> Direction:
        if sends and receives:
            return cls.SENDRECV
        if sends:
            return cls.SENDONLY
        if receives:
            return cls.RECVONLY
        return cls.INACTIVE


@dataclass(slots=True)
class Origin:
    """o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (§5.2)."""

    username: str
    session_id: str
    session_version: int
    net_type: str
    addr_type: str
    address: str

    @classmethod
    def parse(cls, value: str) -> Origin:
        username, session_id, version, net_type, addr_type, address = _fields(value, 6, "o")
        return cls(
            username,
            session_id,
            parse_decimal(version, "o= session version"),
            net_type,
            addr_type,
            address,
        )

    def __str__(self) -> str:
        return (
            f"{self.username} {self.session_id} {self.session_version} "
            f"{self.net_type} {self.addr_type} {self.address}"
        )


@dataclass(slots=True)
class Connection:
    """c=<nettype> <addrtype> <connection-address> (§5.7).

    `address` is the host; `multicast_suffix` keeps "/ttl[/count]" or "/count" verbatim.
    """

    address: str
    addr_type: str = "IP4"
    net_type: str = "IN"
    multicast_suffix: str = ""

    @classmethod
    def parse(cls, value: str) -> Connection:
        net_type, addr_type, address = _fields(value, 3, "c")
        host, slash, suffix = address.partition("/")
        if not host:
            raise SdpError(f"c= has an empty address: {value!r}")
        return cls(host, addr_type, net_type, slash + suffix)

    @property
    def is_null(self) -> bool:
        """The RFC 2543 hold address (RFC 3264 §8.4 says to understand it when received)."""
        return self.address in ("0.0.0.0", "::")

    def __str__(self) -> str:
        return f"{self.net_type} {self.addr_type} {self.address}{self.multicast_suffix}"


@dataclass(slots=True)
class Bandwidth:
    """b=<bwtype>:<bandwidth> (§5.8), e.g. AS:64 or TIAS:64000."""

    bw_type: str
    bandwidth: int

    @classmethod
    def parse(cls, value: str) -> Bandwidth:
        bw_type, colon, amount = value.partition(":")
        if not colon or not bw_type:
            raise SdpError(f"b= must be <type>:<bandwidth>, got {value!r}")
        return cls(bw_type, parse_decimal(amount, f"b={bw_type} bandwidth"))

    def __str__(self) -> str:
        return f"{self.bw_type}:{self.bandwidth}"


@dataclass(slots=True)
class Timing:
    """t=<start-time> <stop-time> (§5.9) with its r= repeat lines kept verbatim (§5.10)."""

    start: int = 0
    stop: int = 0
    repeats: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, value: str) -> Timing:
        start, stop = _fields(value, 2, "t")
        return cls(parse_decimal(start, "t= start time"), parse_decimal(stop, "t= stop time"))

    def __str__(self) -> str:
        return f"{self.start} {self.stop}"


@dataclass(slots=True)
class Attribute:
    """a=<attribute> or a=<attribute>:<value> (§5.13); `value` None for a property."""

    name: str
    value: str | None = None

    @classmethod
    def parse(cls, text: str) -> Attribute:
        name, colon, value = text.partition(":")
        if not name:
            raise SdpError(f"a= has no attribute name: {text!r}")
        return cls(name, value if colon else None)

    def __str__(self) -> str:
        return self.name if self.value is None else f"{self.name}:{self.value}"


@dataclass(frozen=True, slots=True)
class RtpMap:
    """a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>] (§6)."""

    payload_type: int
    encoding: str
    clock_rate: int
    channels: int | None = None

    @classmethod
    def parse(cls, value: str) -> RtpMap:
        pt_text, space, rest = value.partition(" ")
        parts = rest.strip().split("/")
        if not space or len(parts) not in (2, 3) or not parts[0]:
            raise SdpError(f"rtpmap must be '<pt> <name>/<rate>[/<channels>]', got {value!r}")
        channels = parse_decimal(parts[2], "rtpmap channels", low=1) if len(parts) == 3 else None
        return cls(
            parse_decimal(pt_text, "rtpmap payload type", high=127),
            parts[0],
            parse_decimal(parts[1], "rtpmap clock rate", low=1),
            channels,
        )

    def __str__(self) -> str:
        channels = f"/{self.channels}" if self.channels is not None else ""
        return f"{self.payload_type} {self.encoding}/{self.clock_rate}{channels}"


@dataclass(frozen=True, slots=True)
class Codec:
    """A media format as offer/answer sees it: payload type, name, rate, channels, fmtp.

    Names compare case-insensitively (RFC 4855 §3); `key` is what two sides must share.
    An unknown dynamic payload type without rtpmap has an empty `encoding`.
    """

    payload_type: int
    encoding: str
    clock_rate: int
    channels: int | None = None
    fmtp: str | None = None

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.encoding.lower(), self.clock_rate, self.channels or 1)

    def rtpmap(self) -> RtpMap:
        return RtpMap(self.payload_type, self.encoding, self.clock_rate, self.channels)


# RFC 3551 §6 Table 4: static audio/video payload types usable without a=rtpmap.
STATIC_PAYLOAD_TYPES: dict[int, RtpMap] = {
    pt: RtpMap(pt, name, rate, channels)
    for pt, name, rate, channels in (
        (0, "PCMU", 8000, None),
        (3, "GSM", 8000, None),
        (4, "G723", 8000, None),
        (5, "DVI4", 8000, None),
        (6, "DVI4", 16000, None),
        (7, "LPC", 8000, None),
        (8, "PCMA", 8000, None),
        (9, "G722", 8000, None),
        (10, "L16", 44100, 2),
        (11, "L16", 44100, None),
        (12, "QCELP", 8000, None),
        (13, "CN", 8000, None),
        (14, "MPA", 90000, None),
        (15, "G728", 8000, None),
        (16, "DVI4", 11025, None),
        (17, "DVI4", 22050, None),
        (18, "G729", 8000, None),
        (25, "CelB", 90000, None),
        (26, "JPEG", 90000, None),
        (28, "nv", 90000, None),
        (31, "H261", 90000, None),
        (32, "MPV", 90000, None),
        (33, "MP2T", 90000, None),
        (34, "H263", 90000, None),
    )
}
