"""A campaign's delivery counts as the admin pages get them: a finished campaign's kept for its
finish (and dropped by a retry), a large sending campaign's kept a few seconds and recounted in
the background (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from mailer.content.issues import get_issue
from mailer.db import utcnow
from mailer.sending import campaigns, start
from mailer.sending.models import (
    Campaign,
    CampaignCounts,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
)
from mailer.settings import Settings
from mailer.web import delivery_counts
from tests.builders import Newsroom, cleared, newsroom
from tests.processes import wait_until


@pytest.fixture
def sending(session: Session, settings: Settings) -> Campaign:
    """A campaign snapshotted to its list (every delivery pending), marked sending."""
    room: Newsroom = newsroom(session, settings)
    issue = get_issue(session, room.issue_slug)
    campaign = campaigns.create(
        session, issue, cleared(campaigns.resolve_audience(session, issue, room.list_slug))
    )
    session.flush()
    campaign.total = start.snapshot(session, campaign)
    campaign.status = CampaignStatus.SENDING
    campaign.started_at = utcnow()
    session.commit()
    return campaign


def mark(session: Session, campaign: Campaign, status: DeliveryStatus, n: int) -> None:
    ids = session.scalars(
        Delivery.__table__.select()
        .with_only_columns(Delivery.id)
        .where(Delivery.campaign_id == campaign.id, Delivery.status == DeliveryStatus.PENDING)
        .limit(n)
    ).all()
    session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(status=status))
    session.commit()


def test_a_large_sending_campaigns_counts_are_served_kept_then_recounted(
    session: Session, sending: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery_counts, "CACHED_FROM", 1)  # every campaign counts as large
    monkeypatch.setattr(delivery_counts, "_recent", {})
    first = delivery_counts.counts(session, sending)
    assert first["pending"] == sending.total > 3 and first["sent"] == 0
    mark(session, sending, DeliveryStatus.SENT, 3)
    assert delivery_counts.counts(session, sending) == first  # within FRESH_FOR: as kept
    monkeypatch.setattr(delivery_counts, "FRESH_FOR", 0.0)
    assert delivery_counts.counts(session, sending) == first  # stale: served, recounted behind
    wait_until(
        lambda: delivery_counts.counts(session, sending)["sent"] == 3,
        timeout=10,
        what="the background recount to land",
        poll=0.05,
    )
    assert delivery_counts.counts(session, sending)["pending"] == sending.total - 3


def test_a_finished_campaigns_counts_are_kept_for_its_finish_and_a_retry_drops_them(
    session: Session, sending: Campaign
) -> None:
    mark(session, sending, DeliveryStatus.FAILED, 2)
    mark(session, sending, DeliveryStatus.SENT, sending.total)
    assert campaigns.finish_if_done(session, sending.id)
    session.commit()
    session.refresh(sending)
    done = delivery_counts.counts(session, sending)
    assert done["sent"] == sending.total - 2 and done["failed"] == 2
    kept = session.get(CampaignCounts, sending.id)
    assert kept is not None and kept.counts == done and kept.finished_at == sending.finished_at

    assert campaigns.retry_failed(session, sending.id) == 2
    session.commit()
    session.refresh(sending)
    retried = delivery_counts.counts(session, sending)
    assert retried["failed"] == 0 and retried["pending"] == 2  # counted, not the kept figures
