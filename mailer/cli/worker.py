"""`mailer worker` and `mailer beat`: the Celery processes."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import typer

from mailer.errors import ConfigError
from mailer.settings import get_settings


def worker(
    concurrency: int = typer.Option(2, "--concurrency", "-c", help="Sending processes."),
    loglevel: str = typer.Option("INFO", "--loglevel", "-l"),
) -> None:
    """Run a Celery worker that sends campaigns (needs MAILER_BROKER_URL)."""
    get_settings().require_production_ready("`mailer worker`")
    if not get_settings().broker_url:
        raise ConfigError(
            "`mailer worker` needs a broker: set MAILER_BROKER_URL "
            "(e.g. redis://127.0.0.1:6379/0); "
            "without one, `mailer send` does the work in its own process"
        )
    from mailer.worker import app

    app.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            f"--loglevel={loglevel}",
            "-Q",
            "mailer",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def beat(loglevel: str = typer.Option("INFO", "--loglevel", "-l")) -> None:
    """Start scheduled campaigns when due and retry deferred messages."""
    settings = get_settings()
    settings.require_production_ready("`mailer beat`")
    if not settings.broker_url:
        from mailer.sending import tasks

        typer.echo(f"no broker: checking every {settings.beat_interval:g} s in this process")
        while True:
            result = tasks.tick() or {}
            if any(result.values()):
                typer.echo(f"tick: {result}")
            time.sleep(settings.beat_interval)
    from mailer.worker import app

    # The schedule file only remembers when `tick` last ran: a private one per process, so two
    # beats (or tests) on one machine never share it.
    schedule = Path(tempfile.mkdtemp(prefix="mailer-beat-")) / "schedule"
    app.start(["beat", f"--loglevel={loglevel}", f"--schedule={schedule}"])
