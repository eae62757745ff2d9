"""`mailer inbound`, `mailer inbound classify` and `mailer inquiries …`: mail that comes back."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailer.db import session_scope
from mailer.settings import get_settings

inquiries = typer.Typer(help="Client replies routed to partners.", no_args_is_help=True)
app = typer.Typer(
    help="Receive replies, bounces and complaints by SMTP; `classify` judges files.",
    invoke_without_command=True,
)


@app.callback()
def inbound(
    ctx: typer.Context,
    listen: str | None = typer.Option(
        None, "--listen", help="HOST:PORT (default: MAILER_INBOUND_LISTEN, 127.0.0.1:2525)"
    ),
) -> None:
    """Receive replies, bounces and unsubscribe requests by SMTP (aiosmtpd) until stopped."""
    if ctx.invoked_subcommand is not None:
        return
    import logging

    from mailer.inbound.receive import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    settings.require_production_ready("`mailer inbound`")
    settings.secret()  # fail now, with a clear message, if there is no key to verify tokens

    def ready(host: str, port: int) -> None:
        limit = settings.inbound_max_bytes
        typer.echo(
            f"mailer inbound listening on {host}:{port} for *@{settings.mail_domain} "
            f"(reply+, bounces+, unsubscribe+; max {limit} bytes)",
        )

    serve(settings, listen, on_ready=ready)


@app.command("classify")
def classify(
    files: list[Path] = typer.Argument(..., help="Raw messages (.eml), as received"),
    rcpt: str | None = typer.Option(
        None, "--rcpt", help="Judge as received at this address (its token is not verified)"
    ),
    mail_from: str | None = typer.Option(
        None, "--mail-from", help='The envelope sender ("" for the null sender; default: unknown)'
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per file, one per line"),
) -> None:
    """Judge raw messages without acting on them and without a database."""
    from mailer.inbound.judgement import UnreadableMessage, judge

    domain = rcpt.rpartition("@")[2] if rcpt and "@" in rcpt else get_settings().mail_domain
    failed = False
    record: dict[str, object]
    for path in files:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            typer.echo(f"{path}: cannot read: {exc.strerror}", err=True)
            failed = True
            continue
        try:
            verdict = judge(raw, mail_from=mail_from, rcpt_to=rcpt or "", domain=domain)
        except UnreadableMessage as exc:
            record = {"file": str(path), "kind": "unreadable", "rule": "", "reason": str(exc)}
            record["recipients"] = []
        else:
            record = {
                "file": str(path),
                "kind": verdict.kind.value,
                "rule": verdict.rule,
                "reason": verdict.reason,
                "recipients": [
                    {
                        "address": f.recipient,
                        "original": f.original_recipient,
                        "status": f.status,
                        "reason": f.reason,
                        "hard": f.hard,
                        "action": f.action,
                        "diagnostic": f.diagnostic[:300],
                    }
                    for f in verdict.failures
                ],
            }
        if as_json:
            typer.echo(json.dumps(record, ensure_ascii=False))
            continue
        typer.echo(f"{path}: {record['kind']} ({record['rule'] or '-'}): {record['reason']}")
        for r in record["recipients"]:  # type: ignore[attr-defined]
            hard = "hard" if r["hard"] else "soft"
            typer.echo(f"  {r['address'] or '-'} {r['status'] or '-'} {r['reason']} {hard}")
    if failed:
        raise typer.Exit(1)


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
    # 80 columns: id, time and status never wrap; who wrote to whom, the subject and the issue
    # share one column, a line each, and fold there.
    table = Table(box=None, pad_edge=False, padding=(0, 1, 0, 0), header_style="bold underline")
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("received", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("client → partner / subject / issue", overflow="fold")
    for r in rows:
        # Text(), not markup: a subject like "[bold]" is the client's, printed as written.
        detail = Text(f"{r.client} → {r.partner}\n{r.subject}\nre {r.issue}")
        table.add_row(str(r.id), f"{r.received_at:%Y-%m-%d %H:%M}", Text(str(r.status)), detail)
    Console().print(table, highlight=False)
