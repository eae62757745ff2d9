"""The plain-text briefing as editors write it: a summary in short paragraphs, two authors."""

from __future__ import annotations

import pytest

from mailer.content.briefing import parse_briefing
from mailer.content.document import IssueContent
from mailer.content.errors import IssueFormatError
from tests.conftest import BRIEFING

TEXT = BRIEFING.read_text(encoding="utf-8")
LINES = TEXT.split("\n")
FIRST_HEADLINE = LINES[2]
FIRST_PARAGRAPH = LINES[3]


def with_lines(replace: dict[int, str | None]) -> str:
    """The fixture with some 1-based lines replaced (None deletes the line)."""
    out = []
    for number, line in enumerate(LINES, start=1):
        if number not in replace:
            out.append(line)
        elif replace[number] is not None:
            out.append(str(replace[number]))
    return "\n".join(out)


def parse(text: str) -> IssueContent:
    return parse_briefing(text, path="briefing.txt")


@pytest.mark.parametrize(
    "second",
    [
        "We expect the new unit to face its first test before the summer.",
        "Outlook: cautious. Bilateral pressure will not ease before the mid-term review.",
        "In short, continuity with a civilian face",
    ],
)
def test_a_short_second_summary_paragraph_stays_in_the_summary(second: str) -> None:
    issue = parse(with_lines({2: LINES[1] + "\n\n" + second}))
    assert issue.summary == LINES[1] + "\n\n" + second
    assert issue.items[0].headline == FIRST_HEADLINE
    assert issue.items[0].paragraphs == (FIRST_PARAGRAPH,)
    assert len(issue.items) == 6


def test_two_short_summary_paragraphs_before_a_title_case_headline() -> None:
    extra = ["Three themes stand out this week.", "Each is covered below."]
    headline = "Sheinbaum Takes a New Direction in the Fight Against Insecurity"
    issue = parse(with_lines({2: "\n".join([LINES[1], *extra]), 3: headline}))
    assert issue.summary == "\n\n".join([LINES[1], *extra])
    assert issue.items[0].headline == headline


def test_a_short_first_paragraph_of_several_sentences_stays_in_the_item() -> None:
    lede = "Mexico City. The unit starts work on Monday."
    issue = parse(with_lines({4: lede + "\n" + FIRST_PARAGRAPH}))
    assert issue.summary == LINES[1]
    assert issue.items[0].headline == FIRST_HEADLINE
    assert issue.items[0].paragraphs == (lede, FIRST_PARAGRAPH)


def test_a_missing_first_headline_is_still_refused_at_its_source_line() -> None:
    with pytest.raises(IssueFormatError) as info:
        parse(with_lines({3: None, 4: None}))
    assert info.value.line == 3
