"""`mailer suppression …`."""

from __future__ import annotations

import typer

from mailer.cli import email_value, row_folded
from mailer.db import session_scope
from mailer.settings import get_settings
from subscribers.models import SuppressionReason
from subscribers.suppression import (
    add_suppression,
    get_suppression,
    list_suppressions,
    remove_suppression,
)

app = typer.Typer(help="Addresses that must never be mailed.", no_args_is_help=True)

_REASONS = [r.value for r in SuppressionReason if r != SuppressionReason.ERASED]


@app.command("add")
def add(
    email: str = typer.Argument(..., help="The address to suppress", parser=email_value),
    reason: str = typer.Option(
        "manual",
        "--reason",
        help=f"One of {', '.join(_REASONS)}; any other text is kept as a manual note",
    ),
) -> None:
    """Never mail this address again (its subscriber, if any, is kept)."""
    if reason in _REASONS:
        kind, detail = SuppressionReason(reason), ""
    else:
        kind, detail = SuppressionReason.MANUAL, reason
    secret = get_settings().secret()
    with session_scope() as session:
        before = get_suppression(session, email, secret)
        was = (before.reason, before.detail) if before is not None else None
        entry, created = add_suppression(session, email, secret, kind, detail, actor="cli")
        shown = entry.email or "(erased address)"
        if created:
            verb = "suppressed"
        elif was == (entry.reason, entry.detail):
            verb = "already suppressed, unchanged:"
        else:
            verb = "already suppressed, updated:"
        note = f": {entry.detail}" if entry.detail else ""
        typer.echo(f"{verb} {shown} ({entry.reason.value}{note})")


@app.command("remove")
def remove(
    email: str = typer.Argument(..., help="The address to mail again", parser=email_value),
    reason: str = typer.Option("", "--reason", help="Why (kept in the suppression history)"),
) -> None:
    """Lift a suppression: the address may be subscribed and mailed again."""
    with session_scope() as session:
        entry = remove_suppression(
            session, email, get_settings().secret(), reason=reason, actor="cli"
        )
        typer.echo(f"removed {entry.email or 'the erased address'} from the suppression list")


@app.command("list")
def list_() -> None:
    """Every suppressed address, newest first, with reason and date."""
    with session_scope() as session:
        entries = list_suppressions(session)
        if not entries:
            typer.echo("the suppression list is empty")
            return
        for e in entries:
            detail = f"  {e.detail}" if e.detail else ""
            # The address and the detail (a bounce's SMTP reply) fold within the terminal.
            typer.echo(
                row_folded(
                    f"{e.created_at:%Y-%m-%d %H:%M}  {e.reason.value:<12} ",
                    f"{e.email or '(erased: kept as a keyed hash only)'}{detail}",
                )
            )
