"""SIPp scenario files as the runner hands them to SIPp.

The suite's scenarios are used unchanged, except for two mechanical compatibility rewrites. First,
SIPp 3.6 (Debian's `sip-tester`) refuses some files with "Invalid XML in scenario" because an
attribute value holds a raw `<`, e.g. `<ereg regexp="<sip:([^;@]+)" .../>` (XML 1.0 §3.1: `<` is
not allowed in an attribute value). `escape_attribute_lt` rewrites exactly that `<` as `&lt;`,
which SIPp's parser turns back into `<`, so the regular expression SIPp runs is the one the file
wrote. Nothing else changes: CDATA sections (the SIP messages), comments, text and every other
character are copied byte for byte.

A second rewrite removes media streaming, which these signalling tests never check:
`<exec rtp_stream=.../>` and `<exec play_pcap_audio|play_pcap_video=.../>` actions are dropped,
and a `<nop>` left with no action goes with them (`drop_media_actions`). Two reasons, both about
SIPp rather than the switch: the files name media files in their authors' lab folders
(`/home/<someone>/sipp-3.4.1/pcap/test.alaw`), which SIPp refuses to load ("Cannot read/cache
rtpstream file"); and SIPp 3.6.1 aborts a call that receives a message while it sits on a `<nop>`
placed right after a `<send retrans=...>` (every one of the 27 such `<nop>`s in the suite only
streams media), e.g. the ACK after the 200 OK: "Aborting call on unexpected message ... while in
message type 5". With the `<nop>` gone, the `<recv>` after it takes that message as intended.

The transformed copy goes to a temporary directory; the test files themselves are never edited.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "drop_media_actions",
    "escape_attribute_lt",
    "is_answering_scenario",
    "prepare_scenario",
]

# Markup that is copied untouched: comments, CDATA sections, processing instructions, DOCTYPE.
_OPAQUE = (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"), ("<!", ">"))


def escape_attribute_lt(text: str) -> str:
    """`text` with every `<` inside a quoted attribute value of a tag written as `&lt;`."""
    out: list[str] = []
    position = 0
    length = len(text)
    while position < length:
        start = text.find("<", position)
        if start < 0:
            out.append(text[position:])
            break
        out.append(text[position:start])
        opaque_end = _opaque_end(text, start)
        if opaque_end is not None:
            out.append(text[start:opaque_end])
            position = opaque_end
            continue
        position = _copy_tag(text, start, out)
    return "".join(out)


def _opaque_end(text: str, start: int) -> int | None:
    for opener, closer in _OPAQUE:
        if text.startswith(opener, start):
            end = text.find(closer, start + len(opener))
            return len(text) if end < 0 else end + len(closer)
    return None


def _copy_tag(text: str, start: int, out: list[str]) -> int:
    """Copy the tag opening at `start` (escaping `<` in its quoted values); return its end."""
    out.append("<")
    position = start + 1
    quote: str | None = None
    while position < len(text):
        char = text[position]
        if quote is not None:
            if char == quote:
                quote = None
            elif char == "<":
                out.append("&lt;")
                position += 1
                continue
        elif char in "\"'":
            quote = char
        elif char == ">":
            out.append(">")
            return position + 1
        out.append(char)
        position += 1
    return position


_MEDIA_ACTION = re.compile(
    r'[ \t]*<exec\s+(?:rtp_stream|play_pcap_audio|play_pcap_video)\s*=\s*"[^"]*"\s*/>[ \t]*\n?')
_EMPTY_NOP = re.compile(
    r'<nop(?:\s+hide\s*=\s*"true")?\s*>\s*<action>\s*(?:<!--.*?-->\s*)*</action>\s*</nop>[ \t]*\n?',
    re.S,
)


def drop_media_actions(text: str) -> str:
    """`text` without media-streaming actions, and without the `<nop>`s they leave empty."""
    return _EMPTY_NOP.sub("", _MEDIA_ACTION.sub("", text))


def prepare_scenario(source: Path, directory: Path) -> Path:
    """A copy of `source` in `directory` that SIPp accepts (see the module docstring).

    The copy keeps the file's name (SIPp names its trace files after it) and its encoding
    (the suite's files declare ISO-8859-1; bytes are carried through latin-1 unchanged).
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / source.name
    text = source.read_bytes().decode("latin-1")
    target.write_bytes(drop_media_actions(escape_attribute_lt(text)).encode("latin-1"))
    return target


_FIRST_MESSAGE = re.compile(r"<(send|recv)\b")


def is_answering_scenario(source: Path) -> bool:
    """True when the scenario's first message element is a `<recv>` (it waits for a call).

    Such phones must be listening before the calling ones start, whatever `SippType` a file
    gives them (one file labels a receiving scenario `uac`).
    """
    text = escape_attribute_lt(source.read_bytes().decode("latin-1"))
    for opener, closer in _OPAQUE[:2]:
        text = re.sub(re.escape(opener) + ".*?" + re.escape(closer), "", text, flags=re.S)
    match = _FIRST_MESSAGE.search(text)
    return match is not None and match.group(1) == "recv"
