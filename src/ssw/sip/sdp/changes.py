"""Changing a session: hold and resume offers, o= versions, and the media relay rewrite.

Every function returns a new `SessionDescription` and leaves its argument alone.

Hold (RFC 3264 §8.4): "If the stream to be placed on hold had previously been a sendrecv
media stream, it is placed on hold by marking it sendonly. If it was recvonly, it is placed on
hold by marking it inactive." Older user agents hold with c=0.0.0.0 (RFC 2543); §8.4 asks
for that to be understood when received, so `is_on_hold` reads both.

Versions (RFC 3264 §8): a new offer in the same session keeps o='s username, session id and
address and has "a version number one higher than the previous"; an SDP repeated unchanged
keeps the version. `next_version` applies that against the last SDP sent.

Relay (`rewrite_for_relay`): the media relay sits between the two legs of a call, so the SDP
passed on has the relay's address and ports in place of the endpoint's, and nothing else
changes: codecs, attributes and unknown lines are kept. A c=0.0.0.0 hold stays null.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum

from ssw.sip.sdp.fields import Attribute, Connection, Direction, SdpError
from ssw.sip.sdp.offer_answer import address_type
from ssw.sip.sdp.session import MediaDescription, SessionDescription

__all__ = [
    "HOLD_DIRECTION",
    "ICE_ATTRIBUTES",
    "HoldStyle",
    "bump_version",
    "is_on_hold",
    "is_stream_on_hold",
    "make_hold_offer",
    "make_resume_offer",
    "next_version",
    "rewrite_for_relay",
]

D = Direction

# RFC 3264 §8.4: the direction a held stream is offered with, from its direction before.
HOLD_DIRECTION: dict[Direction, Direction] = {
    D.SENDRECV: D.SENDONLY,
    D.RECVONLY: D.INACTIVE,
    D.SENDONLY: D.SENDONLY,
    D.INACTIVE: D.INACTIVE,
}

# RFC 8839 attributes that describe the endpoint's own candidates: wrong once relayed.
ICE_ATTRIBUTES = frozenset(
    {"candidate", "remote-candidates", "ice-ufrag", "ice-pwd", "ice-options", "ice-lite"}
    | {"end-of-candidates", "ice-mismatch"}
)


class HoldStyle(StrEnum):
    SENDONLY = "sendonly"  # RFC 3264 §8.4 (sendrecv -> sendonly, recvonly -> inactive)
    INACTIVE = "inactive"  # every held stream inactive (no music on hold towards the peer)
    NULL_ADDRESS = "rfc2543"  # c=0.0.0.0, for peers that predate RFC 3264


def _active(sd: SessionDescription) -> list[MediaDescription]:
    return [m for m in sd.media if not m.is_rejected]


def is_stream_on_hold(sd: SessionDescription, media: MediaDescription) -> bool:
    """True when the sender of `sd` does not want to receive on `media` (RFC 3264 §8.4)."""
    connection = sd.effective_connection(media)
    if connection is not None and connection.is_null:
        return True
    return not sd.effective_direction(media).receives


def is_on_hold(sd: SessionDescription) -> bool:
    """True when every accepted stream of `sd` is held (and there is at least one)."""
    active = _active(sd)
    return bool(active) and all(is_stream_on_hold(sd, m) for m in active)


def bump_version(sd: SessionDescription) -> SessionDescription:
    """A copy with o=<sess-version> one higher (RFC 3264 §8)."""
    changed = sd.copy()
    changed.origin.session_version += 1
    return changed


def next_version(previous: SessionDescription, proposed: SessionDescription) -> SessionDescription:
    """`proposed` as the next SDP of the session that `previous` was last sent in.

    o= takes `previous`'s username, session id, network and address (§8: they must not
    change); the version is `previous`'s if nothing else differs, else one higher.
    """
    result = proposed.copy()
    result.origin = replace(previous.origin)
    if result != previous:
        result.origin.session_version = previous.origin.session_version + 1
    return result


def make_hold_offer(
    current: SessionDescription, style: HoldStyle = HoldStyle.SENDONLY
) -> SessionDescription:
    """The re-offer that puts every accepted stream of `current` on hold, version bumped.

    `current` is the SDP this side last sent in the session.
    """
    held = current.copy()
    for media in _active(held):
        before = held.effective_direction(media)
        if style is HoldStyle.NULL_ADDRESS:
            media.connections = [_null(c) for c in media.connections]
        elif style is HoldStyle.INACTIVE:
            media.direction = Direction.INACTIVE
        else:
            media.direction = HOLD_DIRECTION[before]
    if style is HoldStyle.NULL_ADDRESS and held.connection is not None:
        held.connection = _null(held.connection)
    return bump_version(held)


def make_resume_offer(
    current: SessionDescription,
    *,
    direction: Direction = Direction.SENDRECV,
    address: str | None = None,
) -> SessionDescription:
    """The re-offer that takes every accepted stream off hold, version bumped.

    Each stream gets `direction`. A c=0.0.0.0 from an RFC 2543 hold needs `address`, the
    real one to restore; `SdpError` if it is missing.
    """
    resumed = current.copy()
    null_found = False

    def restore(connection: Connection) -> Connection:
        nonlocal null_found
        if not connection.is_null:
            return connection
        null_found = True
        if address is None:
            raise SdpError("the SDP holds with c=0.0.0.0: give the address to resume with")
        return Connection(address, address_type(address), connection.net_type)

    if resumed.connection is not None:
        resumed.connection = restore(resumed.connection)
    for media in _active(resumed):
        media.connections = [restore(c) for c in media.connections]
        media.direction = direction
    return bump_version(resumed)


def _null(connection: Connection) -> Connection:
    null = "::" if connection.addr_type == "IP6" else "0.0.0.0"
    return Connection(null, connection.addr_type, connection.net_type)


def rewrite_for_relay(
    sd: SessionDescription,
    *,
    address: str,
    ports: Sequence[int | None],
    origin_address: bool = True,
    strip_ice: bool = False,
) -> SessionDescription:
    """`sd` with the relay's `address` and `ports[i]` for the i-th m= line.

    A None port keeps the stream's port, rejected streams keep port zero, null (hold)
    connection addresses stay null. a=rtcp (RFC 3605) follows the new port (+1) and address.
    `origin_address` also rewrites o='s address; `strip_ice` drops the ICE attributes,
    which name the endpoint's own candidates. The o= version is not changed: use
    `next_version` against the last SDP sent on the other leg.
    """
    if len(ports) < len(sd.media):
        raise SdpError(f"{len(sd.media)} streams but {len(ports)} relay ports given")
    kind = address_type(address)
    relayed = sd.copy()

    def moved(connection: Connection) -> Connection:
        if connection.is_null:
            return connection
        return Connection(address, kind, connection.net_type, connection.multicast_suffix)

    if origin_address:
        relayed.origin.address = address
        relayed.origin.addr_type = kind
    if relayed.connection is not None:
        relayed.connection = moved(relayed.connection)
    if strip_ice:
        relayed.attributes = [a for a in relayed.attributes if a.name not in ICE_ATTRIBUTES]
    for media, port in zip(relayed.media, ports, strict=False):
        media.connections = [moved(c) for c in media.connections]
        if strip_ice:
            media.attributes = [a for a in media.attributes if a.name not in ICE_ATTRIBUTES]
        if port is None or media.is_rejected:
            continue
        old_port, media.port = media.port, port
        media.attributes = [
            _relayed_rtcp(a, old_port, port, address, kind) for a in media.attributes
        ]
    return relayed


def _relayed_rtcp(
    attribute: Attribute, old_port: int, port: int, address: str, kind: str
) -> Attribute:
    """a=rtcp:<port> [IN <addrtype> <address>] pointed at the relay (RFC 3605 §2.1).

    RTCP on the RTP port (multiplexed, RFC 5761) stays on it; otherwise it goes to port + 1.
    """
    if attribute.name != "rtcp" or attribute.value is None:
        return attribute
    fields = attribute.value.split(" ")
    fields[0] = str(port if fields[0] == str(old_port) else port + 1)
    if len(fields) == 4:
        fields[2], fields[3] = kind, address
    return Attribute("rtcp", " ".join(fields))
