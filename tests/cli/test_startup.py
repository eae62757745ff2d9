"""Start-up: `mailer --help` lists every command without importing any of them, and a command
imports only what it needs: `campaign list` on the embedded SQLite database reads it without
SQLAlchemy or pydantic-settings, through SQL compiled from the ORM statement (checked here to be
the same text), and gives the same rows as the ORM. (How fast that is goes in bench/startup.py,
not here.)"""

from __future__ import annotations

import base64
import json
import os
import pkgutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.core import _TyperParameter
from typer.testing import CliRunner

import mailer.cli
from mailer import db as mailer_db
from mailer.cli import COMMANDS, app, load_command
from mailer.cli import campaign as campaign_cli
from mailer.content.issues import import_issue
from mailer.errors import DatabaseUnreachable
from mailer.sending.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from mailer.settings import Settings
from subscribers.db import make_engine, session_factory
from subscribers.lists import create_list
from subscribers.models import MailingList, Segment
from tests.builders import add_subscribers
from tests.conftest import BRIEFING, _truncate_all
from tests.redis_server import RedisServer

# Heavy libraries that only some commands need: none of them may load for the listing.
HEAVY = ("sqlalchemy", "alembic", "premailer", "weasyprint", "mjml", "celery", "fastapi")
# What reading or steering campaigns never needs: rendering, migrations, the task queue, the web,
# the segment expression parser and address validation (only the doors that start a campaign).
NOT_FOR_CAMPAIGNS = (
    "alembic",
    "premailer",
    "weasyprint",
    "mjml",
    "celery",
    "kombu",
    "fastapi",
    "starlette",
    "lark",
    "email_validator",
    "argon2",
    "jinja2",
    "redis",
)

