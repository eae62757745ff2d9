"""A campaign's page: timing, the chart, failures grouped by reply, and what came back, each
number linking to its people (in process, a real SMTP server refusing some recipients)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.inbound import models
from mailer.sending.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from mailer.web.admin.campaign_report import sent_over_time, timing
from subscribers.lifecycle import get_subscriber, unsubscribe_from_list
from subscribers.lists import get_list
from tests.builders import Newsroom
from tests.smtpd import SMTPServer
from tests.web.test_admin import Editor, editor, text_of, wait_until_final  # noqa: F401

# ruff: noqa: F811  (the fixtures imported from test_admin are parameters here)


def test_timing_is_elapsed_rate_and_time_left_at_that_rate() -> None:
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    running = Campaign(started_at=start, finished_at=None)
    counts = {"sent": 600, "pending": 1200, "sending": 0, "deferred": 0}
    t = timing(running, counts, now=start + timedelta(minutes=2))
    assert t.elapsed == timedelta(minutes=2) and t.per_minute == 300
    assert t.eta == timedelta(minutes=4)
    done = Campaign(started_at=start, finished_at=start + timedelta(seconds=30))
    assert timing(done, {"sent": 60}).eta is None
    assert timing(Campaign(started_at=None), {}).elapsed is None


def test_the_campaign_page_shows_timing_chart_failures_and_what_came_back(
    editor: Editor, session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    refused = {
        "valeria.gonzalez0@example.com": "550 5.1.1 no such user",
        "jose.rivera1@example.org": "550 5.1.1 no such user",
        "ricardo.diaz2@example.org": "554 5.7.1 refused by policy",
    }
    for address, reply in refused.items():
        relay.sink.rules[address] = [reply]
    campaign_id = send_from_the_issue_page(editor, room)
    final = wait_until_final(editor, campaign_id)
    failed = [
        a
        for a in refused
        if session.scalar(
            select(Delivery.status).where(
                Delivery.campaign_id == campaign_id, Delivery.subscriber_id == _id(session, a)
            )
        )
        == DeliveryStatus.FAILED
    ]
    assert final["counts"]["failed"] == len(failed) == 3
    assert set(final["timing"]) == {"elapsed", "rate", "eta"}

    # What came back: a hard bounce, an inquiry, an unsubscribe after the message was sent.
    reader = next(
        d
        for d in session.scalars(
            select(Delivery).where(
                Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.SENT
            )
        )
    )
    inbound = models.InboundMessage(rcpt_to="b@x", address_kind="bounces", size=1, raw=b".")
    session.add(inbound)
    session.flush()
    session.add(
        models.BounceEvent(
            inbound_message_id=inbound.id,
            subscriber_id=reader.subscriber_id,
            campaign_id=campaign_id,
            kind=models.BounceKind.HARD,
            diagnostic="550 mailbox gone",
        )
    )
    session.add(
        models.InboundMessage(
            rcpt_to="b@x",
            address_kind="bounces",
            size=1,
            raw=b".",
            kind=models.InboundKind.COMPLAINT,
            delivery_id=reader.id,
            subscriber_id=reader.subscriber_id,
            outcome="complaint (abuse): marked complained and suppressed",
        )
    )
    email = _email(session, reader.subscriber_id)
    unsubscribe_from_list(session, get_list(session, "briefing"), email)
    session.commit()

    page = editor.get(f"/admin/campaigns/{campaign_id}")
    shown = text_of(page.text)
    assert "Elapsed" in shown and "Rate" in shown and "/min" in shown
    assert f'src="/admin/campaigns/{campaign_id}/chart.svg"' in page.text
    assert "2 550 5.1.1 no such user" in shown and "1 554 5.7.1 refused by policy" in shown
    assert 'data-caused="bounced-hard">1<' in page.text
    assert 'data-caused="unsubscribed">1<' in page.text
    assert 'data-caused="inquiries">0<' in page.text
    assert 'data-caused="complaints">1<' in page.text

    chart = editor.get(f"/admin/campaigns/{campaign_id}/chart.svg")
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in chart.text and "Messages sent" in chart.text
    assert not re.search(r"<script[^>]+src=", chart.text)  # nothing fetched from elsewhere
    assert "default-src 'none'" in chart.headers["content-security-policy"]
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    sent_rows = session.scalars(
        select(Delivery).where(
            Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.SENT
        )
    ).all()
    for i, row in enumerate(sent_rows):  # uneven moments, none on an interval's edge
        row.sent_at = start + timedelta(seconds=i * i + 0.5)
    session.commit()
    times = sorted(start + timedelta(seconds=i * i + 0.5) for i in range(len(sent_rows)))
    series = sent_over_time(session, campaign_id, points=4)
    assert [at for at, _ in series][0] == times[0] and series[-1] == (times[-1], len(times))
    assert [n for _, n in series[:-1]] == [sum(t < at for t in times) for at, _ in series[:-1]]
    assert len(series) == 4 and len(times) > 4

    who = editor.get(f"/admin/campaigns/{campaign_id}/people/failed")
    assert f'data-total="{len(failed)}"' in who.text
    assert all(a in text_of(who.text) for a in failed)
    gone = text_of(editor.get(f"/admin/campaigns/{campaign_id}/people/unsubscribed").text)
    assert email in gone
    assert editor.get(f"/admin/campaigns/{campaign_id}/people/clicked").status_code == 404


def _id(session: Session, email: str) -> int:
    sub = get_subscriber(session, email)
    assert sub is not None
    return sub.id


def _email(session: Session, subscriber_id: int | None) -> str:
    from subscribers.models import Subscriber

    found = session.get(Subscriber, subscriber_id)
    assert found is not None and found.email
    return found.email


def test_a_cancelled_campaign_shows_what_was_sent_and_skipped_not_a_full_bar(
    editor: Editor, session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    """Cancelled part-way, a campaign's deliveries are partly sent and partly skipped: every page
    says how many were sent out of the total and how many were skipped, as `mailer campaign
    status` does, never "total / total" as if all had gone out."""
    campaign_id = send_from_the_issue_page(editor, room)
    wait_until_final(editor, campaign_id)
    # As a cancel leaves it: the deliveries after the first few skipped, the campaign cancelled.
    session.expire_all()
    rows = session.scalars(
        select(Delivery).where(Delivery.campaign_id == campaign_id).order_by(Delivery.id)
    ).all()
    for row in rows[3:]:
        row.status, row.sent_at = DeliveryStatus.SKIPPED, None
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None and campaign.finished_at is not None
    campaign.status = CampaignStatus.CANCELLED
    campaign.finished_at += timedelta(seconds=1)
    session.commit()
    total, skipped = len(rows), len(rows) - 3
    for path in ("/admin", "/admin/campaigns", f"/admin/campaigns/{campaign_id}"):
        shown = text_of(editor.get(path).text)
        assert f"3 / {total} sent" in shown, path
        assert f"{skipped} skipped" in shown, path
        assert f"{total} / {total}" not in shown, path


def send_from_the_issue_page(editor: Editor, room: Newsroom) -> int:
    """The issue sent to the whole list from its admin page, confirmed; the new campaign's id."""
    editor.get(f"/admin/issues/{room.issue_slug}")
    sent = editor.post(
        f"/admin/issues/{room.issue_slug}/send",
        {"audience": "briefing", "confirm": "yes"},
        follow_redirects=False,
    )
    return int(sent.headers["location"].rsplit("/", 1)[1])


