"""REGISTER with digest authentication against the running switch, with SIPp (SPEC §6).

The bindings are read back from the switch's own database (`ecss_subscribers`), and the
challenges and answers from SIPp's message trace.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from e2e_support import Sipp, free_port
from switch import (
    Subscriber,
    SwitchProcess,
    register,
    switch_fixture,  # noqa: F401  (the fixture `switch`)
)

pytestmark = pytest.mark.e2e


def _contact(subscriber: Subscriber, port: int) -> str:
    return f"<sip:{subscriber.number}@127.0.0.1:{port}>"


async def _register_traced(sipp: Sipp, switch: SwitchProcess, subscriber: Subscriber,
                           trace: Path) -> str:
    """Register once with a message trace; the trace's text."""
    result = await sipp.run(
        "calls/register.xml", switch.target, calls=1, timeout=15,
        extra=[
            "-p", str(free_port(socket.SOCK_DGRAM)),
            "-key", "user", subscriber.number,
            "-key", "domain", subscriber.domain,
            "-key", "contact", f"<sip:{subscriber.number}@127.0.0.1:5999>",
            "-key", "expires", "600",
            "-au", subscriber.number, "-ap", subscriber.password,
            "-trace_msg", "-message_file", str(trace),
        ],
    )  # fmt: skip
    assert result.returncode == 0, result.describe() + switch.log_tail()
    return trace.read_text(errors="replace")


def _header_lines(trace: str, name: str) -> list[str]:
    return re.findall(rf"^{name}:.*$", trace, flags=re.MULTILINE | re.IGNORECASE)


async def test_register_without_qop(switch: SwitchProcess, sipp: Sipp, tmp_path: Path) -> None:
    (alice,) = switch.declare(1, qop=False)

    trace = await _register_traced(sipp, switch, alice, tmp_path / "noqop.log")

    challenges = _header_lines(trace, "WWW-Authenticate")
    assert challenges and all("qop" not in line for line in challenges), challenges
    assert any("algorithm=MD5" in line for line in challenges)
    (answer,) = _header_lines(trace, "Authorization")
    assert "qop=" not in answer and "nc=" not in answer
    bindings = await switch.bindings(alice)
    assert [b.contact for b in bindings] == [f"sip:{alice.number}@127.0.0.1:5999"]
    assert bindings[0].user_agent == "ssw-e2e"


async def test_register_with_qop_auth(switch: SwitchProcess, sipp: Sipp, tmp_path: Path) -> None:
    (alice,) = switch.declare(1, qop=True)

    trace = await _register_traced(sipp, switch, alice, tmp_path / "qop.log")

    challenges = _header_lines(trace, "WWW-Authenticate")
    assert challenges and all('qop="auth"' in line for line in challenges), challenges
    (answer,) = _header_lines(trace, "Authorization")
    assert "qop=auth" in answer and "nc=" in answer and "cnonce=" in answer
    assert len(await switch.bindings(alice)) == 1


async def test_wrong_password_is_forbidden(switch: SwitchProcess, sipp: Sipp) -> None:
    (alice,) = switch.declare(1)

    result = await register(sipp, switch, alice, password="not-the-password",
                            scenario="register_forbidden.xml")

    assert result.returncode == 0, result.describe()  # 401, then 403 to the credentials
    assert await switch.bindings(alice) == []


async def test_too_brief_expiry_gets_423_with_min_expires(switch: SwitchProcess,
                                                          sipp: Sipp) -> None:
    (alice,) = switch.declare(1)
    switch.set_user(alice, "register-expire-min", "120")

    result = await register(sipp, switch, alice, expires=30, scenario="register_too_brief.xml")

    assert result.returncode == 0, result.describe()  # 423 carrying Min-Expires
    assert await switch.bindings(alice) == []
    accepted = await register(sipp, switch, alice, expires=120)
    assert accepted.returncode == 0, accepted.describe()
    assert len(await switch.bindings(alice)) == 1


async def test_unregister_one_contact_with_expires_zero(switch: SwitchProcess,
                                                        sipp: Sipp) -> None:
    (alice,) = switch.declare(1)
    first, second = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    for port in (first, second):
        result = await register(sipp, switch, alice, port=port)
        assert result.returncode == 0, result.describe()
    assert len(await switch.bindings(alice)) == 2

    result = await register(sipp, switch, alice, contact=_contact(alice, first), expires=0)

    assert result.returncode == 0, result.describe()
    remaining = await switch.bindings(alice)
    assert [b.contact for b in remaining] == [f"sip:{alice.number}@127.0.0.1:{second}"]


async def test_unregister_everything_with_star(switch: SwitchProcess, sipp: Sipp) -> None:
    (alice,) = switch.declare(1)
    for _ in range(2):
        result = await register(sipp, switch, alice)
        assert result.returncode == 0, result.describe()
    assert len(await switch.bindings(alice)) == 2

    result = await register(sipp, switch, alice, contact="*", expires=0)

    assert result.returncode == 0, result.describe()
    assert await switch.bindings(alice) == []
