"""The inbound SMTP server (`mailer inbound`'s handler, in-process, SQLite and PostgreSQL): which
recipients it accepts, the size limit, 250 only once the message is stored, 451 when it cannot be,
and what unsubscribe requests and auto-replies do. End-to-end runs with real processes are in
tests/inbound/test_inbound_e2e.py."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer import tokens
from mailer.cli import app
from mailer.db import get_sessionmaker
from mailer.inbound import receive
from mailer.inbound.models import BounceEvent, InboundKind, InboundMessage, InboundStatus, Inquiry
from mailer.sending import tasks
from mailer.settings import Settings, get_settings, reset_settings
from mailer.worker import app as celery_app
from mailer.worker import configure
from subscribers.db import make_engine, session_factory
from subscribers.models import Subscriber, SubscriberStatus, Subscription, SubscriptionStatus
from tests.builders import Newsroom
from tests.inbound.test_complaints import arf, as_sent, marked
from tests.inbound_support import (
    DOMAIN,
    InboundServer,
    address,
    delivery_of,
    dsn,
    message_id_of,
    reply,
    snapshot_campaign,
)
from tests.smtpd import SMTPServer
from tests.web.test_admin import signed_in

runner = CliRunner()
WHO = "jose.rivera1@example.org"
PARTNER = "fausto.carbajal@miranda-partners.com"


@pytest.fixture
def relay(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[SMTPServer]:
    with SMTPServer() as server:
        monkeypatch.setenv("MAILER_SMTP_URL", server.url)
        monkeypatch.setenv("MAILER_INBOUND_MAX_BYTES", "60000")
        monkeypatch.setenv("MAILER_PREVIOUS_SECRET_KEYS", '["an-old-key-' + "z" * 30 + '"]')
        reset_settings()
        tasks.reset_caches()
        configure(celery_app)
        assert celery_app.conf.task_always_eager
        yield server


@pytest.fixture
def delivery_id(session: Session, room: Newsroom) -> int:
    return delivery_of(session, WHO, snapshot_campaign(session, room).id).id


def client_says(
    rcpt: str, subject: str, body: str, *, who: str = f"José Rivera <{WHO}>", **kw: Any
) -> bytes:
    return reply(from_=who, to=rcpt, subject=subject, body=body, **kw)


def stored(session: Session) -> list[InboundMessage]:
    session.expire_all()
    return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def subscription_status(session: Session, list_id: int, email: str = WHO) -> SubscriptionStatus:
    session.expire_all()
    status = session.scalar(
        select(Subscription.status)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(Subscriber.email == email, Subscription.list_id == list_id)
    )
    assert status is not None
    return status


def test_only_our_signed_addresses_are_accepted(
    session: Session, delivery_id: int, server: InboundServer
) -> None:
    settings = get_settings()
    good = address("reply", delivery_id, settings)
    token = good.split("+", 1)[1].split("@")[0]
    number, mac = token.split("-")
    altered = f"reply+{int(number, 36) + 1}-{mac}@{DOMAIN}"  # another delivery id, same MAC
    flipped = f"reply+{number}-{'a' if mac[0] != 'a' else 'b'}{mac[1:]}@{DOMAIN}"
    unknown = address("reply", 999_999, settings)  # signed correctly, but no such delivery
    old_key = tokens.address(
        "bounces", tokens.delivery_token(delivery_id, settings.previous_secret_keys[0]), DOMAIN
    )
    verdicts = {
        "outside domain": f"reply+{token}@elsewhere.example",
        "relay attempt": "someone@gmail.example",
        "postmaster elsewhere": "postmaster@elsewhere.example",
        "a role with a token": f"postmaster+{token}@{DOMAIN}",
        "another role": f"webmaster@{DOMAIN}",
        "no token": f"reply@{DOMAIN}",
        "altered token": altered,
        "forged MAC": flipped,
        "no such delivery": unknown,
        "unknown kind": f"admin+{token}@{DOMAIN}",
    }
    msg = client_says(good, "Re: x", "hello")
    got = server.send(WHO, list(verdicts.values()), msg)
    for why, rcpt in verdicts.items():
        code, text = got.rcpts[rcpt]
        assert code == 550 and text.startswith(b"5.1.1"), (why, code, text)
    assert got.data is None and stored(session) == []  # nothing accepted, nothing kept

    accepted = {
        "as sent": good,
        "upper-cased by a server": good.upper(),
        "bounces": address("bounces", delivery_id, settings),
        "unsubscribe": address("unsubscribe", delivery_id, settings),
        "signed with the previous key": old_key,
    }
    got = server.send("", list(accepted.values()), dsn(WHO, "4.2.2"))
    assert all(got.rcpts[r][0] == 250 for r in accepted.values()), got.rcpts
    assert got.data is not None and got.data[0] == 250
    rows = stored(session)
    # One row per recipient; the upper-cased address is the same recipient again: one copy.
    assert [r.rcpt_to for r in rows] == [
        a for why, a in accepted.items() if why != "upper-cased by a server"
    ]
    assert {r.delivery_id for r in rows} == {delivery_id}


def test_a_test_copys_addresses_are_refused_saying_why(
    session: Session, delivery_id: int, server: InboundServer
) -> None:
    """An editor who replies to a [TEST] copy gets a bounce that names it a test copy's address
    (it used to be "recipient not accepted here", as for a stranger), and nothing is stored."""
    secret = get_settings().secret()
    test_token = tokens.sign(tokens.TEST_COPY, 0, secret)
    kinds = ("reply", "unsubscribe", "bounces")
    rcpts = [tokens.address(kind, test_token, DOMAIN) for kind in kinds]
    got = server.send(WHO, rcpts, client_says(rcpts[0], "Re: [TEST] x", "Does this reach Fausto?"))
    for rcpt in rcpts:
        code, text = got.rcpts[rcpt]
        assert code == 550 and text.startswith(b"5.1.1"), (rcpt, code, text)
        assert b"[TEST] copy" in text, text
    # A test copy's token at another domain, or altered, is refused as any stranger is.
    flipped = test_token[:-1] + ("a" if test_token[-1] != "a" else "b")
    for rcpt in (f"reply+{test_token}@elsewhere.example", f"reply+{flipped}@{DOMAIN}"):
        code, text = server.send(WHO, [rcpt], b"Subject: x\r\n\r\nx\r\n").rcpts[rcpt]
        assert code == 550 and b"TEST" not in text, text
    assert stored(session) == []


def test_250_comes_after_the_raw_message_and_envelope_are_stored(
    session: Session, delivery_id: int, server: InboundServer
) -> None:
    rcpt = address("reply", delivery_id, get_settings())
    raw = client_says(rcpt, "Re: Security Chatter", "Could you call me?")
    got = server.send(WHO, [rcpt], raw)
    assert got.data is not None and got.data[0] == 250
    [row] = stored(session)
    assert got.data[1].decode().endswith(f"#{row.id}")
    assert bytes(row.raw) == raw and row.size == len(raw)
    assert (row.mail_from, row.rcpt_to, row.address_kind) == (WHO, rcpt, "reply")
    assert row.peer.startswith("127.0.0.1:") and row.helo == "client.example"
    assert row.subject == "Re: Security Chatter" and row.message_id.startswith("<")
    assert row.received_at is not None and row.subscriber_id is not None


def test_a_message_over_the_size_limit_gets_552_and_is_not_kept(
    session: Session, delivery_id: int, server: InboundServer
) -> None:
    rcpt = address("reply", delivery_id, get_settings())
    big = client_says(rcpt, "Re: x", "A long letter.\n" + "x" * 70 + ("\n" + "y" * 70) * 1000)
    assert len(big) > get_settings().inbound_max_bytes
    got = server.send(WHO, [rcpt], big)  # SIZE not declared: refused after the data
    assert got.data is not None and got.data[0] == 552, got
    declared = inbound_send_declaring_size(server.port, rcpt, big)
    assert declared[0] == 552  # SIZE declared: refused at MAIL FROM, before any data
    assert stored(session) == []


def inbound_send_declaring_size(port: int, rcpt: str, data: bytes) -> tuple[int, bytes]:
    import smtplib

    with smtplib.SMTP("127.0.0.1", port, timeout=30) as conn:
        conn.ehlo("client.example")
        assert conn.has_extn("size")
        return conn.mail(WHO, [f"SIZE={len(data)}"])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_locked_database_answers_451_and_the_retry_is_stored_once(
    session: Session, delivery_id: int, tmp_path: Any
) -> None:
    """SQLite file locked by another writer (a long transaction, a backup…). The handler's engine
    waits 0.2 s instead of 30 s for the lock so the test is quick; then 451, and the sender's
    retry after the lock is released is stored once."""
    settings = get_settings()
    engine = make_engine(settings.database_url)

    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=200")

    rcpt = address("reply", delivery_id, settings)
    raw = client_says(rcpt, "Re: x", "Please call me.")
    locker = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"))
    with InboundServer(settings, factory=session_factory(engine)) as server:
        locker.execute("BEGIN EXCLUSIVE")
        try:
            got = server.send(WHO, [rcpt], raw)
        finally:
            locker.rollback()
        assert got.rcpts[rcpt][0] == 250  # reading the delivery is still possible (WAL)
        assert got.data is not None and got.data[0] == 451 and got.data[1].startswith(b"4.3.0")
        assert stored(session) == []
        again = server.send(WHO, [rcpt], raw)
        assert again.data is not None and again.data[0] == 250
    locker.close()
    engine.dispose()
    [row] = stored(session)
    assert bytes(row.raw) == raw and row.kind == InboundKind.INQUIRY


def test_unsubscribe_address_and_a_reply_saying_darme_de_baja_unsubscribe_and_reach_no_one(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    first = snapshot_campaign(session, room)
    settings = get_settings()
    jose = delivery_of(session, WHO, first.id)
    got = server.send(WHO, [address("unsubscribe", jose.id, settings)], b"Subject: \r\n\r\n\r\n")
    assert got.data is not None and got.data[0] == 250
    assert subscription_status(session, room.list_id) == SubscriptionStatus.UNSUBSCRIBED

    other = "ricardo.diaz2@example.org"
    rcpt = address("reply", delivery_of(session, other, first.id).id, settings)
    body = "Hola Fausto,\nPor favor darme de baja de esta lista.\nSaludos"
    server.send(other, [rcpt], client_says(rcpt, "Re: Security Chatter", body, who=other))
    assert subscription_status(session, room.list_id, other) == SubscriptionStatus.UNSUBSCRIBED

    rows = stored(session)
    assert [r.kind for r in rows] == [InboundKind.UNSUBSCRIBE, InboundKind.UNSUBSCRIBE]
    assert all(r.status == InboundStatus.DONE for r in rows)
    assert f"unsubscribed {other} from briefing" in rows[1].outcome
    assert relay.sink.received == []  # not forwarded, not confirmed: nobody is mailed
    assert session.scalar(select(func.count()).select_from(Inquiry)) == 0
    reason = session.scalar(
        select(Subscription.unsubscribe_reason)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(Subscriber.email == other)
    )
    assert reason == "by email (reply)"
    # Still active elsewhere: only that list, and the subscriber is not suppressed.
    assert subscription_status(session, room.list_id, "ricardo.hernandez3@example.org") == (
        SubscriptionStatus.ACTIVE
    )


def test_an_out_of_office_reaches_no_one(
    session: Session, delivery_id: int, relay: SMTPServer, server: InboundServer
) -> None:
    rcpt = address("reply", delivery_id, get_settings())
    ooo = client_says(
        rcpt,
        "Respuesta automática: Security Chatter",
        "Estoy fuera de la oficina hasta el lunes.",
        headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    )
    got = server.send(WHO, [rcpt], ooo)
    assert got.data is not None and got.data[0] == 250
    [row] = stored(session)
    assert (row.kind, row.status) == (InboundKind.AUTO_REPLY, InboundStatus.DONE)
    assert "Auto-Submitted" in row.reason and row.outcome == "recorded; nothing sent"
    assert relay.sink.received == []


def test_our_loop_guard_is_stored_as_ignored_and_never_enqueued(
    session: Session, delivery_id: int, room: Newsroom
) -> None:
    enqueued: list[int] = []
    rcpt = address("reply", delivery_id, get_settings())
    with InboundServer(get_settings(), enqueue=enqueued.append) as server:
        server.send(WHO, [rcpt], client_says(rcpt, "x", "y", headers={"X-Mailer-Loop": DOMAIN}))
        server.send(WHO, [rcpt], client_says(rcpt, "x", "a question"))
    looped, normal = stored(session)
    assert (looped.status, looped.kind) == (InboundStatus.IGNORED, InboundKind.LOOP)
    assert enqueued == [normal.id]
    assert normal.status == InboundStatus.RECEIVED  # waiting for the task


def test_a_message_whose_task_was_lost_is_swept_up(
    session: Session, delivery_id: int, relay: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broker was down when the message arrived: the row waits, the sweep enqueues it."""

    def broker_down(_: int) -> None:
        raise ConnectionError("redis is down")

    rcpt = address("reply", delivery_id, get_settings())
    with InboundServer(get_settings(), enqueue=broker_down) as server:
        got = server.send(WHO, [rcpt], client_says(rcpt, "Re: x", "Call me"))
        assert got.data is not None and got.data[0] == 250  # stored: the sender is done
        assert server.handler.sweep() == 0  # not stale yet
    [row] = stored(session)
    assert row.status == InboundStatus.RECEIVED
    monkeypatch.setenv("MAILER_INBOUND_REQUEUE_AFTER", "0")
    reset_settings()
    with InboundServer(get_settings()) as server:
        assert server.handler.sweep() == 1
        server.settle()
    [row] = stored(session)
    assert row.status == InboundStatus.DONE and row.kind == InboundKind.INQUIRY
    assert len(relay.sink.to(PARTNER)) == 1


