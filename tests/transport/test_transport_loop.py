"""uvloop when available: the policy helper and a round trip on a uvloop loop."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest
from transport_support import Collector, make_request

from ssw.sip.transaction import ResponseReceived
from ssw.transport import (
    SERVING_GC_THRESHOLDS,
    EndpointConfig,
    SipEndpoint,
    install_event_loop_policy,
    loop_implementation,
    run,
    tune_garbage_collector,
)
from ssw.transport.echo_uas import EchoUas

uvloop = pytest.importorskip("uvloop")


@pytest.fixture
def restore_policy() -> Iterator[None]:
    previous = asyncio.get_event_loop_policy()
    try:
        yield
    finally:
        asyncio.set_event_loop_policy(previous)


def test_policy_is_uvloop_when_installed(restore_policy: None) -> None:
    assert install_event_loop_policy() == "uvloop"
    assert isinstance(asyncio.get_event_loop_policy(), uvloop.EventLoopPolicy)


def test_policy_can_be_declined(restore_policy: None) -> None:
    assert install_event_loop_policy(prefer_uvloop=False) == "asyncio"
    assert not isinstance(asyncio.get_event_loop_policy(), uvloop.EventLoopPolicy)


async def _round_trip() -> tuple[str, list[int]]:
    config = EndpointConfig(udp_port=0, tcp_port=0, tls_port=None)
    server, client = SipEndpoint(config), SipEndpoint(config)
    EchoUas(server)
    events = Collector()
    client.on_event = events
    await server.start()
    await client.start()
    try:
        statuses = []
        for transport in ("udp", "tcp"):
            dest = server.local_address(transport)
            client.send_request(make_request("OPTIONS", client, dest), dest)
            statuses.append((await events.next(ResponseReceived)).response.status)
    finally:
        await client.stop()
        await server.stop()
    return loop_implementation(asyncio.get_running_loop()), statuses


def test_endpoints_run_on_uvloop() -> None:
    implementation, statuses = run(_round_trip())
    assert implementation == "uvloop"
    assert statuses == [200, 200]


def test_endpoints_run_on_asyncio() -> None:
    implementation, statuses = run(_round_trip(), prefer_uvloop=False)
    assert implementation == "asyncio"
    assert statuses == [200, 200]


@pytest.fixture
def restore_gc() -> Iterator[None]:
    before = gc.get_threshold()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def test_garbage_collector_is_tuned_for_serving(restore_gc: None) -> None:
    gc.set_threshold(700, 10, 10)
    assert tune_garbage_collector() == (700, 10, 10)
    assert gc.get_threshold() == SERVING_GC_THRESHOLDS
    assert gc.get_freeze_count() > 0


@pytest.mark.parametrize("bad", [(0, 10, 10), (700, 10), (700, 10, True), (700.0, 10, 10)])
def test_bad_gc_thresholds_change_nothing(restore_gc: None, bad: tuple[int, int, int]) -> None:
    before = gc.get_threshold()
    with pytest.raises(ValueError, match="thresholds"):
        tune_garbage_collector(bad, freeze=False)
    assert gc.get_threshold() == before
