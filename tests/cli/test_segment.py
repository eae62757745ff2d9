"""`mailer segment` at the door: a mistake in a long expression is shown as a short excerpt."""

from __future__ import annotations

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.settings import Settings
from subscribers.lists import create_list

runner = CliRunner()


def test_a_mistake_in_a_long_expression_prints_a_short_excerpt_with_the_column(
    session: Session, settings: Settings
) -> None:
    """5,000 `or` terms (45 KB) were refused by printing every one of them."""
    create_list(session, "clients", "Clients")
    session.commit()
    terms = " or ".join(f"tag:t{i}" for i in range(5000))
    for command in ("count", "create"):
        args = ["segment", command, *(["big"] if command == "create" else []), terms]
        result = runner.invoke(app, [*args, "--list", "clients"])
        assert result.exit_code == 1
        assert "at most 200" in result.output and "(column 2291)" in result.output
        assert len(result.output) < 600, result.output[:300]
        shown, under = result.output.splitlines()[1:3]
        assert shown[under.index("^")] == terms[2290]
