"""The plain-text briefing as editors write it: a summary in short paragraphs, two authors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mailer.content.briefing import parse_briefing
from mailer.content.bylines import AUTHORS
from mailer.content.document import IssueContent
from mailer.content.errors import IssueFormatError
from mailer.rendering.email_edition import html_visible_text, render_issue
from tests.conftest import BRIEFING
from tests.edition_images import sample_settings

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


TALK_TO_US = (
    "If you would like to talk to us about our services in risk and security consulting, "
    "please email them at fausto.carbajal@miranda-partners.com"
)


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


@pytest.mark.parametrize(
    ("byline", "partner", "others", "title"),
    [
        (
            "By Ana Ruiz and Tom Lee, Partners, Miranda Delphi Solutions",
            "Ana Ruiz",
            ["Tom Lee"],
            "Partners",
        ),
        ("BY A. RUIZ & T. LEE", "A. RUIZ", ["T. LEE"], ""),
        (
            "Por Ana Ruiz y Tomás López, Socios, Miranda Delphi Solutions",
            "Ana Ruiz",
            ["Tomás López"],
            "Socios",
        ),
        (
            "By Ana Ruiz, Partner, and Tom Lee, Director, Miranda Delphi Solutions",
            "Ana Ruiz",
            ["Tom Lee"],
            "Partner",
        ),
        (
            "By José Ortega y Gasset, Partner, Miranda Delphi Solutions",
            "José Ortega y Gasset",
            [],
            "Partner",
        ),
    ],
)
def test_a_byline_naming_two_partners_credits_both_and_replies_go_to_the_first(
    byline: str, partner: str, others: list[str], title: str
) -> None:
    issue = parse(with_lines({1: byline, 22: TALK_TO_US}))
    assert issue.partner.name == partner
    assert issue.partner.title == title
    assert issue.partner.email == "fausto.carbajal@miranda-partners.com"
    assert issue.extra.get(AUTHORS, "").splitlines() == ([partner, *others] if others else [])
    if "Miranda" in byline:
        assert issue.partner.firm == "Miranda Delphi Solutions"


def test_the_partner_the_call_to_action_names_gets_the_replies() -> None:
    cta = (
        "If you would like to talk to Tom about our services, please email him at "
        "tom.lee@miranda-partners.com"
    )
    issue = parse(
        with_lines({1: "By Ana Ruiz and Tom Lee, Partners, Miranda Delphi Solutions", 22: cta})
    )
    assert (issue.partner.name, issue.partner.email) == ("Tom Lee", "tom.lee@miranda-partners.com")
    assert issue.extra[AUTHORS].splitlines() == ["Ana Ruiz", "Tom Lee"]  # the byline's order
    text = " ".join(render_issue(issue, sample_settings("A4")).text_template.split())
    assert "By Ana Ruiz & Tom Lee, Partners, Miranda Delphi Solutions" in text


@pytest.mark.parametrize(
    "byline",
    [
        "By Ana Ruiz and Tom Lee, Partners, Miranda Delphi Solutions",
        "By Ana Ruiz, Partner, Miranda Delphi Solutions",
    ],
)
def test_a_call_to_action_naming_someone_the_byline_does_not_is_refused_at_its_line(
    byline: str,
) -> None:
    """An editor who changes the byline and not the call to action ("talk to Fausto … email
    him at fausto…") would send the replies to a partner record of Ana's name and Fausto's
    address."""
    with pytest.raises(IssueFormatError) as info:
        parse(with_lines({1: byline}))
    assert info.value.line == 22
    assert "'Fausto'" in str(info.value) and "Ana Ruiz" in str(info.value)


def test_the_email_and_pdf_credit_both_authors(tmp_path: Path) -> None:
    byline = "By Ana Ruiz and Tom Lee, Partners, Miranda Delphi Solutions"
    issue = parse(with_lines({1: byline, 22: TALK_TO_US}))
    rendered = render_issue(issue, sample_settings("A4"))
    (tmp_path / "issue.pdf").write_bytes(rendered.pdf)
    pdf = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(tmp_path / "issue.pdf"), "-"],
        check=True,
        capture_output=True,
    ).stdout.decode("utf-8")
    for edition in (rendered.text_template, html_visible_text(rendered.html_template), pdf):
        text = " ".join(edition.split())
        assert "By Ana Ruiz & Tom Lee, Partners, Miranda Delphi Solutions" in text
        assert "Ana Ruiz and Tom Lee" not in text


@pytest.mark.parametrize("mark", ["1. ", "1) ", "1 - ", "#1 ", "• ", "- ", "* ", "12. "])
def test_a_numbered_or_bulleted_headline_loses_its_number(mark: str) -> None:
    issue = parse(with_lines({3: mark + FIRST_HEADLINE, 6: "2. " + LINES[5]}))
    assert issue.items[0].headline == FIRST_HEADLINE
    assert issue.items[1].headline == LINES[5]
    assert issue.summary == LINES[1]


def test_a_headline_in_markdown_bold_shows_without_asterisks() -> None:
    issue = parse(with_lines({3: f"**{FIRST_HEADLINE}**"}))
    assert issue.items[0].headline == FIRST_HEADLINE


def test_the_articles_address_on_its_own_line_is_the_sources_link() -> None:
    issue = parse(with_lines({5: LINES[4] + "\n\nhttps://vanguardia.com.mx/nota/123\n"}))
    assert issue.items[0].source.url == "https://vanguardia.com.mx/nota/123"
    assert issue.items[1].headline == LINES[5]
    assert len(issue.items) == 6


def test_a_second_address_under_a_linked_source_line_is_refused_at_its_line() -> None:
    linked = LINES[4] + " https://vanguardia.com.mx/nota/123"
    with pytest.raises(IssueFormatError) as info:
        parse(with_lines({5: linked + "\nhttps://example.com/other"}))
    assert info.value.line == 6
    assert "found a second link 'https://example.com/other'" in str(info.value)


def test_a_signature_after_a_dash_dash_line_is_not_part_of_the_briefing() -> None:
    issue = parse(
        TEXT.rstrip("\n") + "\r\n\r\n-- \r\nFausto Carbajal Glass\r\nMiranda Partners\r\n"
    )
    assert issue.pdf_name == "MI-SecurityChatter-040925"
    assert len(issue.items) == 6
    # Without the `--` line, text after the PDF line is refused at its line, as before.
    with pytest.raises(IssueFormatError) as info:
        parse(TEXT.rstrip("\n") + "\nBest regards,\nFausto\n")
    assert info.value.line == len(TEXT.rstrip("\n").split("\n")) + 1
    assert "found 'Best regards,'" in str(info.value)


@pytest.mark.parametrize(
    "label", ["Executive summary\n", "EXECUTIVE SUMMARY:\n\n", "Executive summary: ", "Resumen: "]
)
def test_a_summary_label_is_not_summary_text(label: str) -> None:
    issue = parse(with_lines({2: label + LINES[1]}))
    assert issue.summary == LINES[1]
    assert issue.items[0].headline == FIRST_HEADLINE


def test_a_dated_title_line_over_the_byline_is_the_issues_title() -> None:
    issue = parse("Security Chatter — April 9, 2025\n\n" + TEXT)
    assert issue.title == "Security Chatter — April 9, 2025"
    assert issue.partner.name == "Fausto Carbajal Glass"
    assert len(issue.items) == 6
    with pytest.raises(IssueFormatError) as info:
        parse("CONFIDENTIAL\n" + TEXT)
    assert info.value.line == 1 and "expected the byline" in str(info.value)
