"""Feedback reports that are not spam complaints: an `opt-out` report (or Apple Mail's Unsubscribe
button) unsubscribes the reader from the list; a DMARC `auth-failure` report changes nothing.
Neither marks the reader `complained`, suppresses the address or counts in the complaint rate."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.inbound.complaints import complaint_counts
from mailer.inbound.models import InboundKind, InboundMessage
from mailer.sending.models import Delivery
from mailer.settings import get_settings
from subscribers.models import Subscriber, SubscriberStatus, Subscription, SubscriptionStatus
from subscribers.suppression import get_suppression
from tests.builders import Newsroom
from tests.inbound_support import (
    DOMAIN,
    InboundServer,
    address,
    delivery_of,
    message_id_of,
    snapshot_campaign,
    tampered,
)

WHO = "jose.rivera1@example.org"
FBL = "fbl@feedback.example.net"


def arf(
    feedback_type: str,
    to: str,
    *,
    rcpt: str = WHO,
    fields: str = "",
    original: str | None = None,
) -> bytes:
    """A provider's feedback report about a message we sent to `rcpt`, delivered To: `to`:
    `fields` more feedback-report fields, `original` the part carrying the original (by default
    its headers without any token of ours; "" for none)."""
    if original is None:
        original = (
            "Content-Type: text/rfc822-headers\r\n\r\n"
            f"From: briefing@{DOMAIN}\r\nTo: {rcpt}\r\nSubject: Weekly briefing\r\n"
        )
    return (
        f"From: {FBL}\r\nTo: {to}\r\nSubject: Feedback report\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="fb"\r\n\r\n'
        "--fb\r\nContent-Type: text/plain\r\n\r\nA report about a message you sent.\r\n"
        "--fb\r\nContent-Type: message/feedback-report\r\n\r\n"
        f"Feedback-Type: {feedback_type}\r\nUser-Agent: FBL/1.0\r\nVersion: 1\r\n"
        f"{fields}Original-Rcpt-To: {rcpt}\r\n"
        + (f"--fb\r\n{original}" if original else "")
        + "--fb--\r\n"
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
    signed = f"Content-Type: text/rfc822-headers\r\n\r\n{as_sent(delivery, WHO)}"
    server.send("", [bounces], arf("abuse", bounces, original=signed))
    assert state(session, delivery.campaign_id) == (
        SubscriberStatus.COMPLAINED,
        SubscriptionStatus.ACTIVE,
        True,
        1,
    )


COMPLAINER = "o'brien+news@example.ie"


def our_message_id(delivery: Delivery) -> str:
    """The signed Message-ID compose.py gives the delivery's message (campaign, delivery, MAC)."""
    return message_id_of(delivery, get_settings())


def as_sent(delivery: Delivery, rcpt: str, message_id: str | None = None) -> str:
    """The headers and start of our message to `rcpt` as it was sent (tokens, Message-ID);
    `message_id`: a forger's in place of the signed one."""
    settings = get_settings()
    bounces, reply_to = (address(k, delivery.id, settings) for k in ("bounces", "reply"))
    token = bounces.split("+", 1)[1].split("@", 1)[0]
    return (
        f"Return-Path: <{bounces}>\r\n"
        f"Received: from mta1.{DOMAIN} (mta1.{DOMAIN} [203.0.113.25])\r\n"
        f"\tby mx.example.ie with ESMTPS id 4ZXy2k1Jd9z9vL\r\n"
        f"\tfor <{rcpt}>; Wed, 09 Apr 2025 12:40:03 +0000\r\n"
        f"From: Briefing <briefing@{DOMAIN}>\r\nTo: {rcpt}\r\n"
        "Subject: Security Chatter - 9 April 2025\r\n"
        f"Message-ID: {message_id or our_message_id(delivery)}\r\n"
        f"Reply-To: Fausto Carbajal Glass <{reply_to}>\r\n"
        f"List-Unsubscribe: <http://127.0.0.1:8000/u/{token}>,\r\n"
        f" <mailto:unsubscribe+{token}@{DOMAIN}>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Security Chatter\r\n"
    )


def marked(session: Session, email: str) -> tuple[SubscriberStatus, bool]:
    session.expire_all()
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == email))
    assert subscriber is not None
    return subscriber.status, get_suppression(session, email, get_settings().secret()) is not None


