"""The examples in docs/ISSUES.md import cleanly and render, so the documentation cannot drift from
the parsers: each fenced block after an `<!-- example: … -->` comment is imported as a file into a
real database and rendered (HTML and text, with the checks that every text is shown)."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest
from sqlalchemy.orm import Session

from mailer.content.issues import content_of, import_issue_file
from mailer.content.markdown import FRONT_MATTER_KEYS, PARTNER_KEYS
from mailer.rendering.email_edition import html_visible_text, render_email_parts
from mailer.settings import Settings

DOC = Path(__file__).parent.parent.parent / "docs" / "ISSUES.md"
TEXT = DOC.read_text(encoding="utf-8")
EXAMPLE = re.compile(r"<!-- example: (?P<kind>\w+)[^>]*-->\n```\w*\n(?P<body>.*?)\n```", re.S)


def examples() -> dict[str, str]:
    found = {m["kind"]: m["body"] + "\n" for m in EXAMPLE.finditer(TEXT)}
    assert set(found) == {"markdown", "briefing"}, "docs/ISSUES.md lost an example"
    return found


@pytest.mark.parametrize("kind", ["markdown", "briefing"])
def test_each_documented_example_imports_and_renders(
    kind: str, session: Session, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / f"example.{'md' if kind == 'markdown' else 'txt'}"
    path.write_text(examples()[kind], encoding="utf-8")
    result = import_issue_file(session, path)
    session.commit()
    assert result.source_format == kind
    assert result.issue.slug == "security-chatter-2025-04-16"
    assert [item.headline for item in result.issue.items] == [
        "The Navy takes over the customs at eight ports",
        "A maritime police for the Pacific coast",
    ]
    html, text, _ = render_email_parts(content_of(result.issue), settings)  # checks every text
    shown = html_visible_text(html)
    assert "Ports are the new front line" in shown and "**" not in shown + text
    if kind == "markdown":
        doc = lxml.html.document_fromstring(html)
        assert doc.xpath("//strong[. = 'new front line']")
        assert doc.xpath("//em[. = 'precursor chemicals']")
        assert doc.xpath('//a[. = "customs agency\'s notice"]')
        assert len(doc.xpath("//ul/li")) == 2
        assert "- new paperwork for chemical precursors." in text


def test_both_examples_are_the_same_issue(session: Session, tmp_path: Path) -> None:
    """The doc says both formats give the same issue: its examples show it."""
    contents = []
    for kind, body in examples().items():
        path = tmp_path / kind
        path.write_text(body, encoding="utf-8")
        contents.append(content_of(import_issue_file(session, path).issue))
        session.rollback()
    markdown, briefing = contents
    assert [i.source for i in markdown.items] == [i.source for i in briefing.items]
    assert markdown.partner == briefing.partner


def test_every_front_matter_key_and_partner_field_is_documented() -> None:
    for key in FRONT_MATTER_KEYS:
        assert f"| `{key}` |" in TEXT, key
    for field in PARTNER_KEYS:
        assert f"`{field}`" in TEXT, field


def test_every_option_of_issue_import_is_documented() -> None:
    """docs/ISSUES.md is where a user reads about importing: each option the command takes is
    explained there (an option added later fails this test until it is)."""
    import typer.main

    from mailer.cli import issue

    group = typer.main.get_command(issue.app)
    command = group.commands["import"]  # type: ignore[attr-defined]
    options = [
        name
        for param in command.params
        for name in param.opts
        if name.startswith("--") and name != "--help"
    ]
    assert "--replace" in options
    for option in options:
        assert f"`mailer issue import FILE {option}`" in TEXT, option
