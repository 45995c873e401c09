"""The media server's control protocol, pure: JSON lines, validated against a command table.

A request is one JSON object per line: ``{"id": 7, "cmd": "allocate", "call": "c1"}``.
The answer carries the same id: ``{"id": 7, "ok": true, ...}`` or
``{"id": 7, "ok": false, "error": "..."}``. Events from the server have no id:
``{"event": "timeout", "relay": "c1", "leg": 1, "silent": 30.0}``. docs/MEDIA.md lists every
command; the table below is the single definition of their parameters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = [
    "COMMANDS",
    "MAX_LINE",
    "ControlError",
    "Param",
    "Request",
    "encode_event",
    "encode_reply",
    "parse_request",
]

MAX_LINE = 64 * 1024


class ControlError(ValueError):
    """A request that cannot be carried out; the text goes back to the controller."""

    def __init__(self, message: str, request_id: Any = None) -> None:
        super().__init__(message)
        self.request_id = request_id


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: type | tuple[type, ...]
    required: bool = True
    doc: str = ""


_LEG = Param("leg", int, doc="0 (the caller's side, A) or 1 (the callee's side, B)")
_RELAY = Param("relay", str, doc="the relay id given at allocate (the call's id)")
_CONF = Param("conference", str, doc="conference id")
_MEMBER = Param("member", str, doc="member id within the conference")
_REMOTE = (
    Param("address", str, doc="the peer's media address from its SDP (c=)"),
    Param("port", int, doc="the peer's RTP port from its SDP (m=)"),
    Param("rtcp_port", int, required=False, doc="a=rtcp port (default port + 1)"),
    Param("payload_type", int, required=False, doc="G.711 payload type in use: 0 or 8"),
    Param("event_payload_type", int, required=False,
          doc="telephone-event payload type (RFC 4733) to detect DTMF on"),
    Param("sends", bool, required=False,
          doc="false while the peer is not expected to send (hold, inactive): no timeout"),
    Param("transport", str, required=False,
          doc="rtp (default) or udptl: T.38 fax, relayed untouched"),
)

# command -> (parameters, description)
COMMANDS: dict[str, tuple[tuple[Param, ...], str]] = {
    "ping": ((), "liveness; answers with the server's node name and load"),
    "allocate": ((Param("relay", str, doc="unique id, usually the call id"),
                  Param("strict_source", bool, required=False,
                        doc="only latch to the address named in the SDP")),
                 "create a relay with two legs; answers address and ports of each leg"),
    "update": ((_RELAY, _LEG, *_REMOTE),
               "set a leg's peer from its SDP (offer/answer, re-INVITE, transfer); a new "
               "address re-opens latching"),
    "release": ((_RELAY,), "free a relay and its ports; answers its packet counters"),
    "play": ((_RELAY, _LEG, Param("source", str, doc="tone:<name>, prompt:<name>, moh, "
                                                     "file:<name.wav> in the prompts dir"),
              Param("loop", bool, required=False)),
             "play audio into a leg instead of the other leg's audio (early media, hold)"),
    "send_dtmf": ((_RELAY, _LEG, Param("digits", str, doc="0-9, *, #, A-D")),
                  "send digits to a leg's peer as RFC 4733 telephone-events"),
    "stop_play": ((_RELAY, _LEG), "stop playing; the relayed audio resumes"),
    "record_start": ((_RELAY, Param("file", str, required=False,
                                    doc="file name in the recordings dir")),
                     "record both directions to a stereo WAV; answers its path"),
    "record_stop": ((_RELAY,), "finish the recording; answers path and seconds"),
    "conference_create": ((_CONF, Param("pin", str, required=False,
                                        doc="digits a member enters (then #) to join")),
                          "create a mix-minus conference"),
    "conference_join": ((_CONF, _MEMBER),
                        "add a member; answers its address and ports (it needs the PIN "
                        "first when the conference has one)"),
    "conference_update": ((_CONF, _MEMBER, *_REMOTE), "set a member's peer from its SDP"),
    "conference_leave": ((_CONF, _MEMBER), "remove a member; the others do not notice"),
    "conference_destroy": ((_CONF,), "remove every member and the conference"),
    "stats": ((), "counters of the whole server"),
}


@dataclass(frozen=True, slots=True)
class Request:
    id: Any
    command: str
    params: dict[str, Any]


def parse_request(line: bytes) -> Request:
    """Validate one request line against `COMMANDS`."""
    if len(line) > MAX_LINE:
        raise ControlError(f"request of {len(line)} octets exceeds {MAX_LINE}")
    try:
        message = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ControlError(f"not a JSON object: {exc}") from exc
    if not isinstance(message, dict):
        raise ControlError("a request must be a JSON object")
    try:
        return _validate(message)
    except ControlError as exc:
        raise ControlError(str(exc), message.get("id")) from None


def _validate(message: dict[str, Any]) -> Request:
    command = message.get("cmd")
    if not isinstance(command, str) or command not in COMMANDS:
        known = ", ".join(sorted(COMMANDS))
        raise ControlError(f"unknown command {command!r}; known: {known}")
    params_spec, _ = COMMANDS[command]
    allowed = {p.name for p in params_spec} | {"id", "cmd"}
    unknown = sorted(set(message) - allowed)
    if unknown:
        raise ControlError(f"{command}: unknown parameter(s) {', '.join(unknown)}")
    params: dict[str, Any] = {}
    for param in params_spec:
        if param.name not in message:
            if param.required:
                raise ControlError(f"{command}: missing {param.name} ({param.doc})")
            continue
        value = message[param.name]
        if not isinstance(value, param.kind) or (param.kind is int and isinstance(value, bool)):
            raise ControlError(f"{command}: {param.name} must be "
                               f"{getattr(param.kind, '__name__', param.kind)}, got {value!r}")
        params[param.name] = value
    return Request(message.get("id"), command, params)


def encode_reply(request_id: Any, result: dict[str, Any] | None = None,
                 error: str | None = None) -> bytes:
    body: dict[str, Any] = {"id": request_id, "ok": error is None}
    if error is not None:
        body["error"] = error
    if result:
        body.update(result)
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def encode_event(name: str, **fields: Any) -> bytes:
    return json.dumps({"event": name, **fields}, separators=(",", ":")).encode() + b"\n"
