"""SIPp against the SIP stack: OPTIONS and whole calls over UDP, TCP and TLS.

The far end is `EchoUas` on a `SipEndpoint` in this process; SIPp (Debian `sip-tester`) is the
near end. Debian builds SIPp without OpenSSL (`-t l1` answers "To use a TLS transport you
must compile SIPp with OpenSSL"), so for TLS SIPp speaks TCP to `socat`, which carries the
bytes over TLS to our listener and checks our certificate against the generated one: the
messages on the TLS connection are SIPp's, byte for byte.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from e2e_support import Processes, Sipp, SippResult, free_port, port_is_free

from ssw.sip.address import Address
from ssw.sip.message import Response, parse_message
from ssw.transport import EndpointConfig, SipEndpoint, TlsConfig, generate_self_signed
from ssw.transport.echo_uas import EchoUas

pytestmark = pytest.mark.e2e

CALLS = 5


@pytest.fixture
async def uas(tmp_path: Path) -> AsyncIterator[tuple[SipEndpoint, EchoUas, TlsConfig]]:
    tls = generate_self_signed(tmp_path / "ssl", ["127.0.0.1", "localhost"])
    endpoint = SipEndpoint(
        EndpointConfig(
            hosts=("127.0.0.1", "::1"), udp_port=0, tcp_port=0, tls_port=0, tls=tls
        )
    )
    echo = EchoUas(endpoint)
    await endpoint.start()
    try:
        yield endpoint, echo, tls
    finally:
        await endpoint.stop()


async def _tls_bridge(processes: Processes, tls_listener: Address, ca_file: Path) -> str:
    """socat: plain TCP on a local port in, TLS to our listener out (certificate checked)."""
    socat = shutil.which("socat")
    if socat is None:
        pytest.skip("socat is needed to carry SIPp's TCP over TLS (Debian package socat)")
    port = free_port()
    await processes.start(
        socat,
        f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr",
        f"OPENSSL:{tls_listener.host}:{tls_listener.port},cafile={ca_file},verify=1",
    )
    # Wait until socat listens, without connecting: it serves exactly one connection.
    async with asyncio.timeout(5):
        while port_is_free(port):
            await asyncio.sleep(0.02)
    return f"127.0.0.1:{port}"


async def _target(
    endpoint: SipEndpoint, tls: TlsConfig, transport: str, processes: Processes
) -> tuple[str, str]:
    """SIPp's -t value and target for `transport`."""
    if transport == "tls":
        return "t1", await _tls_bridge(processes, endpoint.local_address("tls"), tls.cert_path)
    address = endpoint.local_address(transport)
    return ("u1" if transport == "udp" else "t1"), f"{address.host}:{address.port}"