def test_the_sweep_takes_messages_that_keep_failing_last(
    session: Session, delivery_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep takes a bounded number of rows: older messages that failed their runs (until
    process.MAX_ATTEMPTS fails them) must not keep a newer one from its turn."""
    rcpt = address("reply", delivery_id, get_settings())
    with InboundServer(get_settings(), enqueue=lambda i: None) as server:
        for n in range(3):
            server.send(WHO, [rcpt], client_says(rcpt, f"Re: {n}", "Call me"))
    failing_one, failing_two, fresh = stored(session)
    failing_one.attempts, failing_two.attempts = 3, 1  # runs that raised
    session.commit()
    monkeypatch.setenv("MAILER_INBOUND_REQUEUE_AFTER", "0")
    reset_settings()
    due = receive.stale_messages(get_sessionmaker(), get_settings(), limit=2)
    assert due == [fresh.id, failing_two.id]


def test_forget_erases_inbound_mail_bounces_and_inquiries(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    settings = get_settings()
    campaign = snapshot_campaign(session, room)
    jose = delivery_of(session, WHO, campaign.id).id
    other = delivery_of(session, "ricardo.diaz2@example.org", campaign.id).id
    rcpt = address("reply", jose, settings)
    server.send(WHO, [rcpt], client_says(rcpt, "Re: Security Chatter", "Let's talk."))
    server.send("", [address("bounces", jose, settings)], dsn(WHO, "4.2.2"))
    other_rcpt = address("reply", other, settings)
    ricardo = "Ricardo Díaz <ricardo.diaz2@example.org>"
    server.send(
        "ricardo.diaz2@example.org",
        [other_rcpt],
        client_says(other_rcpt, "Re: x", "Hi", who=ricardo),
    )
    assert session.scalar(select(func.count()).select_from(Inquiry)) == 2

    exported = runner.invoke(app, ["subscribers", "export-data", WHO])
    assert exported.exit_code == 0, exported.output
    assert '"inquiries"' in exported.output and '"bounces"' in exported.output
    assert "soft 4.2.2" in exported.output

    result = runner.invoke(app, ["subscribers", "forget", WHO, "--yes"])
    assert result.exit_code == 0, result.output
    rows = stored(session)
    assert [r.mail_from for r in rows] == ["ricardo.diaz2@example.org"]
    assert session.scalar(select(func.count()).select_from(Inquiry)) == 1
    assert session.scalar(select(func.count()).select_from(BounceEvent)) == 0
    assert all(WHO.encode() not in bytes(r.raw) for r in rows)


def test_mailer_inbound_refuses_a_bad_listen_address(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILER_INBOUND_LISTEN", "port-2525")
    reset_settings()
    result = runner.invoke(app, ["inbound"])
    assert result.exit_code != 0
    assert "MAILER_INBOUND_LISTEN must be HOST:PORT" in str(result.exception)


def test_postmaster_and_abuse_are_accepted_in_any_case_and_kept_for_an_admin(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    """RFC 5321 4.5.1: a mail domain accepts postmaster (any case), RFC 2142 abuse. A person's
    message there is stored (no delivery, the role as its address kind), listed for an admin,
    never forwarded to a partner nor answered."""
    roles = [f"postmaster@{DOMAIN}", f"PostMaster@{DOMAIN.upper()}", f"abuse@{DOMAIN}"]
    body = "Hello, your server sent us mail we did not ask for. Who runs this list?"
    got = server.send("ops@isp.example", roles, client_says(roles[0], "A question", body))
    assert all(got.rcpts[r][0] == 250 for r in roles), got.rcpts
    assert got.data is not None and got.data[0] == 250
    rows = stored(session)
    # PostMaster@ is postmaster@ again (the local part's case does not matter): one copy.
    assert [(r.rcpt_to, r.address_kind) for r in rows] == [
        (roles[0], "postmaster"),
        (roles[2], "abuse"),
    ]
    got = server.send("ops@isp.example", [roles[1]], client_says(roles[1], "Again", body))
    assert got.data is not None and got.data[0] == 250
    rows = stored(session)
    assert rows[-1].address_kind == "postmaster"
    with signed_in(session) as editor:  # listed for an admin on the Bounces page
        page = editor.get("/admin/bounces")
    assert page.status_code == 200
    section = page.text.split("<h2>Mail to postmaster@ and abuse@</h2>", 1)[1].split("<h2>")[0]
    assert section.count("A question") == 2 and "Again" in section
    assert "ops<wbr>@isp<wbr>.example" in section
    for row in rows:
        assert (row.status, row.kind) == (InboundStatus.DONE, InboundKind.UNRECOGNIZED)
        assert row.delivery_id is None and row.subscriber_id is None
        assert "recorded for an admin; nothing sent" in row.outcome, row.outcome
    assert relay.sink.received == []  # not forwarded, not answered
    assert session.scalar(select(func.count()).select_from(Inquiry)) == 0


def test_a_complaint_at_abuse_about_our_delivery_marks_and_suppresses_its_reader(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    """A feedback loop that reports to abuse@: the original it carries names the delivery, and
    the complaint is applied as if it had reached that delivery's address."""
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    original = "Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n" + as_sent(
        delivery, WHO
    )
    rcpt = f"abuse@{DOMAIN}"
    got = server.send("", [rcpt], arf("abuse", rcpt, original=original))
    assert got.data is not None and got.data[0] == 250
    [row] = stored(session)
    assert (row.address_kind, row.kind) == ("abuse", InboundKind.COMPLAINT)
    assert (row.delivery_id, row.subscriber_id) == (delivery.id, delivery.subscriber_id)
    assert "marked complained and suppressed" in row.outcome, row.outcome
    assert marked(session, WHO) == (SubscriberStatus.COMPLAINED, True)
    assert relay.sink.received == []


def test_a_bounce_at_postmaster_is_its_originals_delivery_or_nobodys(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    """A mail system that returns our message to postmaster@: the original's Message-ID names the
    delivery (a dead mailbox: suppressed); one whose original carries nothing of ours marks
    nobody and is kept for an admin."""
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    rcpt = f"postmaster@{DOMAIN}"
    ours = as_sent(delivery, WHO).encode()
    server.send("", [rcpt], dsn(WHO, "5.1.1", original=ours))
    stranger = b"From: someone@elsewhere.example\r\nTo: x@example.org\r\nSubject: hi\r\n\r\nx"
    server.send("", [rcpt], dsn("ricardo.diaz2@example.org", "5.1.1", original=stranger))
    ours_row, other_row = stored(session)
    assert (ours_row.kind, ours_row.delivery_id) == (InboundKind.BOUNCE, delivery.id)
    assert "hard bounce" in ours_row.outcome and "suppressed" in ours_row.outcome
    assert marked(session, WHO) == (SubscriberStatus.BOUNCED, True)
    assert other_row.kind == InboundKind.BOUNCE and other_row.delivery_id is None
    assert "nobody marked" in other_row.outcome, other_row.outcome
    assert marked(session, "ricardo.diaz2@example.org") == (SubscriberStatus.ACTIVE, False)
    assert session.scalar(select(func.count()).select_from(BounceEvent)) == 1
    assert relay.sink.received == []


def test_reports_at_postmaster_and_abuse_carrying_only_a_readers_tokens_mark_nobody(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    """Role addresses need no token to reach. A bounce to postmaster@ and a complaint to abuse@
    whose "original" has all of a reader's tokens (copied from their mail: Return-Path, Reply-To,
    List-Unsubscribe) but a Message-ID changed by one character: neither names the reader.
    The bounce marks nobody; the complaint is an unconfirmed one, listed for an admin."""
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    signed = message_id_of(delivery, get_settings())
    tag = signed.split(".")[2].split("@")[0]
    forged = as_sent(
        delivery, WHO, signed.replace(tag, tag[:-1] + ("a" if tag[-1] != "a" else "b"))
    )
    server.send("", [f"postmaster@{DOMAIN}"], dsn(WHO, "5.1.1", original=forged.encode()))
    rcpt = f"abuse@{DOMAIN}"
    original = f"Content-Type: message/rfc822\r\n\r\n{forged}"
    server.send("", [rcpt], arf("abuse", rcpt, original=original))

    bounced, complained = stored(session)
    assert (bounced.kind, bounced.delivery_id) == (InboundKind.BOUNCE, None), bounced.outcome
    assert "nobody marked" in bounced.outcome, bounced.outcome
    assert session.scalar(select(func.count()).select_from(BounceEvent)) == 0
    assert complained.kind == InboundKind.COMPLAINT
    assert complained.outcome.startswith("unconfirmed complaint"), complained.outcome
    assert marked(session, WHO) == (SubscriberStatus.ACTIVE, False)
    with signed_in(session) as editor:
        page = editor.get("/admin/bounces")
    section = page.text.split("<h2>Complaints</h2>", 1)[1].split("<h2>")[0]
    assert "unconfirmed complaint" in section
    assert relay.sink.received == []
