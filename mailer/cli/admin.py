"""`mailer admin …`: admin users (web login) and API tokens."""

from __future__ import annotations

import sys

import typer

app = typer.Typer(help="Admin users (web login) and API tokens.", no_args_is_help=True)


@app.command("create-user")
def create_user(
    email: str = typer.Argument(..., metavar="EMAIL", help="The address the admin logs in with."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
) -> None:
    """Create an admin user; the password is asked twice (or read from stdin)."""
    from mailer.accounts import AuthError, create_user
    from mailer.db import session_scope

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise AuthError("--password-stdin: stdin gave an empty password")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with session_scope() as session:
        user = create_user(session, email, password)
        login = user.email
    typer.echo(f"admin user {login} created; log in at /admin/login")


@app.command("create-token")
def create_token(
    name: str = typer.Argument(..., metavar="NAME", help="Who or what will use the token."),
) -> None:
    """Create an API bearer token. It is printed once: only its hash is stored."""
    from mailer.accounts import create_token
    from mailer.db import session_scope

    with session_scope() as session:
        token, _row = create_token(session, name)
    typer.echo(f"API token {name!r} created. Copy it now; it cannot be shown again:", err=True)
    typer.echo(token)


@app.command("revoke-token")
def revoke_token(name: str = typer.Argument(..., metavar="NAME")) -> None:
    """Revoke an API token by name: requests with it get 401 from now on."""
    from mailer.accounts import revoke_token
    from mailer.db import session_scope

    with session_scope() as session:
        revoke_token(session, name)
    typer.echo(f"API token {name!r} revoked")
