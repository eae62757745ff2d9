"""The schema is created by the real migrations on both backends, and agrees with the models."""

import subprocess
import sys

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from mailer import db as mailer_db
from mailer.db import alembic_config
from subscribers.db import Base, make_engine


def test_migrations_create_every_table(database_url: str) -> None:
    engine = make_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    engine.dispose()


def test_migrations_match_the_models(database_url: str) -> None:
    """A model changed without a migration shows up here as a difference."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_alembic_sees_every_model_module(database_url: str) -> None:
    """Alembic's env.py loads the tables through `mailer.db.load_models`; in a fresh interpreter
    (nothing else imported), that must be the whole migrated schema, with no autogenerate diff."""
    script = (
        "import sys\n"
        "from alembic.autogenerate import compare_metadata\n"
        "from alembic.migration import MigrationContext\n"
        "from mailer.db import load_models\n"
        "from subscribers.db import Base, make_engine\n"
        "load_models()\n"
        "engine = make_engine(sys.argv[1])\n"
        "with engine.connect() as conn:\n"
        "    diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)\n"
        "print(len(Base.metadata.tables), diff)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, database_url], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    engine = make_engine(database_url)
    migrated = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert run.stdout.split() == [str(len(migrated)), "[]"]


def test_the_migrations_form_one_line_with_one_head() -> None:
    """Branches that each add a migration must chain them: two heads would leave the order in
    which a database gets them to chance."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(scripts.get_heads()) == 1, scripts.get_heads()


def _delivery_keys(url: str) -> set[str]:
    engine = make_engine(url)
    keys = {fk["referred_table"] for fk in inspect(engine).get_foreign_keys("delivery")}
    engine.dispose()
    return keys


def _erasure_trigger(url: str) -> bool:
    """Whether `subscriber` has the trigger that empties an erased person's deliveries (a later
    migration that rebuilds `subscriber` on SQLite drops its triggers: it must make it again)."""
    engine = make_engine(url)
    query = (
        "SELECT count(*) FROM pg_trigger WHERE tgname = 'trg_subscriber_erased_deliveries'"
        if engine.dialect.name == "postgresql"
        else "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
        "AND tbl_name = 'subscriber' AND name = 'trg_subscriber_erased_deliveries'"
    )
    with engine.connect() as conn:
        found = conn.execute(text(query)).scalar_one()
    engine.dispose()
    return bool(found)


def test_the_snapshot_migrations_go_down_and_up_again(database_url: str) -> None:
    """0018, 0019 and 0020 drop the delivery's foreign keys to its issue, campaign and subscriber
    (the snapshot's per-row checks); downgrading puts them back, and upgrading again leaves the
    schema the models describe (on SQLite a batch copy of the table, which must keep its partial
    indexes), with the erasure trigger in place (see test_campaigns.py's erased reader)."""
    assert _delivery_keys(database_url) == set()
    command.downgrade(alembic_config(database_url), "0017_campaign_counts")
    assert _delivery_keys(database_url) == {"campaign", "issue", "subscriber"}
    assert not _erasure_trigger(database_url)
    mailer_db.upgrade(database_url)
    assert _delivery_keys(database_url) == set()
    assert _erasure_trigger(database_url)
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_the_private_list_migration_keeps_existing_lists_public(database_url: str) -> None:
    """0021 adds `mailing_list.private` NOT NULL with a server default: a list made before it
    becomes public (as every list was), and one inserted by code that does not name the column
    too; downgrading drops it again and upgrading leaves the schema the models describe."""
    command.downgrade(alembic_config(database_url), "0020_delivery_subscriber_fk")
    engine = make_engine(database_url)
    assert "private" not in {c["name"] for c in inspect(engine).get_columns("mailing_list")}
    assert "web_edition" not in {c["name"] for c in inspect(engine).get_columns("campaign_render")}
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO mailing_list (slug, name, description, created_at) "
                "VALUES ('old-list', 'Old list', '', CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()
    mailer_db.upgrade(database_url)
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO mailing_list (slug, name, description, created_at) "
                "VALUES ('new-list', 'New list', '', CURRENT_TIMESTAMP)"
            )
        )
        rows = conn.execute(text("SELECT slug, private FROM mailing_list ORDER BY slug")).all()
        columns = {c["name"]: c for c in inspect(conn).get_columns("mailing_list")}
        render_columns = {c["name"]: c for c in inspect(conn).get_columns("campaign_render")}
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert [(slug, bool(private)) for slug, private in rows] == [
        ("new-list", False),
        ("old-list", False),
    ]
    assert columns["private"]["nullable"] is False
    assert render_columns["web_edition"]["nullable"] is False
    assert diff == []
