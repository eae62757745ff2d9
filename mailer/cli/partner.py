"""`mailer partner …`."""

from __future__ import annotations

import typer

from mailer.cli import row_folded
from mailer.content.partners import add_partner, list_partners
from mailer.db import session_scope

app = typer.Typer(help="Partners: who signs issues and receives replies.", no_args_is_help=True)


@app.command("add")
def add(
    slug: str = typer.Argument(..., help="Short handle, e.g. fausto-carbajal"),
    name: str = typer.Option(..., "--name", help="Full name as signed in the byline"),
    email: str = typer.Option(..., "--email", help="Where clients' replies are forwarded"),
    title: str = typer.Option("", "--title", help="e.g. Partner"),
    firm: str = typer.Option("", "--firm", help="e.g. Miranda Delphi Solutions"),
    pronoun: str = typer.Option("them", "--pronoun", help="him, her or them"),
) -> None:
    """Add a partner."""
    with session_scope() as session:
        partner = add_partner(session, slug, name, email, title, firm=firm, pronoun=pronoun)
        typer.echo(f"added partner {partner.slug}: {partner.name} <{partner.email}>")


@app.command("list")
def list_() -> None:
    """Every partner: slug, email, name and title."""
    with session_scope() as session:
        rows = [(p.slug, p.email, p.name, p.title) for p in list_partners(session)]
    if not rows:
        typer.echo(
            "no partners yet: add one with `mailer partner add SLUG --name NAME --email EMAIL`, "
            "or import an issue"
        )
        return
    slug_w = max(len("SLUG"), *(len(r[0]) for r in rows))
    email_w = max(len("EMAIL"), *(len(r[1]) for r in rows))
    typer.echo(f"{'SLUG':<{slug_w}}  {'EMAIL':<{email_w}}  NAME")
    for slug, email, name, title in rows:
        # The name and title fold within the terminal's width under their own column.
        described = name + (f", {title}" if title else "")
        typer.echo(row_folded(f"{slug:<{slug_w}}  {email:<{email_w}}  ", described))
