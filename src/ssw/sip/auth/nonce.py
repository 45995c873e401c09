"""Stateless server nonces and an optional, bounded nonce-count replay window.

A nonce is "uniquely generated each time a 401 response is made" and its content is
"implementation dependent" (RFC 7616 §3.3); RFC 2617 §3.2.1 suggests
`time-stamp H(time-stamp ":" ETag ":" private-key)`. Ours is that idea with an HMAC:

    nonce = base64url( version | flags | issued-at (ms, u64) | salt (6 bytes) | tag (16 bytes) )
    tag   = HMAC-SHA-256(secret, "ssw-digest-nonce" | version..salt | realm | 0 | binding)[:16]

The server therefore stores nothing per challenge: any process holding the secret can tell a
nonce it issued (for this realm and binding) from a forged one, and how old it is. The flags
remember whether qop was offered, so a client cannot strip qop to fall back to RFC 2069.
`binding` is optional caller data the nonce is tied to (e.g. the source address).

What a stateless nonce allows: within its lifetime a captured Authorization value can be
replayed for the same method, URI (and body with auth-int) — the nonce alone cannot say it was
used. `ReplayGuard` closes that for qop requests: it remembers, per (nonce, cnonce), the
highest nonce-count seen and a 64-entry window below it (RFC 7616 §3.4: the server checks that
nc was not used before), bounded in size and forgetting entries when their nonce expires.
Without qop there is no nonce-count, so the same credentials stay valid until the nonce
expires: that is RFC 2069's limit, and why challenges offer qop=auth.

`issued_at` uses the caller's `now`: pass wall-clock seconds if several processes or cluster
nodes share the secret, so that they agree on a nonce's age.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import struct
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "NonceCheck",
    "NonceState",
    "ReplayGuard",
    "StatelessNonces",
]

_VERSION = 1
_FLAG_QOP = 0x01
_HEADER = struct.Struct(">BBQ6s")  # version, flags, issued-at in ms, salt
_TAG_LENGTH = 16
_RAW_LENGTH = _HEADER.size + _TAG_LENGTH
_ENCODED_LENGTH = (_RAW_LENGTH * 4 + 2) // 3
_CONTEXT = b"ssw-digest-nonce"


class NonceState(Enum):
    VALID = "valid"
    EXPIRED = "expired"  # ours, but older than the lifetime: answer with stale=true
    INVALID = "invalid"  # not ours, not for this realm/binding, or not a nonce at all


@dataclass(frozen=True, slots=True)
class NonceCheck:
    state: NonceState
    issued_at: float = 0.0
    qop_offered: bool = False


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class StatelessNonces:
    """Issues and checks HMAC-authenticated nonces (see the module docstring)."""

    def __init__(
        self,
        secret: bytes,
        *,
        ttl: float,
        clock_skew: float = 30.0,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("nonce secret must be at least 16 bytes")
        if ttl <= 0:
            raise ValueError("nonce lifetime must be positive")
        self._secret = secret
        self._keyed = hmac.new(secret, None, "sha256")  # copied per tag: the key is set once
        self.ttl = ttl
        self.clock_skew = clock_skew
        self._random_bytes = random_bytes

    def _tag(self, header: bytes, realm: str, binding: bytes) -> bytes:
        message = b"".join((_CONTEXT, header, realm.encode("utf-8"), b"\0", binding))
        mac = self._keyed.copy()
        mac.update(message)
        return mac.digest()[:_TAG_LENGTH]

    def issue(self, now: float, *, realm: str, qop: bool, binding: bytes = b"") -> str:
        if now < 0:
            raise ValueError("now must not be negative")
        flags = _FLAG_QOP if qop else 0
        header = _HEADER.pack(_VERSION, flags, round(now * 1000), self._random_bytes(6))
        return _encode(header + self._tag(header, realm, binding))

    def check(self, nonce: str, now: float, *, realm: str, binding: bytes = b"") -> NonceCheck:
        if len(nonce) != _ENCODED_LENGTH or not nonce.isascii():
            return NonceCheck(NonceState.INVALID)
        try:
            raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
        except (binascii.Error, ValueError):
            return NonceCheck(NonceState.INVALID)
        # Only the canonical spelling: the last character carries two unused bits.
        if len(raw) != _RAW_LENGTH or _encode(raw) != nonce:
            return NonceCheck(NonceState.INVALID)
        header, tag = raw[: _HEADER.size], raw[_HEADER.size :]
        if not hmac.compare_digest(tag, self._tag(header, realm, binding)):
            return NonceCheck(NonceState.INVALID)
        version, flags, issued_ms, _salt = _HEADER.unpack(header)
        if version != _VERSION:
            return NonceCheck(NonceState.INVALID)
        issued_at = issued_ms / 1000
        qop_offered = bool(flags & _FLAG_QOP)
        age = now - issued_at
        # A nonce "from the future" is ours (the tag proves it) but the clock moved: stale.
        if age > self.ttl or age < -self.clock_skew:
            return NonceCheck(NonceState.EXPIRED, issued_at, qop_offered)
        return NonceCheck(NonceState.VALID, issued_at, qop_offered)


_WINDOW = 64


@dataclass(slots=True)
class _CountWindow:
    highest: int
    seen_below: int  # bit i set: nonce-count (highest - 1 - i) was used
    expires_at: float


class ReplayGuard:
    """Rejects a nonce-count used before with the same nonce and cnonce (RFC 7616 §3.4).

    Counts may arrive out of order (parallel requests); any count above the highest seen, or
    within the 64 below it and not yet seen, is accepted once. Holds at most `max_entries`
    (nonce, cnonce) pairs, dropping the oldest first and any whose nonce has expired.
    """

    def __init__(self, max_entries: int = 65536) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._windows: OrderedDict[tuple[str, str], _CountWindow] = OrderedDict()

    def __len__(self) -> int:
        return len(self._windows)

    def accept(self, nonce: str, cnonce: str, nc: int, *, expires_at: float, now: float) -> bool:
        """True (and remembered) the first time `nc` is seen for (nonce, cnonce)."""
        self._forget_expired(now)
        key = (nonce, cnonce)
        window = self._windows.get(key)
        if window is None:
            self._windows[key] = _CountWindow(nc, 0, expires_at)
            while len(self._windows) > self.max_entries:
                self._windows.popitem(last=False)
            return True
        if nc > window.highest:
            shift = nc - window.highest
            if shift > _WINDOW:
                window.seen_below = 0
            else:
                mask = (1 << _WINDOW) - 1
                window.seen_below = ((window.seen_below << 1 | 1) << (shift - 1)) & mask
            window.highest = nc
            return True
        distance = window.highest - nc
        if distance == 0 or distance > _WINDOW:
            return False
        bit = 1 << (distance - 1)
        if window.seen_below & bit:
            return False
        window.seen_below |= bit
        return True

    def _forget_expired(self, now: float) -> None:
        # Entries are kept in first-seen order, which is close to expiry order: drop from the
        # front while expired (a later-expiring entry in front only delays the sweep).
        while self._windows:
            key, window = next(iter(self._windows.items()))
            if window.expires_at >= now:
                return
            del self._windows[key]
