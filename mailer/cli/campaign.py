"""`mailer campaign …` and `mailer report`: watch and steer campaigns.

Start-up: this module imports neither SQLAlchemy nor the models nor the settings at the top; each
command imports what it uses. `campaign list` reads the database without either: its one
statement is written with the ORM (`listing_statement`), compiled ahead of time into
`LISTING_SQL` (the same text for SQLite and PostgreSQL; tests/cli/test_startup.py compiles it
again for both and fails on any difference, so the models stay the one source of truth), and run
on the driver itself (the standard library's sqlite3 for a SQLite file, psycopg for a
`postgresql+psycopg://` URL), with the database URL read as the settings read it
(`quick_setting`). Importing SQLAlchemy with the models and pydantic-settings would otherwise be
most of the command's time (bench/startup.py). Anything unusual (another driver, a SQLite URL with
options, a database without the tables) takes the ORM path, which gives the same rows or says what
is wrong; a PostgreSQL server that cannot be reached is told at once, in the ORM path's words.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, NamedTuple

import typer
from rich.console import Console
from rich.table import Table

from mailer.cli import campaign_id_value, sending_time
from mailer.errors import NotFound, cannot_connect

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.orm import Session

app = typer.Typer(
    help="Campaigns: list, status, pause, resume, cancel, retry failed.", no_args_is_help=True
)
console = Console()


class Listed(NamedTuple):
    """One row of `campaign list`: the campaign, its slugs and its delivery counts."""

    id: int
    issue: str
    list: str
    segment: str | None
    expression: str | None
    status: str  # the CampaignStatus value
    sent: int
    failed: int
    deferred: int
    total: int
    scheduled_at: datetime | None  # aware, UTC
    recipients: int  # counted when created (recounted at the start): a scheduled one's audience


def listing_statement() -> Select[Any]:
    """Every campaign, newest first: id, issue, list and segment slugs, expression, status,
    sent, failed and deferred deliveries (index `ix_delivery_campaign_status`), total, and
    the send time, the recipients counted. The columns are `Listed`'s, in order."""
    from sqlalchemy import func, select

    from mailer.content.models import Issue
    from mailer.sending.models import Campaign, Delivery, DeliveryStatus
    from subscribers.models import MailingList, Segment

    def count(status: DeliveryStatus) -> Any:
        return (
            select(func.count())
            .where(Delivery.campaign_id == Campaign.id, Delivery.status == status)
            .scalar_subquery()
        )

    return (
        select(
            Campaign.id,
            Issue.slug,
            MailingList.slug,
            Segment.slug,
            Campaign.expression,
            Campaign.status,
            count(DeliveryStatus.SENT),
            count(DeliveryStatus.FAILED),
            count(DeliveryStatus.DEFERRED),
            Campaign.total,
            Campaign.scheduled_at,
            Campaign.recipients,
        )
        .join(Issue, Issue.id == Campaign.issue_id)
        .join(MailingList, MailingList.id == Campaign.list_id)
        .outerjoin(Segment, Segment.id == Campaign.segment_id)
        .order_by(Campaign.id.desc())
    )


# `listing_statement()` compiled with its values inline, the same for SQLite and PostgreSQL;
# regenerate with `python -c "from mailer.cli.campaign import compile_listing as c; print(c())"`.
LISTING_SQL = (
    "SELECT campaign.id, issue.slug, mailing_list.slug AS slug_1, segment.slug AS slug_2, "
    "campaign.expression, campaign.status, (SELECT count(*) AS count_1 FROM delivery WHERE "
    "delivery.campaign_id = campaign.id AND delivery.status = 'sent') AS anon_1, (SELECT "
    "count(*) AS count_2 FROM delivery WHERE delivery.campaign_id = campaign.id AND "
    "delivery.status = 'failed') AS anon_2, (SELECT count(*) AS count_3 FROM delivery WHERE "
    "delivery.campaign_id = campaign.id AND delivery.status = 'deferred') AS anon_3, "
    "campaign.total, campaign.scheduled_at, campaign.recipients FROM campaign JOIN issue ON "
    "issue.id = campaign.issue_id JOIN mailing_list ON mailing_list.id = campaign.list_id LEFT "
    "OUTER JOIN segment ON segment.id = campaign.segment_id ORDER BY campaign.id DESC"
)


