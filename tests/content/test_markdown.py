"""The editor's Markdown format: it reads to the same issue as the firm's plain text, and refuses
damaged files at the right line."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from mailer.content.briefing import parse_briefing
from mailer.content.document import PartnerInfo, Source
from mailer.content.errors import IssueFormatError
from mailer.content.markdown import parse_markdown
from tests.conftest import BRIEFING

MARKDOWN = Path(__file__).parent.parent / "data" / "issues" / "security-chatter.md"
MD_TEXT = MARKDOWN.read_text(encoding="utf-8")
MD_LINES = MD_TEXT.split("\n")

SMALL = """---
newsletter: Security Chatter
date: 2025-04-16
partner:
  name: Ana Lucía Ortega
  email: ana.ortega@miranda-partners.com
  pronoun: her
summary: One paragraph of summary.
---

## First headline

A paragraph with *emphasis* and a [link](https://example.org),
wrapped over two lines.

Source: Reforma, 4/14/25, Redacción: Primera nota: con dos puntos <https://reforma.com/a>

## Second headline

Only paragraph.

Source: El Universal, 04/15/2025, Ana Pérez: [Segunda nota](https://eluniversal.com.mx/b)
"""
SMALL_LINES = SMALL.split("\n")


def line_of(lines: list[str], start: str) -> int:
    """1-based number of the first line starting with `start` (so tests do not hard-code it)."""
    return next(n for n, line in enumerate(lines, start=1) if line.startswith(start))


def refused(text: str) -> IssueFormatError:
    with pytest.raises(IssueFormatError) as info:
        parse_markdown(text, path="issue.md")
    return info.value


def test_the_markdown_fixture_is_the_same_issue_as_the_briefing() -> None:
    from_markdown = parse_markdown(MD_TEXT, path=str(MARKDOWN))
    from_text = parse_briefing(BRIEFING.read_text(encoding="utf-8"), path=str(BRIEFING))
    assert from_markdown.items == from_text.items
    assert from_markdown.partner == from_text.partner
    # The same issue, but its prose is read as Markdown, the briefing's as literal text.
    assert (from_markdown.markup, from_text.markup) == ("markdown", "text")
    assert replace(from_markdown, markup="text") == from_text
    assert len(from_markdown.items) == 6
    assert from_markdown.items[0].source == Source(
        "Vanguardia MX",
        date(2025, 4, 5),
        "María Verza",
        "Da Sheinbaum un giro de timón en el combate a la inseguridad en México.",
    )


def test_crlf_and_a_bom_change_nothing() -> None:
    assert parse_markdown("\ufeff" + MD_TEXT.replace("\n", "\r\n")) == parse_markdown(MD_TEXT)


def test_defaults_wrapped_paragraphs_and_source_urls() -> None:
    issue = parse_markdown(SMALL)
    assert issue.title == "Security Chatter — 16 April 2025"
    assert issue.slug == "security-chatter-2025-04-16"
    assert issue.pdf_name == "SecurityChatter-041625"
    assert issue.partner == PartnerInfo(
        "Ana Lucía Ortega", "ana.ortega@miranda-partners.com", pronoun="her"
    )
    assert issue.call_to_action == (
        "If you would like to talk to Ana about anything in this issue of Security Chatter, "
        "please email her at ana.ortega@miranda-partners.com"
    )
    first, second = issue.items
    assert first.paragraphs == (
        "A paragraph with *emphasis* and a [link](https://example.org), wrapped over two lines.",
    )
    assert first.source == Source(
        "Reforma",
        date(2025, 4, 14),
        "Redacción",
        "Primera nota: con dos puntos",
        "https://reforma.com/a",
    )
    assert second.source == Source(
        "El Universal",
        date(2025, 4, 15),
        "Ana Pérez",
        "Segunda nota",
        "https://eluniversal.com.mx/b",
    )


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        (
            "lang: es\nnewsletter: Panorama de Seguridad",
            "Si desea hablar con Ana sobre cualquier tema de este número de Panorama de "
            "Seguridad, escríbale a ana.ortega@miranda-partners.com",
        ),
        (
            "lang: pt\nnewsletter: Panorama de Segurança",
            "Se quiser falar com Ana sobre qualquer assunto desta edição de Panorama de "
            "Segurança, escreva para ana.ortega@miranda-partners.com",
        ),
        (
            "lang: fr\nnewsletter: Panorama Sécurité",
            "Si vous souhaitez parler à Ana de ce numéro de Panorama Sécurité, écrivez à "
            "ana.ortega@miranda-partners.com",
        ),
        (
            # no `lang:`: recognised from the text, as the editions' wording is
            "newsletter: Panorama de Seguridad\nsummary: La creación de la unidad marca una "
            "ruptura con el enfoque de los años anteriores y de la Guardia Nacional.",
            "Si desea hablar con Ana sobre cualquier tema de este número de Panorama de "
            "Seguridad, escríbale a ana.ortega@miranda-partners.com",
        ),
    ],
)
def test_the_default_call_to_action_is_in_the_issues_language(how: str, expected: str) -> None:
    """A Spanish issue without `call_to_action:` had one English sentence in it, under the
    Spanish "Hable con Ana"."""
    text = SMALL.replace("newsletter: Security Chatter", how)
    if "summary:" in how:
        text = text.replace("summary: One paragraph of summary.\n", "")
    assert parse_markdown(text).call_to_action == expected


def test_a_partner_given_by_slug_or_email_is_left_for_the_database() -> None:
    by_slug = parse_markdown(
        SMALL.replace(SMALL[SMALL.index("partner:") : SMALL.index("summary")], "partner: fausto\n")
    )
    assert by_slug.partner == PartnerInfo(name="", email="")
    # With the line it was given on, for the import's "no partner" error (FILE:LINE).
    line = SMALL[: SMALL.index("partner:")].count("\n") + 1
    assert by_slug.extra == {"partner": "fausto", "partner_line": str(line)}
    assert by_slug.call_to_action == ""
    by_email = parse_markdown(
        SMALL.replace(
            SMALL[SMALL.index("partner:") : SMALL.index("summary")],
            "partner: fausto.carbajal@miranda-partners.com\n",
        )
    )
    assert by_email.partner.email == "fausto.carbajal@miranda-partners.com"
    assert by_email.extra == {
        "partner": "fausto.carbajal@miranda-partners.com",
        "partner_line": str(line),
    }


def test_the_summary_may_be_the_text_before_the_first_item() -> None:
    text = SMALL.replace("summary: One paragraph of summary.\n", "").replace(
        "---\n\n## First", "---\n\nLead paragraph one.\n\nLead paragraph two.\n\n## First"
    )
    assert parse_markdown(text).summary == "Lead paragraph one.\n\nLead paragraph two."


def with_small(old: str, new: str) -> str:
    assert old in SMALL
    return SMALL.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param(
            SMALL.removeprefix("---\n"),
            1,
            "a Markdown issue starts with YAML front matter between two `---` lines",
            id="no front matter",
        ),
        pytest.param(
            with_small("summary: One paragraph of summary.", "summary: [unclosed"),
            line_of(SMALL_LINES, "summary:"),
            "invalid YAML in the front matter: expected ',' or ']', but got '<stream end>'",
            id="YAML error",
        ),
        pytest.param(
            with_small("summary:", "sumary:"),
            line_of(SMALL_LINES, "summary:"),
            "unknown front matter key 'sumary'; expected some of: title, newsletter, date, "
            "partner, summary, more_info_url, pdf_name, call_to_action, slug, lang",
            id="typo in a key",
        ),
        pytest.param(
            with_small("date: 2025-04-16", "date: 16/04/2025"),
            line_of(SMALL_LINES, "date:"),
            "`date:` must be YYYY-MM-DD, found '16/04/2025'",
            id="bad issue date",
        ),
        pytest.param(
            with_small("date: 2025-04-16", "date: 2025-02-30"),
            line_of(SMALL_LINES, "date:"),
            "`date:` cannot be read: day is out of range for month (found '2025-02-30')",
            id="impossible issue date",
        ),
        pytest.param(
            with_small("summary:", "more_info_url: ftp://x\nsummary:"),
            line_of(SMALL_LINES, "summary:"),
            "`more_info_url:` must be a web address starting with https:// (found 'ftp://x')",
            id="more_info_url not a web address",
        ),
        pytest.param(
            with_small("summary:", "slug: Not A Slug\nsummary:"),
            line_of(SMALL_LINES, "summary:"),
            "`slug:` may only hold lower-case letters a-z, digits and single hyphens, like "
            "security-chatter-2025-04-09; found 'Not A Slug'",
            id="bad slug",
        ),
        pytest.param(
            with_small("  pronoun: her", "  pronoun: she"),
            line_of(SMALL_LINES, "  pronoun:"),
            "the partner's pronoun must be him, her or them, not 'she'",
            id="bad pronoun",
        ),
        pytest.param(
            with_small("  email: ana.ortega@miranda-partners.com", "  email: ana.ortega"),
            line_of(SMALL_LINES, "  email:"),
            "'ana.ortega' is not a valid email address: An email address must have an @-sign.",
            id="bad partner email",
        ),
        pytest.param(
            with_small("Source: Reforma, 4/14/25", "Source: Reforma, April 14"),
            line_of(SMALL_LINES, "Source: Reforma"),
            "expected a source line `Source: Outlet, M/D/YY, Author: Original title`, found "
            "'Source: Reforma, April 14, Redacción: Primera nota: con dos puntos…'",
            id="broken source line",
        ),
        pytest.param(
            with_small("Reforma, 4/14/25", "Reforma, 4/31/25"),
            line_of(SMALL_LINES, "Source: Reforma"),
            "bad date '4/31/25' in the source line 'Source: Reforma, 4/31/25, Redacción: "
            "Primera nota: con dos puntos…': expected a real date written M/D/YY (month first), "
            "`5 April 2025`, `April 5, 2025`, `5 de abril de 2025` or `2025-04-05`",
            id="impossible source date",
        ),
        pytest.param(
            with_small(
                "Source: Reforma, 4/14/25, Redacción: Primera nota: con dos puntos <https://reforma.com/a>\n",
                "",
            ),
            line_of(SMALL_LINES, "## Second") - 1,
            "the item 'First headline' (line 11) must end with a source line `Source: Outlet, "
            "M/D/YY, Author: Original title`",
            id="item without source",
        ),
        pytest.param(
            with_small("Only paragraph.\n\n", "Only paragraph.\n\n### Sub\n\n"),
            line_of(SMALL_LINES, "Only paragraph.") + 2,
            "only `## Headline` headings are allowed (one per item), found a level-3 heading; "
            "the issue's title goes in the front matter",
            id="other heading",
        ),
        pytest.param(
            with_small("Only paragraph.\n", "1. a numbered list\n"),
            line_of(SMALL_LINES, "Only paragraph."),
            "found a numbered list; an issue's body holds only `## Headline` lines, paragraphs, "
            "simple bullet lists (`- point` lines) and each item's last line `Source: Outlet, "
            "M/D/YY, Author: Original title`. Inside a paragraph, **bold**, *italic*, `code` and "
            "[links](https://…) work (docs/ISSUES.md)",
            id="a numbered list",
        ),
        pytest.param(
            with_small("Only paragraph.\n", "- a point\n  - a nested point\n"),
            line_of(SMALL_LINES, "Only paragraph."),
            "a bullet list may hold only one-paragraph points (`- point` lines): no nested "
            "lists, second paragraphs or other blocks inside a point",
            id="a nested list",
        ),
        pytest.param(
            SMALL + "\nA paragraph after the source.\n",
            len(SMALL_LINES) + 1,
            f"the `Source:` line (line {line_of(SMALL_LINES, 'Source: El Universal')}) must be "
            "the last line of the item 'Second headline'; "
            "start the next item with `## Headline`",
            id="paragraph after the source",
        ),
        pytest.param(
            SMALL.replace("---\n", "", 2).join(["---\n", ""]),
            1,
            "the front matter opened on line 1 is never closed: add a `---` line after it",
            id="front matter not closed",
        ),
    ],
)
def test_a_damaged_markdown_issue_is_refused_at_the_right_line(
    text: str, line: int, message: str
) -> None:
    error = refused(text)
    assert error.line == line
    assert str(error) == f"issue.md:{line}: {message}"


def test_a_bullet_list_is_a_paragraph_of_point_lines() -> None:
    """Stored as `- point` lines (each point's Markdown kept), in an item or a body summary."""
    issue = parse_markdown(
        SMALL.replace("summary: One paragraph of summary.\n", "").replace(
            "## First headline\n",
            "Lead.\n\n* lead **one**\n* lead two\n\n## First headline\n\n"
            "- a *point*,\n  wrapped\n\n- another [one](https://x.example)\n",
        )
    )
    assert issue.summary == "Lead.\n\n- lead **one**\n- lead two"
    assert issue.items[0].paragraphs == (
        "- a *point*, wrapped\n- another [one](https://x.example)",
        "A paragraph with *emphasis* and a [link](https://example.org), wrapped over two lines.",
    )


@pytest.mark.parametrize(
    "written",
    [
        "Primera nota https://reforma.com/a",  # a bare URL at the end was dropped
        "Primera nota [link](https://reforma.com/a)",
        "[Primera nota](https://reforma.com/a)",
        "Primera nota <https://reforma.com/a>",
    ],
)
def test_every_way_of_linking_the_source_gives_its_url(written: str) -> None:
    text = with_small(
        "Source: Reforma, 4/14/25, Redacción: Primera nota: con dos puntos <https://reforma.com/a>",
        f"Source: Reforma, 4/14/25, Redacción: {written}",
    )
    source = parse_markdown(text, path="issue.md").items[0].source
    assert (source.title, source.url) == ("Primera nota", "https://reforma.com/a")
