"""A line's start encoded once and its rest per message (LineStart) is the line `qp_line` encodes
whole, wherever binascii breaks it: before, inside or after the start, next to escapes, dots,
tabs and runs of spaces."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mailer.sending.quoted_printable import LineStart, qp_line

PIECES = [*"ab.= \t-é€😀\x01\x7f;\"'<>x", "  ", ". ", " .", "=2E", "\u00a0", "a" * 70]
ONE_LINE = st.characters(exclude_categories=["Cs"], exclude_characters="\r\n")
TEXT = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=40).map("".join),
    st.text(alphabet=ONE_LINE, max_size=300),
)
FIRST = st.sampled_from([c for c in PIECES if c[0] not in "\r\n\0"])


@settings(max_examples=1500, deadline=None)
@given(start=TEXT, first=FIRST, rest=TEXT)
def test_a_line_start_encoded_once_gives_the_whole_lines_encoding(
    start: str, first: str, rest: str
) -> None:
    tail = (first + rest).encode() + b"\r\n"
    assert LineStart(start.encode()).line(tail) == qp_line(start.encode() + tail)


@settings(max_examples=400, deadline=None)
@given(
    column=st.integers(min_value=0, max_value=200),
    unit=st.sampled_from(["a", "a=", "é", "a.", "a\t"]),
    rest=TEXT,
)
def test_every_column_the_rest_can_start_at(column: int, unit: str, rest: str) -> None:
    start = (unit * 200)[:column]
    tail = ("v" + rest).encode() + b"\r\n"
    assert LineStart(start.encode()).line(tail) == qp_line(start.encode() + tail)
