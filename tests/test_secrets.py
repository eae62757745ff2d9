"""Secrets are never printed: URL passwords are replaced in the CLI, the admin, the logs and error
messages; capability tokens are cut from access-log paths; the embedded default's database, its
WAL files and the outbox are owner-only."""

from __future__ import annotations

import logging
import os
import stat
import sys
import time
from pathlib import Path

import httpx
import pytest

from mailer import tokens
from mailer.sending import confirmations
from mailer.sending.transport import make_transport
from mailer.settings import Settings, redact
from mailer.web.logs import RedactingFilter, cut_tokens
from tests.conftest import BRIEFING
from tests.webserver import free_port, mailer_env, mailer_web, run_cli

PASSWORD = "hunter2-Sup3r"  # noqa: S105  (a test value that must never be shown)
BAD_SMTP = f"smpt://editor:{PASSWORD}@relay.example.com:587"  # a typo in the scheme


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (BAD_SMTP, "smpt://editor:***@relay.example.com:587"),
        (f"smtp+starttls://u:{PASSWORD}@relay:587", "smtp+starttls://u:***@relay:587"),
        (f"smtps://u:{PASSWORD}@relay", "smtps://u:***@relay"),
        (
            f"postgresql+psycopg://mailer:{PASSWORD}@db/mailer",
            "postgresql+psycopg://mailer:***@db/mailer",
        ),
        (f"redis://:{PASSWORD}@redis:6379/0", "redis://:***@redis:6379/0"),
        # unencoded @ and / inside the password still hide all of it
        ("smtp://u:p@ss/w0rd@relay:25", "smtp://u:***@relay:25"),
        (f"amqp://guest@rabbit//?password={PASSWORD}", "amqp://guest@rabbit//?password=***"),
        ("smtp://relay:25", "smtp://relay:25"),
        ("sqlite:///mailer.db", "sqlite:///mailer.db"),
        ("outbox://./outbox", "outbox://./outbox"),
    ],
)
def test_redact_hides_every_url_password_and_keeps_the_rest(url: str, shown: str) -> None:
    assert redact(url) == shown
    assert redact(f"error: {url!r} failed") == f"error: {shown!r} failed"


def test_settings_repr_shows_no_key_and_no_password() -> None:
    text = repr(
        Settings(
            smtp_url=BAD_SMTP,
            database_url=f"postgresql+psycopg://m:{PASSWORD}@db/m",
            secret_key=PASSWORD,
            previous_secret_keys=[PASSWORD],
        )
    )
    assert PASSWORD not in text
    assert "smpt://editor:***@relay.example.com:587" in text


def test_an_unknown_smtp_scheme_is_named_without_its_password() -> None:
    """Hostile (mistyped) input: `smpt://editor:PASSWORD@relay…`."""
    with pytest.raises(Exception) as info:
        make_transport(BAD_SMTP)
    assert "smpt://editor:***@relay.example.com:587" in str(info.value)
    assert PASSWORD not in str(info.value)


def test_the_cli_prints_the_smtp_error_without_the_password(tmp_path: Path) -> None:
    env = mailer_env(tmp_path, f"sqlite:///{tmp_path / 'mailer.db'}", BAD_SMTP, free_port())
    for args in (
        ("db", "upgrade"),
        ("issue", "import", str(BRIEFING)),
        ("list", "create", "briefing", "--name", "Briefing"),
    ):
        assert run_cli(env, *args, cwd=tmp_path).returncode == 0
    done = run_cli(
        env,
        "send", "security-chatter-2025-04-09", "--list", "briefing",
        "--test", "editor@example.com", "--yes",
        cwd=tmp_path,
    )  # fmt: skip
    shown = done.stdout + done.stderr
    assert done.returncode == 1, shown
    assert "smpt://editor:***@relay.example.com:587" in shown
    assert PASSWORD not in shown and "Traceback" not in shown


