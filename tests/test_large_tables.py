"""The shortcuts that keep a large table's compile fast give what the general code
gives (issue 18): the rule comments' wrapping is textwrap's, literals read back as
their values."""

from __future__ import annotations

import datetime as dt
import textwrap

from hypothesis import given
from hypothesis import strategies as st

from compiler.emitting.codegen import _wrap
from compiler.emitting.literals import dict_literal, py_literal

WORDS = st.text(
    st.sampled_from("ab-'(),.=[]<>0\t\x00é\u202e "), min_size=0, max_size=90
) | st.sampled_from(
    ["R1,", "modality", "=", "'CT',", "age", "in", "[18..25],", "x" * 79]
)


@given(st.lists(WORDS, max_size=40), st.booleans())
def test_rule_comments_wrap_as_textwrap_does(words: list[str], single: bool) -> None:
    """Single-spaced comment text (what `_rule_comment` makes) and any other text."""
    text = " ".join(words)
    if single:
        text = " ".join(text.split())
    expected = textwrap.wrap(text, 80, subsequent_indent="  ")
    if len(text) <= 80:  # a text that fits is its one line, as it always was
        expected = [text]
    assert _wrap(text) == expected


FLOATS = st.floats(allow_nan=False, allow_infinity=False)  # a table's are finite


@given(st.lists(st.text("ab'(),.=[]0", min_size=1, max_size=12), max_size=60))
def test_comment_like_texts_wrap_as_textwrap_does(words: list[str]) -> None:
    """Short words, single spaces, no hyphens: the texts `_wrap` fills itself."""
    text = " ".join(words)
    expected = textwrap.wrap(text, 80, subsequent_indent="  ")
    assert _wrap(text) == (expected if len(text) > 80 else [text])


def test_every_line_end_wraps_as_textwrap_does() -> None:
    """Texts of three and more lines, a word ending at every column of each line."""
    for head in range(1, 80):
        for step in range(1, 12):
            words = ["h" * head] + ["w" * (k * step % 12 + 1) for k in range(40)]
            text = " ".join(words)
            assert _wrap(text) == textwrap.wrap(text, 80, subsequent_indent="  ")


PLAIN = st.none() | st.booleans() | st.integers() | FLOATS | st.text(max_size=8)
VALUES = st.recursive(
    PLAIN | st.dates() | st.frozensets(st.integers(), max_size=3),
    lambda inner: (
        st.tuples(inner) | st.tuples(inner, inner) | st.lists(inner).map(tuple)
    ),
    max_leaves=12,
)


def _read(literal: str) -> object:
    names = {"__builtins__": {}, "date": dt.date, "frozenset": frozenset}
    return eval(literal, names)


def _same(a: object, b: object) -> bool:
    """Equal, with the same types all the way down (True is not 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


@given(VALUES)
def test_literals_read_back_as_their_values(value: object) -> None:
    assert _same(_read(py_literal(value)), value)


@given(st.lists(st.tuples(st.text(max_size=5), VALUES), max_size=5))
def test_dict_literals_are_the_literals_of_their_pairs(
    pairs: list[tuple[str, object]],
) -> None:
    expected = (
        "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in pairs) + "}"
    )
    assert dict_literal(pairs) == expected
