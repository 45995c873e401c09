"""Real peers answer our challenges: SIPp (the QA suite's reg_user.xml) and baresip.

A minimal registrar on a loopback UDP socket challenges REGISTER with `DigestServer` and
verifies the answer; the peer's exit status and our `AuthResult` must both say success.
"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from peer_processes import free_udp_port, loopback_udp_socket, running

from ssw.sip.auth import AuthResult, DigestCredentials, DigestServer

pytestmark = pytest.mark.e2e

SECRET = b"interop-test-secret-0123456789"
REALM = "pv.ssw3"
PASSWORD = "123"


def _headers(message: str) -> tuple[str, dict[str, list[str]]]:
    head = message.split("\r\n\r\n", 1)[0]
    start, *lines = head.split("\r\n")
    found: dict[str, list[str]] = {}
    for line in lines:
        name, _, value = line.partition(":")
        found.setdefault(name.strip().lower(), []).append(value.strip())
    return start, found


def _response(status: str, headers: dict[str, list[str]], extra: list[str]) -> bytes:
    to = headers["to"][0]
    lines = [f"SIP/2.0 {status}"]
    lines += [f"Via: {v}" for v in headers["via"]]
    lines += [
        f"From: {headers['from'][0]}",
        f"To: {to}" if ";tag=" in to else f"To: {to};tag=ssw-test",
        f"Call-ID: {headers['call-id'][0]}",
        f"CSeq: {headers['cseq'][0]}",
        *extra,
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def serve_registration(
    sock: socket.socket, server: DigestServer, *, qop: bool, deadline: float
) -> list[AuthResult]:
    """Challenge every REGISTER without credentials; verify the others; stop after a 200."""
    results: list[AuthResult] = []
    while time.monotonic() < deadline:
        try:
            data, peer = sock.recvfrom(65535)
        except TimeoutError:
            continue
        start, headers = _headers(data.decode("utf-8", "replace"))
        if not start.startswith("REGISTER "):
            continue
        request_uri = start.split(" ")[1]
        authorization = headers.get("authorization")
        if not authorization:
            challenges = server.challenge(time.time(), qop=qop)
            extra = [f"WWW-Authenticate: {value}" for value in challenges]
            sock.sendto(_response("401 Unauthorized", headers, extra), peer)
            continue
        result = server.verify(
            authorization[0],
            method="REGISTER",
            now=time.time(),
            password=PASSWORD,
            request_uri=request_uri,
            username="156",
        )
        results.append(result)
        if result.ok:
            contact = headers.get("contact", ["<sip:156@127.0.0.1>"])[0]
            sock.sendto(_response("200 OK", headers, [f"Contact: {contact};expires=60"]), peer)
            return results
        sock.sendto(_response("403 Forbidden", headers, []), peer)
    return results


@pytest.fixture
def registrar_socket() -> Iterator[socket.socket]:
    with loopback_udp_socket() as sock:
        yield sock


needs_sipp = pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is not installed")
needs_baresip = pytest.mark.skipif(
    shutil.which("baresip") is None, reason="baresip is not installed"
)


@needs_sipp
@pytest.mark.parametrize(
    ("qop", "auth_int"), [(True, False), (True, True), (False, False)], ids=["auth", "int", "none"]
)
def test_sipp_registers_with_md5(
    shared_dir: Path, tmp_path: Path, registrar_socket: socket.socket, qop: bool, auth_int: bool
) -> None:
    # SIPp reads only the first WWW-Authenticate and knows only MD5: MD5 goes first.
    server = DigestServer(SECRET, REALM, offer=("MD5", "SHA-256"), auth_int=auth_int)
    scenario = shared_dir / "conformance" / "ecss-qa" / "runner-xml" / "reg_user.xml"
    port = registrar_socket.getsockname()[1]
    argv = ["sipp", f"127.0.0.1:{port}", "-sf", str(scenario), "-m", "1", "-nostdin"]
    argv += ["-i", "127.0.0.1", "-p", str(free_udp_port()), "-mp", str(free_udp_port())]
    argv += ["-au", "156", "-ap", PASSWORD, "-timeout", "15"]
    for name, value in (("DOMAIN", REALM), ("PORT", "5090"), ("EXPIRES", "60")):
        argv += ["-set", name, value]
    argv += ["-set", "NUMBER", "156", "-set", "USER_Q", "1"]
    with running(argv, tmp_path) as sipp:
        results = serve_registration(
            registrar_socket, server, qop=qop, deadline=time.monotonic() + 15
        )
        assert sipp.wait(timeout=15) == 0
    assert [r.ok for r in results] == [True], [r.reason for r in results]
    credentials = results[0].credentials
    assert credentials is not None
    assert credentials.algorithm in (None, "MD5")
    assert credentials.qop == (("auth-int" if auth_int else "auth") if qop else None)


@needs_baresip
def test_baresip_registers_with_the_default_offer(
    tmp_path: Path, registrar_socket: socket.socket
) -> None:
    # baresip 1.0 abandons a 401 that names SHA-256 at all, hence the MD5-only default.
    server = DigestServer(SECRET, REALM)
    port = registrar_socket.getsockname()[1]
    (tmp_path / "accounts").write_text(
        f"<sip:156@{REALM}>;auth_user=156;auth_pass={PASSWORD};"
        f'outbound="sip:127.0.0.1:{port}";regint=60\n'
    )
    (tmp_path / "config").write_text(
        "poll_method\t\tpoll\n"
        f"sip_listen\t\t127.0.0.1:{free_udp_port()}\n"
        "module_path\t\t/usr/lib/baresip/modules\n"
        "module_tmp\t\taccount.so\n"
    )
    with running(["baresip", "-f", str(tmp_path)], tmp_path):
        results = serve_registration(
            registrar_socket, server, qop=True, deadline=time.monotonic() + 15
        )
    assert [r.ok for r in results] == [True], [r.reason for r in results]
    credentials = results[0].credentials
    assert isinstance(credentials, DigestCredentials)
    assert credentials.qop == "auth"
    assert credentials.algorithm is None  # baresip does not echo algorithm=MD5