_PROBE = """
import json, sys
sys.argv = ["mailer", *sys.argv[1:]]
from mailer.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _modules_loaded_by(
    folder: Path, *args: str, settings: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILER_")}
    env.update(settings or {})
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    modules = set(json.loads(done.stderr.strip().splitlines()[-1]))
    return done, modules


def _top(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_the_listing_names_every_command_with_its_own_help() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for name, entry in COMMANDS.items():
        real = load_command(name)
        # The table's line is the command's own (first paragraph of its help), word for word.
        first = " ".join((real.help or "").split("\n\n")[0].split())
        assert entry.help == first, name
        assert name in result.output
    # Every sub-app module of the CLI is reachable from the table: none was forgotten.
    modules = {m.name for m in pkgutil.iter_modules(mailer.cli.__path__)}
    assert modules == {entry.module for entry in COMMANDS.values()}


def test_every_subcommand_still_runs_through_the_lazy_root() -> None:
    result = CliRunner().invoke(app, ["campaign", "--help"])
    assert result.exit_code == 0, result.output
    for sub in ("list", "status", "pause", "resume", "cancel"):
        assert sub in result.output
    unknown = CliRunner().invoke(app, ["campain"])
    assert unknown.exit_code == 2
    assert "No such command 'campain'" in unknown.output


def test_help_imports_no_heavy_library(tmp_path: Path) -> None:
    done, modules = _modules_loaded_by(tmp_path, "--help")
    assert "campaign" in done.stdout and "subscribers" in done.stdout
    assert not _top(modules) & set(HEAVY), sorted(_top(modules) & set(HEAVY))
    assert "pydantic" not in _top(modules)
    assert not {m for m in modules if m.startswith("mailer.cli.")}
    # Typer's boxed help (typer.rich_utils) would import markdown-it and pygments: ~130 ms.
    assert not _top(modules) & {"markdown_it", "pygments"}, sorted(modules)
    assert "typer.rich_utils" not in modules


def _absent_values_app() -> typer.Typer:
    """A command with every kind of parameter that can be left out."""
    probe = typer.Typer()

    @probe.command()
    def run(
        name: str = typer.Option(..., "--name"),
        nick: str | None = typer.Option(None, "--nick"),
        tags: list[str] | None = typer.Option(None, "--tag"),
        defaults: list[str] = typer.Option(["a"], "--default"),  # noqa: B006
        count: int | None = typer.Argument(None),
        flag: bool = typer.Option(False, "--flag"),
        seen: str | None = typer.Option(None, "--seen", callback=lambda v: f"callback {v}"),
    ) -> None:
        print(repr([name, nick, tags, defaults, count, flag, seen]))

    return probe


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--name", "x"],
        ["--name", "x", "--nick", "n", "--tag", "t", "--tag", "u", "--default", "d", "3"],
        ["--name", "x", "--flag", "--seen", "s", "4"],
        ["--name"],
        ["--name", "x", "four"],
    ],
)
def test_an_absent_value_is_what_typer_makes_of_it(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # mailer.cli gives an absent value typer's result without building its pydantic adapter;
    # typer's own processing (restored here) must give the same values, errors and exit codes.
    ours = CliRunner().invoke(_absent_values_app(), argv)
    monkeypatch.setattr(_TyperParameter, "process_value", mailer.cli._typer_process_value)
    typers = CliRunner().invoke(_absent_values_app(), argv)
    assert (ours.exit_code, ours.output) == (typers.exit_code, typers.output)
    if argv[:2] == ["--name", "x"] and argv[-1] != "four":
        assert ours.exit_code == 0, ours.output


def test_campaign_list_imports_neither_rendering_nor_migrations(tmp_path: Path) -> None:
    # An empty SQLite database (the default URL) without the schema: the command still loads
    # everything it needs before it reports the missing tables.
    done, modules = _modules_loaded_by(tmp_path, "campaign", "list")
    assert "run `mailer db upgrade` first" in done.stderr
    assert "sqlalchemy" in _top(modules)  # it does read the database
    assert not _top(modules) & {"alembic", "premailer", "weasyprint", "mjml", "celery"}


@pytest.fixture
def campaigns_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`mailer.db` in `tmp_path` (the default URL there), migrated, with three campaigns: one
    sending (2 sent, 1 failed, 1 deferred, 1 pending), one scheduled for a segment, one planned
    for an expression. The environment holds no MAILER_ setting; the current folder is tmp_path."""
    for key in list(os.environ):
        if key.startswith("MAILER_") and key != "MAILER_TEST_PG":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'mailer.db'}"
    mailer_db.upgrade(url)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        _three_campaigns(session)
        session.commit()
    engine.dispose()
    mailer_db.reset_engines()
    return tmp_path


def _three_campaigns(session: Session) -> None:
    issue = import_issue(session, BRIEFING)
    mlist = create_list(session, "briefing", "Security Chatter")
    session.flush()
    segment = Segment(list_id=mlist.id, slug="clients", expression="tag:client")
    session.add(segment)
    session.flush()
    sending = Campaign(issue_id=issue.id, list_id=mlist.id, status=CampaignStatus.SENDING, total=5)
    scheduled = Campaign(
        issue_id=issue.id,
        list_id=mlist.id,
        segment_id=segment.id,
        expression=segment.expression,
        status=CampaignStatus.SCHEDULED,
        scheduled_at=datetime(2031, 1, 15, 15, 0, tzinfo=UTC),
    )
    planned = Campaign(issue_id=issue.id, list_id=mlist.id, expression="lang:es")
    session.add_all([sending, scheduled, planned])
    session.flush()
    for status in ("sent", "sent", "failed", "deferred", "pending"):
        session.add(
            Delivery(campaign_id=sending.id, issue_id=issue.id, status=DeliveryStatus(status))
        )


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_precompiled_listing_is_the_orm_statement(dialect: str) -> None:
    # Any change to the models or the statement shows here, with the text to paste.
    assert campaign_cli.compile_listing(dialect) == campaign_cli.LISTING_SQL


