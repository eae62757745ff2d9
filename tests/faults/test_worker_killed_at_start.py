"""Fault: the worker running a campaign's start task is SIGKILLed while the task runs (rendering
the issue and snapshotting the audience), before anything was sent; another worker takes over.

The start task is acknowledged late, so the broker hands it out again after the visibility
timeout; `mailer beat` also restarts a planned campaign whose start was lost. Start is safe to run
twice (the snapshot is idempotent), so everyone gets the issue once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from tests.builders import Newsroom, add_subscribers
from tests.faults.conftest import audience
from tests.faults.support import Probe, RedisServer, Relay, Stack, duplicates_of, wait_until

pytestmark = pytest.mark.slow

START_TASK = re.compile(rb"Task mailer\.tasks\.start_campaign\[[^\]]+\] received")
START_DONE = re.compile(rb"Task mailer\.tasks\.start_campaign\[[^\]]+\] succeeded")


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
    stack.cli("send", room.issue_slug, "--list", room.list_slug, "--yes", "--no-wait")
    wait_until(
        lambda: bool(START_TASK.search(stack.log("worker1"))), 30, "the start task", poll=0.02
    )
    time.sleep(0.4)  # into the task: start takes ~1.2 s here, most of it rendering the PDF
    stack.kill(first)
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
