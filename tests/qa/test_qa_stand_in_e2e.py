"""The stand-in tester for real: a test file of our own, run by `ssw.qa.run_file` against a
fresh switch, whose `Print` steps tell the tester (baresip at 108) to answer a SIPp phone's
call, or to call a SIPp phone, which then waits for the tester to hang up; a third test sends
the tester's call through a trunk to a `Type: Trunk` phone. Skipped without SIPp or baresip
(Debian packages sip-tester, baresip) or without the suite's `runner-xml/`.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from dataclasses import replace
from pathlib import Path

import pytest

from ssw.qa import RunSettings, load_qa_file, run_file

pytestmark = pytest.mark.e2e

# Calls 108 (`REMOTENUM`) with Digest, waits for the answer, hangs up after 1 s.
CALLER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="call the tester">
<Global variables="CGPNDOM,REMOTENUM"/>
<send retrans="500"><![CDATA[
INVITE sip:[$REMOTENUM]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[$CGPNDOM]>;tag=[call_number]
To: <sip:[$REMOTENUM]@[$CGPNDOM]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[service]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=- 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8
a=rtpmap:8 PCMA/8000
]]></send>
<recv response="100" optional="true"/>
<recv response="401" auth="true"/>
<send><![CDATA[
ACK sip:[$REMOTENUM]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-1]
[last_From:]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
]]></send>
<send retrans="500"><![CDATA[
INVITE sip:[$REMOTENUM]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[$CGPNDOM]>;tag=[call_number]
To: <sip:[$REMOTENUM]@[$CGPNDOM]>
Call-ID: [call_id]
CSeq: 2 INVITE
Contact: <sip:[service]@[local_ip]:[local_port]>
[authentication]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=- 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8
a=rtpmap:8 PCMA/8000
]]></send>
<recv response="100" optional="true"/>
<recv response="180" optional="true"/>
<recv response="183" optional="true"/>
<recv response="200" rrs="true"/>
<send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[last_From:]
[last_To:]
[routes]
Call-ID: [call_id]
CSeq: 2 ACK
Max-Forwards: 70
Content-Length: 0
]]></send>
<pause milliseconds="1000"/>
<send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[last_From:]
[last_To:]
[routes]
Call-ID: [call_id]
CSeq: 3 BYE
Max-Forwards: 70
Content-Length: 0
]]></send>
<recv response="200"/>
</scenario>
"""

# Answers at once, then waits 1 s and for the caller (the tester) to hang up.
ANSWERER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="answer the tester">
<recv request="INVITE"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=- 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8
a=rtpmap:8 PCMA/8000
]]></send>
<recv request="ACK"/>
<pause milliseconds="1000"/>
<recv request="BYE"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
</scenario>
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ua(kind: str, scenario: str, sipp_type: str, **more: str) -> dict[str, object]:
    command = {"SourceFile": f"standin/{scenario}", "Options": "-m 1",
               "SippType": sipp_type, "NeedAuth": "True", "Timeout": "30s"}
    if sipp_type == "uac":
        command["Options"] = "-m 1 -set REMOTENUM %%TestNumber%%"
    return {"Type": kind, "Name": scenario, "Commands": [command], **more}


@pytest.fixture
def suite(shared_dir: Path, tmp_path: Path) -> Path:
    runner_xml = shared_dir / "conformance" / "ecss-qa" / "runner-xml"
    if not runner_xml.is_dir():
        pytest.skip("the ECSS QA suite's runner-xml/ is not there")
    root = tmp_path / "suite"
    shutil.copytree(runner_xml, root / "runner-xml")
    group = root / "tests" / "standin"
    group.mkdir(parents=True)
    (group / "caller.xml").write_text(CALLER, encoding="latin-1")
    (group / "answerer.xml").write_text(ANSWERER, encoding="latin-1")
    user = {"UserId": "1", "Number": "157", "Login": "157", "Password": "123",
            "SipDomain": "pv.ssw3", "SipGroup": "sip.ab", "Expires": "90",
            "Port": str(_free_port()), "QParam": "1"}
    trunk_port = str(_free_port())
    tests = [
        {"Name": "answer", "TestProcedure": [
            {"Print": "System call to testUser. Please answer."},
            {"StartUA": [_ua("User", "caller.xml", "uac", UserId="1")]}]},
        {"Name": "call", "TestProcedure": [
            {"Print": "System wait call. Please call to TestUser."},
            {"StartUA": [_ua("User", "answerer.xml", "uas", UserId="1")]}]},
        {"Name": "call through the trunk", "TestProcedure": [
            {"Print": "System wait call. Please call to TestUser."},
            {"StartUA": [_ua("Trunk", "answerer.xml", "uas", Port=trunk_port)]}]},
    ]
    (group / "standin.json").write_text(json.dumps({
        "TestName": "stand-in", "Users": [user],
        "UserVar": [{"%%TestNumber%%": "108", "%%TestDomain%%": "pv.ssw3"}],
        "Tests": tests}), encoding="utf-8")
    return root


def test_the_stand_in_answers_calls_and_hangs_up_its_own(suite: Path, tmp_path: Path) -> None:
    sipp, baresip = shutil.which("sipp"), shutil.which("baresip")
    if sipp is None or baresip is None:
        pytest.skip("needs SIPp and baresip (Debian packages sip-tester, baresip)")
    qa_file = load_qa_file(suite / "tests" / "standin" / "standin.json")
    settings = RunSettings(suite_root=suite, workdir=tmp_path / "work", sipp=sipp,
                           baresip=baresip, pause_between_tests=0.5)
    result = asyncio.run(run_file(qa_file, settings))
    assert [(t.name, t.passed) for t in result.tests] == [
        ("answer", True), ("call", True), ("call through the trunk", True)], "\n".join(
        f"{t.name}: {t.reason}\n{t.details}" for t in result.tests if not t.passed)
    # without the stand-in nobody answers: the switch has no subscriber 108
    off = asyncio.run(run_file(replace(qa_file, tests=qa_file.tests[:1]),
                               replace(settings, workdir=tmp_path / "off", stand_in=False)))
    assert not off.tests[0].passed