def compile_listing(dialect: str = "sqlite") -> str:
    """`listing_statement()` as `dialect`'s text (sqlite, postgresql), values inline: what
    `LISTING_SQL` must be for both."""
    from sqlalchemy.dialects import postgresql, sqlite

    compiled = listing_statement().compile(
        dialect={"sqlite": sqlite, "postgresql": postgresql}[dialect].dialect(),
        compile_kwargs={"literal_binds": True},
    )
    return " ".join(str(compiled).split())  # one line: SQL's own whitespace carries no meaning


def quick_setting(name: str, default: str) -> str:
    """The setting `MAILER_<NAME>` read as mailer.settings.Settings reads it, without importing
    pydantic-settings: the environment first, then `.env` in the current folder (python-dotenv,
    which pydantic-settings uses), names in any case, an empty value meaning "not set".
    For plain string settings without a validator only (tests/cli/test_startup.py compares)."""
    key = f"mailer_{name}"
    value = ""
    if os.path.isfile(".env"):
        from dotenv import dotenv_values

        for k, v in dotenv_values(".env", encoding="utf-8").items():
            if k.lower() == key and v:
                value = v
    for k, v in os.environ.items():
        if k.lower() == key and v:
            value = v
    return value or default


DEFAULT_DATABASE_URL = "sqlite:///mailer.db"  # Settings.database_url's (tests/cli compare them)
_PLAIN_SQLITE = re.compile(r"sqlite(\+pysqlite)?:///(?P<path>[^?#%]+)")
_PSYCOPG = "postgresql+psycopg://"


def _listing_quick() -> list[Listed] | None:
    """The listing read on the driver itself (`_listing_from_sqlite`, `_listing_from_postgresql`);
    None when neither applies and the ORM path must read it."""
    listed = _listing_from_sqlite()
    return _listing_from_postgresql() if listed is None else listed


def _listing_from_postgresql() -> list[Listed] | None:
    """The listing read with psycopg and `LISTING_SQL`; None when that path does not apply: a
    URL other than `postgresql+psycopg://`, or an error the ORM path then reports in its own words
    (no tables, an option libpq does not take). A server that cannot be reached (or has no such
    database) is told here, as the ORM path would (DatabaseUnreachable).

    The URL's rest is libpq's: SQLAlchemy hands psycopg the same host, port, user, password,
    database and query options (each one a libpq parameter), percent-decoded alike."""
    url = quick_setting("database_url", DEFAULT_DATABASE_URL)
    if not url.startswith(_PSYCOPG):
        return None
    import psycopg

    try:
        conn = psycopg.connect("postgresql://" + url.removeprefix(_PSYCOPG))
    except psycopg.OperationalError as exc:  # the ORM path would say the same, slower
        raise cannot_connect(url, str(exc)) from None
    except psycopg.Error:
        return None
    try:
        with conn:
            rows = conn.execute(LISTING_SQL).fetchall()
    except psycopg.Error:
        return None
    # UTCDateTime on PostgreSQL: timestamptz, aware in the session's zone.
    return [
        Listed._make((*row[:10], row[10].astimezone(UTC) if row[10] else None, row[11]))
        for row in rows
    ]


