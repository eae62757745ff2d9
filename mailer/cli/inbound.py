"""`mailer inbound` and `mailer inquiries …`: mail that comes back."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailer.db import session_scope
from mailer.settings import get_settings

inquiries = typer.Typer(help="Client replies routed to partners.", no_args_is_help=True)


def inbound(
    listen: str | None = typer.Option(
        None, "--listen", help="HOST:PORT (default: MAILER_INBOUND_LISTEN, 127.0.0.1:2525)"
    ),
) -> None:
    """Receive replies, bounces and unsubscribe requests by SMTP (aiosmtpd) until stopped."""
    import logging

    from mailer.inbound.receive import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    settings.secret()  # fail now, with a clear message, if there is no key to verify tokens

    def ready(host: str, port: int) -> None:
        limit = settings.inbound_max_bytes
        typer.echo(
            f"mailer inbound listening on {host}:{port} for *@{settings.mail_domain} "
            f"(reply+, bounces+, unsubscribe+; max {limit} bytes)",
        )

    serve(settings, listen, on_ready=ready)


@inquiries.command("list")
def list_(
    partner: str | None = typer.Option(None, "--partner", help="Only this partner's (slug)"),
) -> None:
    """Client replies forwarded to partners, newest first."""
    from mailer.inbound.inquiries import list_inquiries

    with session_scope() as session:
        rows = list_inquiries(session, partner)
    if not rows:
        typer.echo("no inquiries" + (f" for {partner}" if partner else ""))
        return
    table = Table("id", "received", "partner", "client", "subject", "issue", "status")
    for r in rows:
        cells = (r.id, f"{r.received_at:%Y-%m-%d %H:%M}", r.partner, r.client, r.subject, r.issue)
        # Text(), not markup: a subject like "[bold]" is the client's, printed as written.
        table.add_row(*(Text(str(c)) for c in (*cells, r.status)))
    Console(width=200).print(table, highlight=False)