@pytest.fixture
def campaigns_url(settings: Settings, session: Session) -> str:
    """`_three_campaigns` on each backend, named by MAILER_DATABASE_URL (a plain SQLite file, a
    postgresql+psycopg URL: both take the quick path)."""
    _three_campaigns(session)
    session.commit()
    return settings.database_url


def test_campaign_list_reads_either_database_as_the_orm_does(campaigns_url: str) -> None:
    quick = campaign_cli._listing_quick()
    assert quick is not None  # read on the driver itself, without SQLAlchemy
    orm = campaign_cli._listing_from_orm()
    assert quick == orm
    by_status = {row.status: row for row in quick}
    assert [row.id for row in quick] == [3, 2, 1]  # newest first
    sending = by_status["sending"]
    assert (sending.sent, sending.failed, sending.deferred, sending.total) == (2, 1, 1, 5)
    assert by_status["scheduled"].segment == "clients"
    assert by_status["scheduled"].scheduled_at == datetime(2031, 1, 15, 15, 0, tzinfo=UTC)
    assert by_status["planned"].expression == "lang:es"
    printed = []
    for listed in (quick, orm):
        with campaign_cli.console.capture() as capture:
            campaign_cli._print_listing(listed)
        printed.append(capture.get())
    assert printed[0] == printed[1]
    assert "campaign 2 scheduled for 2031-01-15 15:00 UTC" in printed[0]