def _listing_from_sqlite() -> list[Listed] | None:
    """The listing read with sqlite3 and `LISTING_SQL`; None when that path does not apply:
    a database other than a plain SQLite file that exists, or one without the tables."""
    import sqlite3

    match = _PLAIN_SQLITE.fullmatch(quick_setting("database_url", DEFAULT_DATABASE_URL))
    if match is None or match["path"] == ":memory:" or match["path"].startswith("file:"):
        return None
    path = match["path"]
    if not os.path.isfile(path):
        return None  # the ORM path says to run `mailer db upgrade` (and creates nothing)
    # timeout: the engine's busy_timeout (subscribers.db): a writer may hold the lock a while.
    conn = sqlite3.connect(path, timeout=30)
    try:
        rows = conn.execute(LISTING_SQL).fetchall()
    except sqlite3.OperationalError:
        return None  # no tables (or an older schema): the ORM path says what to do
    finally:
        conn.close()
    # UTCDateTime on SQLite: naive ISO text, in UTC.
    return [
        Listed._make(
            (
                *row[:10],
                datetime.fromisoformat(row[10]).replace(tzinfo=UTC) if row[10] else None,
                row[11],
            )
        )
        for row in rows
    ]


def _listing_from_orm() -> list[Listed]:
    from mailer.db import session_scope

    with session_scope() as session:
        return [
            Listed._make((*row[:5], row[5].value, *row[6:]))
            for row in session.execute(listing_statement())
        ]


def _zone() -> tzinfo:
    """MAILER_TIMEZONE; the settings themselves when it is not a zone (they say what is wrong)."""
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(quick_setting("timezone", "UTC"))
    except (ValueError, KeyError, OSError):
        from mailer.settings import get_settings

        return get_settings().zone()


@app.command("list")
def list_() -> None:
    """Every campaign, newest first, with its progress (fits 80 columns)."""
    listed = _listing_quick()
    if listed is None:
        listed = _listing_from_orm()
    _print_listing(listed)


def _not_started(c: Listed) -> bool:
    """Nothing snapshotted yet: its total of 0 would read as "sends to nobody"."""
    from mailer.sending.schedule import not_started

    return not_started(c.status, c.total)


def _print_listing(listed: list[Listed]) -> None:
    """`campaign list`'s table (80 columns) and the scheduled campaigns' send times."""
    from mailer.sending.schedule import describe

    if not listed:
        console.print("no campaigns yet; `mailer send SLUG --list LIST` creates one")
        return
    # 80 columns: the list and its segment share a column, one above the other, and only an
    # issue slug longer than 26 characters folds.
    table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), header_style="bold underline")
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("issue", overflow="fold")
    table.add_column("list / segment", overflow="fold")
    table.add_column("status", no_wrap=True)
    for name in ("sent", "fail", "defer", "total"):
        table.add_column(name, justify="right", no_wrap=True)
    scheduled: list[str] = []
    for c in listed:
        table.add_row(
            str(c.id),
            c.issue,
            f"{c.list}\n› {c.segment or c.expression or 'everyone'}",
            c.status,
            str(c.sent),
            str(c.failed),
            str(c.deferred),
            # Not started: nothing snapshotted (a total of 0 read as "sends to nobody"); the
            # recipients it was counted for, marked as a count, not a snapshot.
            f"~{c.recipients}" if _not_started(c) else str(c.total),
        )
        if c.status == "scheduled" and c.scheduled_at:
            scheduled.append(f"campaign {c.id} scheduled for {describe(c.scheduled_at, _zone())}")
    if any(_not_started(c) for c in listed):
        scheduled.append(
            "~N: not started yet; the recipients counted when the campaign was created "
            "(counted again when it starts)"
        )
    console.print(table)
    for line in scheduled:
        console.print(line, highlight=False)


CAMPAIGN_ID = typer.Argument(..., metavar="ID", parser=campaign_id_value)


