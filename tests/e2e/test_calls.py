"""Calls through the running switch between real SIPp user agents on loopback (SPEC §6).

Each test declares its own subscribers on the module's switch, registers the callee from the
UDP port its SIPp UAS then listens on, runs the caller (which answers the 401 challenge of
the INVITE with digest credentials) and checks three things: both SIPp exit codes (0 means
every message arrived as the scenario expects, including the body checks), the status the
caller got, and the CDR the switch stored in `ecss_calls_db` and in the domain's CSV file.
"""

from __future__ import annotations

import asyncio

import pytest
from e2e_support import Sipp
from switch import (
    CALL_SCENARIOS,
    SwitchProcess,
    assert_ok,
    cdr_between,
    received_final,
    register_callee,
    run_call,
    switch_fixture,  # noqa: F401  (the fixture `switch`)
    udp_bound,
)

pytestmark = pytest.mark.e2e

#: Q.850 causes the CDRs must carry (RFC 3398 §8.2.6.1 / ITU-T Q.850)
NORMAL_CLEARING = 16
USER_BUSY = 17


@pytest.mark.parametrize("qop", [False, True], ids=["digest", "digest-qop-auth"])
async def test_answered_call_ended_by_the_caller(switch: SwitchProcess, sipp: Sipp,
                                                 qop: bool) -> None:
    alice, bob = switch.declare(2, qop=qop)  # the INVITE is challenged per the caller's qop
    port = await register_callee(sipp, switch, bob)

    caller, callee = await run_call(sipp, switch, alice, bob.number, uac="uac_call.xml",
                                uas="uas_answer.xml", uas_port=port, uac_extra=["-d", "1000"])

    assert_ok(caller, switch)
    assert_ok(callee, switch)
    assert caller.stat("SuccessfulCall") == 1
    cdr = await switch.wait_cdr(cdr_between(alice, bob))
    assert cdr.answer_at is not None
    assert cdr.release_side == "caller"
    assert cdr.release_cause == NORMAL_CLEARING
    assert 900 <= cdr.duration_ms <= 3000, cdr
    assert cdr.answer_delay_ms is not None and 0 <= cdr.answer_delay_ms < 2000
    rows = [row for row in switch.csv_rows() if row["connection_id"] == cdr.connection_id]
    assert len(rows) == 1
    assert rows[0]["caller"] == alice.number and rows[0]["callee"] == bob.number
    assert int(rows[0]["duration_ms"]) == cdr.duration_ms
    assert rows[0]["release_side"] == "caller"


async def test_answered_call_ended_by_the_callee(switch: SwitchProcess, sipp: Sipp) -> None:
    alice, bob = switch.declare(2)
    port = await register_callee(sipp, switch, bob)

    caller, callee = await run_call(sipp, switch, alice, bob.number, uac="uac_callee_hangs_up.xml",
                                uas="uas_hangs_up.xml", uas_port=port, uas_extra=["-d", "500"])

    assert_ok(caller, switch)
    assert_ok(callee, switch)
    cdr = await switch.wait_cdr(cdr_between(alice, bob))
    assert cdr.answer_at is not None
    assert cdr.release_side == "callee"
    assert cdr.release_cause == NORMAL_CLEARING
    assert 400 <= cdr.duration_ms <= 3000, cdr


async def test_caller_cancels_while_ringing(switch: SwitchProcess, sipp: Sipp) -> None:
    alice, bob = switch.declare(2)
    port = await register_callee(sipp, switch, bob)

    caller, callee = await run_call(sipp, switch, alice, bob.number, uac="uac_cancel.xml",
                                uas="uas_ring.xml", uas_port=port, uac_extra=["-d", "300"])

    assert_ok(caller, switch)  # the scenario requires 200 for the CANCEL and 487 for the INVITE
    assert_ok(callee, switch)  # the callee got the CANCEL
    cdr = await switch.wait_cdr(cdr_between(alice, bob))
    assert cdr.answer_at is None
    assert cdr.duration_ms == 0
    assert cdr.release_side == "caller"


async def test_busy_callee(switch: SwitchProcess, sipp: Sipp) -> None:
    alice, bob = switch.declare(2)
    port = await register_callee(sipp, switch, bob)

    caller, callee = await run_call(sipp, switch, alice, bob.number, uac="uac_rejected.xml",
                                uas="uas_busy.xml", uas_port=port)

    assert_ok(caller, switch)
    assert_ok(callee, switch)
    assert received_final(caller) == {486}
    cdr = await switch.wait_cdr(cdr_between(alice, bob))
    assert cdr.answer_at is None
    assert cdr.release_cause == USER_BUSY
    assert cdr.release_side == "callee"


