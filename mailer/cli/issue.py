"""`mailer issue …`."""

import os
from pathlib import Path

import typer

from mailer.errors import MailerError
from subscribers.text import counted

app = typer.Typer(help="Issues: import, list, preview, check.", no_args_is_help=True)


# --- mailer issue import ---------------------------------------------------------------------


@app.command("import")
def import_(
    file: str = typer.Argument(..., help="A briefing text file or a Markdown issue (front matter)"),
    replace: bool = typer.Option(
        False,
        "--replace",
        help="Replace the stored issue of the same slug even when its title differs or it has "
        "been sent",
    ),
) -> str:
    """Import (or re-import) an issue; the last word printed is its slug.

    Re-importing the same issue (same title) updates it; a different issue of the same slug
    (newsletter and date), or one already sent, is refused unless --replace."""
    from mailer.content.issues import import_issue_file
    from mailer.db import session_scope

    with session_scope() as session:
        result = import_issue_file(session, file, replace=replace)
        issue = result.issue
        partner = issue.partner
        action = (
            "created"
            if result.created
            else "updated"
            if result.previous_title == issue.title
            else f"replaced {result.previous_title!r} with"
        )
        partner_state = "new partner" if result.partner_created else "existing partner"
        typer.echo(f"{action} issue: {issue.title} ({result.source_format})")
        typer.echo(f"partner: {partner.name} <{partner.email}> ({partner_state} {partner.slug})")
        typer.echo(f"{counted(len(issue.items), 'item')}, PDF {issue.pdf_name}.pdf")
        typer.echo(f"slug: {issue.slug}")
        return issue.slug


# --- mailer issue list ------------------------------------------------------------------------


@app.command("list")
def list_() -> None:
    """Every issue, newest first: the slug other commands take, its date, how many campaigns
    have SENT it (a campaign that sent nothing, cancelled before it started, is not counted),
    the partner who signs it and its title."""
    from mailer.cli import row_folded
    from mailer.db import session_scope
    from mailer.sending.issues import issue_rows

    with session_scope() as session:
        rows = issue_rows(session)
    if not rows:
        typer.echo("no issues yet: import one with `mailer issue import FILE`")
        return
    slug = max(len("SLUG"), *(len(r.slug) for r in rows))
    sent = max(len("SENT"), *(len(str(r.campaigns_sent)) for r in rows))
    partner = max(len("PARTNER"), *(len(r.partner) for r in rows))
    typer.echo(f"{'SLUG':<{slug}}  {'DATE':<10}  {'SENT':>{sent}}  {'PARTNER':<{partner}}  TITLE")
    for r in rows:
        prefix = (
            f"{r.slug:<{slug}}  {r.issue_date.isoformat():<10}  {r.campaigns_sent:>{sent}}  "
            f"{r.partner:<{partner}}  "
        )
        typer.echo(row_folded(prefix, r.title))


# --- mailer issue preview / check (composer's commands) --------------------------------------


def _sample_message(slug: str, list_slug: str | None = None):  # -> (content, rendered, message)
    """The issue rendered and composed for a sample reader exactly as a campaign would (id 0).

    With `list_slug`, as that list's readers get it: a private list's edition has no link to the
    public web edition and no List-Archive header, and the proof should show exactly that."""
    from dataclasses import replace

    from mailer.content.issues import content_of, get_issue
    from mailer.db import session_scope
    from mailer.rendering.email_edition import render_issue
    from mailer.rendering.preview import SAMPLE_EMAIL, SAMPLE_NAME
    from mailer.sending.compose import CampaignInfo, Composer
    from mailer.settings import get_settings
    from subscribers.lists import get_list

    settings = get_settings()
    with session_scope() as session:
        issue = get_issue(session, slug)
        content = content_of(issue)
        info = CampaignInfo.for_issue(issue, list_slug="preview", list_name=issue.newsletter)
        if list_slug is not None:
            mlist = get_list(session, list_slug)
            content = replace(content, web_edition=not mlist.private)
            info = CampaignInfo.for_issue(issue, list_slug=mlist.slug, list_name=mlist.name)
    rendered = render_issue(content, settings)
    # Links as written, not tracked: there is no delivery 0 to redirect for, and an editor
    # clicking through a preview must reach the real pages (the renderer has already checked
    # the size with tracked links).
    message = Composer(rendered, info, settings).compose(0, SAMPLE_EMAIL, SAMPLE_NAME, track=False)
    return content, rendered, message