def test_a_log_record_loses_tokens_and_passwords_but_keeps_its_route() -> None:
    token = "k3jx9f2mq7wz1p0abcde4fgh5j"  # noqa: S105  (a made-up token)
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", f"/u/{token}/preferences?x=1", "1.1", 200),
        None,
    )  # fmt: skip
    RedactingFilter().filter(record)
    assert record.getMessage() == (
        '127.0.0.1:5000 - "POST /u/[token]/preferences?x=1 HTTP/1.1" 200'
    )
    try:
        raise RuntimeError(f"cannot reach {BAD_SMTP}")
    except RuntimeError:
        failed = logging.LogRecord(
            "mailer", logging.ERROR, __file__, 1, "send failed", None, sys.exc_info()
        )
    RedactingFilter().filter(failed)
    formatted = logging.Formatter().format(failed)
    assert PASSWORD not in formatted and "smpt://editor:***@" in formatted
    assert cut_tokens("/confirm/ABC123/x /archive/slug") == "/confirm/[token]/x /archive/slug"


@pytest.mark.slow
def test_the_web_log_holds_no_token_and_no_password(tmp_path: Path) -> None:
    """`mailer web` as a process with a mistyped SMTP URL: a reader opens an unsubscribe link and
    a confirmation link, someone subscribes (the confirmation cannot be sent); the log shows the
    routes and the error, but neither the tokens nor the password."""
    port = free_port()
    env = mailer_env(tmp_path, f"sqlite:///{tmp_path / 'mailer.db'}", BAD_SMTP, port)
    assert run_cli(env, "db", "upgrade", cwd=tmp_path).returncode == 0
    assert run_cli(env, "list", "create", "briefing", "--name", "B", cwd=tmp_path).returncode == 0
    secret = env["MAILER_SECRET_KEY"]
    unsubscribe = tokens.delivery_token(424242, secret)
    confirm = confirmations.confirm_token(4242, secret)
    log = tmp_path / "web.log"
    with mailer_web(env, port, log) as base:
        with httpx.Client(base_url=base, timeout=30) as client:
            assert client.get(f"/u/{unsubscribe}").status_code in (200, 404)
            assert client.get(f"/confirm/{confirm}").status_code in (200, 404)
            client.post(
                "/subscribe/briefing",
                data={"email": "reader@example.com", "name": "Reader"},
                headers={"Origin": base},
            )
            assert client.get("/archive").status_code == 200  # a last line, after the above
        # The confirmation is tried after the answer: wait for its warning (and the last line).
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            text = log.read_text()
            if "/archive" in text and "not sent" in text:
                break
            time.sleep(0.05)
    assert "/u/[token]" in text and "/confirm/[token]" in text, text
    assert unsubscribe not in text and unsubscribe.lower() not in text
    assert confirm not in text and confirm.lower() not in text
    assert PASSWORD not in text
    assert "smpt://editor:***@relay.example.com:587" in text, text


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_embedded_default_keeps_its_files_owner_only(tmp_path: Path) -> None:
    """`mailer demo` in an empty folder with the default settings and the usual umask 022."""
    env = mailer_env(tmp_path, "sqlite:///mailer.db", "outbox://./outbox", free_port())
    for key in ("MAILER_DATABASE_URL", "MAILER_SMTP_URL", "MAILER_SECRET_KEY"):
        del env[key]
    previous = os.umask(0o022)
    try:
        done = run_cli(env, "demo", cwd=tmp_path)
    finally:
        os.umask(previous)
    assert done.returncode == 0, done.stdout + done.stderr
    db = tmp_path / "mailer.db"
    assert _mode(db) == 0o600
    assert _mode(tmp_path / "mailer.secret") == 0o600
    outbox = tmp_path / "outbox"
    assert _mode(outbox) == 0o700
    messages = list(outbox.glob("*.eml"))
    assert messages and all(_mode(m) == 0o600 for m in messages)
    # SQLite gives its WAL and shared-memory files the database's mode; open one to see them.
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS probe (x)")
    conn.execute("INSERT INTO probe VALUES (1)")
    conn.commit()
    wal, shm = tmp_path / "mailer.db-wal", tmp_path / "mailer.db-shm"
    assert wal.exists() and shm.exists()
    assert _mode(wal) == 0o600 and _mode(shm) == 0o600
    conn.close()
