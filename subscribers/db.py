"""The declarative base and engine helpers shared by every model in the project.

It lives here, in the lower layer, so that `subscribers` stays free of `mailer` while both packages'
tables share one metadata and one set of Alembic migrations.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, Enum, MetaData, create_engine, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL (indexable, comparable), plain JSON on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(cls: type[enum.Enum], name: str) -> Enum:
    """A status column: the enum's values (lower-case words, not the member names) as VARCHAR +
    CHECK, so that adding a state later is a simple migration on both backends."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda e: [m.value for m in e],
    )


def rowcount(result: Any) -> int:
    """Rows an UPDATE/DELETE touched (a CursorResult's count; typed loosely by SQLAlchemy)."""
    return int(getattr(result, "rowcount", 0) or 0)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the pragmas and pool settings this project relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session


ANALYZE_TIMEOUT_MS = 60_000


def analyze(session: Session, *tables: str, only_stale: bool = False) -> list[str]:
    """Refresh the planner's statistics of tables just filled in bulk (PostgreSQL; else no-op).

    Autovacuum analyses a table only once it has counted enough changes, which can be minutes
    after a bulk load; until then PostgreSQL plans from no statistics, and a campaign started
    right after an import of 100,000 subscribers took 50 s to snapshot instead of 2. ANALYZE reads
    a sample of fixed size (300 × default_statistics_target rows), so its cost stops growing with
    the table; a statement timeout bounds it anyway, and one that times out is given up (inside a
    savepoint) rather than failing the caller. Runs in the caller's transaction, whose own
    uncommitted rows ANALYZE counts. `only_stale` skips tables whose statistics still know their
    size: a table never analysed (no pg_stats rows) is stale, and so is one whose live rows
    (pg_stat_user_tables, which may lag a commit by a second) differ from the rows its last
    ANALYZE counted by over 10%. (Not n_mod_since_analyze: an import that analysed its own rows
    before committing them leaves that counter at the whole import.)
    Returns the tables analysed.
    """
    if session.get_bind().dialect.name != "postgresql":
        return []
    names = list(tables)
    if only_stale:
        names = list(
            session.scalars(
                text(
                    "SELECT c.relname FROM pg_class c "
                    "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
                    "WHERE c.relname = ANY(:names) AND c.relkind = 'r' "
                    "AND c.relnamespace = current_schema()::regnamespace AND ("
                    "(NOT EXISTS (SELECT FROM pg_stats p WHERE p.schemaname = current_schema() "
                    "AND p.tablename = c.relname) AND pg_relation_size(c.oid) > 0) "
                    "OR abs(coalesce(s.n_live_tup, 0) - greatest(c.reltuples, 0)) "
                    "> 0.1 * greatest(c.reltuples, 0) + 1000)"
                ),
                {"names": names},
            )
        )
    done = []
    previous = session.scalar(text("SELECT current_setting('statement_timeout')"))
    for name in names:
        savepoint = session.begin_nested()
        try:
            session.execute(
                text("SELECT set_config('statement_timeout', :ms, true)"),
                {"ms": str(ANALYZE_TIMEOUT_MS)},
            )
            session.execute(text(f'ANALYZE "{name}"'))
            session.execute(
                text("SELECT set_config('statement_timeout', :was, true)"), {"was": previous}
            )
            savepoint.commit()
            done.append(name)
        except OperationalError as exc:  # the timeout: plans stay as they were, nothing lost
            savepoint.rollback()
            log.warning("ANALYZE %s given up: %s", name, exc)
    return done