def test_a_scheduled_campaign_paused_before_its_time_shows_whom_not_0_of_0(
    editor: Editor, session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    """Paused before its time, a scheduled campaign has snapshotted nobody: the dashboard, the
    campaigns page and its own page say whom it was counted for, as while it was scheduled, not
    "0 / 0 sent" (read as "to nobody"); its page still gives the time it was due."""
    editor.get(f"/admin/issues/{room.issue_slug}")
    form = {"audience": "briefing", "at": "2099-01-01T09:00", "confirm": "yes"}
    sent = editor.post(f"/admin/issues/{room.issue_slug}/send", form, follow_redirects=False)
    campaign_id = int(sent.headers["location"].rsplit("/", 1)[1])
    editor.get(f"/admin/campaigns/{campaign_id}")
    editor.post(f"/admin/campaigns/{campaign_id}/pause")
    session.expire_all()
    assert session.get(Campaign, campaign_id).status == CampaignStatus.PAUSED  # type: ignore[union-attr]
    for path in ("/admin", "/admin/campaigns", f"/admin/campaigns/{campaign_id}"):
        shown = text_of(editor.get(path).text)
        assert f"not started · {room.report.imported} recipients when counted" in shown, path
        assert "0 / 0 sent" not in shown, path
    assert "Scheduled for 2099-01-01 09:00" in text_of(
        editor.get(f"/admin/campaigns/{campaign_id}").text
    )
    assert relay.sink.received == []
