"""`mailer inbound`, `mailer inbound classify` and `mailer inquiries …`: mail that comes back."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mailer.cli import listen_problem
from mailer.db import session_scope
from mailer.settings import get_settings

inquiries = typer.Typer(help="Client replies routed to partners.", no_args_is_help=True)
app = typer.Typer(
    help=(
        "Receive replies, bounces and complaints by SMTP; `classify` judges files.\n\n"
        "Limits (settings): MAILER_INBOUND_MAX_BYTES a message; MAILER_INBOUND_TIMEOUT seconds "
        "idle or in DATA and MAILER_INBOUND_SESSION_SECONDS a session; "
        "MAILER_INBOUND_MAX_SESSIONS connections in all and MAILER_INBOUND_MAX_SESSIONS_PER_PEER "
        "from one address (past them: 421, try again later)."
    ),
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

    from mailer.db import require_schema
    from mailer.inbound.receive import serve

    settings = get_settings()
    settings.require_production_ready("`mailer inbound`")
    settings.secret()  # fail now, with a clear message, if there is no key to verify tokens
    listen = _check_listen(listen, settings.inbound_listen)
    # Refuse now, not on every message: no database file, or one without the tables.
    require_schema(settings.database_url)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # aiosmtpd's session log names every sender and every reply+TOKEN address at INFO (and
    # "Connection lost" after each QUIT): personal data and live tokens in logs, and noise.
    logging.getLogger("mail.log").setLevel(logging.WARNING)

    def ready(host: str, port: int) -> None:
        limit = settings.inbound_max_bytes
        typer.echo(
            f"mailer inbound listening on {host}:{port} for *@{settings.mail_domain} "
            f"(reply+, bounces+, unsubscribe+; max {limit} bytes a message, "
            f"{settings.inbound_max_sessions} connections, "
            f"{settings.inbound_max_sessions_per_peer} from one address)",
        )

    serve(settings, listen, on_ready=ready)


def _check_listen(option: str | None, setting: str) -> str:
    """The address to listen on (--listen, else MAILER_INBOUND_LISTEN), checked that it is
    HOST:PORT and free to bind; what is wrong names where the value came from (a usage error
    for the option, a setting error for the variable)."""
    from mailer.errors import ConfigError
    from mailer.inbound.receive import parse_listen

    value, source = (setting, "MAILER_INBOUND_LISTEN") if option is None else (option, "--listen")
    try:
        host, port = parse_listen(value, source)
    except ConfigError as exc:
        if option is None:
            raise
        message = str(exc).removeprefix("--listen ")
        raise typer.BadParameter(message, param_hint="'--listen'") from None
    problem = listen_problem(host, port, "another `mailer inbound` or a mail server?")
    if problem is not None:
        if option is None:
            raise ConfigError(f"MAILER_INBOUND_LISTEN: {problem[1]}")
        raise typer.BadParameter(problem[1], param_hint="'--listen'")
    return value


def _check_rcpt(rcpt: str | None) -> str | None:
    """`--rcpt` must be an address (`local@domain`), or the verdict would be about nothing."""
    if rcpt is None:
        return None
    local, at, domain = rcpt.strip().strip("<>").rpartition("@")
    if not at or not local or ("." not in domain and domain != "localhost") or " " in rcpt.strip():
        raise typer.BadParameter(
            f"{rcpt!r} is not an email address: give the address the message was received at, "
            "e.g. reply+TOKEN@news.firm.com (or leave --rcpt out to take it from the message)",
            param_hint="--rcpt",
        )
    return rcpt.strip()


def _recipient(raw: bytes, rcpt: str | None, domain: str) -> tuple[str, str]:
    """The address to judge the message as received at, and where it came from."""
    from mailer.inbound.judgement import UnreadableMessage, parse_safely
    from mailer.inbound.message import our_recipient

    if rcpt is not None:
        return rcpt, "--rcpt"
    try:
        msg = parse_safely(raw)
    except UnreadableMessage:
        return "", "none"
    found = our_recipient(msg, domain) or our_recipient(msg, None)
    return found if found is not None else ("", "none")


def _judged(
    path: Path, raw: bytes, mail_from: str | None, address: str, domain: str
) -> dict[str, object]:
    """One file's verdict as the record `classify` prints (or writes as JSON)."""
    from mailer.inbound.judgement import UnreadableMessage, judge

    try:
        verdict = judge(raw, mail_from=mail_from, rcpt_to=address, domain=domain)
    except UnreadableMessage as exc:
        return {
            "file": str(path),
            "kind": "unreadable",
            "rule": "",
            "reason": str(exc),
            "recipients": [],
        }
    return {
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


def _read_message(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None once the reason it cannot be judged is printed: it cannot be
    read, or it is larger than `limit` (MAILER_INBOUND_MAX_BYTES, past which `mailer inbound`
    refuses a message with 552). Never more than `limit` + 1 bytes are read, whatever the file
    (a 40 MB file took 6 s and 380 MB to judge)."""
    too_big = (
        f"{path}: larger than {limit:,} bytes, the most `mailer inbound` accepts "
        "(MAILER_INBOUND_MAX_BYTES); not judged"
    )
    try:
        if path.is_file() and (size := path.stat().st_size) > limit:
            typer.echo(too_big.replace("larger than", f"{size:,} bytes, larger than", 1), err=True)
            return None
        with path.open("rb") as f:  # a pipe or device has no size: read only so far
            raw = f.read(limit + 1)
    except OSError as exc:
        typer.echo(f"{path}: cannot read: {exc.strerror}", err=True)
        return None
    if len(raw) > limit:
        typer.echo(too_big, err=True)
        return None
    return raw


@app.command("classify")
def classify(
    files: list[Path] = typer.Argument(..., help="Raw messages (.eml), as received"),
    rcpt: str | None = typer.Option(
        None,
        "--rcpt",
        help="Judge as received at this address (its token is not verified); default: the "
        "reply+/bounces+/unsubscribe+ address in the message's Delivered-To, X-Original-To, To "
        "or Cc",
    ),
    mail_from: str | None = typer.Option(
        None, "--mail-from", help='The envelope sender ("" for the null sender; default: unknown)'
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per file, one per line"),
) -> None:
    """Judge raw messages without acting on them and without a database."""
    from mailer.inbound.message import looks_like_message

    rcpt = _check_rcpt(rcpt)
    limit = get_settings().inbound_max_bytes
    failed = False
    for path in files:
        raw = _read_message(path, limit)
        if raw is None:
            failed = True
            continue
        if not looks_like_message(raw):
            typer.echo(
                f"{path}: not an email message (it does not start with a header field such as "
                "'From: …'); give a raw message as received (.eml)",
                err=True,
            )
            failed = True
            continue
        address, source = _recipient(raw, rcpt, get_settings().mail_domain)
        domain = address.rpartition("@")[2] if "@" in address else get_settings().mail_domain
        record = _judged(path, raw, mail_from, address, domain)
        record["rcpt"], record["rcpt_from"] = address, source
        if as_json:
            typer.echo(json.dumps(record, ensure_ascii=False))
            continue
        typer.echo(f"{path}: {record['kind']} ({record['rule'] or '-'}): {record['reason']}")
        if rcpt is None:
            typer.echo(
                f"  as received at {address} (from its {source} header)"
                if address
                else "  as received at none of our addresses (none in Delivered-To, "
                "X-Original-To, To or Cc; --rcpt names one)"
            )
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
