"""The stand-in tester's reading of the manual files: what a Print step asks, and how long
the tester talks before hanging up on a scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssw.qa.stand_in import Instruction, hold_time, instruction_of


@pytest.mark.parametrize(("text", "expected"), [
    ("System call to testUser. Please answer.", Instruction.ANSWER),
    ("System call to testUser. Please don't answer.", Instruction.RING),
    ("System wait call. Please call to TestUser.", Instruction.CALL),
    ("Configuring chold", None),
])
def test_print_steps_become_instructions(text: str, expected: Instruction | None) -> None:
    assert instruction_of(text) is expected


def test_hold_time_is_the_pauses_before_the_awaited_bye() -> None:
    called = """<recv request="INVITE"/><send><![CDATA[SIP/2.0 200 OK]]></send>
        <recv request="ACK"/><pause milliseconds="5000"/>
        <!-- <pause milliseconds="9000"/> -->
        <send><![CDATA[UPDATE sip:x SIP/2.0]]></send><recv response="200"/>
        <pause milliseconds="1500"/><recv request="BYE"/><pause milliseconds="2000"/>"""
    assert hold_time(called) == pytest.approx(6.5 + 2.0)
    calling = """<pause milliseconds="3000"/><send><![CDATA[INVITE sip:x SIP/2.0]]></send>
        <recv response="200"/><send><![CDATA[
        ACK sip:x SIP/2.0]]></send><pause milliseconds="5000"/><recv request="BYE"/>"""
    assert hold_time(calling) == pytest.approx(5.0 + 2.0)


def test_no_hold_time_when_the_scenario_hangs_up_itself() -> None:
    assert hold_time('<recv request="ACK"/><pause milliseconds="5000"/>'
                     "<send><![CDATA[BYE sip:x SIP/2.0]]></send>") is None


def test_hold_times_of_the_suite(shared_dir: Path) -> None:
    tests = shared_dir / "conformance" / "ecss-qa" / "tests"
    text = (tests / "record_route" / "uac_update_re_invite.xml").read_text(encoding="latin-1")
    assert hold_time(text) == pytest.approx(17.0)  # three 5 s pauses after its ACK
