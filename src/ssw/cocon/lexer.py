"""Splitting a command line into words, keeping where each word was in the line.

The rules are the console's, not a POSIX shell's (SPEC §5):

- whitespace separates words, except inside quotes, `[...]` lists and `{...}` ranges;
- `"..."` and `'...'` group text (quotes are removed; `\\"` inside double quotes is a quote);
- a backslash outside quotes is an ordinary character, so `ss\\mgm\\telephone` stays as written;
- `=` and `,` stay inside words: arguments that take `name = value, ...` lists re-read the raw text
  of the line from where they start (`Word.start`), which is why offsets are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LexError", "Word", "split_words"]

_OPENERS = {"[": "]", "{": "}"}
_CLOSERS = {"]": "[", "}": "{"}


class LexError(ValueError):
    """Unbalanced quotes or brackets."""


@dataclass(frozen=True, slots=True)
class Word:
    text: str  # with quotes removed
    start: int  # offset of the first character in the line
    end: int  # offset just past the last character
    quoted: bool = False

    @property
    def is_flag(self) -> bool:
        return not self.quoted and self.text.startswith("--") and len(self.text) > 2


def split_words(line: str) -> list[Word]:
    """The words of `line`; raises LexError on an unclosed quote or bracket."""
    words: list[Word] = []
    index, length = 0, len(line)
    while index < length:
        if line[index].isspace():
            index += 1
            continue
        start = index
        chars: list[str] = []
        stack: list[str] = []
        quoted = False
        while index < length:
            char = line[index]
            if char in "\"'":
                quoted = True
                index = _read_quoted(line, index, chars)
                continue
            if char.isspace() and not stack:
                break
            if char in _OPENERS:
                stack.append(char)
            elif char in _CLOSERS:
                if not stack or stack[-1] != _CLOSERS[char]:
                    raise LexError(f"unbalanced {char!r} at column {index + 1}")
                stack.pop()
            chars.append(char)
            index += 1
        if stack:
            raise LexError(f"unclosed {stack[-1]!r} in {line[start:index]!r}")
        words.append(Word("".join(chars), start, index, quoted))
    return words


def _read_quoted(line: str, index: int, chars: list[str]) -> int:
    """Append the quoted text starting at `index` to `chars`; return the index after it."""
    quote = line[index]
    index += 1
    while index < len(line):
        char = line[index]
        if char == "\\" and quote == '"' and index + 1 < len(line) and line[index + 1] in "\"\\":
            chars.append(line[index + 1])
            index += 2
            continue
        if char == quote:
            return index + 1
        chars.append(char)
        index += 1
    raise LexError(f"unclosed quote {quote} in {line!r}")
