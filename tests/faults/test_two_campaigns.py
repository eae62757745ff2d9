"""Fault: two campaigns (two lists) sending at once through workers that share one rate limit.

Neither campaign loses anyone, and the relay's arrival times obey the one limit whichever campaign
the messages belong to (tests/rates.py: a property of the recorded times with a tolerance of one
window of the limiter, not a fixed margin).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from subscribers.lists import create_list
from tests.builders import Newsroom, add_subscribers
from tests.faults.conftest import audience
from tests.faults.support import Probe, RedisServer, Relay, Stack, duplicates_of, wait_until
from tests.rates import assert_within_rate

pytestmark = pytest.mark.slow

RATE = "30/second"


def test_two_campaigns_at_once_share_one_rate_limit_and_lose_no_one(
    db: Session,
    room: Newsroom,
    relay: Relay,
    broker: RedisServer,
    probe: Probe,
    pg_url: str,
    stacks: Callable[..., Stack],
) -> None:
    add_subscribers(db, room.list_id, 100)
    second = create_list(db, "partners", "Partner briefing")
    db.commit()
    add_subscribers(db, second.id, 140, prefix="partner")
    first_audience = audience(db, room.list_id)
    second_audience = audience(db, second.id)
    assert not first_audience & second_audience
    stack = stacks(pg_url, broker.url, relay.url, MAILER_RATE_LIMIT=RATE)
    # Both campaigns are queued before any worker runs, so that they send at the same time by
    # construction, however long each CLI takes to start on a busy machine.
    stack.cli("send", room.issue_slug, "--list", room.list_slug, "--yes", "--no-wait")
    stack.cli("send", room.issue_slug, "--list", "partners", "--yes", "--no-wait")
    assert broker.queued() == 2  # the two start tasks, waiting
    stack.worker("worker1", concurrency=2)
    stack.worker("worker2", concurrency=2)
    stack.beat()
    waited = wait_until(lambda: probe.done(1, 2), 90, "both campaigns to finish")

    received = relay.received
    dupes = duplicates_of(received, first_audience | second_audience)
    assert dupes == 0  # no fault, so no message in flight was ever in doubt
    assert probe.counts(1) == {"sent": len(first_audience)}
    assert probe.counts(2) == {"sent": len(second_audience)}
    summary = assert_within_rate([r.received_at for r in received], RATE)
    print(f"  {summary}; both done {waited:.1f} s after the sends")
    # Both really ran at the same time: each campaign's messages interleave with the other's.
    first_span = [r.received_at for r in received if r.rcpt_tos[0].lower() in first_audience]
    second_span = [r.received_at for r in received if r.rcpt_tos[0].lower() in second_audience]
    assert min(second_span) < max(first_span) and min(first_span) < max(second_span)
