"""Bounce policy, with bounces arriving through the inbound SMTP server (in-process, no broker) on
SQLite and PostgreSQL: hard bounces suppress at once, soft ones when they pile up in a window,
and each sample of flufl.bounce's corpus in which flufl.bounce finds a failed address is attributed
to the subscriber with that address."""

from __future__ import annotations

import email
from datetime import timedelta
from pathlib import Path

import pytest
from flufl.bounce import all_failures
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.inbound.models import (
    BounceEvent,
    BounceKind,
    InboundKind,
    InboundMessage,
    InboundStatus,
)
from mailer.inbound.process import process
from mailer.sending.models import Campaign
from mailer.sending.reasons import Reason, is_hard
from mailer.settings import Settings, get_settings, reset_settings
from mailer.worker import app as celery_app
from mailer.worker import configure
from subscribers.addresses import normalize
from subscribers.db import utcnow
from subscribers.errors import InvalidAddress
from subscribers.models import Subscriber, SubscriberStatus, Subscription, SuppressionReason
from subscribers.suppression import get_suppression, is_suppressed
from tests.builders import Newsroom, newsroom
from tests.inbound_support import (
    InboundServer,
    address,
    delivery_of,
    dsn,
    snapshot_campaign,
)

CORPUS = Path(__file__).parent.parent / "data" / "bounces"
runner = CliRunner()
WHO = "jose.rivera1@example.org"
FULL = "smtp; 452 4.2.2 Mailbox full"


@pytest.fixture
def room(session: Session, settings: Settings) -> Newsroom:
    configure(celery_app)  # no broker in `settings`: the classify task runs in-process
    assert celery_app.conf.task_always_eager
    return newsroom(session, settings)


def bounce(server: InboundServer, settings: Settings, delivery_id: int, status: str, **kw) -> None:  # type: ignore[no-untyped-def]
    rcpt = address("bounces", delivery_id, settings)
    got = server.send("", [rcpt], dsn(WHO, status, **kw))
    assert got.rcpts[rcpt][0] == 250 and got.data is not None and got.data[0] == 250, got


def subscriber(session: Session, email: str = WHO) -> Subscriber:
    session.expire_all()
    row = session.scalar(select(Subscriber).where(Subscriber.email == email))
    assert row is not None
    return row


def test_a_hard_bounce_suppresses_the_subscriber(
    session: Session, settings: Settings, room: Newsroom, server: InboundServer
) -> None:
    campaign = snapshot_campaign(session, room)
    delivery = delivery_of(session, WHO, campaign.id)
    bounce(server, settings, delivery.id, "5.1.1")

    assert subscriber(session).status == SubscriberStatus.BOUNCED
    entry = get_suppression(session, WHO, settings.secret())
    assert entry is not None and entry.reason == SuppressionReason.HARD_BOUNCE
    assert "5.1.1" in entry.detail
    [event] = session.scalars(select(BounceEvent)).all()
    assert (event.kind, event.status, event.recipient) == (BounceKind.HARD, "5.1.1", WHO)
    assert event.delivery_id == delivery.id and event.campaign_id == campaign.id
    [msg] = session.scalars(select(InboundMessage)).all()
    assert msg.kind == InboundKind.BOUNCE and msg.status == InboundStatus.DONE
    assert "suppressed" in msg.outcome
    # Nobody else was touched.
    assert session.scalar(select(func.count()).where(Subscriber.status == "bounced")) == 1


def test_three_soft_bounces_on_three_messages_suppress(
    session: Session, settings: Settings, room: Newsroom, server: InboundServer
) -> None:
    deliveries = [
        delivery_of(session, WHO, snapshot_campaign(session, room, force_resend=True).id)
        for _ in range(3)
    ]
    for n, delivery in enumerate(deliveries, 1):
        bounce(server, settings, delivery.id, "4.2.2", action="failed", diagnostic=FULL)
        suppressed = is_suppressed(session, WHO, settings.secret())
        assert suppressed == (n == 3), f"after {n} soft bounces"
    entry = get_suppression(session, WHO, settings.secret())
    assert entry is not None and entry.reason == SuppressionReason.SOFT_BOUNCE
    assert "3 soft bounces in 30 days" in entry.detail
    assert subscriber(session).status == SubscriberStatus.BOUNCED


