"""`mailer web`: the HTTP server (unsubscribe, subscribe, archive, admin, API)."""

import typer

from mailer.settings import get_settings


def web(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
) -> None:
    """Serve the public pages, the admin area and the API."""
    import uvicorn

    # Fail early, naming the variable, on a bad setting or (in production) a placeholder.
    get_settings().require_production_ready("`mailer web`")
    uvicorn.run("mailer.web.app:create_app", factory=True, host=host, port=port)
