"""The delivery write protocol on each backend: claims are leases on id ranges that never overlap,
a row is written at its outcome, and the claims of a silent owner end so that its unsent rows are
sent by someone else (mailer/sending/deliveries.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.content.issues import import_issue
from mailer.db import utcnow
from mailer.sending import campaigns, deliveries, outcomes, start
from mailer.sending.models import CampaignStatus, Delivery, DeliveryClaim, DeliveryStatus
from mailer.settings import Settings
from subscribers.db import make_engine, session_factory
from subscribers.lists import create_list
from tests.builders import add_subscribers, cleared
from tests.conftest import BRIEFING


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as s:
        yield s
    engine.dispose()


def _campaign(session: Session) -> tuple[int, int, int, int, int]:
    """A campaign of the fixture issue to a list of 60 readers, snapshotted by the real code:
    (id, list, issue, first delivery id, last delivery id)."""
    issue = import_issue(session, BRIEFING)
    mlist = create_list(session, "briefing", "Security Chatter")
    session.commit()
    add_subscribers(session, mlist.id, 60)
    campaign = campaigns.create(
        session, issue, cleared(campaigns.resolve_audience(session, issue, "briefing"))
    )
    start.snapshot(session, campaign)
    campaign.status = CampaignStatus.SENDING  # as the start's first chunk sets it: claimable
    session.commit()
    lo, hi = session.execute(
        select(func.min(Delivery.id), func.max(Delivery.id)).where(
            Delivery.campaign_id == campaign.id
        )
    ).one()
    return campaign.id, mlist.id, issue.id, lo, hi


def test_claims_never_overlap_and_a_silent_owners_unsent_rows_come_back(
    session: Session, settings: Settings
) -> None:
    cid, list_id, issue_id, lo, hi = _campaign(session)

    def take(owner: str, now=None) -> deliveries.Chunk:  # type: ignore[no-untyped-def]
        return deliveries.claim_recipients(
            session,
            campaign_id=cid,
            lo=lo,
            hi=hi,
            owner=owner,
            limit=25,
            list_id=list_id,
            issue_id=issue_id,
            resend=False,
            now=now,
        )

    first, second = take("a/1"), take("b/1")
    ids_a = [r.delivery_id for r in first.send]
    ids_b = [r.delivery_id for r in second.send]
    assert len(ids_a) == len(ids_b) == 25
    assert max(ids_a) < min(ids_b)  # the second claim starts after the first one's range
    assert all(r.attempts == 1 for r in first.send)
    # Claiming wrote no delivery row: they are all still pending, never attempted.
    untouched = session.execute(
        select(func.count()).where(
            Delivery.campaign_id == cid,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.attempts == 0,
        )
    ).scalar()
    session.commit()
    assert untouched == 60

    engine = make_engine(settings.database_url)
    started = utcnow()
    with (
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection,
        outcomes.Recorder(connection, "a/1") as recorder,  # leaving it: every outcome committed
    ):
        for rcpt in first.send[:5]:
            recorder.record(
                rcpt.delivery_id,
                outcomes.Outcome(DeliveryStatus.SENT),
                "250 2.0.0 ok",
                attempts=rcpt.attempts,
                message_id=f"<{rcpt.delivery_id}@example.com>",
                now=started,
            )
    engine.dispose()
    sent = session.execute(
        select(Delivery.id, Delivery.attempts, Delivery.claimed_by, Delivery.message_id).where(
            Delivery.status == DeliveryStatus.SENT
        )
    ).all()
    session.commit()
    assert sorted(sent) == [(i, 1, "a/1", f"<{i}@example.com>") for i in ids_a[:5]]

    # Owner a fell silent after its fifth message; b never recorded anything. Within stale_after
    # of a's last outcome a keeps its claim; b's claim, as old, is ended.
    recovered = deliveries.recover_abandoned(
        session, stale_after=60, now=started + timedelta(seconds=30)
    )
    assert recovered == {}
    later = started + timedelta(seconds=61)
    recovered = deliveries.recover_abandoned(session, stale_after=60, now=later)
    assert recovered == {cid: 45}  # a's 20 unsent rows and b's 25
    assert session.scalar(select(func.count()).select_from(DeliveryClaim)) == 0
    session.commit()

    # The next claim takes a's unsent rows first, and none that a sent.
    again = take("c/1", now=later)
    assert [r.delivery_id for r in again.send] == ids_a[5:] + ids_b[:5]
    deliveries.release(session, again.claim_id)  # type: ignore[arg-type]
    assert session.scalar(select(func.count()).select_from(DeliveryClaim)) == 0


def test_outcomes_are_recorded_on_a_pooled_connection_that_lost_its_prepared_statements(
    session: Session, settings: Settings
) -> None:
    """Between two batches a pooled connection serves others; psycopg sends DEALLOCATE ALL after
    a ROLLBACK on a connection where it prepared statements of its own. The next batch's
    Recorder prepares its UPDATE again instead of failing every outcome."""
    cid, list_id, issue_id, lo, hi = _campaign(session)
    chunk = deliveries.claim_recipients(
        session,
        campaign_id=cid,
        lo=lo,
        hi=hi,
        owner="a/1",
        limit=4,
        list_id=list_id,
        issue_id=issue_id,
        resend=False,
    )
    engine = make_engine(settings.database_url, pool_size=1)
    sent = outcomes.Outcome(DeliveryStatus.SENT)
    for rcpt in chunk.send[:2]:  # two batches, one pooled connection
        with (
            engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection,
            outcomes.Recorder(connection, "a/1") as recorder,
        ):
            recorder.record(rcpt.delivery_id, sent, "250 ok", attempts=1)
        with engine.connect() as other:  # someone else's use of it in between
            if other.dialect.name == "postgresql":  # (SQLite prepares nothing server-side)
                other.exec_driver_sql("DEALLOCATE ALL")
    engine.dispose()
    recorded = session.scalars(
        select(Delivery.id).where(Delivery.status == DeliveryStatus.SENT).order_by(Delivery.id)
    ).all()
    session.commit()
    assert recorded == [r.delivery_id for r in chunk.send[:2]]
