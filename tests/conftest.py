"""Shared fixtures: real SQLite and PostgreSQL databases, settings pointed at a test folder.

Tests that touch the database take `database_url`, which is parametrised over both backends, so one
test body proves both. PostgreSQL gets one throw-away database per test run, upgraded once through
the real Alembic migrations and truncated between tests. SQLite gets a fresh file per test, a copy
of one file upgraded once per test run through the same migrations (running Alembic for each of
a thousand tests cost more than the tests themselves).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.orm import Session, sessionmaker

from mailer import db as mailer_db
from mailer.settings import Settings, get_settings, reset_settings
from subscribers.db import Base, make_engine, session_factory
from tests.processes import POSTAL_ADDRESS
from tests.redis_server import RedisServer
from tests.smtpd import SMTPServer

FIXTURES = Path(__file__).resolve().parent.parent / "mailer" / "samples"
BRIEFING = FIXTURES / "security-chatter-2025-04-09.txt"
SUBSCRIBERS_CSV = FIXTURES / "subscribers-sample.csv"

PG_SERVER = os.environ.get("MAILER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast", action="store_true", help="leave out tests marked slow (CI runs them all)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--fast"):
        return
    kept = [i for i in items if "slow" not in i.keywords]
    config.hook.pytest_deselected(items=[i for i in items if "slow" in i.keywords])
    items[:] = kept


def _pg_admin() -> psycopg.Connection:
    dsn = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    return psycopg.connect(dsn, autocommit=True)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, at the newest migration."""
    name = f"mailer_test_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_SERVER}/{name}"
    mailer_db.upgrade(url)
    yield url
    mailer_db.reset_engines()
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database at the newest migration, upgraded once per test run (per xdist
    worker) through the real Alembic migrations; tests get copies (`_migrated_sqlite`)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "mailer.db"
    mailer_db.upgrade(f"sqlite:///{path}")
    # Everything into the main file (WAL mode), so that copying that one file copies it all.
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return path


def _migrated_sqlite(tmp_path: Path, template: Path) -> str:
    """A copy of the migrated template at tmp_path/mailer.db, owner-only as `mailer db upgrade`
    creates it; its URL."""
    target = tmp_path / "mailer.db"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mailer_db.PRIVATE_FILE)
    with os.fdopen(fd, "wb") as out, template.open("rb") as src:
        shutil.copyfileobj(src, out)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database on each backend."""
    if request.param == "sqlite":
        return _migrated_sqlite(tmp_path, request.getfixturevalue("sqlite_template"))
    url = request.getfixturevalue("pg_database")
    _truncate_all(url)
    return url


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """This test session's own redis-server on a free port, never the machine's shared 6379
    (parallel runs on one machine would flush each other's databases and take each other's
    tasks). Tests that use it flush it first (`redis_server.flush()`)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.kill()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """An empty, migrated SQLite database, for tests about the embedded default only."""
    return _migrated_sqlite(tmp_path, sqlite_template)


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Settings for one test: its own database, outbox and a fixed secret."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("MAILER_") and key != "MAILER_TEST_PG":
            monkeypatch.delenv(key)
    monkeypatch.setenv("MAILER_DATABASE_URL", database_url)
    monkeypatch.setenv("MAILER_SMTP_URL", f"outbox://{tmp_path / 'outbox'}")
    monkeypatch.setenv("MAILER_SECRET_KEY", "test-secret-key-" + "x" * 32)
    monkeypatch.setenv("MAILER_MAIL_DOMAIN", "news.example.com")
    monkeypatch.setenv("MAILER_PUBLIC_URL", "https://news.example.com")
    monkeypatch.setenv("MAILER_FROM", "Miranda Delphi Solutions <briefing@news.example.com>")
    # Mail through a relay reaches readers, who must read the firm's address (CAN-SPAM).
    monkeypatch.setenv("MAILER_POSTAL_ADDRESS", POSTAL_ADDRESS)
    reset_settings()
    mailer_db.reset_engines()
    yield get_settings()
    reset_settings()
    mailer_db.reset_engines()


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    """A session on the test's database; the test commits what it wants others to see."""
    engine = make_engine(settings.database_url)
    factory: sessionmaker[Session] = session_factory(engine)
    with factory() as s:
        yield s
    engine.dispose()


@pytest.fixture
def relay(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[SMTPServer]:
    """A real SMTP server (aiosmtpd) as the relay, with tasks running in-process (no broker)."""
    from mailer.sending import tasks
    from mailer.worker import app as celery_app
    from mailer.worker import configure

    with SMTPServer() as server:
        monkeypatch.setenv("MAILER_SMTP_URL", server.url)
        monkeypatch.setenv("MAILER_RETRY_BASE_DELAY", "0.2")
        reset_settings()
        tasks.reset_caches()
        configure(celery_app)
        assert celery_app.conf.task_always_eager
        yield server
    tasks.reset_caches()


@pytest.fixture(autouse=True)
def _celery_join_flag() -> Iterator[None]:
    """Celery's eager `Task.apply` sets a process-wide "a join would block" flag and puts back
    the value it found, so two eager tasks run at once in threads (the in-process inbound
    server's executor) can leave it set: every later `.get()` in this process then raises
    "Never call result.get() within a task!". Each test starts with it as a fresh process has
    it. (`mailer` itself never joins a task's result.)"""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield
