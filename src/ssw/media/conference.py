"""A mix-minus conference: members' legs, jitter buffers, PIN entry by DTMF, the mix.

Each member's received packets go into its own jitter buffer; every tick the engine calls
`tick`, which pops one frame per admitted member, decodes it, mixes with `mix_minus` and
sends each member its own mix as a continuous RTP stream. Joining adds an empty buffer
(it contributes once filled), leaving removes a row: the others hear no gap or click.

With a PIN, a member is admitted only after entering the digits followed by # (RFC 4733
events, payload type from its SDP, 101 by default); until then it hears nothing of the
conference and nobody hears it.
"""

from __future__ import annotations

import hmac
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ssw.media.g711 import DECODERS, PAYLOAD_TYPES, Law, encode, law_for_payload_type
from ssw.media.jitter import FrameAssembler, JitterBuffer
from ssw.media.leg import Leg
from ssw.media.mixer import FRAME_SAMPLES, mix_minus

__all__ = ["Conference", "Member"]

_HEADER = struct.Struct("!BBHII")
EventSink = Callable[[Any, str, dict[str, Any]], None]


@dataclass(slots=True)
class Member:
    leg: Leg
    admitted: bool
    law: Law = "pcmu"
    buffer: JitterBuffer = field(default_factory=lambda: JitterBuffer(depth=2))
    digits: str = ""
    ssrc: int = field(default_factory=lambda: random.getrandbits(32))
    sequence: int = field(default_factory=lambda: random.getrandbits(16))
    timestamp: int = field(default_factory=lambda: random.getrandbits(32))
    input_law: Law | None = None
    frames: FrameAssembler = field(init=False)

    def __post_init__(self) -> None:
        self.frames = FrameAssembler(self.buffer)

    def packet(self, frame: npt.NDArray[np.int16], marker: bool = False) -> bytes:
        header = _HEADER.pack(0x80, PAYLOAD_TYPES[self.law] | (0x80 if marker else 0),
                              self.sequence, self.timestamp, self.ssrc)
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.timestamp = (self.timestamp + FRAME_SAMPLES) & 0xFFFFFFFF
        return header + encode(self.law, frame)


class Conference:
    def __init__(self, conference_id: str, pin: str | None, owner: Any,
                 emit: EventSink) -> None:
        self.id = conference_id
        self.pin = pin
        self.owner = owner
        self._emit = emit
        self.members: dict[str, Member] = {}
        self.frames_mixed = 0

    def add(self, name: str, leg: Leg) -> None:
        member = Member(leg, admitted=self.pin is None)
        leg.event_payload_type = 101
        leg.sink = self._receiver(member)
        leg.on_digit = self._pin_collector(name, member)
        self.members[name] = member

    def remove(self, name: str) -> Leg:
        member = self.members.pop(name)
        member.leg.close()
        return member.leg

    @staticmethod
    def _receiver(member: Member) -> Callable[[Leg, bytes], None]:
        def receive(leg: Leg, packet: bytes) -> None:
            law = law_for_payload_type(packet[1] & 0x7F)
            if law is None or not member.admitted:
                return  # telephone-events and other payloads are not mixed
            member.input_law = law
            offset = 12 + 4 * (packet[0] & 0x0F)
            member.buffer.put(int.from_bytes(packet[2:4], "big"), packet[offset:])
        return receive

    def _pin_collector(self, name: str, member: Member) -> Callable[[Leg, str], None]:
        def collect(leg: Leg, digit: str) -> None:
            if member.admitted or self.pin is None:
                self._emit(self.owner, "dtmf", {"conference": self.id, "member": name,
                                                "digit": digit})
                return
            if digit != "#":
                member.digits = (member.digits + digit)[-32:]
                return
            entered, member.digits = member.digits, ""
            member.admitted = hmac.compare_digest(entered.encode(), self.pin.encode())
            self._emit(self.owner, "pin", {"conference": self.id, "member": name,
                                           "admitted": member.admitted})
        return collect

    def tick(self, now: float) -> None:
        """Mix one frame for every admitted member and send it."""
        admitted = {name: m for name, m in self.members.items() if m.admitted}
        if not admitted:
            return
        inputs: dict[str, npt.NDArray[np.int16] | None] = {}
        for name, member in admitted.items():
            inputs[name] = member.frames.frame(DECODERS[member.input_law or "pcmu"])
        mixes = mix_minus(inputs)
        for name, member in admitted.items():
            member.leg.send(member.packet(mixes[name]), now)
        self.frames_mixed += 1
