"""OPTIONS keep-alive of registered contacts (`sip/user/set ... options_control <sec>`).

For a subscriber whose `options_control` is N > 0 the switch sends OPTIONS (RFC 3261 §11) to
each registered contact every N seconds. A contact that answers anything is alive; one that
answers nothing within the probe deadline (N seconds, at most 4), or whose request fails at
the transport, is marked unreachable: calls skip it (so a subscriber with no reachable contact
gets 480), while its binding stays and probing goes on. An answer, or a new REGISTER, makes it
reachable again.

Each probe is a client transaction whose timers are scaled so that Timer F (64*T1, RFC 3261
§17.1.2.2) fires at the probe deadline: retransmissions stop when the switch gives up, and a
phone started later never receives stale probes.

`KeepAlive` stands in front of the location service as the call core's `Locations`. The
composition root calls `tick(now)` about twice a second with the clock's time; nothing here
reads a clock or starts a task of its own.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ssw.core.directory import Directory
from ssw.core.location import Locations
from ssw.core.ports import Binding as Contact
from ssw.sip.address import Address, build_via
from ssw.sip.errors import SipError
from ssw.sip.message import Request, Response, new_request
from ssw.sip.transaction.matching import new_branch
from ssw.sip.transaction.timers import TimerConfig
from ssw.sip.uri import SipUri, parse_uri

__all__ = ["PROBE_DEADLINE_MAX", "KeepAlive", "ProbePort", "probe_timers"]

logger = logging.getLogger(__name__)

#: the longest a probe waits for an answer before the contact counts as unreachable
PROBE_DEADLINE_MAX = 4.0
#: how long a subscriber's `options_control` is taken as read, unless a console change in
#: this process says otherwise (`on_change`); the directory adds its own bound on staleness
INTERVAL_RECHECK = 2.0


class ProbePort(Protocol):
    """The transaction layer, with per-transaction timers (`SipEndpoint` has this shape)."""

    def send_request(self, request: Request, dest: Address, *,
                     timers: TimerConfig | None = None) -> object: ...


def probe_timers(deadline: float) -> TimerConfig:
    """Timers whose Timer F (64*T1) is `deadline`, retransmitting up to T2 = deadline/4."""
    t1 = deadline / 64
    return TimerConfig(t1=t1, t2=max(t1, deadline / 4))


@dataclass(slots=True)
class _Probe:
    """What the keep-alive knows of one registered contact."""

    aor: str
    contact: str
    registered_until: object  # the binding's expiry when last seen: a new REGISTER changes it
    last_sent: float  # when the last probe went (first seen, before any): the next is due
                      # one interval later, with the interval in force now
    reachable: bool = True
    pending_call_id: str | None = None


class KeepAlive:
    """Probes contacts with OPTIONS and hides unreachable ones from the call core."""

    def __init__(self, port: ProbePort, locations: Locations, directory: Directory,
                 local: Address, *, user_agent: str = "SSW") -> None:
        self.port = port
        self.locations = locations
        self.directory = directory
        self.local = local
        self.user_agent = user_agent
        self._probes: dict[tuple[str, str], _Probe] = {}
        self._by_call_id: dict[str, _Probe] = {}
        self._intervals: dict[str, tuple[float, float]] = {}  # aor -> (interval, read at)

    # -- the call core's Locations -----------------------------------------------------------

    async def lookup(self, domain: str, number: str) -> Sequence[Contact]:
        """The live contacts of `number@domain`, without those that stopped answering."""
        contacts = await self.locations.lookup(domain, number)
        aor = f"{number}@{domain}"
        return [c for c in contacts if self._reachable(aor, c.contact)]

    def _reachable(self, aor: str, contact: str) -> bool:
        probe = self._probes.get((aor, contact))
        return probe is None or probe.reachable

    # -- driving -----------------------------------------------------------------------------

    async def tick(self, now: float) -> None:
        """Follow the bindings and send the probes that are due."""
        seen: set[tuple[str, str]] = set()
        for aor in self.locations.aors():
            bindings = self.locations.bindings_of(aor)
            if not bindings:
                continue
            interval = await self._interval(aor, now)
            if interval <= 0:
                continue
            for binding in bindings:
                key = (aor, binding.contact)
                seen.add(key)
                probe = self._probes.get(key)
                if probe is None or probe.registered_until != binding.expires_at:
                    if probe is not None:
                        self._settle(probe)
                    probe = _Probe(aor, binding.contact, binding.expires_at, now)
                    self._probes[key] = probe
                if now >= probe.last_sent + interval and probe.pending_call_id is None:
                    self._send(probe, binding.source_host, binding.source_port,
                               binding.transport, interval)
                    probe.last_sent = now
        for key in [k for k in self._probes if k not in seen]:
            self._settle(self._probes.pop(key))
        if len(self._intervals) > 2 * len(self.locations) + 1024:
            self._intervals.clear()  # subscribers that left

    async def _interval(self, aor: str, now: float) -> float:
        cached = self._intervals.get(aor)
        if cached is not None and now - cached[1] < INTERVAL_RECHECK:
            return cached[0]
        number, _, domain = aor.partition("@")
        subscriber = await self.directory.subscriber(domain, number, now)
        interval = 0.0
        if subscriber is not None:
            value = subscriber.setting("options_control")
            if isinstance(value, int) and not isinstance(value, bool):
                interval = float(value)
        self._intervals[aor] = (interval, now)
        return interval

    def on_change(self, change: object) -> None:
        """A console change in this process: read the intervals afresh."""
        self._intervals.clear()

    def _send(self, probe: _Probe, host: str, port: int, transport: str,
              interval: float) -> None:
        try:
            target = parse_uri(probe.contact)
        except SipError:
            return
        if host:
            dest = Address(transport, host, port)
        elif isinstance(target, SipUri):
            dest = Address(target.transport or "udp", target.host, target.port or 5060)
        else:
            return
        call_id = f"ka-{secrets.token_hex(8)}"
        number, _, domain = probe.aor.partition("@")
        request = new_request(
            "OPTIONS",
            probe.contact,
            via=str(build_via(self.local, new_branch())),
            from_=f"<sip:{self.user_agent.lower()}@{domain}>;tag={secrets.token_hex(4)}",
            to=f"<sip:{number}@{domain}>",
            call_id=call_id,
            cseq=1,
            headers=[("User-Agent", self.user_agent)],
        )
        probe.pending_call_id = call_id
        self._by_call_id[call_id] = probe
        self.port.send_request(request, dest, timers=probe_timers(min(interval,
                                                                       PROBE_DEADLINE_MAX)))

    # -- answers -----------------------------------------------------------------------------

    def on_response(self, response: Response) -> bool:
        """A response to one of our probes: any answer proves the contact alive."""
        probe = self._by_call_id.get(response.call_id)
        if probe is None or response.cseq.method != "OPTIONS":
            return False
        if response.status < 200:
            return True
        self._settle(probe)
        if not probe.reachable:
            logger.info("%s reachable again at %s", probe.aor, probe.contact)
        probe.reachable = True
        return True

    def on_timeout(self, request: Request) -> bool:
        """Timer F (the probe deadline) or a transport error for a probe."""
        probe = self._by_call_id.get(request.call_id)
        if probe is None or request.method != "OPTIONS":
            return False
        self._settle(probe)
        if probe.reachable:
            logger.info("%s unreachable at %s: no answer to OPTIONS", probe.aor, probe.contact)
        probe.reachable = False
        return True

    def _settle(self, probe: _Probe) -> None:
        if probe.pending_call_id is not None:
            self._by_call_id.pop(probe.pending_call_id, None)
            probe.pending_call_id = None

    @property
    def probed(self) -> int:
        """How many contacts are being probed."""
        return len(self._probes)
