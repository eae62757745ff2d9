"""`mailer db upgrade` says what it did: created, upgraded, or already up to date."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailer.cli import app
from mailer.settings import reset_settings

runner = CliRunner()


def test_db_upgrade_says_what_it_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("MAILER_"):
            monkeypatch.delenv(key)
    reset_settings()
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("created the schema in sqlite:///mailer.db (revision 00")
    again = runner.invoke(app, ["db", "upgrade"])
    revision = first.output.rsplit("revision ", 1)[1].rstrip(")\n")
    assert (
        again.output == f"the schema in sqlite:///mailer.db is up to date (revision {revision})\n"
    )
    reset_settings()
