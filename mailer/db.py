"""The application's database: engine from settings, sessions, and schema upgrades via Alembic.

The engine, the declarative base and the column types come from `subscribers.db` (the lowest
layer, so that `subscribers` stays free of `mailer`); the mailer's stages take `utcnow` and
`rowcount` from here. The tables are declared by each stage in its own `models` module;
`MODEL_MODULES` names them all so that Alembic and every engine's user see one complete metadata:
`engine_for` loads them before the first engine is made, so a command that never opens the
database (or reads it without SQLAlchemy) does not pay for importing them.

The embedded SQLite file holds every subscriber's address and consent record: it is created
owner-only (0600) before SQLite opens it, and SQLite gives its -wal, -shm and -journal files the
database file's permissions, so they are owner-only too.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from mailer.errors import MailerError
from mailer.settings import get_settings
from subscribers.db import make_engine, rowcount, session_factory, utcnow

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "MODEL_MODULES",
    "alembic_config",
    "engine_for",
    "get_engine",
    "get_sessionmaker",
    "load_models",
    "require_schema",
    "reset_engines",
    "rowcount",
    "session_scope",
    "upgrade",
    "utcnow",
]

MIGRATIONS = Path(__file__).parent / "migrations"

# Every module that declares tables, by name (like Celery's `include=`): the root cannot import
# the stages above it, so the entry points and migrations/env.py call `load_models()`.
MODEL_MODULES = (
    "subscribers.models",
    "mailer.accounts",
    "mailer.content.models",
    "mailer.sending.models",
    "mailer.inbound.models",
    "mailer.engagement.models",
)


def load_models() -> None:
    """Import every table declaration, so the metadata (and Alembic's autogenerate) is whole."""
    for name in MODEL_MODULES:
        importlib.import_module(name)


PRIVATE_FILE = 0o600


def _missing_sqlite_file(url: str) -> str | None:
    """The path of the SQLite file `url` names when that file does not exist yet; None for other
    databases, in-memory and `file:` URIs, and existing files."""
    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return None
    if path.startswith("file:") or os.path.exists(path):
        return None
    return path


def ensure_private_sqlite(url: str) -> None:
    """Create a SQLite database file owner-only if it does not exist yet (other URLs: no-op).

    An existing file keeps the permissions its owner gave it."""
    path = _missing_sqlite_file(url)
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    # Created meanwhile by another process: theirs is as good.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


class NoDatabase(MailerError):
    """The embedded SQLite database file does not exist: nothing was set up in this folder."""


def require_sqlite_file(url: str) -> None:
    """Raise NoDatabase when `url` names a SQLite file that does not exist (other URLs: no-op).

    SQLite creates a missing file on connect, so a command that only reads (`mailer campaign
    list` in the wrong folder) would leave an empty mailer.db behind; only `upgrade` (used by
    `mailer db upgrade` and `mailer demo`) creates the database."""
    path = _missing_sqlite_file(url)
    if path is None:
        return
    raise NoDatabase(
        f"the database {url} has no mailer tables yet ({os.path.abspath(path)} does not "
        "exist): run `mailer db upgrade` first (or `mailer demo` to try the sample)"
    )


def require_schema(url: str) -> None:
    """Raise NoDatabase unless `url` names a database that has the mailer's schema (a SQLite file
    that does not exist is not created). For servers (`mailer web`, `mailer inbound`), which
    would otherwise start and then fail on every request or message."""
    require_sqlite_file(url)
    if schema_revision(url) is None:
        raise NoDatabase(
            f"the database {url} has no mailer tables yet: run `mailer db upgrade` first "
            "(or `mailer demo` to try the sample)"
        )


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    """The engine for `url` (one per URL per process), with every table declaration loaded.

    Raises NoDatabase for a SQLite file that does not exist yet (see `require_sqlite_file`)."""
    require_sqlite_file(url)
    load_models()  # whoever opens the database sees the whole metadata
    return make_engine(url)


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


def get_sessionmaker() -> sessionmaker[Session]:
    return session_factory(get_engine())


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    factory = get_sessionmaker()
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    # Alembic is imported here, not at the top: most commands never migrate (fast start-up).
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "heads") -> tuple[str | None, str | None]:
    """Create or upgrade the schema to the newest migration.

    Returns the schema's revision before and after (None before: the database had no schema),
    so the caller can say what was done."""
    url = url or get_settings().database_url
    ensure_private_sqlite(url)
    before = schema_revision(url)
    from alembic import command

    command.upgrade(alembic_config(url), revision)
    return before, schema_revision(url)


def schema_revision(url: str) -> str | None:
    """The database's Alembic revision(s), comma-separated; None when it has no schema yet."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            heads = MigrationContext.configure(conn).get_current_heads()
    finally:
        engine.dispose()
    return ", ".join(sorted(heads)) or None


def reset_engines() -> None:
    engine_for.cache_clear()