@app.command()
def status(campaign_id: int = CAMPAIGN_ID) -> None:
    """Status and counts of one campaign, and why mail is deferred or failed."""
    from mailer.db import session_scope
    from mailer.sending import campaigns, progress
    from mailer.sending.models import CampaignStatus
    from mailer.sending.schedule import describe, not_started
    from mailer.settings import get_settings

    with session_scope() as session:
        p = progress.progress(session, campaign_id)
        campaign = campaigns.get(session, campaign_id)
        groups = progress.by_last_reply(session, campaign_id)
        console.print(f"campaign {p.campaign_id}: {p.status}", highlight=False)
        _audience_lines(session, campaign, indent="  ")
    unstarted = not_started(p.status, p.total)
    if campaign.scheduled_at and (p.status == CampaignStatus.SCHEDULED.value or unstarted):
        zone = get_settings().zone()
        console.print(f"  scheduled for {describe(campaign.scheduled_at, zone)}", highlight=False)
    if p.reason:
        console.print(f"  {p.reason}", highlight=False)
    if unstarted and p.status == CampaignStatus.PAUSED.value and campaign.scheduled_at:
        console.print(
            f"  `mailer campaign resume {campaign_id}` schedules it again (or starts it now, "
            "if that time has passed)",
            highlight=False,
        )
    if unstarted:
        console.print(
            f"  not started: {campaign.recipients} recipients when counted at its creation "
            "(counted again when it starts)",
            highlight=False,
        )
        return
    console.print("  " + "  ".join(f"{k} {v}" for k, v in p.counts.items()), highlight=False)
    console.print(f"  total {p.total}  rate {p.rate:.1f}/s", highlight=False)
    _print_groups(groups)


def _print_groups(groups: list[Any]) -> None:
    """Deferred and failed mail by last reply, indented; a long SMTP reply folds within the
    terminal's width (80 columns too) instead of running past it."""
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1, 0, 0))
    table.add_column(no_wrap=True)  # the indent
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(overflow="fold")
    for group in groups:
        table.add_row(" ", group.status, str(group.count), f"— {group.reply}")
    if groups:
        console.print(table, highlight=False)


@app.command()
def pause(campaign_id: int = CAMPAIGN_ID) -> None:
    """Stop sending: a batch stops before its next message (the one in flight finishes)."""
    from mailer.db import session_scope
    from mailer.sending import campaigns

    with session_scope() as session:
        campaigns.pause(session, campaign_id)
    console.print(f"campaign {campaign_id} paused{_after_stop(campaign_id)}", highlight=False)


STOP_WAIT = 10.0  # seconds a pause or cancel waits for the batches in flight to stop


def _after_stop(campaign_id: int) -> str:
    """The counts once the batches sending the campaign have stopped (each stops before its
    next message, its claim then ended), waited for up to STOP_WAIT seconds: what the command
    prints is then what stays, not rows a batch was still recording."""
    import time

    from sqlalchemy import select

    from mailer.db import session_scope
    from mailer.sending import campaigns, owners
    from mailer.sending.models import DeliveryClaim

    end = time.monotonic() + STOP_WAIT
    while True:
        with session_scope() as session:
            claimed_by = session.scalars(
                select(DeliveryClaim.owner).where(DeliveryClaim.campaign_id == campaign_id)
            )
            held = sum(not owners.gone(owner) for owner in claimed_by)  # a stopped one never ends
            counts = campaigns.counts(session, campaign_id)
        if not held or time.monotonic() > end:
            break
        time.sleep(0.1)
    summary = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    still = f"; {held} batch(es) still finishing their message in flight" if held else ""
    return f": {summary or 'no deliveries'}{still}"


NO_WAIT = typer.Option(
    False, "--no-wait", help="Without a broker: send one pass and leave deferred mail to the beat."
)


def _send_the_rest(campaign_id: int, no_wait: bool) -> None:
    """After a committed resume or retry: the unfinished deliveries go out through the one
    dispatch path, as the web's and the API's do. With a broker they are enqueued. Without one
    they are sent here, with `mailer send`'s progress bar, and deferred mail is retried until the
    campaign ends (the web's resume does the same in the background); `no_wait` sends one pass."""
    from mailer.cli.send import follow_here
    from mailer.sending import dispatch  # brings in the Celery app, which reads the settings

    runner = dispatch.continue_sending(campaign_id, keep_retrying=not no_wait, watch=False)
    follow_here(campaign_id, runner, no_wait or runner is None)


