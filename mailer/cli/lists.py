"""`mailer list …`."""

from __future__ import annotations

import typer

from mailer.cli import exclusive, row_folded
from mailer.db import session_scope
from subscribers.lists import create_list, list_lists, update_list, visibility

app = typer.Typer(help="Mailing lists.", no_args_is_help=True)

_PRIVATE_HELP = (
    "A client-only list: no public subscribe form (/subscribe/SLUG answers 404), nothing sent to "
    "it in the public archive, and its emails link to no web edition (the PDF is attached)"
)


@app.command("create")
def create(
    slug: str = typer.Argument(..., help="Short name used in commands and URLs, e.g. weekly"),
    name: str = typer.Option(..., "--name", help="The list's name as readers see it"),
    description: str = typer.Option("", "--description", help="What the list is for"),
    private: bool = typer.Option(False, "--private", help=_PRIVATE_HELP),
) -> None:
    """Create a mailing list (public unless --private)."""
    with session_scope() as session:
        mlist = create_list(session, slug, name, description, private=private)
        kind = "private list" if mlist.private else "list"
        typer.echo(f"created {kind} {mlist.slug} ({mlist.name})")


@app.command("update")
def update(
    slug: str = typer.Argument(..., help="The list to change (as `mailer list list` shows)"),
    name: str | None = typer.Option(None, "--name", help="A new name, as readers see it"),
    description: str | None = typer.Option(None, "--description", help="A new description"),
    private: bool = typer.Option(
        False, "--private", help="Make the list private (" + _PRIVATE_HELP[2:] + ")"
    ),
    public: bool = typer.Option(False, "--public", help="Make the list public again"),
) -> None:
    """Rename, describe, or make a list private or public; what is not given stays. The slug
    never changes (it is in List-Id headers already sent and in subscribe links)."""
    exclusive(("--private", private), ("--public", public))
    with session_scope() as session:
        mlist = update_list(
            session,
            slug,
            name=name,
            description=description,
            private=True if private else False if public else None,
        )
        typer.echo(f"updated list {mlist.slug} ({mlist.name}): {visibility(mlist.private)}")


@app.command("delete")
def delete(
    slug: str = typer.Argument(..., help="The list to delete (as `mailer list list` shows)"),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a list with its subscriptions and saved segments; the people stay (on other lists
    too). Refused while campaigns refer to the list, as in the admin (rename it instead)."""
    from mailer.sending import lists as sending_lists
    from subscribers.lists import get_list
    from subscribers.models import Segment, Subscription
    from subscribers.text import counted

    with session_scope() as session:
        mlist = get_list(session, slug)
        sending_lists.check_deletable(session, mlist)  # refused before asking
        subscriptions = session.query(Subscription).filter_by(list_id=mlist.id).count()
        saved = session.query(Segment).filter_by(list_id=mlist.id).count()
        typer.echo(
            f"list {mlist.slug} ({mlist.name}): {counted(subscriptions, 'subscription')}, "
            f"{counted(saved, 'saved segment')}"
        )
        if not yes and not typer.confirm("Delete it?", default=False):
            typer.echo("not deleted: nothing was changed")
            raise typer.Exit(0)
        done = sending_lists.delete_list(session, mlist.slug)
    typer.echo(
        f"deleted list {done.slug} with its {counted(done.subscriptions, 'subscription')} and "
        f"{counted(done.segments, 'segment')}; the subscribers themselves are kept"
    )


@app.command("list")
def list_() -> None:
    """Every list with its visibility and subscription counts. ACTIVE counts active
    subscriptions, suppressed people's too; a line under the table says, for a list that has
    any, how many of them a send reaches (the mailable: `mailer send`'s "Recipients:")."""
    with session_scope() as session:
        rows = list_lists(session)
    if not rows:
        typer.echo("no lists yet: create one with `mailer list create SLUG --name NAME`")
        return
    width = max(len("SLUG"), *(len(r.slug) for r in rows))
    typer.echo(
        f"{'SLUG':<{width}}  {'VISIBILITY':<10}  {'ACTIVE':>7}  {'PENDING':>7}  "
        f"{'UNSUBSCRIBED':>12}  NAME"
    )
    for r in rows:
        # The name folds within the terminal's width; the slug and counts never wrap.
        prefix = (
            f"{r.slug:<{width}}  {visibility(r.private):<10}  {r.active:>7}  {r.pending:>7}  "
            f"{r.unsubscribed:>12}  "
        )
        typer.echo(row_folded(prefix, r.name))
    suppressed = [r for r in rows if r.mailable != r.active]
    for r in suppressed:
        typer.echo(
            f"{r.slug}: {r.mailable} of the {r.active} active are mailable "
            f"({r.active - r.mailable} suppressed)"
        )
    if suppressed:
        typer.echo(
            "suppressed: a hard bounce, a complaint, an erasure or `mailer suppression add`; "
            "a send skips them"
        )
