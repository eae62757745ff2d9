"""Importing issues into the database (SQLite and PostgreSQL) and reading them back; the CLI."""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.content.briefing import parse_briefing
from mailer.content.document import PartnerInfo, Source
from mailer.content.errors import IssueFormatError
from mailer.content.issues import (
    content_of,
    get_issue,
    import_issue,
    import_issue_file,
    parse_issue,
)
from mailer.content.models import Issue, IssueItem, Partner
from mailer.content.partners import add_partner
from mailer.errors import NotFound
from mailer.settings import Settings
from subscribers.db import make_engine, session_factory
from tests.conftest import BRIEFING

TEXT = BRIEFING.read_text(encoding="utf-8")
LINES = TEXT.split("\n")
MARKDOWN = Path(__file__).parent.parent / "data" / "issues" / "security-chatter.md"
SLUG = "security-chatter-2025-04-09"
FAUSTO = "fausto.carbajal@miranda-partners.com"


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def markdown_issue(partner: str, day: int = 16) -> str:
    """A one-item Markdown issue of another week, signed by `partner` (YAML)."""
    return f"""---
newsletter: Security Chatter
date: 2025-04-{day}
partner: {partner}
summary: Another week.
---
## A headline

A paragraph.

Source: Reforma, 4/{day - 1}/25, Redacción: Una nota
"""


def test_the_fixture_is_stored_as_published(session: Session) -> None:
    result = import_issue_file(session, BRIEFING)
    assert (result.created, result.partner_created, result.source_format) == (
        True,
        True,
        "briefing",
    )
    session.commit()
    session.expunge_all()

    issue = session.scalars(select(Issue)).one()
    assert (issue.slug, issue.title, issue.newsletter, issue.issue_date) == (
        SLUG,
        "Security Chatter — 9 April 2025",
        "Security Chatter",
        date(2025, 4, 9),
    )
    assert issue.pdf_name == "MI-SecurityChatter-040925"
    assert issue.more_info_url == "https://miranda-partners.com/jvs-delphi-solutions/"
    assert issue.source_text == TEXT
    partner = session.scalars(select(Partner)).one()
    assert (partner.slug, partner.name, partner.title, partner.firm, partner.email) == (
        "fausto-carbajal-glass",
        "Fausto Carbajal Glass",
        "Partner",
        "Miranda Delphi Solutions",
        FAUSTO,
    )
    assert partner.pronoun == "him"
    assert issue.partner_id == partner.id

    items = session.scalars(select(IssueItem).order_by(IssueItem.position)).all()
    assert [i.position for i in items] == [1, 2, 3, 4, 5, 6]
    assert items[0].headline == (
        "Sheinbaum takes a new direction in the fight against insecurity in Mexico."
    )
    assert (
        items[0].source_outlet,
        items[0].source_date,
        items[0].source_author,
        items[0].source_title,
    ) == (
        "Vanguardia MX",
        date(2025, 4, 5),
        "María Verza",
        "Da Sheinbaum un giro de timón en el combate a la inseguridad en México.",
    )
    assert items[1].body == LINES[6] + "\n\n" + LINES[7]  # the two-paragraph item
    assert [i.source_outlet for i in items] == [
        "Vanguardia MX",
        "El País",
        "La Razón",
        "Excélsior",
        "El Imparcial",
        "DW",
    ]

    content = content_of(get_issue(session, SLUG))
    assert content == parse_briefing(TEXT, path=str(BRIEFING))
    assert [len(i.paragraphs) for i in content.items] == [1, 2, 1, 1, 1, 1]
    assert content.partner == PartnerInfo(
        "Fausto Carbajal Glass", FAUSTO, "Partner", "Miranda Delphi Solutions", "him"
    )


def test_a_crlf_copy_with_blank_lines_updates_the_same_issue_identically(
    session: Session, tmp_path: Path
) -> None:
    first = import_issue(session, BRIEFING)
    session.commit()
    first_id, before = first.id, content_of(first)
    messy = write(tmp_path, "copy.txt", "\ufeff" + "\r\n\r\n".join(LINES) + "\r\n")

    result = import_issue_file(session, messy)
    session.commit()
    session.expunge_all()

    assert (result.created, result.issue.id) == (False, first_id)
    assert count(session, Issue) == 1
    assert count(session, IssueItem) == 6
    assert count(session, Partner) == 1
    assert content_of(get_issue(session, SLUG)) == before


