"""An issue that gives no title is listed under one derived from its newsletter and date, and the
date is written in the issue's language: `mailer issue import` and `mailer issue list` show a
Spanish briefing as `Panorama Seguridad — 9 de abril de 2025`, a French one with `9 avril 2025`,
and the English fixture exactly as before."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.content.issues import get_issue
from mailer.settings import Settings
from tests.conftest import BRIEFING

runner = CliRunner()
ISSUES = Path(__file__).resolve().parent.parent / "data" / "issues"
SPANISH_BRIEFING = ISSUES / "panorama-seguridad-es.txt"


def mailer(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "160"})  # no title folded
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def french_markdown(tmp_path: Path) -> Path:
    """The Spanish sample issue said to be French (`lang: fr`), with no title line."""
    text = (ISSUES / "seguridad-es.md").read_text(encoding="utf-8")
    text = text.replace("title: Panorama de Seguridad — 9 de abril de 2025\n", "lang: fr\n")
    path = tmp_path / "panorama-fr.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_derived_titles_are_dated_in_the_issue_language(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    imported = mailer("issue", "import", str(SPANISH_BRIEFING))
    assert "Panorama Seguridad — 9 de abril de 2025" in imported
    assert "April" not in imported
    mailer("issue", "import", str(french_markdown(tmp_path)))
    english = mailer("issue", "import", str(BRIEFING))
    assert "Security Chatter — 9 April 2025" in english  # English unchanged

    listed = mailer("issue", "list")
    assert "Panorama Seguridad — 9 de abril de 2025" in listed
    assert "Panorama de Seguridad — 9 avril 2025" in listed
    assert "Security Chatter — 9 April 2025" in listed
    assert "9 April 2025" not in listed.replace("Security Chatter — 9 April 2025", "")


def test_an_older_english_derived_title_is_renamed_by_a_reimport_without_replace(
    settings: Settings, session: Session
) -> None:
    """An issue imported before titles followed the language holds `— 9 April 2025`: importing
    the same briefing again is the same issue (no "its title is …" refusal), and writes the
    title in Spanish."""
    slug = mailer("issue", "import", str(SPANISH_BRIEFING)).splitlines()[-1].removeprefix("slug: ")
    issue = get_issue(session, slug)
    issue.title = "Panorama Seguridad — 9 April 2025"
    session.commit()
    again = runner.invoke(app, ["issue", "import", str(SPANISH_BRIEFING)])
    assert again.exit_code == 0, again.output
    session.expire_all()
    assert get_issue(session, slug).title == "Panorama Seguridad — 9 de abril de 2025"
    assert "Panorama Seguridad — 9 de abril de 2025" in mailer("issue", "list")
