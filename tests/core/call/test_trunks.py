"""Static SIP trunks in routing: numbers unknown in a domain go to its trunk, calls in from a
trunk's address are the trunk's; blocked and dynamic trunks take no part."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from call_harness import CALLER_ADDR, DOMAIN, Bench, profile

from ssw.core.call.causes import UNKNOWN_NUMBER
from ssw.core.call.routing import Routed, Unroutable, route_call
from ssw.core.call.trunks import TrunkPeer, TrunkTable, trunk_caller
from ssw.core.ports import Binding, SubscriberProfile
from ssw.sip.address import Address

TRUNK = TrunkPeer("pv.ssw3", "trunk5040", "default_routing", "127.0.0.9", 5040)


class _Subscribers:
    async def find(self, domain: str, number: str) -> SubscriberProfile | None:
        if (domain, number) == ("pv.ssw3", "157"):
            return SubscriberProfile(domain, number, number, "123")
        return None


class _Locations:
    async def lookup(self, domain: str, number: str) -> Sequence[Binding]:
        return [Binding("sip:157@127.0.0.9:10106")]


class _Trunks:
    def __init__(self, table: TrunkTable) -> None:
        self.table = table

    async def from_peer(self, source: Address) -> TrunkPeer | None:
        return self.table.from_peer(source)

    async def of_domain(self, domain: str) -> TrunkPeer | None:
        return self.table.of_domain(domain)


def _route(number: str, trunks: _Trunks | None) -> Routed | Unroutable:
    return asyncio.run(route_call("pv.ssw3", number, _Subscribers(), _Locations(), trunks))


def test_unknown_number_goes_to_the_domains_trunk() -> None:
    route = _route("5550100", _Trunks(TrunkTable([TRUNK])))
    assert isinstance(route, Routed)
    (target,) = route.plan.groups[0]
    assert target.uri == "sip:5550100@127.0.0.9:5040"
    assert target.dest == Address("udp", "127.0.0.9", 5040)
    assert route.callee.number == "5550100" and not route.callee.authenticate_invite


def test_subscribers_are_routed_locally_even_with_a_trunk() -> None:
    route = _route("157", _Trunks(TrunkTable([TRUNK])))
    assert isinstance(route, Routed)
    assert route.plan.groups[0][0].uri == "sip:157@127.0.0.9:10106"


def test_without_a_usable_trunk_an_unknown_number_stays_404() -> None:
    assert _route("5550100", None) == Unroutable(UNKNOWN_NUMBER)
    blocked = TrunkPeer("pv.ssw3", "t", "ctx", "127.0.0.9", 5040, blocked=True)
    dynamic = TrunkPeer("pv.ssw3", "t", "ctx", "127.0.0.9", 5040, static=False)
    other_domain = TrunkPeer("other", "t", "ctx", "127.0.0.9", 5040)
    for trunk in (blocked, dynamic, other_domain):
        assert _route("5550100", _Trunks(TrunkTable([trunk]))) == Unroutable(UNKNOWN_NUMBER)


def test_a_trunk_is_found_by_its_peer_address_only() -> None:
    table = TrunkTable([TRUNK])
    assert table.from_peer(Address("udp", "127.0.0.9", 5040)) == TRUNK
    assert table.from_peer(Address("udp", "127.0.0.9", 5041)) is None
    assert table.from_peer(Address("udp", "127.0.0.10", 5040)) is None


def test_a_trunk_caller_is_not_challenged() -> None:
    caller = trunk_caller(TRUNK, "testuser")
    assert (caller.domain, caller.number) == ("pv.ssw3", "testuser")
    assert not caller.authenticate_invite


# -- the B2BUA: a caller that is no subscriber, from a trunk's address -----------------------

def _bench_with_trunk(host: str, port: int) -> Bench:
    bench = Bench(caller=profile("101"))  # From: 100 is no subscriber
    bench.b2bua.trunks = _Trunks(TrunkTable([TrunkPeer(DOMAIN, "t", "ctx", host, port)]))
    return bench


def test_a_call_from_a_trunks_address_is_taken_without_digest() -> None:
    bench = _bench_with_trunk(CALLER_ADDR.host, CALLER_ADDR.port)
    txn = bench.caller_invite("200")
    assert 401 not in bench.port.statuses(txn) and 403 not in bench.port.statuses(txn)
    (invite,) = bench.port.sent("INVITE")
    assert invite.from_.address.user == "100"  # type: ignore[union-attr]
    assert bench.port.dest_of(invite) == Address("udp", "10.0.0.2", 5070)


def test_a_caller_that_is_no_subscriber_from_elsewhere_is_refused() -> None:
    bench = _bench_with_trunk(CALLER_ADDR.host, CALLER_ADDR.port + 1)
    txn = bench.caller_invite("200")
    assert bench.port.statuses(txn) == [403]
    assert not bench.port.sent("INVITE")


def test_an_unknown_number_is_sent_to_the_trunk() -> None:
    bench = Bench()
    bench.b2bua.trunks = _Trunks(TrunkTable([TrunkPeer(DOMAIN, "t", "ctx", "10.0.0.9", 5040)]))
    bench.caller_invite("5550100")
    (invite,) = bench.port.sent("INVITE")
    assert str(invite.ruri) == "sip:5550100@10.0.0.9:5040"
    assert bench.port.dest_of(invite) == Address("udp", "10.0.0.9", 5040)
