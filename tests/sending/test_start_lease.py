"""A campaign's start (render + snapshot) is owned by one execution at a time, however long it runs.

Real PostgreSQL and a private redis-server as the broker, with no worker consuming: every task
the code enqueues stays in the queue, where the test counts them by name. The start is held open
by a real lock (the test's own transaction holds SHARE on `delivery`, which the snapshot's INSERT
waits for) for longer than MAILER_STALE_AFTER, while beat's tick runs and a redelivered copy of the
start task arrives.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from kombu import pools as kombu_pools
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.content.models import Issue
from mailer.db import utcnow
from mailer.sending import campaigns, tasks
from mailer.sending.models import Campaign, CampaignStatus
from mailer.settings import Settings, reset_settings
from mailer.worker import app as celery_app
from mailer.worker import configure
from subscribers.db import make_engine
from tests.builders import add_subscribers, newsroom
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
    # kombu keeps producer pools in a process-wide registry keyed by broker URL: the eager
    # memory:// one, whose connections configure() just closed, would be handed out again.
    kombu_pools.reset()
    server.kill()


def queued(server: RedisServer) -> list[str]:
    """The names of the tasks waiting in the broker's queue."""
    raw = redis.Redis(port=server.port).lrange("mailer", 0, -1)
    return [json.loads(m)["headers"]["task"] for m in raw]


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
    cid = campaigns.create(session, issue, audience).id
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
