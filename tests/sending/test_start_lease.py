"""A campaign's start (render + snapshot) is owned by one execution at a time, however long it runs,
and a start that dies mid-snapshot is taken over where it stopped.

Real PostgreSQL and a private redis-server as the broker, with no worker consuming: every task
the code enqueues stays in the queue, where the test counts them by name. The start is held open
by a real lock (the test's own transaction holds SHARE on `delivery`, which the snapshot's INSERT
waits for) for longer than MAILER_STALE_AFTER, while beat's tick runs and a redelivered copy of the
start task arrives.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.content.models import Issue
from mailer.db import utcnow
from mailer.sending import campaigns, start, tasks
from mailer.sending.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from mailer.settings import Settings, reset_settings
from mailer.worker import app as celery_app
from mailer.worker import configure
from subscribers import segments
from subscribers.db import make_engine
from tests.builders import add_subscribers, cleared, newsroom
from tests.faults.support import RedisServer
from tests.processes import wait_until

pytestmark = pytest.mark.slow

STALE_AFTER = 1.0
BATCH_SIZE = 25


@pytest.fixture
def broker(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    monkeypatch.setenv("MAILER_BROKER_URL", server.url)
    monkeypatch.setenv("MAILER_STALE_AFTER", str(STALE_AFTER))
    monkeypatch.setenv("MAILER_BATCH_SIZE", str(BATCH_SIZE))
    reset_settings()
    tasks.reset_caches()
    configure(celery_app)
    assert not celery_app.conf.task_always_eager
    yield server
    for key in ("MAILER_BROKER_URL", "MAILER_STALE_AFTER", "MAILER_BATCH_SIZE"):
        monkeypatch.delenv(key)
    reset_settings()
    configure(celery_app)
    server.kill()


def queued(server: RedisServer) -> list[str]:
    """The names of the tasks waiting in the broker's queue."""
    raw = redis.Redis(port=server.port).lrange("mailer", 0, -1)
    return [json.loads(m)["headers"]["task"] for m in raw]


def queued_ranges(server: RedisServer) -> list[tuple[int, int]]:
    """The (lo, hi) delivery-id ranges of the send_batch tasks waiting in the queue."""
    raw = redis.Redis(port=server.port).lrange("mailer", 0, -1)
    out = []
    for message in map(json.loads, raw):
        if message["headers"]["task"] == "mailer.tasks.send_batch":
            args = json.loads(base64.b64decode(message["body"]))[0]
            out.append((int(args[1]), int(args[2])))
    return out


