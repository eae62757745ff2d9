"""Campaigns sent in-process (the embedded default, no broker) on SQLite and PostgreSQL, to a real
SMTP server: who receives what, retries, suppression, scheduling and cancelling."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trustme
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer import tokens
from mailer.cli import app
from mailer.sending import batch, campaigns, tasks
from mailer.sending.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from mailer.settings import Settings, get_settings, reset_settings
from mailer.worker import app as celery_app
from mailer.worker import configure
from subscribers import gdpr
from subscribers.db import make_engine, session_factory
from subscribers.lifecycle import unsubscribe_from_list
from subscribers.lists import get_list
from subscribers.models import Subscriber, Subscription, SubscriptionStatus
from subscribers.suppression import add_suppression, is_suppressed
from tests.builders import Newsroom, newsroom
from tests.processes import wait_until
from tests.smtpd import SMTPServer, SMTPSink

runner = CliRunner()


@pytest.fixture
def room(session: Session, settings: Settings) -> Newsroom:
    return newsroom(session, settings)


def active_emails(session: Session, list_id: int) -> set[str]:
    rows = session.scalars(
        select(Subscriber.email)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.list_id == list_id, Subscription.status == SubscriptionStatus.ACTIVE)
    )
    return {e for e in rows if e}


def send(*args: str) -> str:
    result = runner.invoke(app, ["send", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_every_active_subscriber_gets_exactly_one_message(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    expected = active_emails(session, room.list_id)
    assert len(expected) == room.report.imported
    out = send(room.issue_slug, "--list", room.list_slug, "--yes")
    assert f"Recipients: {len(expected)}" in out
    assert "campaign 1" in out
    received = relay.sink.received
    rcpts = [r.rcpt_tos for r in received]
    assert all(len(r) == 1 for r in rcpts)
    assert sorted(r[0] for r in rcpts) == sorted(expected)

    secrets = get_settings().verification_secrets()
    for got in received:
        msg = got.message
        rcpt = got.rcpt_tos[0]
        assert msg["To"].addresses[0].addr_spec == rcpt  # To matches the envelope
        local, domain = got.mail_from.split("@")
        assert domain == "news.example.com" and local.startswith("bounces+")
        delivery_id = tokens.parse_delivery_token(local.removeprefix("bounces+"), secrets)
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None and delivery.status == DeliveryStatus.SENT
        subscriber = session.get(Subscriber, delivery.subscriber_id)
        assert subscriber is not None and subscriber.email == rcpt
        unsubscribe_url = msg["List-Unsubscribe"].split(",")[0].strip().strip("<>")
        html = msg.get_body(("html",)).get_content()
        assert f'href="{unsubscribe_url}"' in html  # the body's link is the header's link
        assert delivery.message_id == msg["Message-ID"]


def test_sending_the_issue_again_sends_nothing(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    send(room.issue_slug, "--list", room.list_slug, "--yes")
    first = len(relay.sink.received)
    again = runner.invoke(app, ["send", room.issue_slug, "--list", room.list_slug, "--yes"])
    assert "Recipients: 0" in again.output
    assert isinstance(again.exception, campaigns.EmptyAudience)
    assert str(again.exception) == (
        f"nobody to send to: all {first} active subscribers of list 'briefing' already "
        "received this issue; --force-resend sends it again; no campaign created"
    )
    assert len(relay.sink.received) == first
    # No empty campaign: only the first one exists, and it is done.
    [campaign] = session.scalars(select(Campaign)).all()
    assert campaign.status == CampaignStatus.DONE


def test_segment_less_suppressed_and_unsubscribed(
    session: Session, settings: Settings, room: Newsroom, relay: SMTPServer
) -> None:
    mlist = get_list(session, room.list_slug)
    add_suppression(session, "valeria.gonzalez0@example.com", settings.secret())
    unsubscribe_from_list(session, mlist, "jose.rivera1@example.org")
    session.commit()
    expr = "tag:client and not lang:es"
    want = {
        s.email
        for s in session.scalars(select(Subscriber))
        if s.email
        and "client" in s.tags
        and s.language != "es"
        and s.email not in {"valeria.gonzalez0@example.com", "jose.rivera1@example.org"}
    }
    assert len(want) > 5
    send(room.issue_slug, "--list", room.list_slug, "--where", expr, "--yes")
    assert sorted(r.rcpt_tos[0] for r in relay.sink.received) == sorted(want)


def test_a_deferred_recipient_is_retried_until_delivered(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    relay.sink.rules["luis.sanchez4@example.org"] = ["451 4.7.1 greylisted", "250 OK"]
    relay.sink.rules["laura.morales9@example.mx"] = ["421 4.3.2 busy", "451 4.3.0 later", "250 OK"]
    send(room.issue_slug, "--list", room.list_slug, "--yes")
    assert len(relay.sink.to("luis.sanchez4@example.org")) == 1
    assert len(relay.sink.to("laura.morales9@example.mx")) == 1
    attempts = dict(
        session.execute(
            select(Subscriber.email, Delivery.attempts).join(
                Delivery, Delivery.subscriber_id == Subscriber.id
            )
        ).all()
    )
    assert attempts["luis.sanchez4@example.org"] == 2
    assert attempts["laura.morales9@example.mx"] == 3
    counts = campaigns.counts(session, 1)
    assert counts["sent"] == room.report.imported and counts["deferred"] == 0


def test_no_such_user_fails_and_suppresses(
    session: Session, settings: Settings, room: Newsroom, relay: SMTPServer
) -> None:
    relay.sink.rules["tomas.diaz7@example.mx"] = [
        "550 5.1.1 <tomas.diaz7@example.mx>: no such user"
    ]
    relay.sink.rules["ana.torres31@example.net"] = ["554 5.7.1 message refused by policy"]
    send(room.issue_slug, "--list", room.list_slug, "--yes")
    rows = dict(
        session.execute(
            select(Subscriber.email, Delivery.status).join(
                Delivery, Delivery.subscriber_id == Subscriber.id
            )
        ).all()
    )
    assert rows["tomas.diaz7@example.mx"] == DeliveryStatus.FAILED
    assert rows["ana.torres31@example.net"] == DeliveryStatus.FAILED
    assert is_suppressed(session, "tomas.diaz7@example.mx", settings.secret())
    assert not is_suppressed(session, "ana.torres31@example.net", settings.secret())
    out = runner.invoke(app, ["report", "1"]).output
    assert "5.1.1" in out and "5.7.1" in out


def test_a_relay_refusing_everything_pauses_the_campaign(
    session: Session, room: Newsroom, relay: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_AUTOPAUSE_AFTER", "5")
    reset_settings()
    relay.sink.refuse_all = "550 5.7.1 relaying denied"
    out = send(room.issue_slug, "--list", room.list_slug, "--yes")
    assert "paused" in out
    campaign = session.get(Campaign, 1)
    assert campaign is not None
    session.refresh(campaign)
    assert campaign.status == CampaignStatus.PAUSED
    assert "relaying denied" in campaign.status_reason
    counts = campaigns.counts(session, 1)
    assert counts["failed"] == 5 and counts["pending"] == room.report.imported - 5

    relay.sink.refuse_all = None  # the relay is fixed: resume sends the rest, once each
    result = runner.invoke(app, ["campaign", "resume", "1"])
    assert result.exit_code == 0, result.output
    # "resumed" comes first, then the sending it resumed (it came after the final counts).
    assert result.stdout.startswith("campaign 1 resumed\n"), result.stdout
    assert len(relay.sink.received) == room.report.imported - 5
    assert len({r.rcpt_tos[0] for r in relay.sink.received}) == room.report.imported - 5


def test_resume_without_a_broker_retries_deferred_mail_until_the_campaign_ends(
    session: Session, room: Newsroom, relay: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mailer campaign resume` goes through the one dispatch path with the web's behaviour: with
    no broker (no beat either) a recipient greylisted on the resumed pass is retried in this
    process, so the campaign ends done, not with a deferred row waiting for a beat."""
    monkeypatch.setenv("MAILER_AUTOPAUSE_AFTER", "5")
    reset_settings()
    relay.sink.refuse_all = "550 5.7.1 relaying denied"
    send(room.issue_slug, "--list", room.list_slug, "--yes")
    pending = session.scalars(
        select(Subscriber.email)
        .join(Delivery, Delivery.subscriber_id == Subscriber.id)
        .where(Delivery.status == DeliveryStatus.PENDING)
        .order_by(Subscriber.email)
    ).first()
    assert pending is not None
    relay.sink.refuse_all = None
    relay.sink.rules[pending] = ["451 4.7.1 greylisted", "250 OK"]

    result = runner.invoke(app, ["campaign", "resume", "1"])
    assert result.exit_code == 0, result.output
    assert "campaign 1 done" in result.output
    assert len(relay.sink.to(pending)) == 1
    session.expire_all()
    counts = campaigns.counts(session, 1)
    assert counts["deferred"] == 0 and counts["pending"] == 0
    assert counts["sent"] == room.report.imported - 5


