"""Fuzz tests (hypothesis) for the two issue parsers: whatever the text, `parse_issue` returns an
issue within the limits every issue keeps, or raises IssueFormatError naming the file — never
another exception. Inputs are mutations of the real fixtures (lines dropped, duplicated, cut,
swapped, hostile text spliced in) as well as arbitrary text. CI runs a few thousand examples per
parser (CI=true); a local run a few hundred.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailer.content.document import check_issue
from mailer.content.errors import IssueFormatError
from mailer.content.issues import parse_issue
from tests.conftest import BRIEFING

EXAMPLES = 2000 if os.environ.get("CI") else 200
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
BRIEFING_LINES = BRIEFING.read_text(encoding="utf-8").splitlines()
MARKDOWN_LINES = (
    (Path(__file__).parent.parent / "data" / "issues" / "security-chatter.md")
    .read_text(encoding="utf-8")
    .splitlines()
)
HOSTILE = [
    "",
    "---",
    "slug: ../../admin/logout?x=1#q",
    "slug: UPPER_case",
    "a: &a [x, x, x, x, x, x, x, x, x]",
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
    "partner: {name: *c, email: a@b.co}",
    "partner: &p [*p]",
    "date: 2025-13-45",
    "date: 2025-02-30T25:61:00",
    "more_info_url: javascript:alert(1)",
    "title: !!python/object/apply:os.system ['true']",
    "title: !!binary aGVsbG8=",
    "summary: |",
    "  indented",
    "\t- tab",
    "## Headline",
    "### Deeper",
    "Source: Reforma, 4/14/25, Redacción: Nota <javascript:alert(1)>",
    "Source: , 13/45/25, : ",
    "Reforma, 2/30/25, Nadie: Fecha imposible",
    "Download PDF: MI-SecurityChatter-999999",
    "More information can be found at: javascript:alert(1)",
    "x" * 3000,
    "\x00\x1b[2J\u202e",
    "\ufeff---",
    "```",
    "<script>alert(1)</script>",
]


@st.composite
def mutated(draw: st.DrawFn, base: list[str], keep_first: bool = False) -> str:
    """`base` with a few random edits; `keep_first` leaves line 1 (Markdown's `---`) alone, so
    the edits land in the front matter and body rather than turning the file into a briefing."""
    lines = list(base)
    first = 1 if keep_first else 0
    for _ in range(draw(st.integers(1, 6))):
        if len(lines) <= first:
            lines.append("")
        at = draw(st.integers(first, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "dup", "cut", "splice", "swap", "text"]))
        if action == "drop":
            del lines[at]
        elif action == "dup":
            lines.insert(at, lines[at])
        elif action == "cut":
            lines[at] = lines[at][: draw(st.integers(0, max(len(lines[at]) - 1, 0)))]
        elif action == "splice":
            lines.insert(at, draw(st.sampled_from(HOSTILE)))
        elif action == "swap":
            other = draw(st.integers(first, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        else:
            lines.insert(at, draw(st.text(max_size=40)))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return end.join(lines)


def parses_or_refuses(text: str) -> None:
    try:
        content, _fmt = parse_issue(text, path="fuzz.txt")
    except IssueFormatError as exc:
        assert str(exc).startswith("fuzz.txt")
        return
    assert check_issue(content) is None


@FUZZ
@given(st.one_of(mutated(BRIEFING_LINES), st.text(max_size=300)))
def test_the_briefing_parser_raises_only_issue_format_errors(text: str) -> None:
    parses_or_refuses(text)


@FUZZ
@given(
    st.one_of(
        mutated(MARKDOWN_LINES, keep_first=True), st.text(max_size=300).map(lambda t: "---\n" + t)
    )
)
def test_the_markdown_parser_raises_only_issue_format_errors(text: str) -> None:
    parses_or_refuses(text)