@app.command()
def resume(campaign_id: int = CAMPAIGN_ID, no_wait: bool = NO_WAIT) -> None:
    """Continue a paused campaign where it stopped, or start one that never began.

    A planned campaign whose `mailer send` was stopped before sending began (or whose broker
    was down) is started now. Without a broker, also a campaign left "sending" by a `mailer`
    process that is gone (killed, its machine restarted): the rows it held are sent from here.
    Claims keep two processes from sending one row, so this is safe even while another process
    still sends the campaign."""
    from mailer.db import session_scope
    from mailer.sending import campaigns, dispatch
    from mailer.sending.models import CampaignStatus

    with session_scope() as session:
        status = campaigns.get(session, campaign_id).status
        if status == CampaignStatus.PLANNED:
            campaigns.check_startable(session, campaign_id)
        elif status == CampaignStatus.SENDING and dispatch.embedded():
            campaigns.deferred_due_now(session, campaign_id)  # its sender is gone: taken up
        else:
            status = campaigns.resume(session, campaign_id)
        scheduled_at = campaigns.get(session, campaign_id).scheduled_at
    if status == CampaignStatus.PLANNED:
        _start_now(campaign_id, no_wait)
        return
    if status == CampaignStatus.SCHEDULED and scheduled_at is not None:
        from mailer.sending.schedule import describe
        from mailer.settings import get_settings

        when = describe(scheduled_at, get_settings().zone())
        console.print(
            f"campaign {campaign_id} resumed: scheduled again for {when}; `mailer beat` starts "
            "it when due",
            highlight=False,
        )
        return
    # Said first: what follows is the sending it resumed (a bar, then the final counts).
    console.print(f"campaign {campaign_id} resumed")
    _send_the_rest(campaign_id, no_wait)


def _start_now(campaign_id: int, no_wait: bool) -> None:
    """A planned campaign that never began (its `mailer send` stopped before the snapshot, its
    broker was down): started as `mailer send` starts one; the start is leased, so a start
    already running elsewhere makes this one do nothing."""
    from mailer.cli.send import follow_here
    from mailer.sending import dispatch

    console.print(f"campaign {campaign_id} had not started: starting it now")
    runner = dispatch.start(campaign_id, keep_retrying=not no_wait, watch=False)
    follow_here(campaign_id, runner, no_wait or runner is None)


@app.command()
def cancel(campaign_id: int = CAMPAIGN_ID) -> None:
    """Stop for good; deliveries not yet sent are marked skipped (a batch sending stops before
    its next message and skips the rest of its rows)."""
    from mailer.db import session_scope
    from mailer.sending import campaigns

    with session_scope() as session:
        campaigns.cancel(session, campaign_id)
    console.print(f"campaign {campaign_id} cancelled{_after_stop(campaign_id)}", highlight=False)


@app.command("retry-failed")
def retry_failed(campaign_id: int = CAMPAIGN_ID, no_wait: bool = NO_WAIT) -> None:
    """Try the failed deliveries once more (e.g. after fixing the relay)."""
    from mailer.db import session_scope
    from mailer.sending import campaigns

    with session_scope() as session:
        n = campaigns.retry_failed(session, campaign_id)
    console.print(f"campaign {campaign_id}: {campaigns.retried(n)}", highlight=False)
    if n:
        _send_the_rest(campaign_id, no_wait)