async def test_no_answer_timeout(switch: SwitchProcess, sipp: Sipp) -> None:
    domain = "noanswer.e2e.ssw"  # its own domain: the timer is a domain property
    alice, bob = switch.declare(2, domain=domain)
    switch.cocon(f"/domain/{domain}/properties/timers/set no_answer_timeout 2")
    port = await register_callee(sipp, switch, bob)

    loop = asyncio.get_running_loop()
    started = loop.time()
    caller, callee = await run_call(sipp, switch, alice, bob.number, uac="uac_rejected.xml",
                                uas="uas_ring.xml", uas_port=port)
    elapsed = loop.time() - started

    assert_ok(caller, switch)
    assert_ok(callee, switch)  # the switch cancelled the ringing callee
    assert received_final(caller) in ({408}, {480})
    assert 1.5 <= elapsed <= 10, elapsed
    cdr = await switch.wait_cdr(cdr_between(alice, bob), domain=domain)
    assert cdr.answer_at is None
    assert cdr.release_side == "system"


async def test_hold_and_resume_are_relayed(switch: SwitchProcess, sipp: Sipp) -> None:
    alice, bob = switch.declare(2)
    port = await register_callee(sipp, switch, bob)

    caller, callee = await run_call(sipp, switch, alice, bob.number, uac="uac_hold_resume.xml",
                                uas="uas_hold_resume.xml", uas_port=port)

    assert_ok(caller, switch)  # 200s carried a=recvonly, then a=sendrecv
    assert_ok(callee, switch)  # re-INVITEs carried a=sendonly, then a=sendrecv
    cdr = await switch.wait_cdr(cdr_between(alice, bob))
    assert cdr.answer_at is not None
    assert cdr.release_side == "caller"


async def test_reliable_ringing_end_to_end(switch: SwitchProcess, sipp: Sipp) -> None:
    alice, bob = switch.declare(2)
    switch.set_user(bob, "req100rel", "true")
    port = await register_callee(sipp, switch, bob)

    caller, callee = await run_call(sipp, switch, alice, bob.number, uac="uac_100rel.xml",
                                uas="uas_100rel.xml", uas_port=port)

    assert_ok(caller, switch)  # reliable 180 with RSeq, PRACK answered 200
    assert_ok(callee, switch)  # INVITE required 100rel, the switch PRACKed the reliable 180
    cdr = await switch.wait_cdr(cdr_between(alice, bob))
    assert cdr.answer_at is not None


async def test_unknown_number_is_not_found(switch: SwitchProcess, sipp: Sipp) -> None:
    (alice,) = switch.declare(1)

    caller, _ = await run_call(sipp, switch, alice, "99999", uac="uac_rejected.xml")

    assert_ok(caller, switch)
    assert received_final(caller) == {404}
    cdr = await switch.wait_cdr(cdr_between(alice, "99999"))
    assert cdr.answer_at is None
    assert cdr.release_side == "system"


async def test_unregistered_callee_is_unavailable(switch: SwitchProcess, sipp: Sipp) -> None:
    alice, bob = switch.declare(2)  # bob never registers

    caller, _ = await run_call(sipp, switch, alice, bob.number, uac="uac_rejected.xml")

    assert_ok(caller, switch)
    assert received_final(caller) == {480}
    cdr = await switch.wait_cdr(cdr_between(alice, bob))
    assert cdr.answer_at is None
    assert cdr.release_side == "system"


async def test_parallel_forking_cancels_the_other_contact(switch: SwitchProcess,
                                                          sipp: Sipp) -> None:
    """fork-mode all-contacts (the default): both contacts ring, the first to answer gets
    the call and the other is cancelled (RFC 3261 §16.7 step 10 applied by the B2BUA)."""
    alice, bob = switch.declare(2)
    answering = await register_callee(sipp, switch, bob)
    ringing = await register_callee(sipp, switch, bob)
    assert len(await switch.bindings(bob)) == 2

    ringer = asyncio.create_task(sipp.run(
        f"{CALL_SCENARIOS}/uas_ring.xml", switch.target, calls=1, timeout=30,
        extra=["-p", str(ringing)]))
    await udp_bound(ringing)
    caller, answerer = await run_call(sipp, switch, alice, bob.number, uac="uac_call.xml",
                                      uas="uas_answer.xml", uas_port=answering,
                                      uac_extra=["-d", "500"])
    cancelled = await ringer

    assert_ok(caller, switch)
    assert_ok(answerer, switch)
    assert_ok(cancelled, switch)  # INVITE, 180, then CANCEL -> 200 + 487 -> ACK
    cdr = await switch.wait_cdr(cdr_between(alice, bob))
    assert cdr.answer_at is not None
    assert cdr.release_side == "caller"