def test_reimporting_replaces_the_items(session: Session, tmp_path: Path) -> None:
    import_issue(session, BRIEFING)
    session.commit()
    shorter = write(tmp_path, "shorter.txt", "\n".join(LINES[:18] + LINES[21:]))  # drop item 6
    import_issue(session, shorter)
    session.commit()
    session.expunge_all()
    content = content_of(get_issue(session, SLUG))
    assert len(content.items) == 5
    assert content.items[-1].source.outlet == "El Imparcial"
    assert count(session, IssueItem) == 5


def test_a_broken_source_line_is_refused_and_nothing_is_stored(
    session: Session, tmp_path: Path
) -> None:
    broken = list(LINES)
    broken[11] = "La Razón - Redacción - Guardia Nacional activa ocho Coordinaciones"
    path = write(tmp_path, "broken.txt", "\n".join(broken))
    with pytest.raises(IssueFormatError) as info:
        import_issue(session, path)
    assert info.value.line == 12
    assert str(info.value).startswith(
        f"{path}:12: expected a source line `Outlet, M/D/YY, Author: Original title` after the "
        "item 'National Guard activates eight Territorial Coordination offices to strengthen…'"
    )
    session.rollback()
    assert count(session, Issue) == 0
    assert count(session, Partner) == 0


def test_the_partner_is_matched_by_email_on_later_imports(session: Session, tmp_path: Path) -> None:
    import_issue(session, BRIEFING)
    session.commit()
    later = write(
        tmp_path,
        "later.md",
        markdown_issue(
            "{name: Fausto C. Glass, title: Senior Partner, "
            "email: FAUSTO.CARBAJAL@miranda-partners.com}"
        ),
    )
    result = import_issue_file(session, later)
    session.commit()
    assert (result.created, result.partner_created) == (True, False)
    assert count(session, Partner) == 1
    assert count(session, Issue) == 2
    partner = session.scalars(select(Partner)).one()
    # the partner row keeps its values; the issue keeps the byline it printed
    assert (partner.name, partner.title, partner.email) == (
        "Fausto Carbajal Glass",
        "Partner",
        FAUSTO,
    )
    assert {i.partner_id for i in session.scalars(select(Issue))} == {partner.id}
    printed = content_of(get_issue(session, "security-chatter-2025-04-16")).partner
    assert printed == PartnerInfo(
        "Fausto C. Glass", "FAUSTO.CARBAJAL@miranda-partners.com", "Senior Partner", "", "them"
    )
    assert content_of(get_issue(session, SLUG)).partner.title == "Partner"


def test_a_partner_added_by_hand_gets_its_missing_fields_from_the_issue(
    session: Session,
) -> None:
    add_partner(session, "fausto", "Fausto Carbajal Glass", FAUSTO)
    session.commit()
    result = import_issue_file(session, BRIEFING)
    session.commit()
    assert result.partner_created is False
    partner = session.scalars(select(Partner)).one()
    assert (partner.slug, partner.title, partner.firm, partner.pronoun) == (
        "fausto",
        "Partner",
        "Miranda Delphi Solutions",
        "him",
    )


def test_a_markdown_issue_may_name_a_known_partner_by_slug(
    session: Session, tmp_path: Path
) -> None:
    add_partner(session, "ana", "Ana Lucía Ortega", "ana.ortega@miranda-partners.com", "Partner")
    session.commit()
    issue = import_issue(session, write(tmp_path, "week.md", markdown_issue("ana")))
    session.commit()
    content = content_of(issue)
    assert content.partner == PartnerInfo(
        "Ana Lucía Ortega", "ana.ortega@miranda-partners.com", "Partner", "", "them"
    )
    assert content.call_to_action == (
        "If you would like to talk to Ana about anything in this issue of Security Chatter, "
        "please email them at ana.ortega@miranda-partners.com"
    )
    assert content.extra == {}
    assert content.items[0].source == Source("Reforma", date(2025, 4, 15), "Redacción", "Una nota")


def test_an_unknown_partner_slug_is_refused_with_what_to_do(
    session: Session, tmp_path: Path
) -> None:
    path = write(tmp_path, "week.md", markdown_issue("nobody"))
    with pytest.raises(NotFound) as info:
        import_issue(session, path)
    # Named at its file and line, as every other front-matter error is (line 4: `partner:`).
    assert str(info.value) == (
        f"{path}:4: no partner 'nobody': see `mailer partner list`, or add one with "
        "`mailer partner add nobody --name NAME --email EMAIL`, or give the partner in full in "
        "the front matter (`partner: {name: NAME, email: EMAIL}`), which adds the partner on "
        "import"
    )