def reason(session: Session, campaign_id: int) -> str:
    value = session.scalar(select(Campaign.status_reason).where(Campaign.id == campaign_id))
    session.commit()
    return value or ""


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_start_held_past_stale_after_is_not_started_again_and_its_batches_are_queued_once(
    session: Session, settings: Settings, broker: RedisServer
) -> None:
    room = newsroom(session, settings)
    add_subscribers(session, room.list_id, 100)
    issue = session.get(Issue, room.issue_id)
    assert issue is not None
    audience = campaigns.resolve_audience(session, issue, room.list_slug)
    cid = campaigns.create(session, issue, cleared(audience)).id
    session.commit()

    holder = make_engine(settings.database_url).connect()
    holder.exec_driver_sql("LOCK TABLE delivery IN SHARE MODE")  # the snapshot's INSERT waits
    outcome: dict[str, object] = {}
    first = threading.Thread(
        target=lambda: outcome.update(batches=tasks.start_campaign(cid)), daemon=True
    )
    first.start()
    try:
        expected = f"starting: snapshot of {audience.recipients} recipients"
        wait_until(lambda: reason(session, cid) == expected, 60, "the snapshot to begin")
        status = CliRunner().invoke(app, ["campaign", "status", str(cid)])
        assert expected in status.output, status.output
        lease = session.scalar(select(Campaign.start_expires_at).where(Campaign.id == cid))
        session.commit()
        assert lease is not None

        # Held well past MAILER_STALE_AFTER: the first lease would have expired by now, and the
        # campaign looks like a start that was lost. Beat ticks and a redelivered start task.
        beyond = lease + timedelta(seconds=STALE_AFTER)
        wait_until(lambda: utcnow() > beyond, 10, "the first lease's expiry to pass")
        for _ in range(3):
            assert tasks.run_due()["started"] == 0
        assert tasks.start_campaign(cid) == 0  # the redelivered copy returns at once
        renewed = session.scalar(select(Campaign.start_expires_at).where(Campaign.id == cid))
        session.commit()
        assert renewed is not None and renewed > beyond  # the owner kept its lease alive
        assert first.is_alive()  # still blocked: the start really was held all along
        assert queued(broker) == []
    finally:
        holder.rollback()
        holder.close()
    first.join(60)
    assert not first.is_alive()

    ranges = campaigns.batch_ranges(session, cid, BATCH_SIZE)
    assert len(ranges) == -(-audience.recipients // BATCH_SIZE) > 1
    assert outcome["batches"] == len(ranges)
    assert queued(broker) == ["mailer.tasks.send_batch"] * len(ranges)
    campaign = session.get(Campaign, cid)
    assert campaign is not None
    session.refresh(campaign)
    assert campaign.status == CampaignStatus.SENDING and campaign.total == audience.recipients
    assert campaign.start_owner is None and campaign.status_reason == ""


def insert_waits(url: str) -> bool:
    """A session of this database waits for a lock at a snapshot chunk's INSERT."""
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO delivery %'"
        ).fetchone()
    return bool(row and row[0])


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_start_killed_mid_snapshot_is_taken_over_and_resumes_without_duplicates(
    session: Session, settings: Settings, broker: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The start runs in a process of its own, which is SIGKILLed while its second chunk waits:
    the first chunk stays (committed, its batches queued, the campaign sending), the tick hands
    the start to a new execution once the lease expires, and that one resumes after the
    watermark: one delivery per recipient, every one of them in a queued batch."""
    chunk = 40
    monkeypatch.setenv("MAILER_SNAPSHOT_CHUNK", str(chunk))
    reset_settings()
    room = newsroom(session, settings)
    add_subscribers(session, room.list_id, 100)
    issue = session.get(Issue, room.issue_id)
    assert issue is not None
    audience = campaigns.resolve_audience(session, issue, room.list_slug)
    cid = campaigns.create(session, issue, cleared(audience)).id
    session.commit()
    everyone = set(
        session.scalars(segments.matching_subscriber_ids(session, room.list_id, None)).all()
    )
    first_end = start.chunk_end(session, None, chunk)
    assert first_end is not None and len(everyone) > 2 * chunk
    session.commit()

    # An uncommitted row for a subscriber of the second chunk: that chunk's INSERT waits for
    # this transaction on the unique (campaign, subscriber) index, an observable point.
    holder = make_engine(settings.database_url).connect()
    holder.execute(
        insert(Delivery).values(
            campaign_id=cid,
            issue_id=issue.id,
            subscriber_id=min(i for i in everyone if i > first_end),
            status=DeliveryStatus.PENDING,
            resend=False,
            attempts=0,
            updated_at=utcnow(),
        )
    )
    starter = subprocess.Popen(
        [sys.executable, "-c", f"from mailer.sending import tasks; tasks.start_campaign({cid})"],
        env=dict(os.environ),
    )
    try:
        wait_until(lambda: insert_waits(settings.database_url), 60, "the second chunk to wait")
        campaign = session.get(Campaign, cid)
        assert campaign is not None
        session.refresh(campaign)
        assert campaign.status == CampaignStatus.SENDING and not campaign.snapshot_complete
        assert campaign.snapshot_through == first_end and campaign.start_owner is not None
        # Enqueued by the start's enqueuing thread while the second chunk is inserted.
        wait_until(lambda: queued(broker), 30, "the first chunk's batches to be queued")
        first_batches = queued(broker)
        assert first_batches and set(first_batches) == {"mailer.tasks.send_batch"}
        session.commit()
        starter.kill()
        starter.wait(10)
    finally:
        holder.rollback()
        holder.close()
        if starter.poll() is None:
            starter.kill()

    # Once the dead start's lease has expired, the tick starts it again.
    expires = session.scalar(select(Campaign.start_expires_at).where(Campaign.id == cid))
    session.commit()
    assert expires is not None
    wait_until(lambda: utcnow() > expires, 10, "the dead start's lease to expire")
    assert tasks.run_due()["started"] == 1
    assert queued(broker).count("mailer.tasks.start_campaign") == 1
    assert tasks.start_campaign(cid) > 0  # that queued start, run here

    rows = session.execute(
        select(Delivery.subscriber_id, func.count())
        .where(Delivery.campaign_id == cid)
        .group_by(Delivery.subscriber_id)
    ).all()
    assert {sid for sid, _ in rows} == everyone and {n for _, n in rows} == {1}
    campaign = session.get(Campaign, cid)
    assert campaign is not None
    session.refresh(campaign)
    assert campaign.snapshot_complete and campaign.total == len(everyone)
    assert campaign.start_owner is None and campaign.status_reason == ""
    # Every delivery is in some queued batch (the first chunk's twice: the new owner cannot
    # know whether the dead one enqueued them; harmless, claims are atomic).
    ids = set(session.scalars(select(Delivery.id).where(Delivery.campaign_id == cid)))
    ranges = queued_ranges(broker)
    assert {d for d in ids if any(lo <= d <= hi for lo, hi in ranges)} == ids
    assert len(ranges) > len(first_batches)
    assert tasks.run_due()["started"] == 0
