"""Addresses and Via handling (RFC 3261 §18.2.1, §18.2.2; RFC 3581)."""

from __future__ import annotations

import pytest

from ssw.sip.address import (
    Address,
    build_via,
    response_destination,
    stamp_via_received,
    stamped_via,
    via_sent_by,
)
from ssw.sip.headers import Via
from ssw.sip.message import Request, parse_message

UDP_SOURCE = Address("udp", "198.51.100.7", 31000)


def _request(via: str) -> Request:
    message = parse_message(
        (
            "OPTIONS sip:bob@192.0.2.20 SIP/2.0\r\n"
            f"Via: {via}\r\n"
            "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK-second\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:alice@example.com>;tag=a\r\n"
            "To: <sip:bob@example.com>\r\n"
            "Call-ID: c@h\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()
    )
    assert isinstance(message, Request)
    return message


def test_address_is_normalised_and_validated() -> None:
    address = Address("UDP", "[2001:DB8::1]", 5060)
    assert address == Address("udp", "2001:db8::1", 5060)
    assert address.host_for_uri == "[2001:db8::1]"
    assert str(address) == "udp:[2001:db8::1]:5060"
    assert not address.reliable and Address("wss", "h", 443).reliable
    assert Address("tls", "h", 5061).via_transport == "TLS"
    for bad in (("sctp", "h", 5060), ("udp", "", 5060), ("udp", "h", 0), ("udp", "h", 70000)):
        with pytest.raises(ValueError):
            Address(*bad)
    with pytest.raises(ValueError):
        Address("udp", "h", True)


def test_received_is_added_when_sent_by_differs_from_source() -> None:
    request = _request("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1")
    via = stamp_via_received(request, UDP_SOURCE)
    assert via.received == "198.51.100.7"
    assert request.top_via.received == "198.51.100.7"
    # Only the top Via changed; the second is still there, as written.
    assert (
        request.headers.get_all("via")[1] == "SIP/2.0/UDP proxy.example.com;branch=z9hG4bK-second"
    )
    assert b"received=198.51.100.7" in bytes(request)


def test_nothing_is_added_when_sent_by_is_the_source_ip() -> None:
    data = "SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1"
    request = _request(data)
    before = bytes(request)
    assert stamp_via_received(request, UDP_SOURCE).received is None
    assert bytes(request) == before
    # Equal addresses written differently (IPv6) are the same address.
    v6 = Via.parse("SIP/2.0/UDP [2001:db8:0::1]:5060;branch=z9hG4bK1")
    assert stamped_via(v6, Address("udp", "2001:db8::1", 5060)) is None


def test_domain_sent_by_always_gets_received() -> None:
    via = Via.parse("SIP/2.0/UDP pc33.example.com;branch=z9hG4bK1")
    stamped = stamped_via(via, UDP_SOURCE)
    assert stamped is not None and stamped.received == "198.51.100.7"


def test_rport_is_filled_and_received_added_even_if_equal() -> None:
    via = Via.parse("SIP/2.0/UDP 198.51.100.7:5060;rport;branch=z9hG4bK1")
    stamped = stamped_via(via, UDP_SOURCE)
    assert stamped is not None
    assert stamped.rport == 31000 and stamped.received == "198.51.100.7"
    assert stamped_via(stamped, UDP_SOURCE) is None  # idempotent


def test_response_destination_rules() -> None:
    # Reliable: back over the connection; without it, received + sent-by port.
    tcp = Address("tcp", "198.51.100.7", 40000)
    via = Via.parse("SIP/2.0/TCP 10.0.0.5:5070;branch=z9hG4bK1;received=198.51.100.7")
    assert response_destination(via, tcp) == tcp
    assert response_destination(via, tcp, connection_open=False) == Address(
        "tcp", "198.51.100.7", 5070
    )
    # maddr.
    via = Via.parse("SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1;maddr=239.1.1.1")
    assert response_destination(via, UDP_SOURCE) == Address("udp", "239.1.1.1", 5060)
    # rport filled (RFC 3581 §4): the source address and port.
    via = Via.parse("SIP/2.0/UDP 10.0.0.5:5060;rport=31000;received=198.51.100.7;branch=z9hG4bK1")
    assert response_destination(via, UDP_SOURCE) == UDP_SOURCE
    via = Via.parse("SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bK1")
    assert response_destination(via, UDP_SOURCE) == UDP_SOURCE
    # received: that address, the sent-by port (default 5060).
    via = Via.parse("SIP/2.0/UDP 10.0.0.5;received=198.51.100.7;branch=z9hG4bK1")
    assert response_destination(via, UDP_SOURCE) == Address("udp", "198.51.100.7", 5060)
    # Nothing: sent-by itself.
    via = Via.parse("SIP/2.0/UDP 198.51.100.7:5080;branch=z9hG4bK1")
    assert response_destination(via, UDP_SOURCE) == Address("udp", "198.51.100.7", 5080)


def test_sent_by_defaults_the_port_by_transport_and_build_via() -> None:
    assert via_sent_by(Via.parse("SIP/2.0/TLS Example.COM;branch=z9hG4bK1")) == (
        "example.com",
        5061,
    )
    assert via_sent_by(Via.parse("SIP/2.0/UDP [2001:db8::1]:5062")) == ("2001:db8::1", 5062)
    via = build_via(Address("udp", "2001:db8::1", 5060), "z9hG4bKabc")
    assert str(via) == "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKabc;rport"
    assert Via.parse(str(via)).branch == "z9hG4bKabc"


@pytest.mark.parametrize(
    "written",
    [
        "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport",
        "SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bK1",
        "SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1;RPort;x=1",
        "SIP/2.0/UDP 10.0.0.5:5060;rport=1;branch=z9hG4bK1",
        "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport;received=10.0.0.9",
        "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1",
    ],
)
def test_stamping_on_the_text_means_what_rebuilding_the_via_means(written: str) -> None:
    # RFC 3581 §4: the textual fast path and the rebuilt Via carry the same parameters.
    request = _request(written)
    stamped = stamp_via_received(request, UDP_SOURCE)
    rebuilt = stamped_via(Via.parse(written), UDP_SOURCE) or Via.parse(written)
    assert stamped.params == rebuilt.params
    assert request.top_via.params == rebuilt.params
    assert request.top_via.host == "10.0.0.5" or request.top_via.host == "198.51.100.7"


def test_rport_flag_is_filled_where_it_stands() -> None:
    request = _request("SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bK1")
    stamp_via_received(request, UDP_SOURCE)
    assert request.headers.get_all("via")[0] == (
        "SIP/2.0/UDP 10.0.0.5:5060;rport=31000;branch=z9hG4bK1;received=198.51.100.7"
    )
