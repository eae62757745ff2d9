"""The Celery app's configuration (mailer/worker.py), against a real Redis broker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from mailer.settings import reset_settings
from mailer.worker import app, configure
from tests.redis_server import RedisServer


@app.task(name="tests.worker.echo")
def echo(value: int) -> int:
    return value


@pytest.fixture
def eager(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("MAILER_BROKER_URL", raising=False)
    reset_settings()
    configure(app)
    yield
    monkeypatch.delenv("MAILER_BROKER_URL", raising=False)
    reset_settings()
    configure(app)


def test_tasks_run_in_process_again_after_a_broker_came_and_went(
    eager: None, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a broker a task runs in the calling process; after the settings named a broker
    (it gets the message) and then none again, tasks run in process again. Celery takes a
    producer even for an eager call, and kombu keeps producer pools in a process-wide registry:
    the first pool's connections, closed when the broker changed, used to be handed out again
    ("Acquire on closed pool"), so every in-process send of the process failed."""
    assert app.conf.task_always_eager
    assert echo.apply_async((1,)).get() == 1

    redis_server.flush()
    monkeypatch.setenv("MAILER_BROKER_URL", redis_server.url)
    reset_settings()
    configure(app)
    assert not app.conf.task_always_eager
    echo.apply_async((2,))
    assert redis.Redis.from_url(redis_server.url).llen("mailer") == 1

    monkeypatch.delenv("MAILER_BROKER_URL")
    reset_settings()
    configure(app)
    assert app.conf.task_always_eager
    assert echo.apply_async((3,)).get() == 3


def test_an_in_process_task_logs_no_broker_warning(
    eager: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a broker, `mailer inbound` and `mailer send` run tasks in process; kombu used to
    log "No hostname was supplied. Reverting to default 'localhost'" for the unused in-memory
    broker on every task, a warning about nothing a user configured."""
    import logging

    with caplog.at_level(logging.WARNING):
        assert echo.delay(2).get() == 2
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
