"""The schema is created by the real migrations on both backends, and agrees with the models."""

import subprocess
import sys

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

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


def test_the_snapshot_migrations_go_down_and_up_again(database_url: str) -> None:
    """0018 and 0019 drop the delivery's foreign keys to its issue and campaign (the snapshot's
    per-row checks); downgrading puts them back, and upgrading again leaves the schema the models
    describe (on SQLite a batch copy of the table, which must keep its partial indexes)."""
    assert _delivery_keys(database_url) == {"subscriber"}
    command.downgrade(alembic_config(database_url), "0017_campaign_counts")
    assert _delivery_keys(database_url) == {"campaign", "issue", "subscriber"}
    mailer_db.upgrade(database_url)
    assert _delivery_keys(database_url) == {"subscriber"}
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