@pytest.fixture
def auth_relay(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SMTPServer]:
    """A relay as production has one: STARTTLS with a certificate the client verifies (a test CA
    made trusted through SSL_CERT_FILE) and AUTH required; the mailer is configured with the
    wrong password. Tasks run in-process."""
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = SMTPServer(
        scheme="smtp+starttls", tls=context, users={"mailer": "right"}, login=("mailer", "wrong")
    )
    with server:
        monkeypatch.setenv("MAILER_SMTP_URL", server.url)
        monkeypatch.setenv("MAILER_AUTOPAUSE_AFTER", "5")
        reset_settings()
        tasks.reset_caches()
        configure(celery_app)
        yield server
    tasks.reset_caches()


def test_a_wrong_relay_password_pauses_at_once_and_resume_sends_once_it_is_fixed(
    session: Session,
    settings: Settings,
    room: Newsroom,
    auth_relay: SMTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The relay answers 535 5.7.8 to the login: retrying cannot cure that, so the campaign
    pauses on the first message with the relay's reply (in `mailer send`'s progress and
    `campaign status`), fails and suppresses no one (the fault is ours, not the readers'), and
    never shows the password. With it fixed, `mailer campaign resume` sends to everyone, each
    once, over TLS as the authenticated user. `mailer send` exits 1: a script must not read a
    campaign that stopped, having sent nothing, as sent."""
    stopped = runner.invoke(app, ["send", room.issue_slug, "--list", room.list_slug, "--yes"])
    assert stopped.exit_code == 1, stopped.output + repr(stopped.exception)
    out = stopped.output
    assert "campaign 1 paused" in out
    assert "535 5.7.8 Authentication credentials invalid (logging in as 'mailer')" in out
    session.expire_all()
    campaign = session.get(Campaign, 1)
    assert campaign is not None and campaign.status == CampaignStatus.PAUSED
    assert campaign.status_reason.startswith(
        "paused: the relay refused: 535 5.7.8 Authentication credentials invalid"
    )
    assert "wrong" not in campaign.status_reason
    status = runner.invoke(app, ["campaign", "status", "1"]).output
    assert "campaign 1: paused" in status and "535 5.7.8" in status
    counts = campaigns.counts(session, 1)
    assert counts["failed"] == 0 and counts["pending"] == room.report.imported
    assert auth_relay.sink.received == []
    everyone = active_emails(session, room.list_id)
    assert not any(is_suppressed(session, e, settings.secret()) for e in everyone)

    auth_relay.login = ("mailer", "right")
    monkeypatch.setenv("MAILER_SMTP_URL", auth_relay.url)
    reset_settings()
    tasks.reset_caches()
    result = runner.invoke(app, ["campaign", "resume", "1"])
    assert result.exit_code == 0, result.output
    got = auth_relay.sink.received
    assert sorted(r.rcpt_tos[0] for r in got) == sorted(everyone)
    assert {(r.tls, r.login) for r in got} == {(True, "mailer")}
    session.expire_all()
    assert campaigns.counts(session, 1)["sent"] == len(everyone)


def test_test_copies_go_only_to_named_addresses(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    out = send(room.issue_slug, "--list", room.list_slug, "--test", "editor@miranda.example")
    assert "test copy to editor@miranda.example" in out
    [got] = relay.sink.received
    assert got.rcpt_tos == ["editor@miranda.example"]
    assert got.message["Subject"].startswith("[TEST] ")
    assert session.scalar(select(Delivery.id)) is None  # no delivery recorded


def pause_and_resume(meanwhile: Callable[[], None] = lambda: None) -> str:
    """`mailer campaign pause 1`, then `meanwhile()`, then `mailer campaign resume 1`: what the
    resume printed."""
    assert runner.invoke(app, ["campaign", "pause", "1"]).exit_code == 0
    meanwhile()
    resumed = runner.invoke(app, ["campaign", "resume", "1"])
    assert resumed.exit_code == 0, resumed.output
    return resumed.stdout


def test_a_scheduled_campaign_paused_before_its_time_resumes_as_scheduled_or_starts(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    """A scheduled campaign paused before its time became "sending" on resume with nothing
    started (0 of 0 for good; `campaign resume` hung): it is scheduled again while its time is
    ahead, and starts at once when its time passed while it was paused."""
    when = datetime.now(UTC) + timedelta(days=30)
    out = send(room.issue_slug, "--list", room.list_slug, "--at", when.isoformat(), "--yes")
    assert "scheduled" in out
    resumed = pause_and_resume()
    assert "campaign 1 resumed: scheduled again for " in resumed
    session.expire_all()
    campaign = session.get(Campaign, 1)
    assert campaign is not None and campaign.status == CampaignStatus.SCHEDULED
    assert relay.sink.received == []

    # Paused again; its time passes meanwhile: resume starts it now, and it sends everyone once.
    def its_time_passes() -> None:
        campaign.scheduled_at = datetime.now(UTC) - timedelta(minutes=5)
        session.commit()

    started = pause_and_resume(meanwhile=its_time_passes)
    assert "campaign 1 had not started: starting it now" in started
    session.expire_all()
    campaign = session.get(Campaign, 1)
    assert campaign is not None and campaign.status == CampaignStatus.DONE
    assert sorted(r.rcpt_tos[0] for r in relay.sink.received) == sorted(
        {r.rcpt_tos[0] for r in relay.sink.received}
    )
    assert len(relay.sink.received) == room.report.imported


def test_a_scheduled_campaign_starts_when_due(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    when = datetime.now(UTC) + timedelta(seconds=2)
    out = send(room.issue_slug, "--list", room.list_slug, "--at", when.isoformat(), "--yes")
    assert "scheduled" in out
    assert tasks.run_due()["started"] == 0
    assert relay.sink.received == []
    # The tick the beat would run, repeated until it starts the campaign: never before its time.
    wait_until(lambda: tasks.run_due()["started"] == 1, 30, "the campaign to start", poll=0.2)
    assert datetime.now(UTC) >= when
    assert len(relay.sink.received) == room.report.imported
    session.expire_all()
    campaign = session.get(Campaign, 1)
    assert campaign is not None and campaign.status == CampaignStatus.DONE


def test_cancel_before_start_sends_nothing(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    out = send(room.issue_slug, "--list", room.list_slug, "--at", "2099-01-01T09:00+00:00", "--yes")
    assert "campaign 1" in out
    result = runner.invoke(app, ["campaign", "cancel", "1"])
    assert result.exit_code == 0, result.output
    tasks.start_campaign(1)
    assert relay.sink.received == []
    status = runner.invoke(app, ["campaign", "status", "1"]).output
    assert "cancelled" in status


def test_a_bad_expression_is_refused_before_anything_is_created(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    result = runner.invoke(
        app, ["send", room.issue_slug, "--list", room.list_slug, "--where", "tag:(", "--yes"]
    )
    assert result.exit_code != 0
    assert session.scalar(select(Campaign.id)) is None


class ChangingSink(SMTPSink):
    """A relay that, when the first message arrives (the campaign's first chunk is being sent,
    its snapshot long taken), runs `change` once: what readers and editors do meanwhile."""

    def __init__(self, change: Callable[[], None]):
        super().__init__()
        self.change: Callable[[], None] | None = change

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        change, self.change = self.change, None
        if change is not None:
            change()
        return await super().handle_DATA(server, session, envelope)


def test_people_erased_suppressed_or_unsubscribed_after_the_snapshot_are_skipped(
    session: Session, settings: Settings, room: Newsroom, relay: SMTPServer
) -> None:
    """The audience is snapshotted when sending starts; each chunk checks its people again when
    it is claimed. Three readers of the last chunk change their minds while the first chunk is
    on the wire: one is erased (GDPR), one suppressed, one unsubscribes. None is sent to; their
    deliveries say why; everyone else gets the issue once."""
    everyone = active_emails(session, room.list_id)
    assert len(everyone) > batch.CHUNK + 3  # a second chunk exists
    engine = make_engine(settings.database_url)
    changed: list[str] = []

    def readers_change_their_minds() -> None:
        with session_factory(engine)() as other:
            # Three people of the last chunk: the highest delivery ids, still pending.
            changed.extend(
                other.scalars(
                    select(Subscriber.email)
                    .join(Delivery, Delivery.subscriber_id == Subscriber.id)
                    .where(Delivery.status == DeliveryStatus.PENDING)
                    .order_by(Delivery.id.desc())
                    .limit(3)
                ).all()
            )
            erased, suppressed, unsubscribed = changed
            gdpr.forget(other, erased, settings.secret())
            add_suppression(other, suppressed, settings.secret())
            unsubscribe_from_list(other, get_list(other, room.list_slug), unsubscribed)
            other.commit()

    relay.sink = ChangingSink(readers_change_their_minds)
    relay.controller.handler = relay.sink
    send(room.issue_slug, "--list", room.list_slug, "--yes")
    engine.dispose()

    erased, suppressed, unsubscribed = changed
    assert sorted(r.rcpt_tos[0] for r in relay.sink.received) == sorted(everyone - set(changed))
    session.expire_all()
    skipped = dict(
        session.execute(
            select(Delivery.subscriber_id, Delivery.last_reply).where(
                Delivery.status == DeliveryStatus.SKIPPED
            )
        ).all()
    )
    ids = dict(session.execute(select(Subscriber.email, Subscriber.id)).all())
    assert skipped == {
        None: "subscriber erased",
        ids[suppressed]: "address suppressed",
        ids[unsubscribed]: "subscription unsubscribed",
    }
    assert session.get(Campaign, 1).status == CampaignStatus.DONE  # type: ignore[union-attr]


def test_a_recipient_that_cannot_be_composed_fails_alone(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    """An address the composer refuses (a row that reached the table before validation did, or
    was written by hand) fails with "cannot compose" and its reason; the campaign carries on."""
    everyone = active_emails(session, room.list_id)
    bad = Subscriber(email="two@@example.org", domain="example.org", name="Legacy row")
    session.add(bad)
    session.flush()
    session.add(Subscription(subscriber_id=bad.id, list_id=room.list_id))
    session.commit()
    out = send(room.issue_slug, "--list", room.list_slug, "--yes")
    assert "done" in out
    assert sorted(r.rcpt_tos[0] for r in relay.sink.received) == sorted(everyone)
    session.expire_all()
    delivery = session.scalar(select(Delivery).where(Delivery.subscriber_id == bad.id))
    assert delivery is not None and delivery.status == DeliveryStatus.FAILED
    assert (delivery.last_reply or "").startswith("cannot compose: ")
    assert "two@@example.org" in (delivery.last_reply or "")
    assert campaigns.counts(session, 1)["sent"] == len(everyone)


def test_an_address_at_an_internationalised_domain_is_sent_and_recorded(
    session: Session, room: Newsroom, relay: SMTPServer, settings: Settings
) -> None:
    """The envelope carries the domain in its ASCII (IDNA) form; the outcome is still recorded
    against the delivery (a batch used to crash looking the reply up by the stored spelling)."""
    from subscribers.lifecycle import add_subscriber

    add_subscriber(
        session, get_list(session, room.list_slug), "lectora@bücher.de", settings.secret()
    )
    session.commit()
    send(room.issue_slug, "--list", room.list_slug, "--yes")
    rcpts = {r.rcpt_tos[0] for r in relay.sink.received}
    assert "lectora@xn--bcher-kva.de" in rcpts
    assert len(rcpts) == room.report.imported + 1
    statuses = session.scalars(select(Delivery.status)).all()
    assert set(statuses) == {DeliveryStatus.SENT}


def test_resume_sends_deferred_mail_at_once_not_after_its_backoff(
    session: Session, room: Newsroom, relay: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The relay was down (every message deferred, the next try an hour away); the editor pauses,
    fixes the relay and resumes: the rest goes out now, the campaign ends done."""
    monkeypatch.setenv("MAILER_RETRY_BASE_DELAY", "3600")
    monkeypatch.setenv("MAILER_AUTOPAUSE_AFTER", "1000")
    reset_settings()
    relay.sink.refuse_all = "451 4.3.0 relay busy, try later"
    send(room.issue_slug, "--list", room.list_slug, "--yes", "--no-wait")
    assert campaigns.counts(session, 1)["deferred"] == room.report.imported
    assert runner.invoke(app, ["campaign", "pause", "1"]).exit_code == 0

    relay.sink.refuse_all = None
    result = runner.invoke(app, ["campaign", "resume", "1"])
    assert result.exit_code == 0, result.output
    assert "campaign 1 done" in result.output
    session.expire_all()
    counts = campaigns.counts(session, 1)
    assert counts["sent"] == room.report.imported and counts["deferred"] == 0
