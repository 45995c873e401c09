"""The failed-login limit, with time passed in."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ssw.cocon.auth import LoginGuard
from ssw.cocon.lexer import split_words


def test_lockout_after_failures_and_release_after_lockout() -> None:
    guard = LoginGuard(max_failures=3, window=60, lockout=30)
    for second in (0, 1, 2):
        assert guard.allowed("10.0.0.1", second)
        guard.failed("10.0.0.1", second)
    assert not guard.allowed("10.0.0.1", 3)
    assert guard.allowed("10.0.0.2", 3)  # per source address
    assert not guard.allowed("10.0.0.1", 31.9)
    assert guard.allowed("10.0.0.1", 32.1)


def test_failures_outside_the_window_do_not_count() -> None:
    guard = LoginGuard(max_failures=3, window=10, lockout=30)
    guard.failed("a", 0)
    guard.failed("a", 5)
    guard.failed("a", 16)  # the first one has left the window
    assert guard.allowed("a", 17)
    guard.failed("a", 17)
    guard.failed("a", 18)  # 16, 17, 18: three within ten seconds
    assert not guard.allowed("a", 19)


def test_memory_stays_bounded_under_many_sources() -> None:
    guard = LoginGuard(max_failures=1, window=1, lockout=1)
    for index in range(20_000):
        guard.failed(f"10.{index // 65536}.{index // 256 % 256}.{index % 256}", index * 0.001)
    guard.failed("late", 100.0)
    assert len(guard._failures) + len(guard._locked_until) < 10_010


def test_success_forgets_failures() -> None:
    guard = LoginGuard(max_failures=2, window=60, lockout=60)
    guard.failed("a", 0)
    guard.succeeded("a")
    guard.failed("a", 1)
    assert guard.allowed("a", 2)


_plain = st.text(
    alphabet=st.characters(
        blacklist_characters="\"'[]{} \t\r\n\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0",
        blacklist_categories=("Zs", "Zl", "Zp", "Cs"),
    ),
    min_size=1,
)


@given(st.lists(_plain, max_size=8))
def test_plain_words_split_back(words: list[str]) -> None:
    line = "  ".join(words)
    assert [w.text for w in split_words(line)] == words
    assert all(line[w.start : w.end] == w.text for w in split_words(line))


@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_characters='"\\', blacklist_categories=("Cs",))),
        max_size=5,
    )
)
def test_quoted_words_keep_their_spaces(words: list[str]) -> None:
    line = " ".join('"' + w + '"' for w in words)
    assert [w.text for w in split_words(line)] == words
