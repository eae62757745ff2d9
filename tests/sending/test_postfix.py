"""A campaign through a real relay: `mailer send` → Postfix (over STARTTLS, its certificate
self-signed) → the test's SMTP sink, as a firm sends through its own MTA.

Postfix answers 450 for two recipients from its access table: `mailer send` records them as
deferred with Postfix's own reply and keeps retrying; once the table changes (postmap), the next
retry delivers them, and the command ends with everyone delivered exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from mailer.sending.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from mailer.settings import Settings
from subscribers.db import make_engine, session_factory
from subscribers.models import Subscriber, SubscriberStatus, Subscription, SubscriptionStatus
from tests.builders import newsroom
from tests.conftest import POSTAL_ADDRESS
from tests.postfix import Postfix
from tests.processes import wait_until
from tests.smtpd import SMTPServer

pytestmark = pytest.mark.slow

SECRET = "postfix-test-secret-" + "p" * 32
BUSY = "450 4.2.0 Mailbox busy, try again later"


@pytest.fixture
def sink() -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        yield server


@pytest.fixture
def postfix(sink: SMTPServer) -> Iterator[Postfix]:
    relay = Postfix(relay_port=sink.port)
    try:
        yield relay
    finally:
        relay.stop()  # also when the test (or the start itself) failed


def test_a_campaign_through_postfix_over_starttls_with_450s_deferred_then_delivered(
    sqlite_url: str, sink: SMTPServer, postfix: Postfix, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url)
    with session_factory(engine)() as session:
        room = newsroom(session, Settings(secret_key=SECRET))
        audience = _addresses(session, room.list_id)
    busy = sorted(audience)[:2]
    postfix.start(access={address: BUSY for address in busy})

    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILER_")}
    env.update(
        MAILER_DATABASE_URL=sqlite_url,
        MAILER_SMTP_URL=f"smtp+starttls://127.0.0.1:{postfix.port}?timeout=10",
        MAILER_POSTAL_ADDRESS=POSTAL_ADDRESS,
        MAILER_SECRET_KEY=SECRET,
        MAILER_MAIL_DOMAIN="news.example.com",
        MAILER_PUBLIC_URL="https://news.example.com",
        MAILER_FROM="Miranda Delphi Solutions <briefing@news.example.com>",
        MAILER_RETRY_BASE_DELAY="1",
        # The relay's self-signed certificate, trusted the way OpenSSL lets any client trust one.
        SSL_CERT_FILE=str(postfix.cert),
    )
    out = tmp_path / "send.log"
    with out.open("wb") as log:
        send = subprocess.Popen(
            [sys.executable, "-m", "mailer", "send", room.issue_slug, "--list", room.list_slug,
             "--yes"],
            env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        # Everyone else relayed to the sink; the two busy mailboxes deferred with Postfix's reply.
        wait_until(lambda: len(sink.sink.received) >= len(audience) - 2, 60, "the first pass")
        wait_until(lambda: len(_deferred(engine)) == 2, 30, "the two 450s to be recorded")
        deferred = _deferred(engine)
        assert sorted(deferred) == busy
        for address, reply in deferred.items():
            assert reply == (
                f"450 4.2.0 <{address}>: Recipient address rejected: Mailbox busy, try again later"
            )
        assert send.poll() is None  # still retrying them
        assert not {r.rcpt_tos[0] for r in sink.sink.received} & set(busy)

        postfix.set_access({})  # the mailboxes have room again
        assert send.wait(timeout=60) == 0, out.read_text()
    finally:
        if send.poll() is None:
            send.kill()

    got = Counter(r.rcpt_tos[0].lower() for r in sink.sink.received)
    assert set(got) == audience and set(got.values()) == {1}  # everyone, once
    with session_factory(engine)() as session:
        campaign = session.get(Campaign, 1)
        assert campaign is not None and campaign.status == CampaignStatus.DONE
        statuses = Counter(session.scalars(select(Delivery.status)))
        assert statuses == {DeliveryStatus.SENT: len(audience)}
        retried = session.scalars(select(Delivery.id).where(Delivery.attempts > 1)).all()
        assert len(retried) == 2
    # Postfix received every message over TLS (its Received header says so) and relayed it.
    for message in sink.sink.received:
        received = str(message.message["Received"])
        assert "with ESMTPS" in received and "using TLS" in received, received
    assert "starttls=1" in postfix.log()
    engine.dispose()


def _addresses(session: Session, list_id: int) -> set[str]:
    """Who a send to the list reaches: active subscribers with an active subscription."""
    rows = session.scalars(
        select(Subscriber.email)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(
            Subscription.list_id == list_id,
            Subscription.status == SubscriptionStatus.ACTIVE,
            Subscriber.status == SubscriberStatus.ACTIVE,
        )
    ).all()
    return {e.lower() for e in rows if e}


def _deferred(engine: Engine) -> dict[str, str]:
    """Address → last reply of the deferred deliveries."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Subscriber.email, Delivery.last_reply)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.status == DeliveryStatus.DEFERRED)
        ).all()
    return {str(email).lower(): str(reply) for email, reply in rows}
