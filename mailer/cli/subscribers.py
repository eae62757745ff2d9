"""`mailer subscribers …`: import, export, add, remove, show, export-data, forget.

The work is done by `subscribers`' public functions; this module only opens the transaction,
passes the secret key in, and prints. Data from files and users is printed with `typer.echo`, never
through rich markup, so a name like `[bold]` or `<script>` prints as written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from sqlalchemy.orm import Session

from mailer.cli import email_value
from mailer.db import session_scope
from mailer.settings import get_settings
from subscribers.errors import InvalidInput
from subscribers.exporting import export_csv
from subscribers.gdpr import export_data, forget
from subscribers.importing import ImportReport, RowNote, import_csv
from subscribers.lifecycle import (
    add_subscriber,
    describe,
    get_subscriber,
    refuse_control_characters,
    subscribe_pending,
    unsubscribe_everywhere,
    unsubscribe_from_list,
)
from subscribers.lists import get_list
from subscribers.text import counted

app = typer.Typer(
    help="Subscribers: import, export, add, remove, show, GDPR.", no_args_is_help=True
)

# Later work (bounces, deliveries, inquiries) appends a function here that adds its key to the
# data of `show` and `export-data`: (session, data) -> None, where data["subscriber"]["id"] is
# the subscriber's id (data["subscriber"] is None when only a suppression entry exists).
EXTRA_SECTIONS: list[Callable[[Session, dict[str, Any]], None]] = []


def _shown(value: str) -> str:
    """A cell as the user wrote it, with CR/LF and other control characters made visible."""
    return json.dumps(value, ensure_ascii=False)


def _printable(value: object) -> str:
    """Stored text for the terminal: a control character (ESC starting an escape sequence, a
    stray CR) is shown as `\\xNN` instead of acting on the terminal."""
    return "".join(
        c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}"
        for c in str(value)
    )


@contextmanager
def _progress_bar(enabled: bool, total: int) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(),
        transient=True,
    ) as bar:
        task = bar.add_task("importing", total=total or None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield update


def _print_notes(heading: str, notes: list[RowNote]) -> None:
    """One kind of row note of an import: its heading, then each row, when there are any."""
    if notes:
        typer.echo(heading)
        for n in notes:
            typer.echo(f"  row {n.row} (line {n.line}): {n.email}: {n.reason}")


def print_import_report(report: ImportReport) -> None:
    """The summary line, then every row that was not imported as is, with where and why."""
    typer.echo(
        f"{report.file} → list {report.list_slug}: {counted(report.records, 'row')} read; "
        f"{report.imported} imported, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.unsubscribed} unsubscribed by the file's status column, "
        + (
            f"{report.added_unsubscribed} added as unsubscribed, "
            if report.added_unsubscribed
            else ""
        )
        + f"{report.skipped} skipped, {report.suppressed} suppressed, "
        f"{report.not_reactivated} left unsubscribed, "
        f"{len(report.duplicates)} duplicate{'s' if len(report.duplicates) != 1 else ''} merged"
    )
    how = "detected" if report.separator_detected else "as asked"
    typer.echo(f"separator: {report.separator_name}, {how}")
    if report.problems:
        typer.echo("skipped rows (fix them and import the file again; good rows are kept):")
        for p in report.problems:
            lines = f"line {p.line}" if p.line == p.end_line else f"lines {p.line}-{p.end_line}"
            where = f", {p.column}" if p.column else ""
            typer.echo(f"  row {p.row} ({lines}{where}): email {_shown(p.email)}: {p.reason}")
    if report.duplicates:
        typer.echo(
            "duplicate addresses (merged into one subscriber; later non-empty cells win, tags "
            "are combined):"
        )
        for d in report.duplicates:
            typer.echo(f"  row {d.row} (line {d.line}): {d.email} repeats row {d.first_row}")
    _print_notes(
        "values not stored (the rest of each row was imported; fix the cell and import again):",
        report.value_notes,
    )
    _print_notes("suppressed addresses (not imported):", report.suppressed_rows)
    _print_notes(
        f"unsubscribed from {report.list_slug} by the file's status column (a file exported "
        "from another list carries that list's statuses):",
        report.unsubscribed_rows,
    )
    _print_notes(
        f"added to {report.list_slug} as unsubscribed (not on it; the file's status column "
        "says they left, so no later import subscribes them and nobody is mailed):",
        report.added_unsubscribed_rows,
    )
    _print_notes(
        "unsubscribed from the list (not re-subscribed; they must opt in themselves):",
        report.not_reactivated_rows,
    )
    if report.legacy_lines:
        typer.echo(
            f"not UTF-8, read as {report.legacy_encoding_name}: "
            f"{report.legacy_summary()}; if names there look wrong, save the file as "
            "'CSV UTF-8' and import it again (rows already imported are updated)"
        )
    if report.renamed_columns:
        typer.echo(f"columns read as: {', '.join(report.columns_read_as())}")
    if report.attribute_columns:
        typer.echo(f"columns stored as attributes: {report.attributes_summary()}")
    if report.ignored_columns:
        cols = ", ".join(str(c) for c in report.ignored_columns)
        typer.echo(f"columns without a header name, ignored: {cols}")


_SEPARATOR_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


@app.command("import")
def import_(
    file: Path = typer.Argument(
        ..., help="CSV: email,name,company,language,tags (tags: a;b, a,b or a|b)"
    ),
    list_slug: str = typer.Option(..., "--list", help="The list to subscribe them to"),
    separator: str | None = typer.Option(
        None,
        "--separator",
        help="The field separator: , ; | or tab (default: detected from the header)",
    ),
) -> None:
    """Import subscribers from a CSV file (UTF-8, UTF-16 with a byte-order mark, or Excel's
    plain CSV in its Windows code page, e.g. Windows-1252, Windows-1251 or Shift-JIS, which is
    detected; header row required, columns in any order).

    Lines may end in LF, CRLF or CR; the separator (comma, semicolon, tab or |) is detected and
    reported unless --separator names it."""
    secret = get_settings().secret()
    with session_scope() as session:
        mlist = get_list(session, list_slug)
        size = file.stat().st_size if file.is_file() else 0
        with _progress_bar(Console().is_terminal, size) as progress:
            report = import_csv(
                session,
                mlist,
                file,
                secret,
                progress=progress,
                separator=_SEPARATOR_NAMES.get((separator or "").lower(), separator),
            )
    print_import_report(report)


@app.command("export")
def export(
    list_slug: str = typer.Option(..., "--list", help="The list to export"),
    where: str | None = typer.Option(
        None, "--where", help="Only the active subscribers matching a segment expression"
    ),
    raw: bool = typer.Option(
        False,
        "--raw",
        help="Cells exactly as stored, for programs: without it, a cell starting with = + - @ "
        "TAB or CR gets a leading ' so a spreadsheet shows it as text instead of running it",
    ),
) -> None:
    """Write the list as CSV on stdout: the import's columns + status (+ attr.KEY columns).

    Spreadsheet-safe by default (formulas typed into the subscribe form are not run when the file
    is opened); `mailer subscribers import` reads such a file back unchanged."""
    with session_scope() as session:
        mlist = get_list(session, list_slug)
        ids = None
        if where is not None:
            from subscribers.segments import matching_subscriber_ids

            ids = matching_subscriber_ids(session, mlist.id, where)
        export_csv(session, mlist, sys.stdout, ids, raw=raw)


@app.command("add")
def add(
    email: str = typer.Argument(..., help="The subscriber's address", parser=email_value),
    list_slug: str = typer.Option(..., "--list", help="The list to subscribe them to"),
    name: str | None = typer.Option(None, "--name"),
    company: str | None = typer.Option(None, "--company"),
    language: str | None = typer.Option(None, "--language", help="ISO 639-1 code, e.g. es"),
    tag: list[str] = typer.Option([], "--tag", help="A tag; repeat for several"),
    pending: bool = typer.Option(
        False,
        "--pending",
        help="Wait for the person to confirm (double opt-in): the confirmation email is sent, "
        "as the web form sends it",
    ),
    no_confirmation_email: bool = typer.Option(
        False,
        "--no-confirmation-email",
        help="With --pending: do not send the confirmation email (send it yourself, or add "
        "them again with --pending later)",
    ),
) -> None:
    """Add one subscriber to a list (active, with the admin's consent, unless --pending: then
    pending, and sent the confirmation email through MAILER_SMTP_URL)."""
    refuse_control_characters(name, "name", "--name")
    refuse_control_characters(company, "company", "--company")
    secret = get_settings().secret()
    with session_scope() as session:
        mlist = get_list(session, list_slug)
        fields: dict[str, Any] = {
            "name": name,
            "company": company,
            "language": language,
            "tags": tag or None,
        }
        if pending:
            sub = subscribe_pending(session, mlist, email, secret, **fields)
            waiting = sub.status.value == "pending"
            typer.echo(
                f"{sub.subscriber.email} is {sub.status.value} on {mlist.slug}"
                + (" until they confirm" if waiting else "")
            )
            session.commit()  # before the email: its link must find the subscription
            if waiting and not no_confirmation_email:
                address = sub.subscriber.email or email
                _send_confirmation(sub.id, address, sub.subscriber.name, mlist.name)
            return
        result = add_subscriber(session, mlist, email, secret, **fields)
        if result.created:
            typer.echo(f"added {result.subscriber.email} to {mlist.slug} (active)")
        else:
            typer.echo(f"{result.subscriber.email} is already on {mlist.slug}; details updated")


def _send_confirmation(subscription_id: int, email: str, name: str | None, list_name: str) -> None:
    """The double opt-in email, as the web's subscribe form sends it, through MAILER_SMTP_URL
    (the outbox or the relay); exits 1 saying how to send it again when it did not go out."""
    from mailer.errors import MailerError
    from mailer.sending import confirmations

    settings = get_settings()
    token = confirmations.confirm_token(subscription_id, settings.secret())
    message = confirmations.build_confirmation(
        settings,
        email=email,
        list_name=list_name,
        url=confirmations.confirm_url(settings, token),
        name=name or "",
    )
    again = "`mailer subscribers add --pending` again sends a new one"
    try:
        reply = confirmations.send_confirmation(settings, message)
    except (OSError, MailerError) as exc:
        typer.echo(f"confirmation email to {email} not sent: {exc}; {again}", err=True)
        raise typer.Exit(1) from None
    if not reply.accepted:
        typer.echo(f"confirmation email to {email} refused: {reply}; {again}", err=True)
        raise typer.Exit(1)
    typer.echo(f"confirmation sent to {email} ({reply})")


@app.command("remove")
def remove(
    email: str = typer.Argument(..., help="The subscriber's address", parser=email_value),
    list_slug: str | None = typer.Option(None, "--list", help="Unsubscribe from this list"),
    all_lists: bool = typer.Option(
        False, "--all", help="Unsubscribe from every list and suppress the address"
    ),
    reason: str = typer.Option("removed by an admin", "--reason", help="Kept with the record"),
) -> None:
    """Unsubscribe from a list (the record and its history are kept)."""
    if (list_slug is None) == (not all_lists):
        raise InvalidInput("give either --list SLUG or --all")
    secret = get_settings().secret()
    with session_scope() as session:
        if all_lists:
            unsubscribe_everywhere(session, email, secret, reason)
            typer.echo(f"unsubscribed {email.strip().lower()} from every list and suppressed it")
            return
        assert list_slug is not None  # noqa: S101 - narrowed by the check above
        mlist = get_list(session, list_slug)
        sub = unsubscribe_from_list(session, mlist, email, reason)
        when = f"{sub.unsubscribed_at:%Y-%m-%d %H:%M} UTC" if sub.unsubscribed_at else ""
        typer.echo(f"unsubscribed {sub.subscriber.email} from {mlist.slug} ({when})")


def _collect(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    # The engagement history is asked for here: the root command loads only this module, so
    # nothing else would import mailer.cli.engagement to register it.
    from mailer.cli.engagement import subscriber_sections

    for section in (*EXTRA_SECTIONS, subscriber_sections):
        section(session, data)
    return data


def _shown_time(value: object) -> object:
    """An ISO timestamp of the record as a person reads it (`2026-12-03 10:07 UTC`); anything
    else as it is."""
    from datetime import UTC, datetime

    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and value[10:11] == "T":
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return value
        if when.tzinfo is not None:
            when = when.astimezone(UTC)
        return f"{when:%Y-%m-%d %H:%M} UTC"
    return value


def _item_line(item: object) -> str:
    """One entry of a section of `show` on one line: a record's fields as `field value` pairs
    (a click: `campaign 1 · url … · first at 2026-12-03 10:07 UTC · clicks 1`), never the
    Python repr of a dict; empty fields left out."""
    if not isinstance(item, dict):
        return _printable(item)
    return " · ".join(
        f"{key.replace('_', ' ')} {_printable(_shown_time(value))}"
        for key, value in item.items()
        if value not in (None, "")
    )


@app.command("show")
def show(
    email: str = typer.Argument(..., help="The subscriber's address", parser=email_value),
) -> None:
    """Everything about one subscriber: status, lists, suppression, bounces, deliveries."""
    secret = get_settings().secret()
    with session_scope() as session:
        data = _collect(session, describe(session, email, secret))
    person = data["subscriber"]
    typer.echo(data["email"])
    if person is None:
        typer.echo("  no subscriber record")
    else:
        typer.echo(f"  status:     {person['status']}")
        for label, key in (("name", "name"), ("company", "company"), ("language", "language")):
            typer.echo(f"  {label + ':':<11} {_printable(person[key] or '-')}")
        typer.echo(f"  tags:       {', '.join(person['tags']) or '-'}")
        for key, value in sorted(person["attributes"].items()):
            typer.echo(f"  attr.{_printable(key)}: {_printable(value)}")
        consent = person["consent"]
        if consent["at"]:
            typer.echo(
                f"  consent:    {consent['method']} ({consent['source']}) "
                f"{_shown_time(consent['at'])}"
            )
    typer.echo("lists:")
    if not data["subscriptions"]:
        typer.echo("  none")
    for s in data["subscriptions"]:
        dates = f"since {s['subscribed_at'][:10]}"
        if s["unsubscribed_at"]:
            dates += f", unsubscribed {s['unsubscribed_at'][:10]} ({s['unsubscribe_reason']})"
        typer.echo(f"  {s['list']}: {s['status']} ({dates})")
    sup = data["suppression"]
    typer.echo(
        "suppression: "
        + (f"{sup['reason']} since {sup['since'][:10]}" if sup else "not suppressed")
        + (f" ({sup['detail']})" if sup and sup["detail"] else "")
    )
    known = {"email", "subscriber", "subscriptions", "suppression"}
    for key in data:
        if key in known:
            continue
        items = data[key]
        typer.echo(f"{key}:")
        for item in items or []:
            typer.echo(f"  {_item_line(item)}")
        if not items:
            typer.echo("  none")


@app.command("export-data")
def export_data_(
    email: str = typer.Argument(..., help="The person's address", parser=email_value),
) -> None:
    """GDPR access: print everything held about the person as JSON."""
    secret = get_settings().secret()
    with session_scope() as session:
        data = _collect(session, export_data(session, email, secret))
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.command("forget")
def forget_(
    email: str = typer.Argument(..., help="The person's address", parser=email_value),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation"),
) -> None:
    """GDPR erasure: delete the person's data, keep only a keyed hash so they are never re-added."""
    # Asked before the question, so that it says what would happen: an address with no record
    # (a typo, or someone never subscribed) only goes on the suppression list.
    with session_scope() as session:
        known = get_subscriber(session, email) is not None
    question = (
        f"Erase everything held about {email.strip()}? This cannot be undone"
        if known
        else f"{email.strip()} has no subscriber record. Put it on the suppression list (as a "
        "keyed hash only), so it is never added or mailed?"
    )
    if not yes and not typer.confirm(question, default=False):
        # As `mailer send` answers a no: nothing done is not an error (exit 0).
        typer.echo("not erased: nothing was changed")
        raise typer.Exit(0)
    secret = get_settings().secret()
    with session_scope() as session:
        from mailer.engagement.erasure import erase_mailer_rows

        # The mailer's rows about the person (inbound mail, bounces, inquiries, clicks) go first,
        # while the subscriber id they are keyed on still exists; same transaction as the erasure.
        erase_mailer_rows(session, email)
        forgotten = forget(session, email, secret)
    what = (
        "erased the subscriber's data" if forgotten is not None else "no subscriber record to erase"
    )
    typer.echo(f"{what}; the address is kept only as a keyed hash on the suppression list")


def _inbound_sections(session: Session, data: dict[str, Any]) -> None:
    """Bounces, complaints and inquiries (mailer/inbound/access.py) for show and export-data,
    imported when a command asks, so that the others start without the inbound modules."""
    from mailer.inbound.access import inbound_sections

    inbound_sections(session, data)


EXTRA_SECTIONS.append(_inbound_sections)