def test_the_markdown_fixture_stores_the_same_issue_as_the_briefing(session: Session) -> None:
    from_text = content_of(import_issue(session, BRIEFING))
    session.commit()
    result = import_issue_file(session, MARKDOWN)
    session.commit()
    assert (result.created, result.source_format) == (False, "markdown")
    session.expunge_all()
    stored = content_of(get_issue(session, SLUG))
    assert stored.markup == "markdown"  # its prose is read as Markdown from now on
    assert replace(stored, markup="text") == from_text


def test_get_issue_names_the_known_slugs(session: Session, tmp_path: Path) -> None:
    with pytest.raises(NotFound) as info:
        get_issue(session, "nope")
    assert str(info.value) == (
        "no issue 'nope': no issue has been imported yet (mailer issue import FILE)"
    )
    import_issue(session, BRIEFING)
    add_partner(session, "ana", "Ana Lucía Ortega", "ana@example.com")
    import_issue(session, write(tmp_path, "week.md", markdown_issue("ana")))
    session.commit()
    with pytest.raises(NotFound) as info:
        get_issue(session, "nope")
    assert str(info.value) == (
        "no issue 'nope'; known issues, newest first: security-chatter-2025-04-16, "
        "security-chatter-2025-04-09"
    )


def test_unreadable_files_are_refused_by_name(tmp_path: Path, session: Session) -> None:
    with pytest.raises(IssueFormatError) as info:
        import_issue(session, tmp_path / "missing.txt")
    assert str(info.value) == f"{tmp_path / 'missing.txt'}: no such file"
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("\n".join(LINES[:4]).encode("utf-8") + "\nLa Razón".encode("latin-1"))
    with pytest.raises(IssueFormatError) as info:
        import_issue(session, latin1)
    assert str(info.value) == (
        f"{latin1}:5: column 7: byte 0xF3 is not UTF-8: the file looks like Windows-1252 or "
        "Latin-1 text; save it as UTF-8 and import it again"
    )
    no_bom = tmp_path / "utf16.txt"
    no_bom.write_bytes(BRIEFING.read_text(encoding="utf-8").encode("utf-16-le"))
    with pytest.raises(IssueFormatError) as info:
        import_issue(session, no_bom)
    assert "the file looks like UTF-16 text without a byte-order mark" in str(info.value)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_unicode_as_notepad_and_word_save_it_imports(
    tmp_path: Path, session: Session, encoding: str
) -> None:
    """Notepad's and Word's "Unicode" is UTF-16 with a byte-order mark, which cannot be mistaken:
    it imports as the UTF-8 file does, accents and all (the BOM is written for -le/-be here)."""
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    saved = tmp_path / f"{encoding}.txt"
    saved.write_bytes(bom + BRIEFING.read_text(encoding="utf-8").encode(encoding))
    issue = import_issue(session, saved)
    assert issue.slug == SLUG
    assert content_of(issue) == content_of(import_issue(session, BRIEFING))


# --- the command line ------------------------------------------------------------------------


def test_cli_import_prints_a_summary_and_the_slug_last(settings: Settings) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["issue", "import", str(BRIEFING)])
    assert first.exit_code == 0, first.output
    assert first.output.split()[-1] == SLUG
    assert first.output.splitlines() == [
        "created issue: Security Chatter — 9 April 2025 (briefing)",
        f"partner: Fausto Carbajal Glass <{FAUSTO}> (new partner fausto-carbajal-glass)",
        "6 items, PDF MI-SecurityChatter-040925.pdf",
        f"slug: {SLUG}",
    ]
    again = runner.invoke(app, ["issue", "import", str(MARKDOWN)])
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[0] == (
        "updated issue: Security Chatter — 9 April 2025 (markdown)"
    )
    assert "(existing partner fausto-carbajal-glass)" in again.output
    assert again.output.split()[-1] == SLUG


