"""`mailer issue preview SLUG --out DIR` writes its four files inside DIR, whatever the issue's
stored PDF name says."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.content.issues import import_issue
from mailer.settings import Settings
from tests.conftest import BRIEFING

runner = CliRunner()


@pytest.mark.parametrize(
    "stored", ["../../escaped/trial_pwned", "{tmp}/absolute/trial_pwned", "..", "a/../../b"]
)
def test_preview_writes_only_inside_its_folder(
    session: Session, settings: Settings, tmp_path: Path, stored: str
) -> None:
    """Defence in depth: import refuses such a name now, but one stored before (or set by another
    door) used to be joined to --out as a path: `prevP/../../x.pdf`, or `/tmp/x.pdf` outright."""
    issue = import_issue(session, BRIEFING)
    issue.pdf_name = stored.format(tmp=tmp_path)
    session.commit()
    out = tmp_path / "work" / "prevP"
    before = {p for p in tmp_path.rglob("*")}
    result = runner.invoke(app, ["issue", "preview", issue.slug, "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = {p for p in tmp_path.rglob("*")} - before
    assert {p.parent for p in written if p.is_file()} == {out}
    assert sorted(p.suffix for p in written if p.is_file()) == [".eml", ".html", ".pdf", ".txt"]


def test_preview_for_a_private_list_shows_what_its_readers_get(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    """The proof an editor reads before a send to a client-only list: without `--list` the preview
    is the public edition ("View in browser", List-Archive); with a private list's slug it has
    neither, as that list's campaign will send it."""
    import email
    import email.policy

    from subscribers.lists import create_list

    issue = import_issue(session, BRIEFING)
    create_list(session, "clients", "Clients only", private=True)
    create_list(session, "public", "Public briefing")
    session.commit()

    def preview(*extra: str) -> tuple[email.message.EmailMessage, str]:
        out = tmp_path / "-".join(extra or ("default",))
        result = runner.invoke(app, ["issue", "preview", issue.slug, "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
        eml = (out / "message.eml").read_bytes()
        msg = email.message_from_bytes(eml, policy=email.policy.default)
        return msg, (out / "email.txt").read_text() + (out / "email.html").read_text()  # type: ignore[return-value]

    for extra in ((), ("--list", "public")):
        msg, bodies = preview(*extra)
        assert msg["List-Archive"] is not None
        assert "View in browser" in bodies
    msg, bodies = preview("--list", "clients")
    assert msg["List-Archive"] is None
    assert "View in browser" not in bodies and "/archive" not in bodies
    assert "Clients only" in str(msg["List-Id"])

    result = runner.invoke(
        app, ["issue", "preview", issue.slug, "--out", str(tmp_path / "x"), "--list", "nope"]
    )
    assert result.exit_code != 0
    assert "no list with slug 'nope'" in str(result.exception)


def test_an_out_that_cannot_be_a_folder_is_one_error_naming_it(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    """--out naming a file, or a place that cannot be made: the error names --out and the path
    (the CLI prints it as one line), before anything is rendered; nothing is written."""
    issue = import_issue(session, BRIEFING)
    session.commit()
    taken = tmp_path / "energy.md"
    taken.write_text("an editor's draft\n")
    result = runner.invoke(app, ["issue", "preview", issue.slug, "--out", str(taken)])
    assert str(result.exception) == (
        f"--out {taken} is a file, not a folder: name a folder for the preview"
    )
    assert taken.read_text() == "an editor's draft\n"
    below_a_file = taken / "preview"
    result = runner.invoke(app, ["issue", "preview", issue.slug, "--out", str(below_a_file)])
    assert str(result.exception) == f"--out {below_a_file}: cannot make the folder: Not a directory"


def test_a_preview_of_an_unknown_issue_leaves_no_folder_behind(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "x"
    result = runner.invoke(app, ["issue", "preview", "nope", "--out", str(out)])
    assert "no issue 'nope'" in str(result.exception)
    assert not out.exists()
