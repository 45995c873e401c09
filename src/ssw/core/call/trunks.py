"""Static SIP trunks in the basic call: calls in from a trunk peer, calls out to it.

A trunk is declared on the console (`/domain/<D>/trunk/sip/declare <ctx> <group> <name> <ipset>
static <ip> <port> sip-proxy <listen_port>`, SPEC §7). The call core reads it in two places:

- **caller**: an INVITE whose From names no subscriber of its domain, sent from a static
  trunk's `ip:port`, is the trunk's call. Its peer is identified by its source address (no
  Digest, as between ECSS and a SIP trunk), and it runs in the trunk's domain
  (`trunk_caller`). Its routing context is kept with it; until routing contexts are
  implemented every context routes as the local one does.
- **callee**: a number that no subscriber of the domain has goes to the domain's trunk
  (`trunk_route`): one target, `sip:<number>@<ip>:<port>`, sent to that address. A domain
  without a trunk keeps answering 404.

Blocked trunks take and make no calls. Dynamic trunks (registering peers) are not handled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from ssw.core.ports import ReliableProvisional, SessionTimerMode, SubscriberProfile
from ssw.sip.address import Address

__all__ = ["TrunkPeer", "TrunkTable", "Trunks", "trunk_callee", "trunk_caller", "trunk_target"]


@dataclass(frozen=True, slots=True)
class TrunkPeer:
    """What the call core needs of a declared trunk."""

    domain: str
    name: str
    routing_context: str
    host: str
    port: int
    static: bool = True
    blocked: bool = False

    @property
    def usable(self) -> bool:
        return self.static and not self.blocked


class Trunks(Protocol):
    """The declared trunks, as the call core looks them up."""

    async def from_peer(self, source: Address) -> TrunkPeer | None:
        """The usable static trunk whose peer is `source` (host and port), if any."""
        ...

    async def of_domain(self, domain: str) -> TrunkPeer | None:
        """The usable trunk calls to numbers unknown in `domain` go to, if any."""
        ...


class TrunkTable:
    """The trunks indexed both ways (an adapter fills it from storage)."""

    def __init__(self, trunks: Iterable[TrunkPeer]) -> None:
        usable = sorted((t for t in trunks if t.usable), key=lambda t: (t.domain, t.name))
        self._by_peer: dict[tuple[str, int], TrunkPeer] = {}
        self._by_domain: dict[str, TrunkPeer] = {}
        for trunk in usable:
            self._by_peer.setdefault((trunk.host.lower(), trunk.port), trunk)
            self._by_domain.setdefault(trunk.domain, trunk)  # first by name

    def from_peer(self, source: Address) -> TrunkPeer | None:
        return self._by_peer.get((source.host, source.port))

    def of_domain(self, domain: str) -> TrunkPeer | None:
        return self._by_domain.get(domain)


def trunk_caller(trunk: TrunkPeer, calling: str) -> SubscriberProfile:
    """The calling party of a call in from `trunk`: the number its From names, in the trunk's
    domain, not challenged (a trunk is identified by its address)."""
    return SubscriberProfile(domain=trunk.domain, number=calling, login=calling, password="",
                             authenticate_invite=False,
                             session_timer=SessionTimerMode.OFF)


def trunk_callee(trunk: TrunkPeer, number: str) -> SubscriberProfile:
    """The called party of a call out through `trunk`."""
    return SubscriberProfile(domain=trunk.domain, number=number, login=number, password="",
                             authenticate_invite=False,
                             reliable_provisional=ReliableProvisional.SUPPORTED,
                             session_timer=SessionTimerMode.OFF)


def trunk_target(trunk: TrunkPeer, number: str) -> tuple[str, Address]:
    """The Request-URI and the address of the INVITE to `number` through `trunk`."""
    host = f"[{trunk.host}]" if ":" in trunk.host else trunk.host
    return f"sip:{number}@{host}:{trunk.port}", Address("udp", trunk.host, trunk.port)