def test_repeated_delay_warnings_for_one_message_count_once(
    session: Session, settings: Settings, room: Newsroom, server: InboundServer
) -> None:
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    for _ in range(4):  # a relay warns at 4 h, 24 h, 48 h… about the same message
        bounce(server, settings, delivery.id, "4.4.1", diagnostic="smtp; 421 4.4.1 timeout")
    assert session.scalar(select(func.count()).select_from(BounceEvent)) == 4
    assert not is_suppressed(session, WHO, settings.secret())
    assert subscriber(session).status == SubscriberStatus.ACTIVE


def test_delay_warnings_are_not_bounces_and_the_final_failure_is(
    session: Session, settings: Settings, room: Newsroom, server: InboundServer
) -> None:
    """A "still trying" warning about three campaigns' messages (greylisting, a slow server) is
    recorded but suppresses nobody and is no bounce in the report; the relay's final report is."""
    assert settings.soft_bounce_threshold <= 3  # three counted bounces would suppress
    campaigns = [snapshot_campaign(session, room, force_resend=True) for _ in range(3)]
    ids = [delivery_of(session, WHO, c.id).id for c in campaigns]
    for delivery_id in ids:
        bounce(server, settings, delivery_id, "4.2.2", action="delayed", diagnostic=FULL)
    assert session.scalar(select(func.count()).select_from(BounceEvent)) == 3
    assert not is_suppressed(session, WHO, settings.secret())
    assert subscriber(session).status == SubscriberStatus.ACTIVE
    outcomes = session.scalars(select(InboundMessage.outcome)).all()
    assert all("delay warning" in o and "not counted" in o for o in outcomes), outcomes
    report = runner.invoke(app, ["report", str(campaigns[0].id)])
    assert report.exit_code == 0, report.output
    assert "bounces   0 hard, 0 soft" in report.output
    # the relay gives up on the first message: that is one soft bounce
    bounce(server, settings, ids[0], "4.2.2", action="failed", diagnostic=FULL)
    report = runner.invoke(app, ["report", str(campaigns[0].id)])
    assert "bounces   0 hard, 1 soft" in report.output
    assert not is_suppressed(session, WHO, settings.secret())


def test_soft_bounces_older_than_the_window_do_not_count(
    session: Session, settings: Settings, room: Newsroom, server: InboundServer
) -> None:
    ids = [
        delivery_of(session, WHO, snapshot_campaign(session, room, force_resend=True).id).id
        for _ in range(3)
    ]
    bounce(server, settings, ids[0], "4.2.2", action="failed")
    bounce(server, settings, ids[1], "4.2.2", action="failed")
    session.execute(update(BounceEvent).values(created_at=utcnow() - timedelta(days=31)))
    session.commit()
    bounce(server, settings, ids[2], "4.2.2", action="failed")
    assert not is_suppressed(session, WHO, settings.secret())