@pytest.mark.parametrize("carried", ["message/rfc822", "text/rfc822-headers", "message-id only"])
def test_a_report_sent_to_one_readers_address_blames_the_reader_its_original_names(
    session: Session, room: Newsroom, server: InboundServer, carried: str
) -> None:
    """A feedback loop registered with one reader's bounces+ address (To: that address) reports
    another reader's message: the original inside names who complained (its Message-ID, its
    tokens, Original-Mail-From), whichever of our addresses the report reached."""
    campaign = snapshot_campaign(session, room)
    reached, complained = (
        delivery_of(session, WHO, campaign.id),
        delivery_of(session, COMPLAINER, campaign.id),
    )
    bounces = address("bounces", reached.id, get_settings())
    sent = as_sent(complained, COMPLAINER)
    fields = f"Original-Mail-From: <{address('bounces', complained.id, get_settings())}>\r\n"
    if carried == "message/rfc822":
        original = f"Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n{sent}"
    elif carried == "text/rfc822-headers":
        head = sent.partition("\r\n\r\n")[0]
        original = f"Content-Type: text/rfc822-headers\r\n\r\n{head}\r\n"
    else:  # a provider that strips our return path and links: only the Message-ID is left
        fields = ""
        original = (
            "Content-Type: text/rfc822-headers\r\n\r\n"
            f"From: briefing@{DOMAIN}\r\nTo: {COMPLAINER}\r\n"
            f"Message-ID: {our_message_id(complained)}\r\n"
        )
    report = arf("abuse", bounces, rcpt=COMPLAINER, fields=fields, original=original)
    server.send("", [bounces], f"Delivered-To: {bounces}\r\n".encode() + report)

    [row] = session.scalars(select(InboundMessage)).all()
    assert row.kind == InboundKind.COMPLAINT and COMPLAINER in row.outcome, row.outcome
    assert (row.subscriber_id, row.delivery_id) == (complained.subscriber_id, complained.id)
    assert marked(session, COMPLAINER) == (SubscriberStatus.COMPLAINED, True)
    assert marked(session, WHO) == (SubscriberStatus.ACTIVE, False)
    assert complaint_counts(session, campaign.id).complaints == 1


@pytest.mark.parametrize(
    ("named", "names_reader"),
    [
        (WHO.upper(), True),  # the report names the reader whose address it reached
        ("redacted@example.org", True),  # the loop hid the address: the VERP token names them
        ("[redacted]@example.org", True),
        (COMPLAINER, False),  # plainly someone else: it names nobody of ours
    ],
)
def test_a_report_whose_original_carries_nothing_of_ours_is_an_unconfirmed_complaint(
    session: Session, room: Newsroom, server: InboundServer, named: str, names_reader: bool
) -> None:
    """No original (or one stripped of our headers): nothing shows the report is about a message
    we sent, and the VERP address it reached is in the reader's own mail, for anyone to write to.
    It is recorded as an unconfirmed complaint naming the reader the address belongs to (or
    nobody, when it plainly names another address), marks and suppresses nobody, and does not
    count in the campaign's complaint rate."""
    campaign = snapshot_campaign(session, room)
    reached = delivery_of(session, WHO, campaign.id)
    bounces = address("bounces", reached.id, get_settings())
    server.send("", [bounces], arf("abuse", bounces, rcpt=named, original=""))
    [row] = session.scalars(select(InboundMessage)).all()
    assert row.kind == InboundKind.COMPLAINT
    assert marked(session, WHO) == (SubscriberStatus.ACTIVE, False), row.outcome
    assert marked(session, COMPLAINER) == (SubscriberStatus.ACTIVE, False)
    assert complaint_counts(session, campaign.id).complaints == 0
    if names_reader:
        assert row.outcome.startswith("unconfirmed complaint"), row.outcome
        assert WHO in row.outcome and "nobody suppressed" in row.outcome, row.outcome
        assert row.subscriber_id == reached.subscriber_id
    else:
        assert "nobody marked" in row.outcome and COMPLAINER in row.outcome, row.outcome
        assert row.subscriber_id is None


@pytest.mark.parametrize("message_id", ["tampered", "none of ours"])
def test_a_forged_complaint_with_the_readers_tokens_is_unconfirmed_shown_and_not_counted(
    session: Session, room: Newsroom, server: InboundServer, message_id: str
) -> None:
    """An ARF report at the reader's bounces+ address, its "original" rebuilt from the reader's
    own mail (Return-Path, Reply-To, List-Unsubscribe, Original-Mail-From: all our tokens) but
    without the signed Message-ID of the message we sent (one character changed, or a made-up
    one). It is kept as an unconfirmed complaint naming the reader, listed where complaints
    are; the reader is not marked, not suppressed, and the complaint rate stays 0."""
    campaign = snapshot_campaign(session, room)
    delivery = delivery_of(session, WHO, campaign.id)
    settings = get_settings()
    forged = {
        "tampered": tampered(our_message_id(delivery)),
        "none of ours": "<20250409124003.4ZXy2k1Jd9z9vL@mta1.news.example.com>",
    }[message_id]
    bounces = address("bounces", delivery.id, settings)
    original = "Content-Type: message/rfc822\r\n\r\n" + as_sent(delivery, WHO, forged)
    fields = f"Original-Mail-From: <{bounces}>\r\n"
    server.send("", [bounces], arf("abuse", bounces, fields=fields, original=original))

    [row] = session.scalars(select(InboundMessage)).all()
    assert row.kind == InboundKind.COMPLAINT and row.subscriber_id == delivery.subscriber_id
    assert row.outcome.startswith("unconfirmed complaint") and WHO in row.outcome, row.outcome
    assert state(session, campaign.id) == (
        SubscriberStatus.ACTIVE,
        SubscriptionStatus.ACTIVE,
        False,
        0,
    )
    shown = CliRunner().invoke(app, ["subscribers", "show", WHO])
    assert shown.exit_code == 0 and "unconfirmed complaint" in shown.output, shown.output
    # The same report with the signed Message-ID of the message we sent: a complaint, counted.
    genuine = "Content-Type: message/rfc822\r\n\r\n" + as_sent(delivery, WHO)
    server.send("", [bounces], arf("abuse", bounces, fields=fields, original=genuine))
    assert state(session, campaign.id) == (
        SubscriberStatus.COMPLAINED,
        SubscriptionStatus.ACTIVE,
        True,
        1,
    )
