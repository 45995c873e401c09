"""The compatibility rewrites of SIPp scenarios (`ssw.qa.scenario`)."""

from __future__ import annotations

import re
from pathlib import Path

from ssw.qa.scenario import (
    drop_media_actions,
    escape_attribute_lt,
    is_answering_scenario,
    prepare_scenario,
)


def test_lt_in_an_attribute_value_is_escaped() -> None:
    text = '<ereg regexp="<sip:([^;@]+)" header="To:" assign_to="a"/>'
    assert escape_attribute_lt(text) == (
        '<ereg regexp="&lt;sip:([^;@]+)" header="To:" assign_to="a"/>')


def test_cdata_comments_and_text_are_copied_unchanged() -> None:
    text = ('<?xml version="1.0"?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n'
            '<!-- a <comment> with "<quotes" --->\n'
            '<send><![CDATA[\n  From: "x" <sip:1@d>;tag=1\n]]></send>\n'
            "<recv response='200' a='1<2' b=\">\"/>")
    out = escape_attribute_lt(text)
    assert out.replace("a='1&lt;2'", "a='1<2'") == text
    assert "a='1&lt;2'" in out
    assert 'b=">"' in out


def test_an_unterminated_tag_or_comment_does_not_loop() -> None:
    assert escape_attribute_lt('<a b="<') == '<a b="&lt;'
    assert escape_attribute_lt("<!-- open") == "<!-- open"


def test_media_actions_and_the_nops_they_empty_are_dropped() -> None:
    text = ('<send retrans="500"><![CDATA[SIP/2.0 200 OK]]></send>\n'
            '<nop hide="true">\n  <action>\n'
            '  <!--    <exec play_pcap_audio="/home/x/sip.pcap"/> -->\n'
            '        <exec rtp_stream="/home/x/test.alaw,-1,8" />\n  </action>\n</nop>\n'
            '<nop hide="true"><action>\n'
            '  <setdest host="[$h]" port="[$p]" protocol="[transport]" />\n'
            '  <exec rtp_stream="pause" />\n</action></nop>\n'
            '<recv request="ACK"/>')
    out = drop_media_actions(text)
    assert "rtp_stream" not in out
    assert out.count("<nop") == 1 and "setdest" in out
    assert out.startswith('<send retrans="500">') and out.endswith('<recv request="ACK"/>')


def test_scenarios_that_start_by_receiving_are_answering(tmp_path: Path) -> None:
    uas = tmp_path / "uas.xml"
    uas.write_text('<scenario><!-- <send> --><nop/><recv request="INVITE"/><send/></scenario>')
    uac = tmp_path / "uac.xml"
    uac.write_text('<scenario><send><![CDATA[<recv>]]></send><recv response="200"/></scenario>')
    assert is_answering_scenario(uas)
    assert not is_answering_scenario(uac)


def test_suite_scenarios_keep_everything_but_the_rewrites(shared_dir: Path,
                                                           tmp_path: Path) -> None:
    root = shared_dir / "conformance" / "ecss-qa" / "tests"
    sources = sorted(root.glob("**/*.xml"))
    assert sources
    for source in sources:
        out = prepare_scenario(source, tmp_path / source.parent.relative_to(root))
        text = out.read_text("latin-1")
        original = source.read_text("latin-1")
        assert "<exec rtp_stream" not in text and "<exec play_pcap" not in text
        # Apart from the dropped media lines, only `<` inside attributes changed.
        assert text.count("<![CDATA[") == original.count("<![CDATA[")
        assert not re.search(r'=\s*"[^"\n]*<', _without_cdata(text)), source
        assert '&lt;' in text or '="<' not in original


def _without_cdata(text: str) -> str:
    return re.sub(r"<!\[CDATA\[.*?\]\]>|<!--.*?-->", "", text, flags=re.S)
