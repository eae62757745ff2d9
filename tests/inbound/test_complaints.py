"""Feedback reports that are not spam complaints: an `opt-out` report (or Apple Mail's Unsubscribe
button) unsubscribes the reader from the list; a DMARC `auth-failure` report changes nothing.
Neither marks the reader `complained`, suppresses the address or counts in the complaint rate."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.inbound.complaints import complaint_counts
from mailer.inbound.models import InboundKind, InboundMessage
from mailer.settings import get_settings
from subscribers.models import Subscriber, SubscriberStatus, Subscription, SubscriptionStatus
from subscribers.suppression import get_suppression
from tests.builders import Newsroom
from tests.inbound_support import DOMAIN, InboundServer, address, delivery_of, snapshot_campaign

WHO = "jose.rivera1@example.org"
FBL = "fbl@feedback.example.net"


def arf(feedback_type: str, to: str) -> bytes:
    """A provider's feedback report about a message we sent to WHO."""
    return (
        f"From: {FBL}\r\nTo: {to}\r\nSubject: Feedback report\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="fb"\r\n\r\n'
        "--fb\r\nContent-Type: text/plain\r\n\r\nA report about a message you sent.\r\n"
        "--fb\r\nContent-Type: message/feedback-report\r\n\r\n"
        f"Feedback-Type: {feedback_type}\r\nUser-Agent: FBL/1.0\r\nVersion: 1\r\n"
        f"Original-Rcpt-To: {WHO}\r\n"
        "--fb\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: briefing@{DOMAIN}\r\nTo: {WHO}\r\nSubject: Weekly briefing\r\n"
        "--fb--\r\n"
    ).encode()


def state(
    session: Session, campaign_id: int
) -> tuple[SubscriberStatus, SubscriptionStatus, bool, int]:
    session.expire_all()
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == WHO))
    assert subscriber is not None
    [subscription] = session.scalars(
        select(Subscription).where(Subscription.subscriber_id == subscriber.id)
    ).all()
    suppressed = get_suppression(session, WHO, get_settings().secret()) is not None
    rate = complaint_counts(session, campaign_id).complaints
    return subscriber.status, subscription.status, suppressed, rate


def test_an_opt_out_report_unsubscribes_the_reader_and_is_no_complaint(
    session: Session, room: Newsroom, server: InboundServer
) -> None:
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    bounces = address("bounces", delivery.id, get_settings())
    server.send("", [bounces], arf("opt-out", bounces))
    [row] = session.scalars(select(InboundMessage)).all()
    assert row.kind == InboundKind.COMPLAINT and "unsubscribed" in row.outcome, row.outcome
    assert state(session, delivery.campaign_id) == (
        SubscriberStatus.ACTIVE,
        SubscriptionStatus.UNSUBSCRIBED,
        False,
        0,
    )


def test_a_dmarc_report_changes_nothing_and_an_abuse_report_counts(
    session: Session, room: Newsroom, server: InboundServer
) -> None:
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    bounces = address("bounces", delivery.id, get_settings())
    server.send("", [bounces], arf("auth-failure", bounces))
    assert state(session, delivery.campaign_id) == (
        SubscriberStatus.ACTIVE,
        SubscriptionStatus.ACTIVE,
        False,
        0,
    )
    server.send("", [bounces], arf("abuse", bounces))
    assert state(session, delivery.campaign_id) == (
        SubscriberStatus.COMPLAINED,
        SubscriptionStatus.ACTIVE,
        True,
        1,
    )
