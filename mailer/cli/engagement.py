"""Engagement in the CLI: `mailer digest send`, the per-item table of `mailer report`, and the
history that `mailer subscribers show` and `export-data` print (mailer/engagement/).

`mailer report` imports this module for its table: the digest's rendering and sending are
imported in `digest send` only (start-up)."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from mailer.cli import campaign_id_value
from mailer.engagement import reports

app = typer.Typer(help="The partner's follow-up digest of a campaign.", no_args_is_help=True)
console = Console()


@app.command("send")
def send(
    campaign_id: int = typer.Argument(..., metavar="CAMPAIGN", parser=campaign_id_value),
    partner: str | None = typer.Option(
        None, "--partner", help="The partner (slug) to send it to; default: the issue's author"
    ),
    preview: bool = typer.Option(
        False, "--preview", help="Print the digest instead of sending it (nothing is recorded)"
    ),
) -> None:
    """Send (or preview) the campaign's digest now; a digest already sent is not sent again.

    Exits 0 when the digest is sent or was sent before; 1 when it is not out (refused,
    deferred, or held by another process: the message says what to do)."""
    from mailer.db import get_sessionmaker, session_scope
    from mailer.engagement import digest as digests
    from mailer.sending import campaigns
    from mailer.sending.transport import make_transport
    from mailer.settings import get_settings

    settings = get_settings()
    with session_scope() as session:
        campaign = campaigns.get(session, campaign_id)
        if preview:
            from mailer.content.partners import get_partner

            who = get_partner(session, partner) if partner else campaign.issue.partner
            built = digests.build_digest(session, campaign_id, who, settings.public_url)
            subject, text, _html = digests.render_digest(built, settings)
            typer.echo(f"To: {who.name} <{who.email}>\nSubject: {subject}\n\n{text}")
            return
    # send_digest commits its claim and outcome itself: it gets the factory, not this session.
    transport = make_transport(settings.smtp_url)
    try:
        result = digests.send_digest(
            get_sessionmaker(),
            campaign_id,
            settings,
            transport,
            partner_slug=partner,
            retry_failed=True,
        )
    finally:
        transport.close()
    if result.sent:
        typer.echo(
            f"digest of campaign {campaign_id} sent to {result.partner_slug} "
            f"({result.readers} readers)"
        )
        return
    typer.echo(f"digest of campaign {campaign_id} not sent: {result.detail}")
    if result.outcome not in (digests.Outcome.ALREADY_SENT, digests.Outcome.NOTHING_SENT):
        raise typer.Exit(1)


def print_engagement(session: Session, campaign_id: int) -> None:
    """The engagement lines and per-item table of `mailer report`."""
    e = reports.campaign_engagement(session, campaign_id)
    bounced = e.sent - e.delivered
    console.print(
        f"delivered {e.delivered}"
        + (f" of {e.sent} sent ({bounced} bounced after the relay took them)" if bounced else ""),
        highlight=False,
    )
    console.print(
        f"clickers  {e.unique_clickers} unique ({e.click_rate:.1%} of delivered)", highlight=False
    )
    if e.opens is not None:
        console.print(f"{reports.OPENS_CAVEAT}: {e.opens}", highlight=False)
    # Complaints have their own line in the report (with the rate and the bulk-sender line).
    console.print(f"unsubscribes {e.unsubscribes}", highlight=False)
    if e.machine_hits:
        console.print(
            f"automated fetches {e.machine_hits} (link scanners, HEAD; not counted)",
            highlight=False,
        )
    if not e.links:
        console.print(f"links     {reports.no_links_reason(session, e)}", highlight=False)
        return
    # 80 columns: numbers never wrap, titles and URLs fold rather than lose their ends.
    table = Table(title="clicks per item")
    table.add_column("link", overflow="fold", ratio=2)
    table.add_column("clickers", justify="right", no_wrap=True)
    table.add_column("scanners", justify="right", no_wrap=True)
    table.add_column("url", overflow="fold", ratio=3)
    for link in e.links:
        table.add_row(link.title, str(link.clickers), str(link.machine_hits), link.url)
    console.print(table)


def subscriber_sections(session: Session, data: dict[str, Any]) -> None:
    """History (campaigns received, items clicked, inquiries) for `show`; clicks for the export."""
    person = data.get("subscriber")
    if person is None:
        return
    history = reports.subscriber_history(session, person["id"])
    if not history:  # only sections with something in them, like the inbound ones
        return
    data["history"] = [
        f"campaign {h.campaign_id} {h.issue_slug}"
        + (f" ({h.sent_at:%Y-%m-%d})" if h.sent_at else "")
        + (f"; clicked: {', '.join(h.clicked)}" if h.clicked else "; no clicks")
        + (f"; inquiries: {h.inquiries}" if h.inquiries else "")
        for h in history
    ]
    clicks = reports.subscriber_clicks(session, person["id"])
    if clicks:
        data["clicks"] = clicks
