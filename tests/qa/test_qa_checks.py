"""`CheckDifference` timing and reading SIPp's message traces."""

from __future__ import annotations

import pytest

from ssw.qa.checks import check_difference
from ssw.qa.sipp import ReceivedMessage, parse_duration, received_messages
from ssw.qa.suite import QaFormatError

TRACE = """----------------------------------------------- 2026-11-24 23:29:39.230969
UDP message sent (291 bytes):

REGISTER sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:10106


----------------------------------------------- 2026-11-24 23:29:59.500000
UDP message received [377] bytes :

INVITE sip:157@127.0.0.1:10106 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5060


----------------------------------------------- 2026-11-24 23:30:00.250000
UDP message received [300] bytes :

SIP/2.0 486 Busy Here
"""


def test_received_messages_are_read_with_their_times() -> None:
    messages = received_messages(TRACE)
    assert [m.start_line.split()[0] for m in messages] == ["INVITE", "SIP/2.0"]
    assert messages[0].method == "INVITE" and messages[0].status is None
    assert messages[1].status == 486 and messages[1].method is None
    assert messages[1].time - messages[0].time == pytest.approx(0.75)


@pytest.mark.parametrize(("text", "seconds"), [("40s", 40), ("500ms", 0.5), ("2m", 120),
                                               ("7", 7)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_a_bad_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


def _invite(at: float) -> list[ReceivedMessage]:
    return [ReceivedMessage(at, "INVITE sip:1@h SIP/2.0")]


INVITE = {"MsgType": "request", "Method": "INVITE", "Code": "None"}


def test_simultaneous_forks_pass_and_late_ones_fail() -> None:
    body = [{"Difference": "0", "Mode": "between_ua", "UA": "0,1,2", "Msg": [INVITE]}]
    together = {"0": _invite(10.0), "1": _invite(10.1), "2": _invite(10.05)}
    assert check_difference(body, together) == []
    late = {"0": _invite(10.0), "1": _invite(10.1), "2": _invite(13.0)}
    problems = check_difference(body, late)
    assert len(problems) == 1 and "phone 2" in problems[0]


def test_sequential_gaps_are_milliseconds() -> None:
    body = {"Difference": "3600", "UA": "0,1,2", "Msg": [INVITE]}
    serial = {"0": _invite(0.0), "1": _invite(3.7), "2": _invite(7.2)}
    assert check_difference(body, serial) == []
    assert check_difference({**body, "Difference": ["3600", "0"]}, serial) != []


def test_a_phone_that_never_received_the_message_fails() -> None:
    body = {"Difference": "0", "UA": "0,1", "Msg": [{"MsgType": "response", "Code": "180"}]}
    problems = check_difference(body, {"0": [ReceivedMessage(1.0, "SIP/2.0 180 Ringing")]})
    assert problems == ["CheckDifference: phone 1 never received 180"]


def test_a_non_numeric_difference_is_a_format_error() -> None:
    body = {"Difference": "soon", "UA": "0,1", "Msg": [INVITE]}
    with pytest.raises(QaFormatError):
        check_difference(body, {"0": _invite(0), "1": _invite(0)})


def test_the_most_telling_failure_is_an_unexpected_message() -> None:
    from ssw.qa.sipp import SippOutcome
    from ssw.qa.start_ua import error_line, most_telling

    def outcome(name: str, log: str, **flags: bool) -> SippOutcome:
        return SippOutcome(name, [], 1, "", log, "", **flags)

    waited = outcome("uas", "x\t y\t 1.5: uas timed out after '20.000' seconds")
    stopped = outcome("other", "", stopped=True)
    aborted = outcome("uac", "The following events occurred:\n"
                             "2026-11-24\t23:29:58.230228\t1.5: Aborting call on unexpected "
                             "message: received 'SIP/2.0 420 Bad Extension")
    assert most_telling([stopped, waited, aborted]) is aborted
    assert most_telling([stopped, waited]) is waited
    assert error_line(aborted).endswith("received 'SIP/2.0 420 Bad Extension")
    assert "stopped by the runner" in error_line(stopped)
