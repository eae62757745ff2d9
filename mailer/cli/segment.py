"""`mailer segment …`: saved segment expressions and live counts."""

from __future__ import annotations

from typing import NoReturn

import typer

from mailer.cli import row_folded
from mailer.db import session_scope
from subscribers import segments
from subscribers.errors import SegmentSyntaxError
from subscribers.lists import get_list
from subscribers.text import counted

app = typer.Typer(help="Saved segment expressions and live counts.", no_args_is_help=True)

_EXPR_HELP = (
    'e.g. "tag:client and lang:es and not tag:press", '
    "'company:\"Acme Corp\" or domain:gob.mx', attr.sector:energy"
)


def _syntax_error(exc: SegmentSyntaxError) -> NoReturn:
    # Printed plainly (not through rich, which would wrap long lines and read "[...]" as markup):
    # the caret must stay under the column it points at.
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(1)


@app.command()
def create(
    slug: str = typer.Argument(..., help="Name of the segment, unique within the list."),
    expression: str = typer.Argument(..., help=_EXPR_HELP),
    list_slug: str = typer.Option(..., "--list", help="The mailing list's slug."),
) -> None:
    """Save a segment expression on a list (checked before it is stored)."""
    try:
        with session_scope() as session:
            mailing_list = get_list(session, list_slug)
            segments.create_segment(session, mailing_list.id, slug, expression)
            matched = segments.count(session, mailing_list.id, expression)
    except SegmentSyntaxError as exc:
        _syntax_error(exc)
    typer.echo(
        f"saved segment {slug!r} on list {list_slug!r}: {counted(matched, 'subscriber')} match now"
    )


@app.command("count")
def count_(
    expression: str | None = typer.Argument(
        None, help=f"An expression or a saved segment's slug ({_EXPR_HELP}); none: whole list."
    ),
    list_slug: str = typer.Option(..., "--list", help="The mailing list's slug."),
) -> None:
    """Print how many of the list's active, unsuppressed subscribers match."""
    try:
        with session_scope() as session:
            mailing_list = get_list(session, list_slug)
            matched = segments.count(session, mailing_list.id, expression)
    except SegmentSyntaxError as exc:
        _syntax_error(exc)
    typer.echo(str(matched))


@app.command("list")
def list_(
    list_slug: str = typer.Option(..., "--list", help="The mailing list's slug."),
) -> None:
    """Show the list's saved segments: slug, current count and expression."""
    with session_scope() as session:
        mailing_list = get_list(session, list_slug)
        rows = [
            (s.slug, segments.count(session, mailing_list.id, s.expression), s.expression)
            for s in segments.list_segments(session, mailing_list.id)
        ]
    if not rows:
        typer.echo(
            f"no saved segments on list {list_slug!r} "
            f'(create one with `mailer segment create SLUG --list {list_slug} "EXPR"`)'
        )
        return
    width = max(len("SEGMENT"), *(len(slug) for slug, _, _ in rows))
    typer.echo(f"{'SEGMENT':<{width}}  {'COUNT':>7}  EXPRESSION")
    for slug, matched, expression in rows:
        # A long expression folds within the terminal's width under its own column.
        typer.echo(row_folded(f"{slug:<{width}}  {matched:>7}  ", expression))


@app.command()
def update(
    slug: str = typer.Argument(..., help="The saved segment to change (as `segment list` shows)."),
    list_slug: str = typer.Option(..., "--list", help="The mailing list's slug."),
    expression: str = typer.Option(..., "--expression", help=_EXPR_HELP),
) -> None:
    """Give a saved segment a new expression (checked before it is stored); the slug stays.
    Campaigns already created keep the expression they were created with."""
    from mailer.sending import campaigns

    try:
        with session_scope() as session:
            mailing_list = get_list(session, list_slug)
            segment = segments.update_segment(session, mailing_list.id, slug, expression)
            matched = segments.count(session, mailing_list.id, segment.expression)
            note = campaigns.segment_campaigns_note(
                campaigns.using_segment(session, segment.id), deleted=False
            )
    except SegmentSyntaxError as exc:
        _syntax_error(exc)
    typer.echo(
        f"updated segment {slug!r} on list {list_slug!r}: {counted(matched, 'subscriber')} "
        "match now"
    )
    if note:
        typer.echo(note)


@app.command()
def delete(
    slug: str = typer.Argument(..., help="The saved segment to delete (as `segment list` shows)."),
    list_slug: str = typer.Option(..., "--list", help="The mailing list's slug."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a saved segment. Nobody is unsubscribed; campaigns sent to it keep the
    expression they were sent with, and their reports show it instead of the slug."""
    from mailer.sending import campaigns

    with session_scope() as session:
        mailing_list = get_list(session, list_slug)
        segment = segments.get_segment(session, mailing_list.id, slug)
        used = campaigns.using_segment(session, segment.id)
        typer.echo(f"segment {segment.slug!r} on list {list_slug!r}: {segment.expression}")
        if used:
            typer.echo(campaigns.segment_campaigns_note(used, deleted=True))
        if not yes and not typer.confirm("Delete it?", default=False):
            typer.echo("not deleted: nothing was changed")
            raise typer.Exit(0)
        segments.delete_segment(session, mailing_list.id, segment.slug)
    typer.echo(f"deleted segment {slug!r} from list {list_slug!r}")
