"""A campaign's progress (mailer/sending/progress.py): its sending time leaves out the time it
spent paused, in `mailer report`, `mailer send`'s bar and the admin page alike (real SQLite and
PostgreSQL for the pauses as `campaigns.pause`/`resume`/`cancel` record them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mailer.db import utcnow
from mailer.sending import campaigns
from mailer.sending.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from mailer.sending.progress import progress, rate, sending_seconds
from mailer.settings import Settings
from mailer.web.admin.campaign_report import timing
from tests.builders import Newsroom, newsroom
from tests.inbound_support import snapshot_campaign

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.fixture
def room(session: Session, settings: Settings) -> Newsroom:
    return newsroom(session, settings)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_sending_seconds_leave_out_the_pauses() -> None:
    assert sending_seconds(None, None, 0.0, None, at(10)) is None  # not started
    assert sending_seconds(T0, None, 0.0, None, at(100)) == 100  # running
    assert sending_seconds(T0, at(40), 0.0, None, at(100)) == 40  # finished
    assert sending_seconds(T0, None, 30.0, None, at(100)) == 70  # after a 30 s pause
    assert sending_seconds(T0, None, 30.0, at(60), at(100)) == 30  # and paused again since 60 s
    assert sending_seconds(T0, at(80), 0.0, at(60), at(500)) == 60  # cancelled while paused
    # A scheduled campaign paused before it started: its sending time counts from the start.
    assert sending_seconds(T0, None, 0.0, at(-50), at(20)) == 0


def test_a_campaign_paused_for_most_of_its_time_reports_its_sending_time_and_rate(
    session: Session, room: Newsroom
) -> None:
    """Paused 80 of its 100 seconds: 20 s of sending, at the rate of those 20 s (the duration and
    rate counted the pause as sending: a campaign paused overnight 'sent' at a crawl)."""
    campaign = snapshot_campaign(session, room)
    cid = campaign.id
    now = utcnow()
    session.execute(
        update(Campaign)
        .where(Campaign.id == cid)
        .values(status=CampaignStatus.SENDING, started_at=now - timedelta(seconds=100))
    )
    campaigns.pause(session, cid)
    session.commit()
    # The pause began 80 s ago (moved back rather than waited for).
    session.execute(
        update(Campaign).where(Campaign.id == cid).values(paused_at=now - timedelta(seconds=80))
    )
    session.commit()
    paused = progress(session, cid)
    assert paused.sending_seconds is not None and 19 <= paused.sending_seconds <= 22

    campaigns.resume(session, cid)
    session.commit()
    session.expire_all()
    resumed = campaigns.get(session, cid)
    assert resumed.paused_at is None and 79 <= resumed.paused_seconds <= 82
    shown = timing(resumed, {"sent": 200, "pending": 0})
    assert shown.elapsed is not None and 19 <= shown.elapsed.total_seconds() <= 22
    assert 9 <= shown.rate <= 10.5  # 200 messages in about 20 s of sending

    # Cancelling it later closes no pause twice: the total stays what the resume made it.
    before = resumed.paused_seconds
    campaigns.cancel(session, cid)
    session.commit()
    session.expire_all()
    assert campaigns.get(session, cid).paused_seconds == before


def test_messages_sent_after_the_pause_was_recorded_count_as_sending_time() -> None:
    """Paused (Ctrl-C) 5 ms after the start, while the messages in flight went on for 3 s: the
    sending time runs to the last one sent, not 5 ms ("1000 msgs/s, 0.0 s")."""
    last = at(3)
    assert sending_seconds(T0, None, 0.0, at(0.005), at(60), last_sent_at=last) == 3
    assert sending_seconds(T0, at(0.005), 0.0, None, at(60), last_sent_at=last) == 3  # cancelled
    # Resumed after 10 s of pause, then paused again: only the sending counts.
    assert sending_seconds(T0, None, 10.0, at(20), at(60), last_sent_at=at(19)) == 10
    assert rate(5, 0.005) == 5  # no division by almost nothing
    assert rate(0, None) == 0


def test_a_campaign_paused_at_its_start_reports_the_rate_its_messages_went_out_at(
    session: Session, room: Newsroom
) -> None:
    """`mailer campaign status`/`report` after a pause that the in-flight messages outran:
    30 messages over 3 s is 10 a second (the relay's limit), not 6,000."""
    campaign = snapshot_campaign(session, room)
    cid, now = campaign.id, utcnow()
    started = now - timedelta(seconds=10)
    session.execute(
        update(Campaign)
        .where(Campaign.id == cid)
        .values(
            status=CampaignStatus.PAUSED,
            started_at=started,
            paused_at=started + timedelta(seconds=0.005),
        )
    )
    rows = session.scalars(select(Delivery).where(Delivery.campaign_id == cid).limit(30)).all()
    assert len(rows) == 30
    for i, row in enumerate(rows):
        row.status = DeliveryStatus.SENT
        row.sent_at = started + timedelta(seconds=0.1 * (i + 1))
    session.commit()
    paused = progress(session, cid)
    assert paused.sending_seconds is not None and 2.9 <= paused.sending_seconds <= 3.1
    assert 9.5 <= paused.rate <= 10.5
    shown = timing(campaigns.get(session, cid), paused.counts, last_sent_at=paused.last_sent_at)
    assert shown.elapsed is not None and 2.9 <= shown.elapsed.total_seconds() <= 3.1