def report(
    target: str = typer.Argument(
        ...,
        metavar="SLUG|ID",
        help="A campaign's id (as `mailer campaign list` shows), or an issue's slug: every "
        "campaign of that issue",
    ),
) -> None:
    """Counts by status, rate, duration, deferred and failed mail grouped by last reply, and
    engagement: unique clickers, click rate, clicks per item, unsubscribes, complaints."""
    # Imported here: the engagement report's modules are heavy and only `report` needs them.
    from sqlalchemy import select

    from mailer.cli.engagement import print_engagement
    from mailer.content.models import Issue
    from mailer.db import session_scope
    from mailer.sending import campaigns, progress
    from mailer.sending.models import Campaign
    from mailer.sending.schedule import not_started

    with session_scope() as session:
        if target.isdigit():
            ids = [campaigns.get(session, int(target)).id]
        else:
            issue = session.scalar(select(Issue).where(Issue.slug == target))
            if issue is None:
                raise NotFound(f"no campaign or issue {target!r}; see `mailer campaign list`")
            ids = list(
                session.scalars(
                    select(Campaign.id).where(Campaign.issue_id == issue.id).order_by(Campaign.id)
                )
            )
            if not ids:
                console.print(f"issue {target} has not been sent yet")
                return
        for cid in ids:
            p = progress.progress(session, cid)
            campaign = campaigns.get(session, cid)
            _report_header(session, campaign)
            # "cancelled by an editor" says the status already: not "cancelled cancelled by…".
            said = p.reason if p.reason.startswith(p.status) else f"{p.status} {p.reason}"
            console.print(f"status    {said}".rstrip(), highlight=False)
            if not_started(p.status, p.total):
                console.print(f"not started: {campaign.recipients} recipients when counted")
            else:
                console.print(f"total     {p.total}")
                for key, value in p.counts.items():
                    console.print(f"{key:<9} {value}")
            if p.sending_seconds is not None:
                console.print(f"duration  {sending_time(p)}", highlight=False)
                console.print(f"rate      {p.rate:.1f} messages/s")
            _inbound_lines(session, cid)
            print_engagement(session, cid)
            groups = progress.by_last_reply(session, cid)
            if groups:
                console.print("not delivered, by last reply:")
                _print_groups(groups)


def _report_header(session: Session, campaign: Any) -> None:
    """The campaign's rule, then what was sent to whom (see `_audience_lines`)."""
    console.rule(f"campaign {campaign.id}")
    _audience_lines(session, campaign)


def _audience_lines(session: Session, campaign: Any, indent: str = "") -> None:
    """`issue SLUG` and `to LIST › segment SLUG` (or › the expression), folding within the
    terminal's width: what `campaign status` and `mailer report` say was sent to whom."""
    from subscribers.models import MailingList, Segment

    mailing_list = session.get(MailingList, campaign.list_id)
    segment = session.get(Segment, campaign.segment_id) if campaign.segment_id else None
    audience = mailing_list.slug if mailing_list else f"list {campaign.list_id}"
    if segment is not None:
        audience += f" › segment {segment.slug}"
    elif campaign.expression:
        audience += f" › {campaign.expression}"
    header = Table.grid(padding=(0, 1, 0, 0))
    if indent:
        header.add_column(no_wrap=True, min_width=len(indent) - 1)
    header.add_column(no_wrap=True, min_width=9 - len(indent))
    header.add_column(overflow="fold")  # a long slug folds under itself, never past the edge
    margin = [" " * (len(indent) - 1)] if indent else []
    header.add_row(*margin, "issue", campaign.issue.slug)
    header.add_row(*margin, "to", audience)
    console.print(header, highlight=False)


def _inbound_lines(session: Session, campaign_id: int) -> None:
    """What came back for this campaign: bounces, complaints and client inquiries."""
    from mailer.inbound import bounces, complaints, inquiries

    b = bounces.counts_for_campaign(session, campaign_id)
    q = inquiries.counts_for_campaign(session, campaign_id)
    c = complaints.complaint_counts(session, campaign_id)
    console.print(f"bounces   {b['hard']} hard, {b['soft']} soft", highlight=False)
    limit = complaints.COMPLAINT_RATE_LIMIT
    verdict = "OVER the 0.3% bulk-sender line" if c.over_limit else f"under the {limit:.1%} line"
    console.print(
        f"complaints {c.complaints} of {c.delivered} delivered ({c.rate:.2%}, {verdict})",
        highlight=False,
    )
    console.print(f"inquiries {q['total']} ({q['sent']} forwarded)", highlight=False)
