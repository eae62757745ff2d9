"""Faults of the SMTP relay: gone (connection refused) for a while, and answering 421 and closing.

Deliveries are deferred with exponential backoff (MAILER_RETRY_BASE_DELAY=1) and all go out once
the relay takes mail again; the campaign ends done.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from tests.builders import Newsroom, add_subscribers
from tests.faults.conftest import audience
from tests.faults.support import (
    Probe,
    RedisServer,
    Relay,
    ShuttingDownSink,
    Stack,
    duplicates_of,
    wait_until,
)

pytestmark = pytest.mark.slow

DOWN_SECONDS = 20


def test_relay_refusing_connections_for_20_seconds_then_back_delivers_everyone_once(
    db: Session,
    room: Newsroom,
    relay: Relay,
    broker: RedisServer,
    probe: Probe,
    pg_url: str,
    stacks: Callable[..., Stack],
) -> None:
    add_subscribers(db, room.list_id, 160)
    expected = audience(db, room.list_id)
    stack = stacks(pg_url, broker.url, relay.url, MAILER_RATE_LIMIT="40/second")
    stack.worker(concurrency=2)
    stack.beat()
    stack.cli("send", room.issue_slug, "--list", room.list_slug, "--yes", "--no-wait")
    wait_until(lambda: len(relay.received) >= 30, 60, "30 messages")
    relay.stop()  # connection refused from now on
    at_stop = len(relay.received)
    assert at_stop < len(expected)
    wait_until(lambda: probe.counts(1).get("deferred", 0) > 0, 20, "deferred deliveries")
    time.sleep(DOWN_SECONDS)
    during = probe.counts(1)
    assert during.get("deferred", 0) > 0 and probe.status(1) is not None
    assert probe.status(1).value == "sending"  # type: ignore[union-attr]
    relay.start()  # same port, same sink
    waited = wait_until(lambda: probe.done(1), 90, "the campaign to finish")
    print(
        f"\n  stopped at {at_stop}/{len(expected)}, while down {during}; done {waited:.1f} s after"
    )

    dupes = duplicates_of(relay.received, expected)
    assert dupes <= 2  # at most a message in flight per worker process when the relay vanished
    assert probe.counts(1) == {"sent": len(expected)}


def test_relay_answering_421_and_closing_defers_then_delivers_everyone_once(
    db: Session,
    room: Newsroom,
    broker: RedisServer,
    probe: Probe,
    pg_url: str,
    stacks: Callable[..., Stack],
) -> None:
    add_subscribers(db, room.list_id, 100)
    expected = audience(db, room.list_id)
    sink = ShuttingDownSink(rcpt_421=40, data_421=20)
    relay = Relay(sink)
    relay.start()
    try:
        stack = stacks(pg_url, broker.url, relay.url, MAILER_RATE_LIMIT="40/second")
        stack.worker(concurrency=2)
        stack.beat()
        stack.cli("send", room.issue_slug, "--list", room.list_slug, "--yes", "--no-wait")
        waited = wait_until(lambda: probe.done(1), 90, "the campaign to finish")
    finally:
        relay.stop()
    print(f"\n  {sink.refused} replies were 421; done in {waited:.1f} s")
    assert sink.refused == 60  # the relay really shut the door 60 times
    # A 421 means the relay took nothing: there is no message whose fate is unknown.
    assert duplicates_of(relay.received, expected) == 0
    assert probe.counts(1) == {"sent": len(expected)}
