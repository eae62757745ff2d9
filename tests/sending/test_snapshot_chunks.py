"""A campaign's audience snapshot in committed chunks of subscriber ids (MAILER_SNAPSHOT_CHUNK),
each chunk's batches sent while later chunks are inserted, on SQLite and PostgreSQL, in-process
(no broker) to a real SMTP server: everyone once, no early finish, and a cancel that stops it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.content.models import Issue
from mailer.db import session_scope
from mailer.sending import campaigns, start, tasks
from mailer.sending.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from mailer.settings import Settings, reset_settings
from subscribers.db import make_engine, session_factory
from subscribers.models import Subscriber, Subscription, SubscriptionStatus
from tests.builders import Newsroom, cleared, newsroom
from tests.smtpd import SMTPServer, SMTPSink

CHUNK = 7  # subscribers per snapshot chunk: the fixture list makes several


@pytest.fixture
def room(session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Newsroom:
    monkeypatch.setenv("MAILER_SNAPSHOT_CHUNK", str(CHUNK))
    reset_settings()
    return newsroom(session, settings)


def active_emails(session: Session, list_id: int) -> list[str]:
    rows = session.scalars(
        select(Subscriber.email)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.list_id == list_id, Subscription.status == SubscriptionStatus.ACTIVE)
    )
    return sorted(e for e in rows if e)


def campaign_row(settings: Settings, campaign_id: int) -> tuple[str, bool, int, int]:
    """(status, snapshot complete, total, deliveries) as another connection sees them now."""
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as other:
        row = other.execute(
            select(Campaign.status, Campaign.snapshot_complete, Campaign.total).where(
                Campaign.id == campaign_id
            )
        ).one()
        rows = other.scalar(select(func.count()).where(Delivery.campaign_id == campaign_id))
    engine.dispose()
    return CampaignStatus(row[0]).value, bool(row[1]), int(row[2]), int(rows or 0)


class WatchingSink(SMTPSink):
    """A relay that runs `on_message` before accepting each message (in the relay's thread, while
    the sender waits for its answer): what the test looks at, or what an editor does, meanwhile."""

    def __init__(self, on_message: Callable[[], None]):
        super().__init__()
        self.on_message = on_message

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.on_message()
        return await super().handle_DATA(server, session, envelope)


def test_a_snapshot_in_many_chunks_sends_to_everyone_once_and_starts_sending_before_it_ends(
    session: Session, settings: Settings, room: Newsroom, relay: SMTPServer
) -> None:
    everyone = active_emails(session, room.list_id)
    subscribers = session.scalar(select(func.count()).select_from(Subscriber)) or 0
    assert subscribers > 3 * CHUNK  # several chunks
    seen: list[tuple[str, bool, int, int]] = []
    relay.sink = WatchingSink(lambda: seen.append(campaign_row(settings, 1)))
    relay.controller.handler = relay.sink

    out = CliRunner().invoke(app, ["send", room.issue_slug, "--list", room.list_slug, "--yes"])
    assert out.exit_code == 0, out.output + repr(out.exception)

    assert sorted(r.rcpt_tos[0] for r in relay.sink.received) == everyone
    # The first message left while the snapshot held only its first chunk, and the campaign was
    # sending (not done) at every message although earlier chunks had all been sent by then.
    status, complete, total, rows = seen[0]
    assert (status, complete) == ("sending", False)
    assert 0 < total == rows <= CHUNK
    assert all(s == "sending" for s, *_ in seen)
    assert any(not c and t > CHUNK for _, c, t, _ in seen)  # later chunks came in while sending
    session.expire_all()
    campaign = session.get(Campaign, 1)
    assert campaign is not None
    assert campaign.status == CampaignStatus.DONE and campaign.snapshot_complete
    assert campaign.total == len(everyone) == campaign.recipients
    assert campaign.start_owner is None and campaign.status_reason == ""
    per_subscriber = session.execute(
        select(Delivery.subscriber_id, func.count()).group_by(Delivery.subscriber_id)
    ).all()
    assert len(per_subscriber) == len(everyone) and {n for _, n in per_subscriber} == {1}


def test_the_campaign_does_not_finish_before_its_snapshot_is_complete(
    session: Session, settings: Settings, room: Newsroom, relay: SMTPServer
) -> None:
    """Every delivery of the first chunk sent, none left unfinished: still not done, because
    the later chunks are not in yet; done once the last chunk is in and sent."""
    issue = session.get(Issue, room.issue_id)
    assert issue is not None
    audience = campaigns.resolve_audience(session, issue, room.list_slug)
    cid = campaigns.create(session, issue, cleared(audience)).id
    session.commit()
    owner = "start/test"
    tasks.render(cid)
    with session_scope() as s:
        assert start.take_start(s, cid, owner, 60)
    with session_scope() as s:
        campaign = campaigns.get(s, cid)
        through = start.chunk_end(s, None, CHUNK)
        assert through is not None
        added = start.snapshot_range(s, campaign, None, through)
        assert start.record_chunk(s, cid, owner, added=added, through=through) == "sending"
    assert tasks.enqueue_batches(cid) > 0  # sends the first chunk here (no broker)
    assert len(relay.sink.received) == added
    with session_scope() as s:
        assert not campaigns.finish_if_done(s, cid)
    assert campaign_row(settings, cid)[:2] == ("sending", False)

    assert tasks.start_campaign(cid) == 0  # its lease is held: nobody else resumes it
    with session_scope() as s:
        start.end_start(s, cid, owner)  # as if its worker had died and the lease expired
    assert tasks.start_campaign(cid) > 0  # takes over after the watermark, sends the rest
    assert sorted(r.rcpt_tos[0] for r in relay.sink.received) == active_emails(
        session, room.list_id
    )
    assert campaign_row(settings, cid)[:2] == ("done", True)


def test_cancel_during_the_snapshot_stops_it_and_skips_what_was_snapshotted(
    session: Session, settings: Settings, room: Newsroom, relay: SMTPServer
) -> None:
    everyone = active_emails(session, room.list_id)
    engine = make_engine(settings.database_url)
    cancelled: list[int] = []

    def editor_cancels() -> None:
        if cancelled:
            return
        with session_factory(engine)() as other:
            cancelled.append(campaign_row(settings, 1)[3])  # rows snapshotted at the cancel
            campaigns.cancel(other, 1)
            other.commit()

    relay.sink = WatchingSink(editor_cancels)
    relay.controller.handler = relay.sink
    out = CliRunner().invoke(app, ["send", room.issue_slug, "--list", room.list_slug, "--yes"])
    engine.dispose()
    assert out.exit_code == 0, out.output + repr(out.exception)

    # The messages already claimed by the batch at the cancel went out (the granularity of a
    # cancel: batch.CHUNK rows), all of the first chunk; nothing after them.
    session.expire_all()
    campaign = session.get(Campaign, 1)
    assert campaign is not None
    assert campaign.status == CampaignStatus.CANCELLED and not campaign.snapshot_complete
    assert campaign.start_owner is None and campaign.status_reason == "cancelled by an editor"
    statuses = dict(
        session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
    )
    # The snapshot stopped at the chunk it was on: no row beyond those the cancel saw, none
    # left to send.
    assert sum(statuses.values()) == cancelled[0] <= CHUNK < len(everyone)
    assert set(statuses) <= {DeliveryStatus.SENT, DeliveryStatus.SKIPPED}
    assert statuses[DeliveryStatus.SENT] == len(relay.sink.received) >= 1
    assert tasks.start_campaign(1) == 0  # a cancelled campaign's snapshot is not resumed
    assert tasks.run_due()["started"] == 0


def test_pause_during_the_snapshot_stops_the_sending_not_the_snapshot_and_resume_sends_the_rest(
    session: Session, settings: Settings, room: Newsroom, relay: SMTPServer
) -> None:
    everyone = active_emails(session, room.list_id)
    engine = make_engine(settings.database_url)
    paused: list[bool] = []

    def editor_pauses() -> None:
        if paused:
            return
        with session_factory(engine)() as other:
            campaigns.pause(other, 1)
            other.commit()
        paused.append(True)

    relay.sink = WatchingSink(editor_pauses)
    relay.controller.handler = relay.sink
    out = CliRunner().invoke(app, ["send", room.issue_slug, "--list", room.list_slug, "--yes"])
    engine.dispose()
    assert out.exit_code == 0, out.output + repr(out.exception)
    before = len(relay.sink.received)
    assert 1 <= before <= CHUNK
    # Paused: no later chunk was sent, but every chunk is in.
    status, complete, total, rows = campaign_row(settings, 1)
    assert (status, complete) == ("paused", True)
    assert total == rows == len(everyone)

    resumed = CliRunner().invoke(app, ["campaign", "resume", "1"])
    assert resumed.exit_code == 0, resumed.output + repr(resumed.exception)
    assert sorted(r.rcpt_tos[0] for r in relay.sink.received) == everyone
    assert campaign_row(settings, 1)[:2] == ("done", True)
