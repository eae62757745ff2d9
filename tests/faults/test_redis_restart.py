"""Fault: the broker (Redis) dies in the middle of a campaign and comes back on the same port.

Without persistence (`--appendonly no`) every queued batch task is lost: the periodic tick of
`mailer beat` (`run_due`) gives back the rows whose claims were abandoned and re-enqueues the idle
campaign. With append-only persistence (the production setting) the queue survives as well.
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

# The tick's log line: "tick: 3 deliveries recovered from stopped workers, 1 batch enqueued"
# (nonzero counts only; mailer.sending.tasks.tick_summary).
TICK = re.compile(rb"tick: ([^\n]*)")


@pytest.mark.parametrize("appendonly", [False, True], ids=["no-aof", "aof"])
def test_redis_killed_mid_campaign_and_restarted_loses_no_one(
    appendonly: bool,
    db: Session,
    room: Newsroom,
    relay: Relay,
    probe: Probe,
    pg_url: str,
    tmp_path,  # type: ignore[no-untyped-def]
    stacks: Callable[..., Stack],
) -> None:
    add_subscribers(db, room.list_id, 200)
    expected = audience(db, room.list_id)
    broker = RedisServer(tmp_path / "redis", appendonly=appendonly)
    broker.start()
    try:
        stack = stacks(pg_url, broker.url, relay.url, MAILER_RATE_LIMIT="40/second")
        stack.worker(concurrency=2)
        stack.beat()
        stack.cli("send", room.issue_slug, "--list", room.list_slug, "--yes", "--no-wait")
        wait_until(lambda: len(relay.received) >= 40, 60, "40 messages")
        broker.kill()
        at_kill = len(relay.received)
        assert at_kill < len(expected)  # really mid-campaign
        time.sleep(3)  # workers and beat lose their broker (and the shared rate limit)
        broker.start()
        waited = wait_until(lambda: probe.done(1), 120, "the campaign to finish")
        print(f"\n  killed at {at_kill}/{len(expected)}; done {waited:.1f} s after the restart")
    finally:
        broker.kill()

    if not appendonly:
        # The queue died with the broker: the beat's tick is what gave back the abandoned
        # claims and re-enqueued the campaign.
        ticks = TICK.findall(stack.log("worker"))
        assert any(b" recovered " in t or b" enqueued" in t for t in ticks), (
            "no tick recovered or re-enqueued anything"
        )
    dupes = duplicates_of(relay.received, expected)
    # The rate limiter lives in the same Redis: a send never starts without it, and outcomes go
    # to PostgreSQL, which stayed up. At most the worker's 2 processes' messages were in flight.
    assert dupes <= 2
    assert probe.counts(1) == {"sent": len(expected)}
