"""Tests of the required groups that SSW does not pass yet, with the switch behaviour at fault.

`{file (relative to the suite's tests/): {test name: why}}`. test_ecss_qa.py marks these files
`xfail`: an unlisted test that fails fails CI; a listed one that passes shows as XPASS (then
remove it here). docs/CONFORMANCE.md has the full analysis.
"""

from __future__ import annotations

__all__ = ["KNOWN_FAILURES"]

KNOWN_FAILURES: dict[str, dict[str, str]] = {
    "forking/forking_diff_q.json": {
        "forking test 420 response": "the answering phone's BYE has a malformed To "
        "(`<sip:155@pv.ssw3>tag=...`, no `;`); SSW answers it 400 (RFC 3261 §8.2.6.2) where "
        "the scenario expects 200 (scenario bug; ECSS tolerates it)",
    },
    "update/update_test.json": {
        "uac_simple_update_test": "the reliable 180 to a caller requiring 100rel carries no "
        "answer (SSW adds early SDP to unreliable 18x only), so the caller's early UPDATE gets "
        "491 instead of 200",
        "uas_two_update": "timing: the caller allows no early UPDATE, so the switch answers the "
        "first UPDATE itself within ~1 ms, before the second arrives; SIPp then gets two 200s "
        "where it expects the (optional) 500 and one 200",
    },
}
