"""Local routing: a called number in a domain becomes a subscriber and a plan of contacts to ring.

This is the policy of the basic call, read top to bottom (`route_call`): an unknown number is
answered 404, a subscriber without registered contacts 480, otherwise the subscriber's contacts
are grouped by its fork mode into a `ForkPlan`. A number no subscriber of the domain has goes
to the domain's SIP trunk when it has one (`trunks.py`). Routing contexts (XML rules) will be a
step in front of this one; they end in "local" and land here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ssw.core.call.causes import NOT_REGISTERED, UNKNOWN_NUMBER, ReleaseCause
from ssw.core.call.dialog_state import address_of_uri
from ssw.core.call.trunks import Trunks, trunk_callee, trunk_target
from ssw.core.ports import Binding, ForkMode, Locations, SubscriberProfile, Subscribers
from ssw.sip.address import Address

__all__ = [
    "ForkPlan",
    "Routed",
    "Target",
    "Unroutable",
    "destination_of",
    "normalize_number",
    "plan_forks",
    "route_call",
]

# Visual separators a dialled number may carry (RFC 3966 §5.1.1); they are not part of it.
_VISUAL_SEPARATORS = re.compile(r"[-.()\s]")
_NUMBER = re.compile(r"^\+?[0-9A-Za-z*#_]+$")


@dataclass(frozen=True, slots=True)
class Target:
    """One place to send an INVITE: the Request-URI and, when known, the address to send to."""

    uri: str
    dest: Address | None = None
    q: float = 1.0


@dataclass(frozen=True, slots=True)
class ForkPlan:
    """Groups of targets tried in turn; the targets of one group ring in parallel.

    The next group starts when every fork of the current one failed, or after `step_timeout`
    seconds of ringing when that is set (find-me). `keep_previous` keeps the earlier forks ringing
    when the next group starts ("previous-continue"); otherwise they are cancelled.
    """

    groups: tuple[tuple[Target, ...], ...]
    step_timeout: float | None = None
    keep_previous: bool = False

    def __post_init__(self) -> None:
        if not self.groups or any(not group for group in self.groups):
            raise ValueError("a fork plan needs at least one target in every group")


@dataclass(frozen=True, slots=True)
class Routed:
    callee: SubscriberProfile
    plan: ForkPlan


@dataclass(frozen=True, slots=True)
class Unroutable:
    cause: ReleaseCause


def normalize_number(user: str) -> str | None:
    """The dialled number in a Request-URI user part, or None when it is not a number.

    Parameters (`;phone-context=...`) and visual separators are dropped.
    """
    number = _VISUAL_SEPARATORS.sub("", user.split(";", 1)[0])
    return number if _NUMBER.match(number) else None


def destination_of(binding: Binding) -> Address | None:
    """Where the INVITE for `binding` goes; None means the contact URI's own address.

    The REGISTER's source is used when the contact cannot be reached as written: the phone
    registered over a connection (TCP/TLS: requests reuse it) or sits behind NAT (its contact
    names another host than the one the REGISTER came from, e.g. a private address).
    """
    source = binding.source
    if source is None:
        return None
    if source.reliable:
        return source
    try:
        contact = address_of_uri(binding.contact, source.transport)
    except ValueError:
        return source
    return None if contact.host == source.host else source


def _ordered(bindings: Sequence[Binding]) -> list[Binding]:
    # Highest q first; equal q keep the location service's order (most recent first).
    return sorted(bindings, key=lambda b: -b.q)


def plan_forks(bindings: Sequence[Binding], mode: ForkMode, step_timeout: float) -> ForkPlan:
    """Group a subscriber's contacts by its fork mode (RFC 3261 §16.6 for q-value order)."""
    if not bindings:
        raise ValueError("cannot plan forks without contacts")
    targets = [Target(b.contact, destination_of(b), b.q) for b in _ordered(bindings)]
    if mode is ForkMode.ALL_CONTACTS:
        return ForkPlan((tuple(targets),))
    if mode is ForkMode.DISABLE:
        return ForkPlan(((targets[0],),))
    if mode in (ForkMode.BY_Q, ForkMode.BY_Q_CONTINUE):
        groups: list[list[Target]] = []
        for target in targets:
            if groups and groups[-1][0].q == target.q:
                groups[-1].append(target)
            else:
                groups.append([target])
        return ForkPlan(
            tuple(tuple(g) for g in groups),
            step_timeout=step_timeout,
            keep_previous=mode is ForkMode.BY_Q_CONTINUE,
        )
    keep = mode is ForkMode.ONE_BY_ONE_CONTINUE
    return ForkPlan(
        tuple((t,) for t in targets), step_timeout=step_timeout, keep_previous=keep
    )


async def route_call(
    domain: str, called: str, subscribers: Subscribers, locations: Locations,
    trunks: Trunks | None = None,
) -> Routed | Unroutable:
    """Route a call to `called` in `domain` to the callee's registered contacts, or to the
    domain's trunk when no subscriber has that number."""
    number = normalize_number(called)
    if number is None:
        return Unroutable(UNKNOWN_NUMBER)
    callee = await subscribers.find(domain, number)
    if callee is None:
        trunk = None if trunks is None else await trunks.of_domain(domain)
        if trunk is None:
            return Unroutable(UNKNOWN_NUMBER)
        uri, dest = trunk_target(trunk, number)
        return Routed(trunk_callee(trunk, number), ForkPlan(((Target(uri, dest),),)))
    bindings = await locations.lookup(domain, number)
    if not bindings:
        return Unroutable(NOT_REGISTERED)
    return Routed(callee, plan_forks(bindings, callee.fork_mode, callee.fork_step_timeout))