def test_campaign_list_on_postgresql_prints_what_it_prints_on_sqlite(
    campaigns_db: Path, pg_database: str
) -> None:
    """The same campaigns listed from PostgreSQL by psycopg, without SQLAlchemy, the models or
    the settings, print as they do from the SQLite file."""
    _truncate_all(pg_database)
    engine = make_engine(pg_database)
    with session_factory(engine)() as session:
        _three_campaigns(session)
        session.commit()
    engine.dispose()
    on_sqlite, _ = _modules_loaded_by(campaigns_db, "campaign", "list")
    done, modules = _modules_loaded_by(
        campaigns_db, "campaign", "list", settings={"MAILER_DATABASE_URL": pg_database}
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == on_sqlite.stdout
    assert "campaign 2 scheduled for 2031-01-15 15:00 UTC" in done.stdout
    assert "psycopg" in _top(modules)
    assert not _top(modules) & {"sqlalchemy", "pydantic", "pydantic_settings", *NOT_FOR_CAMPAIGNS}


def test_other_databases_take_the_orm_path(
    campaigns_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_DATABASE_URL", f"sqlite:///{campaigns_db / 'mailer.db'}?timeout=5")
    assert campaign_cli._listing_from_sqlite() is None
    monkeypatch.setenv("MAILER_DATABASE_URL", f"sqlite:///{campaigns_db / 'absent.db'}")
    assert campaign_cli._listing_from_sqlite() is None  # the ORM path creates it and says so
    monkeypatch.setenv("MAILER_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert campaign_cli._listing_from_sqlite() is None
    with pytest.raises(DatabaseUnreachable, match="cannot connect to the database"):
        campaign_cli._listing_quick()  # unreachable: said at once, as the ORM path says it
    monkeypatch.setenv("MAILER_DATABASE_URL", "postgresql+psycopg2://nobody@127.0.0.1:1/none")
    assert campaign_cli._listing_quick() is None  # another driver


def test_campaign_list_imports_neither_sqlalchemy_nor_the_settings(campaigns_db: Path) -> None:
    done, modules = _modules_loaded_by(campaigns_db, "campaign", "list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].split()[:2] == ["3", "security-chatter-2025-04-09"]
    assert "sending      2    1     1     5" in done.stdout
    assert "› clients" in done.stdout and "› lang:es" in done.stdout
    assert "campaign 2 scheduled for 2031-01-15 15:00 UTC" in done.stdout
    # Nor pydantic, which typer builds a parameter's coercion with: `campaign list` is given no
    # value to coerce (mailer.cli._process_value).
    assert not _top(modules) & {"sqlalchemy", "pydantic", "pydantic_settings", *NOT_FOR_CAMPAIGNS}
    assert not {m for m in modules if m.startswith(("mailer.", "subscribers.")) and "models" in m}


def test_campaign_status_and_report_import_no_sending_stack(campaigns_db: Path) -> None:
    done, modules = _modules_loaded_by(campaigns_db, "campaign", "status", "1")
    assert done.returncode == 0, done.stderr
    assert "sent 2" in done.stdout and "failed 1" in done.stdout
    assert not _top(modules) & set(NOT_FOR_CAMPAIGNS), sorted(
        _top(modules) & set(NOT_FOR_CAMPAIGNS)
    )
    # The report also counts bounces, complaints and inquiries: without the inbound stage's
    # classifier (every detector, flufl.bounce) or the address validation that only recording
    # a bounce or a complaint needs; and nothing renders, migrates, queues or serves.
    done, modules = _modules_loaded_by(campaigns_db, "report", "1")
    assert done.returncode == 0, done.stderr
    assert "sent      2" in done.stdout and "clickers" in done.stdout
    heavy = _top(modules) & {*NOT_FOR_CAMPAIGNS, "flufl"}
    assert not heavy, sorted(heavy)
    assert not {m for m in modules if m.startswith("mailer.inbound.detectors")}


@pytest.mark.parametrize(
    ("environment", "dotenv"),
    [
        ({}, ""),
        ({}, "MAILER_DATABASE_URL=sqlite:///from-dotenv.db\nMAILER_TIMEZONE=America/Mexico_City\n"),
        ({}, 'export mailer_database_url="sqlite:///lower case.db"  # a comment\n'),
        ({"MAILER_DATABASE_URL": "sqlite:///env.db"}, "MAILER_DATABASE_URL=sqlite:///dotenv.db\n"),
        ({"MAILER_DATABASE_URL": ""}, "MAILER_DATABASE_URL=sqlite:///dotenv.db\n"),
        ({"mailer_timezone": "Europe/Madrid"}, "MAILER_TIMEZONE=\n"),
    ],
)
def test_quick_settings_read_what_the_settings_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], dotenv: str
) -> None:
    for key in list(os.environ):
        if key.lower().startswith("mailer_") and key != "MAILER_TEST_PG":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    if dotenv:
        (tmp_path / ".env").write_text(dotenv)
    settings = Settings()
    fields = Settings.model_fields
    assert fields["database_url"].default == campaign_cli.DEFAULT_DATABASE_URL
    url = campaign_cli.quick_setting("database_url", campaign_cli.DEFAULT_DATABASE_URL)
    assert url == settings.database_url
    assert campaign_cli.quick_setting("timezone", fields["timezone"].default) == settings.timezone


def test_segment_list_imports_the_expression_parser_only_to_count_a_segment(
    campaigns_db: Path,
) -> None:
    """Lark (and the grammar) load with the first expression parsed: listing a list's segments
    parses each to count it, but a list without any, like most commands, needs no parser."""
    engine = make_engine(f"sqlite:///{campaigns_db / 'mailer.db'}")
    with session_factory(engine)() as session:
        create_list(session, "press", "Press contacts")
        session.commit()
    engine.dispose()
    done, modules = _modules_loaded_by(campaigns_db, "segment", "list", "--list", "press")
    assert done.returncode == 0, done.stderr
    assert "no saved segments on list 'press'" in done.stdout
    assert "lark" not in _top(modules)
    done, modules = _modules_loaded_by(campaigns_db, "segment", "list", "--list", "briefing")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].split() == ["clients", "0", "tag:client"]
    assert "lark" in _top(modules)


# What `mailer send` with a broker never needs: it creates the campaign and publishes its start;
# the worker renders (Jinja, MJML, premailer, WeasyPrint), composes and rate-limits (limits, with
# its storage back-ends); the issue parsers and markdown-it are for importing and rendering one;
# cryptography's primitives read DKIM keys, and none are configured here; Lark parses segment
# expressions, and a send to the whole list has none. (kombu loads PyYAML itself, to register its
# YAML serializer, and redis-py its asyncio client.)
NOT_FOR_SEND = (
    "mailer.sending.tasks",
    "mailer.sending.batch",
    "mailer.sending.compose",
    "mailer.sending.copies",
    "mailer.sending.ratelimit",
    "mailer.sending.deliveries",
    "mailer.rendering.email_edition",
    "mailer.rendering.pdf_edition",
    "mailer.content.markdown",
    "mailer.content.briefing",
    "mailer.sending.dkim",
    "cryptography.hazmat",  # (redis-py imports the package's top only, to see that it is there)
)
NOT_FOR_SEND_LIBRARIES = (
    "jinja2",
    "premailer",
    "cssutils",
    "weasyprint",
    "mjml",
    "limits",
    "markdown_it",
    "lark",
)


def test_mailer_send_with_a_broker_publishes_the_start_without_the_task_modules(
    campaigns_db: Path, redis_server: RedisServer
) -> None:
    redis_server.flush()
    engine = make_engine(f"sqlite:///{campaigns_db / 'mailer.db'}")
    with session_factory(engine)() as session:
        briefing = select(MailingList.id).where(MailingList.slug == "briefing")
        list_id = session.scalars(briefing).one()
        add_subscribers(session, list_id, 3)
    engine.dispose()
    args = ("send", "security-chatter-2025-04-09", "--list", "briefing", "--yes", "--no-wait")
    done, modules = _modules_loaded_by(
        campaigns_db, *args, settings={"MAILER_BROKER_URL": redis_server.url}
    )
    assert done.returncode == 0, done.stderr
    assert "Recipients: 3" in done.stdout
    assert "campaign 4" in done.stdout  # after the fixture's three
    # The broker holds the start of campaign 4 under the task's name, which the worker runs.
    [message] = _queued(redis_server)
    assert message["headers"]["task"] == "mailer.tasks.start_campaign"
    assert json.loads(base64.b64decode(message["body"]))[0] == [4]
    assert not modules & set(NOT_FOR_SEND), sorted(modules & set(NOT_FOR_SEND))
    heavy = _top(modules) & set(NOT_FOR_SEND_LIBRARIES)
    assert not heavy, sorted(heavy)


def test_the_start_is_published_as_the_task_would_publish_it(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`dispatch.start` sends the start task by name, without importing the task modules; the
    message is the one `start_campaign.delay` sends, but for its ids and origin."""
    from mailer import worker
    from mailer.sending import dispatch, tasks
    from mailer.settings import reset_settings

    redis_server.flush()
    monkeypatch.setenv("MAILER_BROKER_URL", redis_server.url)
    reset_settings()
    worker.configure(worker.app)
    try:
        assert dispatch.start(7) is None
        tasks.start_campaign.delay(7)
    finally:
        monkeypatch.delenv("MAILER_BROKER_URL")
        reset_settings()
        worker.configure(worker.app)
    by_name, by_task = _queued(redis_server)  # in the order they were published
    own = {"id", "root_id", "origin", "correlation_id", "delivery_tag", "reply_to"}
    for part in ("headers", "properties"):
        assert _without(by_name[part], own) == _without(by_task[part], own), part
    assert by_name["body"] == by_task["body"]
    assert by_name["headers"]["task"] == "mailer.tasks.start_campaign"


def _queued(server: RedisServer) -> list[dict[str, Any]]:
    """The messages waiting in the `mailer` queue, oldest first (Redis pushes on the left)."""
    raw = redis.Redis.from_url(server.url).lrange("mailer", 0, -1)
    return [json.loads(item) for item in reversed(raw)]


def _without(fields: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in keys}
