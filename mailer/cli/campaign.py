"""`mailer campaign …` and `mailer report`: watch and steer campaigns."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.content.models import Issue
from mailer.db import session_scope
from mailer.errors import NotFound
from mailer.sending import campaigns
from mailer.sending.models import Campaign, CampaignStatus
from mailer.sending.schedule import describe
from mailer.settings import get_settings
from subscribers.models import MailingList, Segment

app = typer.Typer(
    help="Campaigns: list, status, pause, resume, cancel, retry failed.", no_args_is_help=True
)
console = Console()


@app.command("list")
def list_() -> None:
    """Every campaign, newest first, with its progress (fits 80 columns)."""
    zone = get_settings().zone()
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
    with session_scope() as session:
        rows = session.execute(
            select(Campaign, Issue.slug, MailingList.slug, Segment.slug)
            .join(Issue, Issue.id == Campaign.issue_id)
            .join(MailingList, MailingList.id == Campaign.list_id)
            .outerjoin(Segment, Segment.id == Campaign.segment_id)
            .order_by(Campaign.id.desc())
        ).all()
        for campaign, issue_slug, list_slug, segment_slug in rows:
            c = campaigns.counts(session, campaign.id)
            table.add_row(
                str(campaign.id),
                issue_slug,
                f"{list_slug}\n› {segment_slug or campaign.expression or 'everyone'}",
                campaign.status.value,
                str(c["sent"]),
                str(c["failed"]),
                str(c["deferred"]),
                str(campaign.total),
            )
            if campaign.status == CampaignStatus.SCHEDULED and campaign.scheduled_at:
                scheduled.append(
                    f"campaign {campaign.id} scheduled for {describe(campaign.scheduled_at, zone)}"
                )
    if not rows:
        console.print("no campaigns yet; `mailer send SLUG --list LIST` creates one")
        return
    console.print(table)
    for line in scheduled:
        console.print(line, highlight=False)


@app.command()
def status(campaign_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Status and counts of one campaign, and why mail is deferred or failed."""
    with session_scope() as session:
        p = campaigns.progress(session, campaign_id)
        campaign = campaigns.get(session, campaign_id)
        groups = campaigns.by_last_reply(session, campaign_id)
    console.print(f"campaign {p.campaign_id}: {p.status}", highlight=False)
    if p.status == CampaignStatus.SCHEDULED.value and campaign.scheduled_at:
        zone = get_settings().zone()
        console.print(f"  scheduled for {describe(campaign.scheduled_at, zone)}", highlight=False)
    if p.reason:
        console.print(f"  {p.reason}", highlight=False)
    console.print("  " + "  ".join(f"{k} {v}" for k, v in p.counts.items()), highlight=False)
    console.print(f"  total {p.total}  rate {p.rate:.1f}/s", highlight=False)
    for group in groups:
        console.print(f"  {group}", highlight=False, soft_wrap=True)


@app.command()
def pause(campaign_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Stop sending after the batches in flight finish their current chunk."""
    with session_scope() as session:
        campaigns.pause(session, campaign_id)
    console.print(f"campaign {campaign_id} paused")


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
def resume(campaign_id: int = typer.Argument(..., metavar="ID"), no_wait: bool = NO_WAIT) -> None:
    """Continue a paused campaign where it stopped."""
    with session_scope() as session:
        campaigns.resume(session, campaign_id)
    _send_the_rest(campaign_id, no_wait)
    console.print(f"campaign {campaign_id} resumed")


@app.command()
def cancel(campaign_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Stop for good; deliveries not yet sent are marked skipped."""
    with session_scope() as session:
        campaigns.cancel(session, campaign_id)
    console.print(f"campaign {campaign_id} cancelled")


@app.command("retry-failed")
def retry_failed(
    campaign_id: int = typer.Argument(..., metavar="ID"), no_wait: bool = NO_WAIT
) -> None:
    """Try the failed deliveries once more (e.g. after fixing the relay)."""
    with session_scope() as session:
        n = campaigns.retry_failed(session, campaign_id)
    if n:
        _send_the_rest(campaign_id, no_wait)
    console.print(f"campaign {campaign_id}: {n} failed deliveries queued again")


def report(target: str = typer.Argument(..., metavar="SLUG|ID")) -> None:
    """Counts by status, rate, duration, deferred and failed mail grouped by last reply, and
    engagement: unique clickers, click rate, clicks per item, unsubscribes, complaints."""
    # Imported here: the engagement report's modules are heavy and only `report` needs them.
    from mailer.cli.engagement import print_engagement

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
            p = campaigns.progress(session, cid)
            console.rule(f"campaign {cid}")
            console.print(f"status    {p.status} {p.reason}".rstrip(), highlight=False)
            console.print(f"total     {p.total}")
            for key, value in p.counts.items():
                console.print(f"{key:<9} {value}")
            if p.started_at:
                end = p.finished_at
                duration = f"{(end - p.started_at).total_seconds():.1f} s" if end else "running"
                console.print(f"duration  {duration}")
                console.print(f"rate      {p.rate:.1f} messages/s")
            _inbound_lines(session, cid)
            print_engagement(session, cid)
            groups = campaigns.by_last_reply(session, cid)
            if groups:
                console.print("not delivered, by last reply:")
                for group in groups:
                    console.print(f"  {group}", highlight=False, soft_wrap=True)


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
