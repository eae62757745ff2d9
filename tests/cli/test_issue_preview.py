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
