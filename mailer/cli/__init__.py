"""The `mailer` command line: one Typer app, one sub-app module per noun."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import OperationalError, ProgrammingError

from mailer.cli import admin as admin_cli
from mailer.cli import campaign as campaign_cli
from mailer.cli import db as db_cli
from mailer.cli import demo as demo_cli
from mailer.cli import engagement as engagement_cli
from mailer.cli import inbound as inbound_cli
from mailer.cli import issue as issue_cli
from mailer.cli import lists as lists_cli
from mailer.cli import partner as partner_cli
from mailer.cli import segment as segment_cli
from mailer.cli import send as send_cli
from mailer.cli import subscribers as subscribers_cli
from mailer.cli import suppression as suppression_cli
from mailer.cli import web as web_cli
from mailer.cli import worker as worker_cli
from mailer.db import load_models
from mailer.errors import MailerError
from mailer.settings import get_settings, redact
from subscribers.errors import SubscribersError

app = typer.Typer(
    name="mailer",
    help="Self-hosted newsletter distribution for the firm's intelligence briefing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db_cli.app, name="db")
app.add_typer(partner_cli.app, name="partner")
app.add_typer(issue_cli.app, name="issue")
app.add_typer(lists_cli.app, name="list")
app.add_typer(subscribers_cli.app, name="subscribers")
app.add_typer(suppression_cli.app, name="suppression")
app.add_typer(segment_cli.app, name="segment")
app.add_typer(campaign_cli.app, name="campaign")
app.command("send")(send_cli.send)
app.command("report")(campaign_cli.report)
app.command("worker")(worker_cli.worker)
app.command("beat")(worker_cli.beat)
app.command("web")(web_cli.web)
app.add_typer(inbound_cli.app, name="inbound")
app.command("demo")(demo_cli.demo)
app.add_typer(admin_cli.app, name="admin")
app.add_typer(engagement_cli.app, name="digest")
app.add_typer(inbound_cli.inquiries, name="inquiries")

err = Console(stderr=True)


def main() -> None:
    """Entry point: user errors print one clear line and exit 1, never a traceback."""
    load_models()
    try:
        app()
    except (MailerError, SubscribersError) as exc:
        # One line however long (scripts grep it), and the user's text is never read as markup.
        err.print(
            f"[bold red]error:[/] {escape(redact(str(exc)))}", highlight=False, soft_wrap=True
        )
        sys.exit(1)
    except (OperationalError, ProgrammingError) as exc:
        if not _missing_schema(exc):
            raise
        url = redact(get_settings().database_url)
        err.print(
            f"[bold red]error:[/] the database {escape(url)} has no mailer tables yet (or an "
            "older schema): run `mailer db upgrade` first",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)


def _missing_schema(exc: Exception) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)
