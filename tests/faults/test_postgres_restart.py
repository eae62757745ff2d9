"""Fault: PostgreSQL restarted (`pg_ctl stop -m fast`, then start) in the middle of a campaign.

The test runs its own throw-away cluster (initdb, trust auth, a free port), never the shared
server. Workers and beat keep running through the outage: every pooled connection is pre-pinged,
a task that fails on a dropped connection leaves its claimed rows to `recover_abandoned`, and
the beat tick re-enqueues the campaign; the only duplicates are messages the relay accepted whose
outcome could not be recorded while the database was down.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from mailer.settings import Settings
from subscribers.db import make_engine, session_factory
from tests.builders import add_subscribers, newsroom
from tests.faults.conftest import audience
from tests.faults.support import (
    SECRET,
    PgCluster,
    Probe,
    RedisServer,
    Relay,
    Stack,
    duplicates_of,
    wait_until,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    pg = PgCluster()
    pg.start()
    yield pg
    pg.destroy()


def test_postgres_restarted_mid_campaign_loses_no_one(
    cluster: PgCluster,
    relay: Relay,
    broker: RedisServer,
    tmp_path: Path,
    stacks: Callable[..., Stack],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("CREATE DATABASE mailer")
    url = cluster.url("mailer")
    stack = stacks(url, broker.url, relay.url, MAILER_RATE_LIMIT="40/second")
    subprocess.run(
        [sys.executable, "-m", "mailer", "db", "upgrade"],
        env=stack.env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=120,
    )
    monkeypatch.setenv("MAILER_SECRET_KEY", SECRET)
    engine = make_engine(url)
    with session_factory(engine)() as db:
        room = newsroom(db, Settings(secret_key=SECRET))
        add_subscribers(db, room.list_id, 200)
        expected = audience(db, room.list_id)
    engine.dispose()
    probe = Probe(url)
    try:
        stack.worker(concurrency=2)
        stack.beat()
        stack.cli("send", room.issue_slug, "--list", room.list_slug, "--yes", "--no-wait")
        wait_until(lambda: len(relay.received) >= 40, 60, "40 messages")
        cluster.stop()
        at_stop = len(relay.received)
        assert at_stop < len(expected)  # really mid-campaign
        assert probe.status(1) is None  # the database is really gone
        time.sleep(3)
        cluster.start()
        waited = wait_until(lambda: probe.done(1), 120, "the campaign to finish")
        print(f"\n  stopped at {at_stop}/{len(expected)}; done {waited:.1f} s after the restart")
        dupes = duplicates_of(relay.received, expected)
        # At most the message each of the 2 sending processes had in flight when it went down.
        assert dupes <= 2
        assert probe.counts(1) == {"sent": len(expected)}
    finally:
        probe.close()
