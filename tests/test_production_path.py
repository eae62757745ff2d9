"""The README's production path, followed as a new user would on one machine.

`.env` is `.env.example` copied, with only the database, broker and SMTP URLs pointed at local
services (a fresh PostgreSQL database, a private redis-server, an aiosmtpd relay). First with its
placeholders left in: every command that sends or serves refuses and names each variable. Then
with them filled: `mailer db upgrade`, the issue and subscribers imported, worker, beat, web and
inbound run as processes, and `mailer send` reaches every subscriber.
"""

from __future__ import annotations

import os
import re
import secrets
import smtplib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import BRIEFING, SUBSCRIBERS_CSV, _pg_admin
from tests.processes import wait_until
from tests.redis_server import RedisServer
from tests.smtpd import SMTPServer, free_port

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("MAILER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
PLACEHOLDERS = (
    "MAILER_SECRET_KEY",
    "MAILER_POSTAL_ADDRESS",
    "MAILER_MAIL_DOMAIN",
    "MAILER_PUBLIC_URL",
    "MAILER_FROM",
    "MAILER_FIRM_NAME",
    "MAILER_NEWSLETTER_NAME",
)
FILLED = {
    "MAILER_SECRET_KEY": secrets.token_urlsafe(48),
    "MAILER_POSTAL_ADDRESS": "Miranda Delphi Solutions · Paseo de la Reforma 250, Mexico City",
    "MAILER_MAIL_DOMAIN": "news.mirandadelphi.mx",
    "MAILER_PUBLIC_URL": "https://news.mirandadelphi.mx",
    "MAILER_FROM": "Miranda Delphi Solutions <briefing@news.mirandadelphi.mx>",
    "MAILER_FIRM_NAME": "Miranda Delphi Solutions",
    "MAILER_NEWSLETTER_NAME": "Security Chatter",
}

pytestmark = pytest.mark.slow


@pytest.fixture
def database() -> Iterator[str]:
    """An empty PostgreSQL database: the README's `mailer db upgrade` creates the schema."""
    name = f"mailer_prod_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_SERVER}/{name}"
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def set_lines(env_file: Path, values: dict[str, str]) -> None:
    """Change `NAME=value` lines of the .env file in place, as an editor would."""
    text = env_file.read_text()
    for name, value in values.items():
        text, n = re.subn(rf"^{name}=.*$", f"{name}={value}", text, flags=re.M)
        assert n == 1, f"{name} is not a line of .env.example"
    env_file.write_text(text)


class Folder:
    """The deployment folder: `.env` there, every `mailer` command run from it."""

    def __init__(self, path: Path):
        self.path = path
        # Only what .env says: no MAILER_* from the test runner's environment.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MAILER_")}
        self.procs: list[subprocess.Popen[bytes]] = []

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mailer", *args],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.path / f"{name}.log", "wb")  # noqa: SIM115  (closed with the process)
        proc = subprocess.Popen(
            [sys.executable, "-m", "mailer", *args],
            cwd=self.path,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        return (self.path / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait(timeout=20)


def test_the_readme_production_path(tmp_path: Path, database: str) -> None:
    redis_server = RedisServer(tmp_path / "redis")
    redis_server.start()
    folder = Folder(tmp_path / "deploy")
    folder.path.mkdir()
    env_file = folder.path / ".env"
    env_file.write_text((ROOT / ".env.example").read_text())
    web_port, inbound_port = free_port(), free_port()
    try:
        with SMTPServer() as relay:
            set_lines(
                env_file,
                {
                    "MAILER_DATABASE_URL": database,
                    "MAILER_BROKER_URL": redis_server.url,
                    "MAILER_SMTP_URL": relay.url,
                },
            )
            # Setting up touches no placeholder: the schema, the issue, a list, its subscribers.
            assert "created the schema" in folder.ok("db", "upgrade")
            slug = folder.ok("issue", "import", str(BRIEFING)).split()[-1]
            folder.ok("list", "create", "clients", "--name", "Security Chatter")
            imported = folder.ok("subscribers", "import", str(SUBSCRIBERS_CSV), "--list", "clients")
            count = int(re.search(r"(\d+) imported", imported).group(1))  # type: ignore[union-attr]

            # Placeholders left in: every command that sends or serves refuses, naming them all.
            commands = {
                "web": ("web", "--host", "127.0.0.1", "--port", str(web_port)),
                "worker": ("worker", "--concurrency", "1"),
                "beat": ("beat",),
                "inbound": ("inbound", "--listen", f"127.0.0.1:{inbound_port}"),
                "send": ("send", slug, "--list", "clients", "--yes"),
            }
            refused = {
                name: subprocess.Popen(
                    [sys.executable, "-m", "mailer", *args],
                    cwd=folder.path,
                    env=folder.env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for name, args in commands.items()
            }
            for name, proc in refused.items():
                _out, err = proc.communicate(timeout=180)
                assert proc.returncode == 1, f"mailer {name} started: {err}"
                assert "Traceback" not in err
                assert "MAILER_PRODUCTION is set" in err or "cannot send" in err, err
                for variable in PLACEHOLDERS:
                    assert variable in err, f"mailer {name} did not name {variable}: {err}"
            assert folder.ok("campaign", "list").startswith("no campaigns yet")

            # Filled in: the four services as processes, then a send that reaches everyone.
            set_lines(env_file, FILLED)
            folder.spawn("worker", *commands["worker"])
            folder.spawn("beat", *commands["beat"])
            folder.spawn("web", *commands["web"])
            folder.spawn("inbound", *commands["inbound"])
            wait_until(lambda: "ready." in folder.log("worker"), 90, "the worker")
            wait_until(lambda: "listening on" in folder.log("inbound"), 90, "mailer inbound")
            wait_until(lambda: _answers(web_port), 90, "mailer web")

            out = folder.ok("send", slug, "--list", "clients", "--yes")
            assert f"Recipients: {count}" in out and f"campaign 1 done: sent {count}" in out
            got = sorted(r.rcpt_tos[0] for r in relay.sink.received)
            assert len(got) == len(set(got)) == count
            first = relay.sink.received[0].message
            assert first["From"] == FILLED["MAILER_FROM"]
            assert "@news.mirandadelphi.mx" in first["Reply-To"]
            assert "https://news.mirandadelphi.mx/u/" in first["List-Unsubscribe"]

            # The web and inbound processes answer as a reader's mail client would reach them.
            archive = httpx.get(f"http://127.0.0.1:{web_port}/archive", timeout=10)
            assert archive.status_code == 200 and "9 April 2025" in archive.text
            with smtplib.SMTP("127.0.0.1", inbound_port, timeout=10) as smtp:
                smtp.ehlo()
                smtp.mail("someone@example.org")
                code, _ = smtp.rcpt("random@news.mirandadelphi.mx")
                assert code == 550  # not an open relay: only our reply+/bounces+ addresses
    finally:
        folder.stop()
        redis_server.kill()


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code < 500
    except httpx.HTTPError:
        return False