def test_threshold_and_window_come_from_settings(
    session: Session, room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_SOFT_BOUNCE_THRESHOLD", "1")
    reset_settings()
    settings = get_settings()
    assert settings.soft_bounce_threshold == 1
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    with InboundServer(settings) as server:
        bounce(server, settings, delivery.id, "4.2.2", action="failed")
    assert is_suppressed(session, WHO, settings.secret())


def test_processing_a_bounce_twice_records_it_once(
    session: Session, settings: Settings, room: Newsroom, server: InboundServer
) -> None:
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    bounce(server, settings, delivery.id, "4.2.2")
    msg_id = session.scalar(select(InboundMessage.id))
    assert msg_id is not None
    again = process(msg_id)
    assert again.status == InboundStatus.DONE
    assert session.scalar(select(func.count()).select_from(BounceEvent)) == 1
    session.expire_all()
    assert session.get(InboundMessage, msg_id).attempts == 2  # type: ignore[union-attr]


def test_bounces_show_in_subscribers_show_and_report(
    session: Session, settings: Settings, room: Newsroom, server: InboundServer
) -> None:
    campaign = snapshot_campaign(session, room)
    bounce(server, settings, delivery_of(session, WHO, campaign.id).id, "5.1.1")
    shown = runner.invoke(app, ["subscribers", "show", WHO])
    assert shown.exit_code == 0, shown.output
    assert "bounces:" in shown.output and "hard 5.1.1" in shown.output
    assert "suppression: hard_bounce" in shown.output
    report = runner.invoke(app, ["report", str(campaign.id)])
    assert report.exit_code == 0, report.output
    assert "bounces   1 hard, 0 soft" in report.output


def _valid(addr: str) -> bool:
    try:
        normalize(addr)
    except InvalidAddress:
        return False
    return True


def _corpus() -> list[tuple[Path, bytes, set[str], set[str]]]:
    """Every sample with flufl.bounce's verdict: (path, CRLF bytes, temporary, permanent)."""
    out = []
    for path in sorted(CORPUS.glob("*.txt")):
        raw = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        temporary, permanent = all_failures(email.message_from_bytes(raw))
        out.append((path, raw, {a.decode() for a in temporary}, {a.decode() for a in permanent}))
    return out


def _dsn_status(raw: bytes, addr: str) -> str | None:
    """The Status field (RFC 3464) of the recipient's block, read by the test itself (not by the
    product), or None when the message has no delivery-status part naming the address."""
    for part in email.message_from_bytes(raw).walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in part.get_payload()[1:]:  # [0] is the per-message block
            named = f"{block.get('Final-Recipient', '')} {block.get('Original-Recipient', '')}"
            if addr.lower() in named.lower() and block.get("Status"):
                return str(block["Status"]).strip()
    return None


def test_each_corpus_bounce_flufl_bounce_attributes_reaches_the_right_subscriber(
    session: Session, settings: Settings, room: Newsroom, server: InboundServer
) -> None:
    """flufl.bounce's own test messages in which it finds a failed address (all but a few: they
    are printed), each sent to the bounces+ address of the subscriber with that address: the
    BounceEvent names that subscriber and that address; a 4.x.x status in the message's RFC 3464
    part is never hard, a 5.1.x (bad mailbox or domain) always is, and otherwise hard follows the
    reason's class (sending/reasons.py), whatever the first digit."""
    samples = _corpus()
    attributed = [s for s in samples if s[2] or s[3]]
    left_out = sorted(s[0].name for s in samples if not (s[2] or s[3]))
    assert len(attributed) > len(samples) * 0.9
    # One subscriber per failing address, on the list, so the campaign has a delivery for each.
    target = {path: sorted(temp | perm)[0] for path, _, temp, perm in attributed}
    emails = sorted({a.lower() for a in target.values()})
    for addr in emails:
        row = Subscriber(email=addr, domain=addr.rpartition("@")[2], name="Corpus")
        session.add(row)
        session.flush()
        session.add(Subscription(subscriber_id=row.id, list_id=room.list_id))
    session.commit()
    campaign = snapshot_campaign(session, room)
    ids = {addr: delivery_of(session, addr, campaign.id) for addr in emails}

    for path, raw, _temp, _perm in attributed:
        delivery = ids[target[path].lower()]
        rcpt = address("bounces", delivery.id, settings)
        got = server.send("", [rcpt], raw)
        assert got.data is not None and got.data[0] == 250, (path.name, got)

    session.expire_all()
    events = {e.inbound_message_id: e for e in session.scalars(select(BounceEvent)).all()}
    messages = session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
    assert len(messages) == len(attributed)
    for (path, raw, _temp, _perm), msg in zip(attributed, messages, strict=True):
        addr = target[path]
        assert msg.kind == InboundKind.BOUNCE, (path.name, msg.kind, msg.reason)
        event = events[msg.id]
        expected = ids[addr.lower()].subscriber_id
        assert event.subscriber_id == expected, path.name
        assert event.recipient.lower() == addr.lower(), (path.name, event.recipient)
        hard = event.kind == BounceKind.HARD
        status = _dsn_status(raw, addr)
        if status and status.startswith("4"):
            assert not hard, (path.name, status, event.reason)
        elif status and status.startswith("5.1."):
            assert hard, (path.name, status, event.reason)
        else:
            assert hard == is_hard(Reason(event.reason)), (path.name, event.kind, event.reason)
    print(f"\nflufl.bounce corpus: {len(attributed)} of {len(samples)} samples attributed")  # noqa: T201
    print(f"no failed address found by flufl.bounce in {left_out}")  # noqa: T201
    # Each address that had a hard bounce is suppressed; the campaign's counts add up.
    hard_addresses = {
        target[p].lower()
        for (p, *_), m in zip(attributed, messages, strict=True)
        if events[m.id].kind == BounceKind.HARD
    }
    storable = {a for a in hard_addresses if _valid(a)}  # "david...@gmail.com" is not
    assert len(storable) >= len(hard_addresses) - 1
    assert all(is_suppressed(session, a, settings.secret()) for a in storable)
    kinds = dict(
        session.execute(
            select(BounceEvent.kind, func.count())
            .where(BounceEvent.campaign_id == campaign.id)
            .group_by(BounceEvent.kind)
        ).all()
    )
    assert sum(kinds.values()) == len(attributed)
    assert session.get(Campaign, campaign.id) is not None
