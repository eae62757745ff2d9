"""Fault: the worker running a campaign's start task is SIGKILLed while the task runs (rendering
the issue and snapshotting the audience), before anything was sent; another worker takes over.

The kill lands at an observable point, not after a guessed delay: the test holds a lock on the
deliveries table (reads still pass), so the start task, having rendered the issue, waits inside its
transaction at the snapshot's INSERT, which PostgreSQL reports in pg_stat_activity. The worker is
killed there, and only then is the lock released: whatever the machine's speed, the kill is in
the middle of the start task.

The start task is acknowledged late, so the broker hands it out again after the visibility
timeout; `mailer beat` also restarts a planned campaign whose start was lost. Start is safe to run
twice: its lease in the database lets one execution render and snapshot at a time, and the
snapshot is idempotent, so everyone gets the issue once.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import psycopg
import pytest
from sqlalchemy.orm import Session

from tests.builders import Newsroom, add_subscribers
from tests.faults.conftest import audience
from tests.faults.support import Probe, RedisServer, Relay, Stack, duplicates_of, wait_until

pytestmark = pytest.mark.slow

START_TASK = re.compile(rb"Task mailer\.tasks\.start_campaign\[[^\]]+\] received")
# A start that got as far as enqueuing batches. A redelivered copy of the held start task (the
# visibility timeout passes while it waits) finds the start leased and succeeds with 0 batches.
START_DONE = re.compile(rb"Task mailer\.tasks\.start_campaign\[[^\]]+\] succeeded in \S+: [1-9]")


def snapshot_waiting(pg_url: str) -> bool:
    """A session of this database waits for a lock at the audience snapshot's INSERT."""
    with psycopg.connect(pg_url.replace("+psycopg", "")) as conn:
        waiting = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO delivery %'"
        ).fetchone()
    return bool(waiting and waiting[0])


def test_worker_killed_during_campaign_start_then_another_worker_delivers_everyone_once(
    db: Session,
    room: Newsroom,
    relay: Relay,
    broker: RedisServer,
    probe: Probe,
    pg_url: str,
    stacks: Callable[..., Stack],
) -> None:
    add_subscribers(db, room.list_id, 150)
    expected = audience(db, room.list_id)
    stack = stacks(pg_url, broker.url, relay.url, MAILER_RATE_LIMIT="40/second")
    first = stack.worker("worker1", concurrency=2)
    stack.beat()
    with psycopg.connect(pg_url.replace("+psycopg", "")) as lock:
        lock.execute("LOCK TABLE delivery IN EXCLUSIVE MODE")  # held until the kill
        stack.cli("send", room.issue_slug, "--list", room.list_slug, "--yes", "--no-wait")
        wait_until(lambda: snapshot_waiting(pg_url), 60, "the start task at its snapshot")
        assert START_TASK.search(stack.log("worker1"))
        stack.kill(first)
        lock.rollback()
    assert not START_DONE.search(stack.log("worker1"))  # it never finished
    # Killed during start-up: not a message out, the start task unacknowledged.
    assert relay.received == []
    phase = probe.counts(1)
    print(f"\n  killed during start; deliveries at the kill: {phase or 'none yet'}")
    stack.worker("worker2", concurrency=2)
    waited = wait_until(lambda: probe.done(1), 90, "the campaign to finish")
    print(f"  done {waited:.1f} s after worker2 was ready")

    # Nothing was in flight when the first worker died: no duplicate at all.
    assert duplicates_of(relay.received, expected) == 0
    assert probe.counts(1) == {"sent": len(expected)}
