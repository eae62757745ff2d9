"""`mailer web`: the HTTP server (unsubscribe, subscribe, archive, admin, API)."""

from typing import Any

import typer

from mailer.cli import listen_problem
from mailer.settings import get_settings


def _check_can_listen(host: str, port: int) -> None:
    """A port in use or an address this host does not have is told as the option to change,
    not as a server log."""
    problem = listen_problem(host, port, "another `mailer web`?")
    if problem is not None:
        which, message = problem
        raise typer.BadParameter(message, param_hint=f"'--{which}'")


def public_url_mismatch(public_url: str, port: int) -> str:
    """Why links would miss this server: MAILER_PUBLIC_URL names this machine (loopback or
    localhost) on another port, so every link in mail and in the admin's messages would point at
    a server that is not this one. "" when they agree, or when a proxy may sit in between (any
    other host)."""
    from urllib.parse import urlsplit

    parts = urlsplit(public_url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return ""
    named = parts.port or (443 if parts.scheme == "https" else 80)
    if named == port:
        return ""
    return (
        f"MAILER_PUBLIC_URL is {public_url}, but this server listens on port {port}: links in "
        f"mail and in the admin will point at port {named}. Set MAILER_PUBLIC_URL to the address "
        "readers use to reach this server."
    )


def web(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
) -> None:
    """Serve the public pages, the admin area and the API."""
    from mailer.db import require_schema

    # Fail early, naming the variable, on a bad setting or (in production) a placeholder.
    settings = get_settings()
    settings.require_production_ready("`mailer web`")
    # Refuse now, not with a 500 on every request: no database file, or one without the tables.
    require_schema(settings.database_url)
    _check_can_listen(host, port)
    mismatch = public_url_mismatch(settings.public_url, port)
    if mismatch:
        typer.echo(f"warning: {mismatch}", err=True)
    import uvicorn

    uvicorn.run(
        "mailer.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        **proxy_options(settings.trusted_proxies),
    )


def proxy_options(trusted_proxies: list[str]) -> dict[str, Any]:
    """uvicorn's proxy settings from MAILER_TRUSTED_PROXIES, always explicit: left to itself
    uvicorn believes X-Forwarded-For from 127.0.0.1 (or $FORWARDED_ALLOW_IPS), so any client
    that reaches the server from this machine, or through a proxy that passes the header on,
    would choose the address the login throttle and the subscribe limits count it under."""
    return {"proxy_headers": bool(trusted_proxies), "forwarded_allow_ips": list(trusted_proxies)}
