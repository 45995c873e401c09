"""`python -m ssw.transport.echo_uas` as a diagnostic program: serves, then stops on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

from transport_support import RawUdp, branch, raw_request

from ssw.sip.address import Address
from ssw.sip.message import Response, parse_message


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        return int(udp.getsockname()[1])


async def test_echo_uas_program_answers_and_stops(tmp_path: Path) -> None:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ssw.transport.echo_uas", "--host", "127.0.0.1",
        "--udp", str(port), "--tcp", "-1", "--tls", "0", "--cert-dir", str(tmp_path / "ssl"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    peer = await RawUdp.open()
    try:
        dest = Address("udp", "127.0.0.1", port)
        request = raw_request("OPTIONS", f"SIP/2.0/UDP 127.0.0.1:{peer.port};branch={branch()}")
        answer = None
        async with asyncio.timeout(15):
            while answer is None:  # until the program listens
                peer.send(request, dest)
                try:
                    answer = parse_message(await peer.receive(timeout=0.2))
                except TimeoutError:
                    continue
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            _, stderr = await process.communicate()
    finally:
        peer.close()
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert isinstance(answer, Response) and answer.status == 200
    assert process.returncode == 0, stderr.decode(errors="replace")
    assert (tmp_path / "ssl" / "ecss10.crt").is_file()  # --tls generated a certificate
    assert b"SIP listening on udp:127.0.0.1:" in stderr
