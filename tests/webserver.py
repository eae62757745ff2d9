"""`mailer web` as a real process for end-to-end tests, and the `mailer` CLI run as a subprocess.

The process gets its own environment (database, SMTP relay, secret, public URL) and no broker,
so campaigns are sent in-process by the web server itself, as in the embedded default.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import POSTAL_ADDRESS
from tests.smtpd import free_port

MAILER = [sys.executable, "-c", "from mailer.cli import main; main()"]


def mailer_env(tmp_path: Path, database_url: str, smtp_url: str, port: int) -> dict[str, str]:
    """The environment of a `mailer` process for one test: nothing inherited from MAILER_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILER_")}
    env.update(
        {
            "MAILER_DATABASE_URL": database_url,
            "MAILER_SMTP_URL": smtp_url,
            "MAILER_POSTAL_ADDRESS": POSTAL_ADDRESS,
            "MAILER_SECRET_KEY": "e2e-secret-key-" + "y" * 32,
            "MAILER_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "MAILER_MAIL_DOMAIN": "news.example.com",
            "MAILER_FROM": "Miranda Delphi Solutions <briefing@news.example.com>",
            "MAILER_RETRY_BASE_DELAY": "0.2",
        }
    )
    return env


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None, cwd: Path | None = None):  # type: ignore[no-untyped-def]
    """Run `mailer ARGS…` as its own process; returns the CompletedProcess (text)."""
    return subprocess.run(
        [*MAILER, *args],
        input=stdin,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextmanager
def mailer_web(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """Start `mailer web --port PORT`, wait until it answers, yield its base URL, stop it."""
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*MAILER, "web", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"mailer web exited: {log.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(base + "/openapi.json", timeout=2):  # noqa: S310
                        break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    if time.monotonic() > deadline:
                        raise RuntimeError("mailer web did not start in 30 s") from None
                    time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


__all__ = ["free_port", "mailer_env", "mailer_web", "run_cli"]
