"""A crash does not lose registrations or CDRs (SPEC §6, §11; issue: restart test).

The switch is killed with SIGKILL (no draining, no flushing) and started again on the same
data directory and ports: the bindings are still there (in the database and as the console
shows them), the CDRs written before the crash are intact in `ecss_calls_db` and in the CSV
file, and the registered subscriber can be called at once without registering again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import Sipp
from switch import (
    SwitchProcess,
    assert_ok,
    cdr_between,
    register_callee,
    run_call,
    running_switch,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def own_switch(tmp_path: Path) -> Iterator[SwitchProcess]:
    with running_switch(tmp_path / "data") as started:
        yield started


async def test_sigkill_keeps_bindings_and_cdrs(own_switch: SwitchProcess, sipp: Sipp) -> None:
    switch = own_switch
    alice, bob = switch.declare(2)
    port = await register_callee(sipp, switch, bob)
    caller, callee = await run_call(sipp, switch, alice, bob.number, uac="uac_call.xml",
                                    uas="uas_answer.xml", uas_port=port,
                                    uac_extra=["-d", "200"])
    assert_ok(caller, switch)
    assert_ok(callee, switch)
    before = await switch.wait_cdr(cdr_between(alice, bob))
    bindings_before = await switch.bindings(bob)
    csv_before = switch.csv_rows()
    assert len(bindings_before) == 1 and len(csv_before) == 1

    switch.kill()
    assert switch.process is not None and switch.process.returncode == -9
    switch.start()

    assert await switch.bindings(bob) == bindings_before
    shown = switch.cocon(f"/domain/{bob.domain}/sip/user/info sip.e2e {bob.aor}")
    assert f"127.0.0.1:{port}" in shown, shown
    assert await switch.cdrs() == [before]
    assert switch.csv_rows() == csv_before

    caller, callee = await run_call(sipp, switch, alice, bob.number, uac="uac_call.xml",
                                    uas="uas_answer.xml", uas_port=port,
                                    uac_extra=["-d", "200"])
    assert_ok(caller, switch)
    assert_ok(callee, switch)
    after = await switch.wait_cdr(
        lambda cdr: cdr_between(alice, bob)(cdr) and cdr.connection_id != before.connection_id)
    assert after.answer_at is not None
    assert len(switch.csv_rows()) == 2
