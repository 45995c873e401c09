"""Seconds each test of the required files took in a CI run (per-test times, from the
`results.json` the conformance fixture writes), by `<group>/<file>`: what
`ssw.qa.lanes.plan_lanes` balances the lanes with. Tests missing here count their longest phone
timeout. Measure again when a file changes much (a test that passes now may take far less
than when it timed out).
"""

from __future__ import annotations

__all__ = ["MEASURED_SECONDS"]

MEASURED_SECONDS: dict[str, dict[str, float]] = {
    "rfc4028_timers/rfc4028.json": {
        "rfc4028_uac_like_refresher_no_ref_request": 94.0,
        "rfc4028_uac_like_refresher": 124.0,
        "rfc4028_uac_send_min_se_100": 104.0,
        "rfc4028_send_uas_send_422": 122.0,
        "rfc4028_no_response_to_refresh": 80.0,
        "rfc4028_send_481_resp_to_refresh": 48.0,
        "rfc4028_simple_test_update_req": 94.0,
        "rfc4028_simple_test_invite_req": 94.0,
        "rfc4028_get_422_resp_from_ssw": 94.0,
        "rfc4028_force_disable": 5.0,
    },
    "sip_timers/sip_timers.json": {
        "test_invite_retrans": 69.0,
        "test_prack_retrans": 68.0,
        "test_cancel_retrans": 34.0,
        "test_200_retrans": 35.0,
        "test_bye_retrans": 34.0,
        "test_4XX_retrans": 36.0,
        "test_5XX_retrans": 33.0,
    },
    "forking/forking_diff_q.json": {
        "forking find-me-with-q previous-continue": 11.0,
        "forking find-me-with-q previous-stop": 11.0,
        "forking find-me-one-by-one  previous-continue": 11.0,
        "forking find-me-one-by-one  previous-stop": 11.0,
        "forking all-contact test with diff q": 4.0,
        "froking test with diff q busy mode": 11.0,
        "forking test 420 response": 20.0,
    },
    "update/update_test.json": {
        "uac_simple_update_test": 1.0,
        "uas_update_in_erly_state": 4.0,
        "uas_update_in_answer_state": 2.0,
        "uas_two_update": 12.0,
        "uas_update_before_answer_recv": 4.0,
        "uas_recv_488_to_update": 11.0,
    },
    "302_response_test/302_test.json": {"Moved Temporarily test": 3.0},
    "core_timers/core_timers.json": {
        "conversation_timeout_test": 5.6,
        "no_answer_timeout_test": 8.6,
    },
    "forking/forking.json": {
        "forking all-contact test": 3.7,
        "forking all-contact test busy_mode": 3.7,
    },
    "rfc3261_simple_test/simple_rfc3261_test.json": {
        "check transmission of ACK on each retransmission of 200 OK response": 35.2,
    },
    "rfc3264_simple_test/rfc3264_simple_test.json": {"test_o_sdp_with_video_section": 4.0},
    "sip_420_test/test_420_rpnse.json": {
        "unsupport_req100rel": 5.0,
        "unsupport_req100rel_send_cancel": 5.0,
    },
    # the manual files, with the stand-in tester (measured by hand with `ssw qa`; a failing
    # two-codec test waits for the switch's no-answer timeout when it runs alone)
    "oa_exchange/oa_exchange.json": {
        "send_only_test": 27.2,
        "oa_exchange_uac_mode": 34.7,
        "oa_exchange_uas_mode": 33.1,
        "oa_send_two_codecs_in_answer_180": 30.0,
        "oa_send_two_codecs_in_answer_200": 2.6,
        "send_answ_in_183": 9.5,
        "send_answer_sdp_in_181": 15.6,
    },
    "update/update_manual_test.json": {
        "uac_update_test": 4.2,
        "uas_update_in_erly_state": 4.5,
        "uas_update_in_answer_state": 2.5,
        "uas_two_update": 5.6,
        "uas_update_before_answer_recv": 3.5,
    },
    "record_route/rec_route.json": {
        "rec_route_complex_test_uac": 19.2,
        "rec_route_cancel_test_uac": 5.1,
        "rec_route_complex_test_uas": 12.6,
    },
}