def _assert_all_succeeded(result: SippResult, calls: int) -> None:
    assert result.returncode == 0, result.describe()
    assert result.stat("SuccessfulCall") == calls, result.describe()
    assert result.stat("FailedCall") == 0, result.describe()


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
async def test_sipp_options(
    sipp: Sipp,
    processes: Processes,
    uas: tuple[SipEndpoint, EchoUas, TlsConfig],
    transport: str,
) -> None:
    endpoint, echo, tls = uas
    mode, target = await _target(endpoint, tls, transport, processes)
    # The TLS bridge carries a single connection, so its run sends every call on it (t1).

    result = await sipp.run("options_uac.xml", target, transport=mode, calls=CALLS)

    _assert_all_succeeded(result, CALLS)
    assert result.count("0_OPTIONS_Sent") == CALLS
    assert result.count("1_200_Recv") == CALLS
    assert echo.received["OPTIONS"] == CALLS


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
async def test_sipp_call(
    sipp: Sipp,
    processes: Processes,
    uas: tuple[SipEndpoint, EchoUas, TlsConfig],
    transport: str,
) -> None:
    endpoint, echo, tls = uas
    mode, target = await _target(endpoint, tls, transport, processes)

    result = await sipp.run("call_uac.xml", target, transport=mode, calls=CALLS)

    _assert_all_succeeded(result, CALLS)
    for column in ("0_INVITE_Sent", "1_100_Recv", "2_180_Recv", "3_200_Recv", "4_ACK_Sent",
                   "6_BYE_Sent", "7_200_Recv"):
        assert result.count(column) == CALLS, (column, result.counts)
    for column in ("1_100_Unexp", "2_180_Unexp", "3_200_Unexp", "7_200_Unexp"):
        assert result.count(column) == 0, (column, result.counts)
    assert echo.received == {"INVITE": CALLS, "ACK": CALLS, "BYE": CALLS}
    if transport != "udp":
        # All calls on SIPp's one connection (-t t1): the answers went back on it (§18.2.2).
        assert endpoint.stats.stream_messages_sent == 4 * CALLS


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_sipp_call_over_ipv6(
    sipp: Sipp, uas: tuple[SipEndpoint, EchoUas, TlsConfig], transport: str
) -> None:
    endpoint, echo, _ = uas
    address = endpoint.local_address(transport, ipv6=True)
    mode = "u1" if transport == "udp" else "t1"

    result = await sipp.run(
        "call_uac.xml", f"[{address.host}]:{address.port}", transport=mode, calls=CALLS,
        local_ip="::1",
    )

    _assert_all_succeeded(result, CALLS)
    assert result.count("3_200_Recv") == result.count("7_200_Recv") == CALLS
    assert echo.received == {"INVITE": CALLS, "ACK": CALLS, "BYE": CALLS}


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
async def test_sipp_malformed_requests_are_answered(
    sipp: Sipp,
    processes: Processes,
    uas: tuple[SipEndpoint, EchoUas, TlsConfig],
    transport: str,
) -> None:
    endpoint, echo, tls = uas
    mode, target = await _target(endpoint, tls, transport, processes)

    result = await sipp.run("malformed_uac.xml", target, transport=mode, calls=2)

    _assert_all_succeeded(result, 2)
    assert result.count("1_400_Recv") == result.count("3_400_Recv") == 2
    assert result.count("5_505_Recv") == 2
    assert result.count("7_200_Recv") == 2
    assert echo.received["OPTIONS"] == 4  # the semantic 400 (Expires) and the good one


async def test_garbage_datagrams_do_not_stop_the_endpoint(
    sipp: Sipp, uas: tuple[SipEndpoint, EchoUas, TlsConfig]
) -> None:
    endpoint, _, _ = uas
    dest = endpoint.local_address("udp")
    loop = asyncio.get_running_loop()
    answers: asyncio.Queue[bytes] = asyncio.Queue()

    class Peer(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            answers.put_nowait(data)

    transport, _ = await loop.create_datagram_endpoint(Peer, local_addr=("127.0.0.1", 0))
    try:
        junk = (b"\x00" * 64, b"\xff\xfe" + b"A" * 3000, b"INVITE\r\n\r\n", b"SIP/2.0 200\r\n")
        for datagram in junk:
            transport.sendto(datagram, (dest.host, dest.port))
        # A request whose Via can be read but whose Content-Length exceeds the datagram
        # (RFC 3261 §18.3): answered 400.
        port = transport.get_extra_info("sockname")[1]
        transport.sendto(
            b"OPTIONS sip:echo@127.0.0.1 SIP/2.0\r\n"
            b"Via: SIP/2.0/UDP 127.0.0.1:" + str(port).encode() + b";branch=z9hG4bKjunk\r\n"
            b"Content-Length: 900\r\n\r\nv=0\r\n",
            (dest.host, dest.port),
        )
        async with asyncio.timeout(5):
            answer = parse_message(await answers.get())
    finally:
        transport.close()
    assert isinstance(answer, Response) and answer.status == 400

    result = await sipp.run("options_uac.xml", f"{dest.host}:{dest.port}", calls=3)

    _assert_all_succeeded(result, 3)
    assert endpoint.stats.malformed + endpoint.stats.invalid == 5
