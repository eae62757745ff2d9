"""Fixtures of the fault-injection suite: the shared PostgreSQL test database (truncated), a
private Redis per test, a restartable relay, and the newsroom's data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mailer.settings import Settings
from subscribers.db import make_engine, session_factory
from tests.builders import Newsroom, audience, newsroom
from tests.conftest import _truncate_all
from tests.faults.support import SECRET, Probe, RedisServer, Relay, Stack


@pytest.fixture
def pg_url(pg_database: str) -> str:
    _truncate_all(pg_database)
    return pg_database


@pytest.fixture
def db(pg_url: str) -> Iterator[Session]:
    engine = make_engine(pg_url)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def probe(pg_url: str) -> Iterator[Probe]:
    p = Probe(pg_url)
    yield p
    p.close()


@pytest.fixture
def room(db: Session, monkeypatch: pytest.MonkeyPatch) -> Newsroom:
    monkeypatch.setenv("MAILER_SECRET_KEY", SECRET)
    return newsroom(db, Settings(secret_key=SECRET))


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def relay() -> Iterator[Relay]:
    r = Relay()
    r.start()
    yield r
    r.stop()


@pytest.fixture
def stacks(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    made: list[Stack] = []

    def make(database_url: str, broker_url: str, smtp_url: str, **extra: str) -> Stack:
        stack = Stack(database_url, broker_url, smtp_url, tmp_path, secret=SECRET, **extra)
        made.append(stack)
        return stack

    yield make
    for stack in made:
        stack.close()


__all__ = ["audience"]  # the fault tests import it from here
