"""`mailer admin …`: admin users (web login) and API tokens.

Users: create-user, set-password, disable, enable, list-users. Tokens: create-token (with scopes
and an expiry), list-tokens, revoke-token. Passwords are asked twice on a terminal, or read from
the first line of stdin when it is not one (`echo … | mailer admin create-user`, or
`--password-stdin`), never taken from the command line, where `ps` and the shell's history would
keep them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime

import typer

app = typer.Typer(help="Admin users (web login) and API tokens.", no_args_is_help=True)

PASSWORD_STDIN = typer.Option(
    False,
    "--password-stdin",
    help="Read the password from the first line of stdin (the default when stdin is piped).",
)


def _password(from_stdin: bool) -> str:
    from mailer.accounts import AuthError

    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise AuthError("--password-stdin: stdin gave an empty password")
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _when(value: datetime | None, empty: str = "-") -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value is not None else empty


@app.command("create-user")
def create_user(
    email: str = typer.Argument(..., metavar="EMAIL", help="The address the admin logs in with."),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Create an admin user; the password is asked twice, or read from piped stdin."""
    from mailer.accounts import create_user
    from mailer.db import session_scope

    password = _password(password_stdin)
    with session_scope() as session:
        user = create_user(session, email, password)
        login = user.email
    from mailer.settings import get_settings

    typer.echo(f"admin user {login} created; log in at {get_settings().public_url}/admin/login")


@app.command("set-password")
def set_password(
    email: str = typer.Argument(..., metavar="EMAIL"),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Give an admin user a new password; every session they have open ends."""
    from mailer.accounts import set_password
    from mailer.db import session_scope

    password = _password(password_stdin)
    with session_scope() as session:
        login = set_password(session, email, password).email
    typer.echo(f"password of {login} changed; their open sessions were signed out")


@app.command("disable")
def disable(email: str = typer.Argument(..., metavar="EMAIL")) -> None:
    """Stop an admin user from signing in; their open sessions end at once."""
    from mailer.accounts import list_users, set_active
    from mailer.db import session_scope

    with session_scope() as session:
        login = set_active(session, email, False).email
        others = [u.email for u in list_users(session) if u.active]
    typer.echo(f"admin user {login} disabled (undo with `mailer admin enable {login}`)")
    if not others:
        typer.echo("note: no admin user can sign in now; enable one or create one", err=True)


@app.command("enable")
def enable(email: str = typer.Argument(..., metavar="EMAIL")) -> None:
    """Let a disabled admin user sign in again (with their existing password)."""
    from mailer.accounts import set_active
    from mailer.db import session_scope

    with session_scope() as session:
        login = set_active(session, email, True).email
    typer.echo(f"admin user {login} enabled")


@app.command("list-users")
def list_users() -> None:
    """Every admin user: address, whether they may sign in, when created, last sign-in."""
    from mailer.accounts import list_users
    from mailer.db import session_scope

    with session_scope() as session:
        rows = [
            (
                u.email,
                "active" if u.active else "disabled",
                _when(u.created_at),
                _when(u.last_login_at, "never"),
            )
            for u in list_users(session)
        ]
    if not rows:
        typer.echo("no admin users yet: create one with `mailer admin create-user EMAIL`")
        return
    _table(("EMAIL", "STATUS", "CREATED", "LAST SIGN-IN"), rows)


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@app.command("create-token")
def create_token(
    name: str = typer.Argument(..., metavar="NAME", help="Who or what will use the token."),
    scope: list[str] = typer.Option(
        ["read"],
        "--scope",
        help="What the token may do, repeatable or comma-separated: read (every GET), "
        "subscribers (create lists, add and unsubscribe subscribers), send (campaigns).",
    ),
    expires: str = typer.Option(
        "90d",
        "--expires",
        help="When it stops working: a duration (90d, 12h, 8w, 1y), a date (2026-12-31) or never.",
    ),
) -> None:
    """Create an API bearer token. It is printed once: only its hash is stored."""
    from mailer.accounts import create_token, parse_expiry
    from mailer.db import session_scope

    with session_scope() as session:
        token, row = create_token(session, name, scopes=scope, expires_at=parse_expiry(expires))
        scopes, until = ", ".join(row.scope_list), _when(row.expires_at, "never")
    typer.echo(
        f"API token {name!r} created (scopes: {scopes}; expires: {until}). "
        "Copy it now; it cannot be shown again:",
        err=True,
    )
    typer.echo(token)


@app.command("list-tokens")
def list_tokens() -> None:
    """Every API token: name, first characters, scopes, expiry, last use and state."""
    from mailer.accounts import list_tokens
    from mailer.db import session_scope, utcnow

    now = utcnow()
    with session_scope() as session:
        rows = [
            (
                t.name,
                t.prefix + "…",
                ",".join(t.scope_list),
                _when(t.expires_at, "never"),
                _when(t.last_used_at, "never"),
                t.state(now),
            )
            for t in list_tokens(session)
        ]
    if not rows:
        typer.echo("no API tokens: create one with `mailer admin create-token NAME --scope read`")
        return
    _table(("NAME", "TOKEN", "SCOPES", "EXPIRES", "LAST USED", "STATE"), rows)


@app.command("revoke-token")
def revoke_token(name: str = typer.Argument(..., metavar="NAME")) -> None:
    """Revoke an API token by name: requests with it get 401 from now on."""
    from mailer.accounts import revoke_token
    from mailer.db import session_scope

    with session_scope() as session:
        revoke_token(session, name)
    typer.echo(f"API token {name!r} revoked")
