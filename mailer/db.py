"""The application's database: engine from settings, sessions, and schema upgrades via Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mailer.settings import get_settings
from subscribers.db import make_engine, session_factory

MIGRATIONS = Path(__file__).parent / "migrations"


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
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
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "heads") -> None:
    """Create or upgrade the schema to the newest migration."""
    command.upgrade(alembic_config(url or get_settings().database_url), revision)


def reset_engines() -> None:
    engine_for.cache_clear()
