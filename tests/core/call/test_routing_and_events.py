"""Fork plans, number normalisation, offer classification, failure choice, purity of the core."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from call_harness import HOLD, OFFER, RESUME

from ssw.core.call.causes import ReleaseCause, best_failure, cause_for_status
from ssw.core.call.events import Hold, Resume, Update, classify_offer
from ssw.core.call.routing import ForkPlan, normalize_number, plan_forks
from ssw.core.ports import Binding, ForkMode

BINDINGS = [
    Binding("sip:a@h", 0.5),
    Binding("sip:b@h", 1.0),
    Binding("sip:c@h", 0.5),
]


def _uris(plan: ForkPlan) -> list[list[str]]:
    return [[t.uri for t in group] for group in plan.groups]


def test_all_contacts_is_one_parallel_group_best_q_first() -> None:
    plan = plan_forks(BINDINGS, ForkMode.ALL_CONTACTS, 10.0)
    assert _uris(plan) == [["sip:b@h", "sip:a@h", "sip:c@h"]]
    assert plan.step_timeout is None


def test_by_q_groups_equal_q_values() -> None:
    plan = plan_forks(BINDINGS, ForkMode.BY_Q, 10.0)
    assert _uris(plan) == [["sip:b@h"], ["sip:a@h", "sip:c@h"]]
    assert plan.step_timeout == 10.0 and not plan.keep_previous
    assert plan_forks(BINDINGS, ForkMode.BY_Q_CONTINUE, 10.0).keep_previous


def test_one_by_one_and_disable() -> None:
    stop = plan_forks(BINDINGS, ForkMode.ONE_BY_ONE_STOP, 5.0)
    assert _uris(stop) == [["sip:b@h"], ["sip:a@h"], ["sip:c@h"]]
    assert not stop.keep_previous
    assert plan_forks(BINDINGS, ForkMode.ONE_BY_ONE_CONTINUE, 5.0).keep_previous
    assert _uris(plan_forks(BINDINGS, ForkMode.DISABLE, 5.0)) == [["sip:b@h"]]


def test_plans_need_contacts() -> None:
    with pytest.raises(ValueError, match="without contacts"):
        plan_forks([], ForkMode.ALL_CONTACTS, 1.0)
    with pytest.raises(ValueError, match="at least one target"):
        ForkPlan(())


def test_number_normalisation() -> None:
    assert normalize_number("200") == "200"
    assert normalize_number("+7 (383) 200-10-10;phone-context=x") == "+73832001010"
    assert normalize_number("*21*157#") == "*21*157#"
    assert normalize_number("not/number") is None


def test_offer_classification() -> None:
    assert isinstance(classify_offer(HOLD, was_held=False), Hold)
    assert isinstance(classify_offer(RESUME, was_held=True), Resume)
    assert isinstance(classify_offer(OFFER, was_held=False), Update)
    assert isinstance(classify_offer(None, was_held=True), Update)
    old_style = OFFER.replace(b"c=IN IP4 10.0.0.1", b"c=IN IP4 0.0.0.0")
    old_style = old_style.replace(b"a=sendrecv\r\n", b"")
    assert isinstance(classify_offer(old_style, was_held=False), Hold)


def test_best_failure_prefers_6xx_then_lowest_class_then_busy() -> None:
    assert best_failure([cause_for_status(503), cause_for_status(603)]).status == 603
    assert best_failure([cause_for_status(503), cause_for_status(480)]).status == 480
    assert best_failure([cause_for_status(480), cause_for_status(486)]).status == 486
    with pytest.raises(ValueError):
        best_failure([])


def test_release_cause_is_validated() -> None:
    with pytest.raises(ValueError, match="not a SIP status"):
        ReleaseCause(42, 16, "x")
    with pytest.raises(ValueError, match="out of range"):
        ReleaseCause(486, 200, "x")


def test_call_core_touches_no_sockets_tasks_or_clock() -> None:
    root = Path(__file__).resolve().parents[3] / "src" / "ssw" / "core"
    forbidden = {"asyncio", "socket", "time", "threading", "selectors"}
    files = [*sorted((root / "call").glob("*.py")), root / "ports.py"]
    assert len(files) > 5
    for path in files:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [(node.module or "").split(".")[0]]
            else:
                continue
            assert not forbidden.intersection(names), f"{path.name} imports {names}"


def test_destination_follows_the_contact_unless_nat_or_a_connection() -> None:
    from ssw.core.call.routing import destination_of
    from ssw.sip.address import Address

    same_host = Binding("sip:200@127.0.0.1:26061", 1.0, Address("udp", "127.0.0.1", 26064))
    assert destination_of(same_host) is None  # the contact's own port, not the REGISTER's
    nat = Binding("sip:200@192.168.1.10:5060", 1.0, Address("udp", "203.0.113.5", 40000))
    assert destination_of(nat) == Address("udp", "203.0.113.5", 40000)
    tcp = Binding("sip:200@127.0.0.1:5070;transport=tcp", 1.0, Address("tcp", "127.0.0.1", 40001))
    assert destination_of(tcp) == Address("tcp", "127.0.0.1", 40001)
    assert destination_of(Binding("sip:200@10.0.0.2")) is None
