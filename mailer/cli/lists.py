"""`mailer list …`."""

from __future__ import annotations

import typer

from mailer.cli import row_folded
from mailer.db import session_scope
from subscribers.lists import create_list, list_lists

app = typer.Typer(help="Mailing lists.", no_args_is_help=True)


@app.command("create")
def create(
    slug: str = typer.Argument(..., help="Short name used in commands and URLs, e.g. weekly"),
    name: str = typer.Option(..., "--name", help="The list's name as readers see it"),
    description: str = typer.Option("", "--description", help="What the list is for"),
) -> None:
    """Create a mailing list."""
    with session_scope() as session:
        mlist = create_list(session, slug, name, description)
        typer.echo(f"created list {mlist.slug} ({mlist.name})")


@app.command("list")
def list_() -> None:
    """Every list with its subscription counts."""
    with session_scope() as session:
        rows = list_lists(session)
    if not rows:
        typer.echo("no lists yet: create one with `mailer list create SLUG --name NAME`")
        return
    width = max(len("SLUG"), *(len(r.slug) for r in rows))
    typer.echo(f"{'SLUG':<{width}}  {'ACTIVE':>7}  {'PENDING':>7}  {'UNSUBSCRIBED':>12}  NAME")
    for r in rows:
        # The name folds within the terminal's width; the slug and counts never wrap.
        prefix = f"{r.slug:<{width}}  {r.active:>7}  {r.pending:>7}  {r.unsubscribed:>12}  "
        typer.echo(row_folded(prefix, r.name))