def run_mailer(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user runs it (env comes from the settings fixture)."""
    script = Path(sys.executable).with_name("mailer")
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, env=dict(os.environ), timeout=60
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cli_import_errors_are_one_clear_line(settings: Settings, tmp_path: Path) -> None:
    missing = run_mailer("issue", "import", "missing.txt")
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert missing.stderr.strip() == "error: missing.txt: no such file"

    text = "\n".join(LINES[:4] + LINES[5:])
    broken = write(tmp_path, "bad.txt", text)
    bad = run_mailer("issue", "import", "bad.txt")
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert " ".join(bad.stderr.split()).startswith(
        "error: bad.txt:5: expected a source line `Outlet, M/D/YY, Author: Original title` "
        "after the item 'Sheinbaum takes a new direction in the fight against insecurity in "
        "Mexico.', found 'Trump’s Secretary of Security"
    )
    # Loses nothing and half-stores nothing: the file is as it was, and no issue was recorded.
    assert broken.read_bytes() == text.encode("utf-8")
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Issue)) == 0
        assert session.scalar(select(func.count()).select_from(IssueItem)) == 0
    engine.dispose()


def test_a_different_issue_of_the_same_date_is_not_silently_replaced(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    """The slug comes from newsletter and date: a new issue of that date must not overwrite
    the stored one unless the editor says --replace; the same issue re-imported still updates."""
    runner = CliRunner()
    assert runner.invoke(app, ["issue", "import", str(MARKDOWN)]).exit_code == 0
    other = tmp_path / "other.md"
    other.write_text(
        MARKDOWN.read_text(encoding="utf-8").replace(
            "title: Security Chatter — 9 April 2025", "title: A totally different issue", 1
        ),
        encoding="utf-8",
    )
    refused = runner.invoke(app, ["issue", "import", str(other)])
    assert refused.exit_code != 0
    message = str(refused.exception)
    assert "'Security Chatter — 9 April 2025'" in message
    assert "'A totally different issue'" in message and "--replace" in message
    session.expire_all()
    assert get_issue(session, SLUG).title == "Security Chatter — 9 April 2025"
    same = runner.invoke(app, ["issue", "import", str(BRIEFING)])  # same issue, other format
    assert same.exit_code == 0 and same.output.startswith("updated issue:"), same.output
    replaced = runner.invoke(app, ["issue", "import", str(other), "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert replaced.output.startswith(
        "replaced 'Security Chatter — 9 April 2025' with issue: A totally different issue"
    )
    session.expire_all()
    assert get_issue(session, SLUG).title == "A totally different issue"


def test_a_sent_issue_is_not_replaced_even_with_the_same_title(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    from sqlalchemy import insert

    from mailer.sending.models import Campaign
    from subscribers.lists import create_list

    issue = import_issue(session, MARKDOWN)
    mlist = create_list(session, "clients", "Clients")
    session.commit()
    row = _campaign_row(issue.id) | {"list_id": mlist.id}
    session.execute(insert(Campaign.__table__).values(**row))
    session.commit()
    refused = CliRunner().invoke(app, ["issue", "import", str(MARKDOWN)])
    assert refused.exit_code != 0
    assert "it has been sent (campaign 1)" in str(refused.exception)
    assert "--replace" in str(refused.exception)


def _campaign_row(issue_id: int) -> dict[str, object]:
    """A done campaign of the issue: only the columns without defaults."""
    from mailer.sending.models import Campaign

    row: dict[str, object] = {"id": 1, "issue_id": issue_id, "status": "done"}
    for col in Campaign.__table__.columns:
        if (
            col.name not in row
            and not col.nullable
            and col.default is None
            and (col.server_default is None)
        ):
            row[col.name] = "" if col.type.python_type is str else 0
    return row


@pytest.mark.parametrize(
    ("line", "replacement", "says"),
    [
        pytest.param(
            23,
            "More information can be found at: miranda-partners.com/jvs-delphi-solutions/",
            "the more info url must be a web address starting with https://",
            id="more information without https",
        ),
        pytest.param(
            4,
            "Six years after. " * 1300,
            "a paragraph of item 1 is 22,099 characters long",
            id="paragraph too long",
        ),
    ],
)
def test_a_briefing_past_a_limit_is_refused_at_its_line(
    line: int, replacement: str, says: str
) -> None:
    # The limits are checked after parsing; the error must still say where to look.
    lines = BRIEFING.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = replacement
    with pytest.raises(IssueFormatError) as info:
        parse_issue("\n".join(lines), path="issue.txt")
    assert info.value.line == line
    assert str(info.value).startswith(f"issue.txt:{line}: {says}")