@app.command("preview")
def preview(
    slug: str = typer.Argument(..., help="The issue's slug (as `mailer issue import` printed)"),
    out: str = typer.Option(..., "--out", help="Folder to write the preview files into"),
    list_slug: str | None = typer.Option(
        None,
        "--list",
        help="As this list's readers get it (a private list's edition links to no web edition)",
    ),
) -> None:
    """Write email.html, email.txt, the PDF and message.eml as a sample reader would get them."""
    import email
    import email.policy

    from mailer.filenames import file_name
    from mailer.rendering.preview import SAMPLE_EMAIL, SAMPLE_NAME

    folder = Path(out)
    if folder.exists() and not folder.is_dir():  # told at once, before rendering
        raise MailerError(f"--out {folder} is a file, not a folder: name a folder for the preview")
    _content, rendered, message = _sample_message(slug, list_slug)
    _make_folder(folder)  # only once there is something to write: an unknown slug leaves none
    msg = email.message_from_bytes(message.data, policy=email.policy.default)
    html_part, text_part = msg.get_body(("html",)), msg.get_body(("plain",))
    assert html_part is not None and text_part is not None
    lf = "\n"
    files = {
        "email.html": html_part.get_content().replace("\r\n", lf).encode("utf-8"),
        "email.txt": text_part.get_content().replace("\r\n", lf).encode("utf-8"),
        file_name(rendered.pdf_filename, f"{slug}.pdf"): rendered.pdf,
        "message.eml": message.data,
    }
    for name, data in files.items():
        try:
            (folder / name).write_bytes(data)
        except OSError as exc:
            raise MailerError(f"--out {out}: cannot write {name}: {exc.strerror}") from None
        typer.echo(f"wrote {folder / name} ({len(data) / 1024:.1f} KB)")
    typer.echo(f"sample recipient: {SAMPLE_NAME} <{SAMPLE_EMAIL}>")


def _make_folder(folder: Path) -> None:
    """The --out folder, made if missing; MailerError naming it when it cannot be (a place this
    user may not write, a read-only file system, a file on its path)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MailerError(f"--out {folder}: cannot make the folder: {exc.strerror}") from None


@app.command("check")
def check(
    slug: str = typer.Argument(..., help="The issue's slug (as `mailer issue import` printed)"),
    list_slug: str | None = typer.Option(
        None,
        "--list",
        help="As this list's readers get it (a private list's edition links to no web edition)",
    ),
) -> None:
    """Preflight: HTML size, image alt text, links, headers, SpamAssassin score if installed."""
    from rich.console import Console
    from rich.table import Table

    from mailer.rendering.preflight import FAIL, INFO, PASS, WARN, Check, preflight
    from mailer.sending import readiness
    from mailer.settings import get_settings

    _content, _rendered, message = _sample_message(slug, list_slug)
    checks = preflight(message.data, web_edition=_rendered.web_edition)
    settings = get_settings()
    problems = readiness.problems(settings)
    mode = "production" if settings.production else "not production (MAILER_PRODUCTION unset)"
    # Outside production the placeholders are allowed, but this is where the editor looks before
    # real readers get the sample firm's names or "Postal address not configured" in a footer.
    unset = [] if settings.production or problems else settings.production_problems()
    if problems:
        checks.append(Check("Sending settings", FAIL, f"{len(problems)} to fix", tuple(problems)))
    elif unset:
        checks.append(
            Check(
                "Sending settings",
                WARN,
                f"{mode}: {len(unset)} to set before real readers get it",
                tuple(unset),
            )
        )
    else:
        checks.append(Check("Sending settings", PASS if settings.production else INFO, mode))
    table = Table(title=f"Preflight: {slug}")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    colour = {PASS: "green", WARN: "yellow", FAIL: "bold red"}
    for c in checks:
        detail = c.detail
        if c.problems and c.status in (FAIL, WARN):
            detail += "\n" + "\n".join(f"- {p}" for p in c.problems[:20])
        style = colour.get(c.status, "cyan")
        table.add_row(c.name, f"[{style}]{c.status}[/]", detail)
    # The terminal's width (or COLUMNS); piped into a file or a log, 120 columns rather than
    # rich's 80, so that each problem stays on a line or two.
    out = Console()
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out = Console(width=120)
    out.print(table)
    failed = [c.name for c in checks if c.failed]
    if failed:
        typer.echo(f"failed: {', '.join(failed)}")
        raise typer.Exit(1)
    warned = [c.name for c in checks if c.status == WARN]
    typer.echo(
        f"all checks passed; see the warnings: {', '.join(warned)}"
        if warned
        else "all checks passed"
    )
