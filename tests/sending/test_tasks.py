"""Campaigns sent by real Celery workers (`mailer worker` processes) over Redis, on PostgreSQL, to
a real SMTP server: exactly-once delivery, a worker killed mid-campaign, pause/resume/cancel, the
shared rate limit and scheduled sends picked up by `mailer beat`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mailer import tokens
from mailer.sending import campaigns
from mailer.sending.batch import CHUNK
from mailer.sending.models import (
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryClaim,
    DeliveryStatus,
)
from mailer.settings import Settings
from subscribers.db import make_engine, session_factory
from subscribers.lifecycle import unsubscribe_from_list
from subscribers.lists import get_list
from subscribers.suppression import add_suppression
from tests.builders import Newsroom, add_subscribers, audience, newsroom
from tests.conftest import _truncate_all
from tests.processes import Stack, tasks_settled, wait_until
from tests.rates import assert_within_rate
from tests.redis_server import RedisServer
from tests.smtpd import SMTPServer

pytestmark = pytest.mark.slow

SECRET = "worker-test-secret-" + "y" * 32
TICK_DONE = re.compile(rb"Task mailer\.tasks\.tick\[[^\]]+\] succeeded")


def stack_for(
    database_url: str, broker: RedisServer, smtp: SMTPServer, tmp: Path, **extra: str
) -> Stack:
    return Stack(
        database_url,
        broker.url,
        smtp.url,
        tmp,
        secret=SECRET,
        **{"MAILER_RETRY_BASE_DELAY": "0.5", **extra},
    )


@pytest.fixture
def pg_url(pg_database: str) -> str:
    _truncate_all(pg_database)
    return pg_database


@pytest.fixture
def relay() -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        yield server


@pytest.fixture
def db(pg_url: str) -> Iterator[Session]:
    engine = make_engine(pg_url)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def room(db: Session, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> Newsroom:
    monkeypatch.setenv("MAILER_SECRET_KEY", SECRET)
    redis_server.flush()
    return newsroom(db, Settings(secret_key=SECRET))


@pytest.fixture
def stack_factory(
    pg_url: str, redis_server: RedisServer, relay: SMTPServer, tmp_path: Path
) -> Iterator[Callable[..., Stack]]:
    stacks: list[Stack] = []

    def make(**extra: str) -> Stack:
        stack = stack_for(pg_url, redis_server, relay, tmp_path, **extra)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.close()
    redis_server.flush()


def delivery_counts(db: Session, campaign_id: int = 1) -> dict[str, int]:
    db.expire_all()
    rows = db.execute(
        select(Delivery.status, func.count())
        .where(Delivery.campaign_id == campaign_id)
        .group_by(Delivery.status)
    ).all()
    db.commit()
    return {DeliveryStatus(s).value: n for s, n in rows}


def live_claims(db: Session) -> int:
    """Chunks being sent (mailer/sending/deliveries.py: a claim row per chunk in flight)."""
    db.expire_all()
    n = db.scalar(select(func.count()).select_from(DeliveryClaim))
    db.commit()
    return int(n or 0)


def campaign_status(db: Session, campaign_id: int = 1) -> CampaignStatus:
    db.expire_all()
    status = db.scalar(select(Campaign.status).where(Campaign.id == campaign_id))
    db.commit()
    assert status is not None
    return status


def test_exactly_the_segment_less_suppressed_and_unsubscribed_gets_one_message_each(
    db: Session,
    room: Newsroom,
    relay: SMTPServer,
    redis_server: RedisServer,
    stack_factory: Callable[..., Stack],
) -> None:
    add_suppression(db, "paula.rivera14@example.mx", SECRET)
    unsubscribe_from_list(db, get_list(db, room.list_slug), "jorge.cruz17@example.net")
    db.commit()
    stack = stack_factory()
    worker = stack.worker()
    out = stack.cli(
        "send", room.issue_slug, "--list", room.list_slug, "--where", "tag:client", "--yes"
    )
    assert "campaign 1 done" in out
    expected = {
        row.strip().split(",")[0].strip().lower()
        for row in stack.cli(
            "subscribers", "export", "--list", room.list_slug, "--where", "tag:client"
        ).splitlines()[1:]
    }
    assert "paula.rivera14@example.mx" not in expected
    assert "jorge.cruz17@example.net" not in expected
    got = relay.sink.received
    assert sorted(r.rcpt_tos[0] for r in got) == sorted(expected)
    for r in got:
        msg = r.message
        assert msg["To"].addresses[0].addr_spec == r.rcpt_tos[0]
        local = r.mail_from.split("@")[0]
        assert local.startswith("bounces+")
        did = tokens.parse_delivery_token(local.removeprefix("bounces+"), [SECRET])
        assert db.get(Delivery, did) is not None
        unsubscribe_url = msg["List-Unsubscribe"].split(",")[0].strip().strip("<>")
        assert f'href="{unsubscribe_url}"' in msg.get_body(("html",)).get_content()

    again = stack.run_cli(
        "send", room.issue_slug, "--list", room.list_slug, "--where", "tag:client", "--yes"
    )
    assert again.returncode == 1 and "Recipients: 0" in again.stdout
    assert "nobody to send to" in again.stderr and "no campaign created" in again.stderr
    assert db.scalar(select(func.count()).select_from(Campaign)) == 1
    # "Nothing more" is checked once nothing is left that could send: the worker stopped, and
    # whatever it left queued (a delayed or redelivered task) run to its end by a fresh worker.
    stack.stop(worker)
    drain = stack.worker("drain")
    wait_until(
        lambda: redis_server.queued() == 0 and tasks_settled(stack.log("drain")),
        60,
        "the queue to drain",
    )
    stack.stop(drain)
    assert len(relay.sink.received) == len(expected)


def test_a_worker_killed_mid_campaign_loses_no_one(
    db: Session, room: Newsroom, relay: SMTPServer, stack_factory: Callable[..., Stack]
) -> None:
    add_subscribers(db, room.list_id, 160)
    expected = audience(db, room.list_id)
    total = len(expected)
    stack = stack_factory(MAILER_RATE_LIMIT="40/second")
    first = stack.worker("worker1", concurrency=2)
    stack.cli("send", room.issue_slug, "--list", room.list_slug, "--yes", "--no-wait")
    wait_until(lambda: len(relay.sink.received) >= 50, 60, "50 messages")
    stack.kill(first)
    at_kill = len(relay.sink.received)
    assert at_kill < total  # really mid-campaign
    stack.worker("worker2", concurrency=2)
    wait_until(lambda: campaign_status(db) == CampaignStatus.DONE, 120, "the campaign to finish")

    rcpts = [r.rcpt_tos[0].lower() for r in relay.sink.received]
    assert set(rcpts) == expected  # no one missing, no one outside the list
    duplicates = len(rcpts) - len(set(rcpts))
    assert duplicates <= 2  # at most the killed worker's concurrency (messages in flight)
    assert delivery_counts(db) == {"sent": total}


def test_pause_stops_within_a_batch_and_resume_finishes_without_duplicates(
    db: Session, room: Newsroom, relay: SMTPServer, stack_factory: Callable[..., Stack]
) -> None:
    extra = add_subscribers(db, room.list_id, 120)
    total = room.report.imported + len(extra)
    stack = stack_factory(MAILER_RATE_LIMIT="30/second")
    worker = stack.worker()
    stack.cli("send", room.issue_slug, "--list", room.list_slug, "--yes", "--no-wait")
    wait_until(lambda: len(relay.sink.received) >= 20, 60, "20 messages")
    # What `mailer campaign pause` does, called here so that the pause lands at once (a CLI
    # process takes seconds to start on a busy machine, and the campaign would be over).
    campaigns.pause(db, 1)
    db.commit()
    at_pause = len(relay.sink.received)
    # The chunks in flight end and give their unsent rows back; then the worker is stopped, so
    # whatever it would still have sent is counted before the check.
    wait_until(lambda: live_claims(db) == 0, 60, "claimed rows given back")
    stack.stop(worker)
    after = len(relay.sink.received)
    # In flight when the pause landed: at most one chunk per worker process.
    assert after - at_pause <= 2 * CHUNK
    assert after < total
    assert campaign_status(db) == CampaignStatus.PAUSED
    assert live_claims(db) == 0

    stack.worker("worker2")
    stack.cli("campaign", "resume", "1")
    wait_until(lambda: campaign_status(db) == CampaignStatus.DONE, 60, "the campaign to finish")
    rcpts = [r.rcpt_tos[0] for r in relay.sink.received]
    assert len(rcpts) == len(set(rcpts)) == total


def test_cancel_stops_the_campaign(
    db: Session, room: Newsroom, relay: SMTPServer, stack_factory: Callable[..., Stack]
) -> None:
    add_subscribers(db, room.list_id, 150)
    stack = stack_factory(MAILER_RATE_LIMIT="30/second")
    worker = stack.worker()
    stack.cli("send", room.issue_slug, "--list", room.list_slug, "--yes", "--no-wait")
    wait_until(lambda: len(relay.sink.received) >= 15, 60, "15 messages")
    campaigns.cancel(db, 1)  # what `mailer campaign cancel` does, at once (see the pause test)
    db.commit()
    at_cancel = len(relay.sink.received)
    wait_until(lambda: live_claims(db) == 0, 60, "the chunks in flight to end")
    stack.stop(worker)
    assert len(relay.sink.received) - at_cancel <= 2 * CHUNK
    assert campaign_status(db) == CampaignStatus.CANCELLED
    counts = delivery_counts(db)
    assert counts["skipped"] > 0 and counts.get("pending", 0) == 0
    assert counts["sent"] == len(relay.sink.received)


def test_two_workers_share_one_rate_limit(
    db: Session, room: Newsroom, relay: SMTPServer, stack_factory: Callable[..., Stack]
) -> None:
    add_subscribers(db, room.list_id, 110)
    rate = "25/second"
    stack = stack_factory(MAILER_RATE_LIMIT=rate)
    stack.worker("worker1", concurrency=2)
    stack.worker("worker2", concurrency=2)
    stack.cli("send", room.issue_slug, "--list", room.list_slug, "--yes")
    times = [r.received_at for r in relay.sink.received]
    assert len(times) == room.report.imported + 110
    print("\n  " + assert_within_rate(times, rate))


def test_beat_starts_a_scheduled_campaign_when_due(
    db: Session, room: Newsroom, relay: SMTPServer, stack_factory: Callable[..., Stack]
) -> None:
    """Scheduled an hour ahead, the campaign waits through the beat's ticks (observed in the
    worker's log, not guessed with a sleep); when its time comes (the schedule moved to now, as
    the clock would) the next tick starts it, and nothing went out before that time."""
    stack = stack_factory()
    stack.worker()
    stack.spawn("beat", name="beat")
    later = datetime.now(UTC) + timedelta(hours=1)
    out = stack.cli(
        "send", room.issue_slug, "--list", room.list_slug, "--at", later.isoformat(), "--yes"
    )
    assert "scheduled" in out

    def ticks() -> int:
        return len(TICK_DONE.findall(stack.log("worker")))

    seen = ticks()
    wait_until(lambda: ticks() >= seen + 2, 60, "two ticks of the beat after scheduling")
    assert relay.sink.received == [] and campaign_status(db) == CampaignStatus.SCHEDULED
    due = datetime.now(UTC)
    db.execute(update(Campaign).where(Campaign.id == 1).values(scheduled_at=due))
    db.commit()
    wait_until(lambda: campaign_status(db) == CampaignStatus.DONE, 60, "the scheduled campaign")
    assert len(relay.sink.received) == room.report.imported
    first_message = min(r.received_at for r in relay.sink.received)
    assert first_message >= due.timestamp()  # not before its time
