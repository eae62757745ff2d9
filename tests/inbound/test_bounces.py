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
from mailer.inbound.bounces import UNCONFIRMED
from mailer.inbound.models import (
    BounceEvent,
    BounceKind,
    InboundKind,
    InboundMessage,
    InboundStatus,
)
from mailer.inbound.process import process
from mailer.sending.models import Campaign, Delivery
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
    message_id_of,
    sent_headers,
    snapshot_campaign,
    tampered,
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


def bounce(  # type: ignore[no-untyped-def]
    server: InboundServer,
    settings: Settings,
    delivery: Delivery,
    status: str,
    *,
    original: bytes | None = None,
    **kw,
) -> None:
    """A DSN at `delivery`'s bounces+ address returning the headers of the message we sent
    (its signed Message-ID with them), as a mail system writes it; `original`: other headers."""
    rcpt = address("bounces", delivery.id, settings)
    if original is None:
        original = sent_headers(delivery, settings, WHO)
    got = server.send("", [rcpt], dsn(WHO, status, original=original, **kw))
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
    bounce(server, settings, delivery, "5.1.1")

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
        bounce(server, settings, delivery, "4.2.2", action="failed", diagnostic=FULL)
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
        bounce(server, settings, delivery, "4.4.1", diagnostic="smtp; 421 4.4.1 timeout")
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
    ids = [delivery_of(session, WHO, c.id) for c in campaigns]
    for delivery in ids:
        bounce(server, settings, delivery, "4.2.2", action="delayed", diagnostic=FULL)
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
        delivery_of(session, WHO, snapshot_campaign(session, room, force_resend=True).id)
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
        bounce(server, settings, delivery, "4.2.2", action="failed")
    assert is_suppressed(session, WHO, settings.secret())


def test_processing_a_bounce_twice_records_it_once(
    session: Session, settings: Settings, room: Newsroom, server: InboundServer
) -> None:
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    bounce(server, settings, delivery, "4.2.2")
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
    bounce(server, settings, delivery_of(session, WHO, campaign.id), "5.1.1")
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
    part is never judged hard, a 5.1.x (bad mailbox or domain) always is, and otherwise hard
    follows the reason's class (sending/reasons.py), whatever the first digit.

    None of these samples returns a message we sent (they are other senders' bounces, sent here
    to our bounces+ addresses): a failure judged hard is recorded as judged, but counted soft
    and suppresses nobody (bounces.UNCONFIRMED), as a forged bounce would be."""
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
        assert event.kind == BounceKind.SOFT, (path.name, event.diagnostic)
        hard = event.diagnostic.startswith(f"[{UNCONFIRMED}]")  # judged hard, counted soft
        assert not hard or UNCONFIRMED in msg.outcome, (path.name, msg.outcome)
        status = _dsn_status(raw, addr)
        if status and status.startswith("4"):
            assert not hard, (path.name, status, event.reason)
        elif status and status.startswith("5.1."):
            assert hard, (path.name, status, event.reason)
        else:
            assert hard == is_hard(Reason(event.reason)), (path.name, event.kind, event.reason)
    print(f"\nflufl.bounce corpus: {len(attributed)} of {len(samples)} samples attributed")  # noqa: T201
    print(f"no failed address found by flufl.bounce in {left_out}")  # noqa: T201
    # Nobody is suppressed for a hard bounce that does not carry our message; the campaign's
    # counts add up (all soft).
    assert not any(
        (entry := get_suppression(session, a, settings.secret())) is not None
        and entry.reason == SuppressionReason.HARD_BOUNCE
        for a in emails
        if _valid(a)  # "david...@gmail.com" is not
    )
    kinds = dict(
        session.execute(
            select(BounceEvent.kind, func.count())
            .where(BounceEvent.campaign_id == campaign.id)
            .group_by(BounceEvent.kind)
        ).all()
    )
    assert sum(kinds.values()) == len(attributed)
    assert session.get(Campaign, campaign.id) is not None


COLLEAGUE = "m.ortega@example-partner.mx"


def forward_bounce(settings: Settings, delivery_id: int, *, quoted: bool = True) -> bytes:
    """Gmail's text bounce for a copy the reader's mailbox forwarded (a forwarding rule without
    SRS keeps our return path) to a colleague's dead address; our message's headers below."""
    rcpt = address("bounces", delivery_id, settings)
    original = (
        "----- Original message -----\n\n"
        f"Return-Path: <{rcpt}>\n"
        "Received: from mta1.news.example.com (mta1.news.example.com [203.0.113.25])\n"
        f"\tby mx.example.org with ESMTPS id 4ZXy2k1Jd9z9vL\n\tfor <{WHO}>; "
        "Wed, 09 Apr 2025 12:40:03 +0000\n"
        f"From: Briefing <briefing@news.example.com>\nTo: {WHO}\n"
        "Subject: Security Chatter - 9 April 2025\n"
        f"Message-ID: <c1.d{delivery_id}.esyc7kiy@news.example.com>\n"
    )
    text = (
        "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
        f"To: {rcpt}\nSubject: Delivery Status Notification (Failure)\n"
        "Date: Wed, 09 Apr 2025 05:43:12 -0700\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=UTF-8\n\n"
        "** Address not found **\n\n"
        f"Your message wasn't delivered to {COLLEAGUE} because the address couldn't be found, "
        "or is unable to receive mail.\n\n"
        "Learn more here: https://support.google.com/mail/?p=NoSuchUser\n\n"
        "The response from the remote server was:\n"
        f"550 5.1.1 <{COLLEAGUE}>: Recipient address rejected: User unknown in virtual mailbox "
        "table\n\n" + (original if quoted else "")
    )
    return text.replace("\n", "\r\n").encode()


def expanded_bounce(settings: Settings, delivery: Delivery, mta: str) -> bytes:
    """A text bounce for the dead target of an alias or forward of the reader's, as Postfix
    ("expanded from") and Exim ("generated by") write it, the returned message's headers below."""
    rcpt = address("bounces", delivery.id, settings)
    dead = "l.hernandez.personal@example.com"
    if mta == "postfix":
        head = "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
        head += "Subject: Undelivered Mail Returned to Sender\n"
        body = (
            "This is the mail system at host mx.example.org.\n\n"
            "I'm sorry to have to inform you that your message could not\n"
            "be delivered to one or more recipients.\n\n"
            "                   The mail system\n\n"
            f"<{dead}> (expanded from <{WHO}>): host\n"
            f"    mx.example.com[198.51.100.9] said: 550 5.1.1 <{dead}>: Recipient address\n"
            "    rejected: User unknown (in reply to RCPT TO command)\n"
        )
    else:
        head = "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\n"
        head += "Subject: Mail delivery failed: returning message to sender\n"
        body = (
            "This message was created automatically by mail delivery software.\n\n"
            "A message that you sent could not be delivered to one or more of its\n"
            "recipients. This is a permanent error. The following address(es) failed:\n\n"
            f"  {dead}\n"
            f"    generated by {WHO}\n"
            "    host mx.example.com [198.51.100.9]\n"
            f"    SMTP error from remote mail server after RCPT TO:<{dead}>:\n"
            "    550 5.1.1 User unknown\n"
        )
    returned = sent_headers(delivery, settings, WHO).decode().replace("\r\n", "\n")
    copy = f"\n------ This is a copy of the message's headers. ------\n\n{returned}"
    text = f"{head}To: {rcpt}\nAuto-Submitted: auto-replied\n\n{body}{copy}"
    return text.replace("\n", "\r\n").encode()


@pytest.mark.parametrize("shape", ["gmail text", "gmail text, no headers", "dsn"])
def test_a_bounce_naming_only_another_address_is_soft_for_the_reader(
    session: Session, settings: Settings, room: Newsroom, server: InboundServer, shape: str
) -> None:
    """The reader's mailbox keeps its copy and forwards one (no SRS) to a colleague whose address
    is dead: the bounce reaches the reader's bounces+ address but names only the colleague. The
    reader is not suppressed by it: a soft bounce, and the outcome says why."""
    assert settings.soft_bounce_threshold > 1
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    rcpt = address("bounces", delivery.id, settings)
    raw = (
        dsn(COLLEAGUE, "5.1.1")
        if shape == "dsn"
        else forward_bounce(settings, delivery.id, quoted=shape == "gmail text")
    )
    got = server.send("", [rcpt], raw)
    assert got.data is not None and got.data[0] == 250, got

    assert subscriber(session).status == SubscriberStatus.ACTIVE
    assert not is_suppressed(session, WHO, settings.secret())
    [event] = session.scalars(select(BounceEvent)).all()
    assert (event.kind, event.recipient, event.subscriber_id) == (
        BounceKind.SOFT,
        COLLEAGUE,
        delivery.subscriber_id,
    )
    [msg] = session.scalars(select(InboundMessage)).all()
    assert f"about {COLLEAGUE}, not {WHO}" in msg.outcome and "soft" in msg.outcome, msg.outcome


def test_bounces_naming_another_address_still_suppress_at_the_soft_threshold(
    session: Session, settings: Settings, room: Newsroom, server: InboundServer
) -> None:
    ids = [
        delivery_of(session, WHO, snapshot_campaign(session, room, force_resend=True).id).id
        for _ in range(settings.soft_bounce_threshold)
    ]
    for delivery_id in ids:
        server.send(
            "", [address("bounces", delivery_id, settings)], forward_bounce(settings, delivery_id)
        )
    entry = get_suppression(session, WHO, settings.secret())
    assert entry is not None and entry.reason == SuppressionReason.SOFT_BOUNCE, entry
    assert subscriber(session).status == SubscriberStatus.BOUNCED


@pytest.mark.parametrize("shape", ["dsn", "postfix", "exim"])
def test_a_bounce_for_an_alias_or_forward_expanded_from_the_reader_stays_hard(
    session: Session, settings: Settings, room: Newsroom, server: InboundServer, shape: str
) -> None:
    """The dead address was expanded from the reader's (Original-Recipient, "expanded from",
    "generated by"): nothing reaches the reader, the bounce is theirs, hard."""
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    dead = "l.hernandez.personal@example.com"
    raw = (
        dsn(dead, "5.1.1", original_recipient=WHO, original=sent_headers(delivery, settings, WHO))
        if shape == "dsn"
        else expanded_bounce(settings, delivery, shape)
    )
    server.send("", [address("bounces", delivery.id, settings)], raw)
    entry = get_suppression(session, WHO, settings.secret())
    assert entry is not None and entry.reason == SuppressionReason.HARD_BOUNCE, entry
    [event] = session.scalars(select(BounceEvent)).all()
    assert (event.kind, event.recipient) == (BounceKind.HARD, WHO)


def test_a_bounce_is_the_return_paths_reader_s_whatever_message_it_returns(
    session: Session, settings: Settings, room: Newsroom, server: InboundServer
) -> None:
    """A report at one reader's bounces+ address returning another reader's message (its token,
    its To) and naming that reader's address: the return path our delivery was sent with says
    whose bounce it is, never a token in the text, which anyone holding a copy can send on. It
    names another address than the return path's reader: soft for them; the other is untouched."""
    campaign = snapshot_campaign(session, room)
    reached, other = (
        delivery_of(session, WHO, campaign.id),
        delivery_of(session, "ana.morales20@example.net", campaign.id),
    )
    theirs = (
        f"Return-Path: <{address('bounces', other.id, settings)}>\r\n"
        f"From: Briefing <briefing@news.example.com>\r\nTo: ana.morales20@example.net\r\n"
        "Subject: Security Chatter\r\n\r\n"
    ).encode()
    raw = dsn("ana.morales20@example.net", "5.1.1", original=theirs)
    server.send("", [address("bounces", reached.id, settings)], raw)

    [event] = session.scalars(select(BounceEvent)).all()
    assert (event.subscriber_id, event.delivery_id, event.kind) == (
        reached.subscriber_id,
        reached.id,
        BounceKind.SOFT,
    )
    assert not is_suppressed(session, WHO, settings.secret())
    assert not is_suppressed(session, "ana.morales20@example.net", settings.secret())
    assert subscriber(session, "ana.morales20@example.net").status == SubscriberStatus.ACTIVE


ANA = "ana.morales20@example.net"


@pytest.mark.parametrize(
    "carried",
    ["no original", "tokens, no Message-ID", "tampered Message-ID", "another reader's"],
)
def test_a_forged_hard_bounce_without_our_message_is_soft_and_the_reader_stays_active(
    session: Session, settings: Settings, room: Newsroom, server: InboundServer, carried: str
) -> None:
    """A "550 5.1.1 user unknown" at a real reader's bounces+ address, written by someone who
    saw the reader's mail (its Return-Path, reply+ address and List-Unsubscribe link are all it
    takes), but not returning the message we sent: no signed Message-ID of that delivery, or one
    changed by a character, or another reader's. Recorded as judged (5.1.1, user_unknown), the
    raw message kept, but counted soft: the reader stays active and unsuppressed."""
    campaign = snapshot_campaign(session, room)
    delivery, other = delivery_of(session, WHO, campaign.id), delivery_of(session, ANA, campaign.id)
    original = {
        "no original": b"",
        "tokens, no Message-ID": sent_headers(delivery, settings, WHO, message_id="<x@f.example>"),
        "tampered Message-ID": sent_headers(
            delivery, settings, WHO, message_id=tampered(message_id_of(delivery, settings))
        ),
        "another reader's": sent_headers(
            delivery, settings, WHO, message_id=message_id_of(other, settings)
        ),
    }[carried]
    bounce(server, settings, delivery, "5.1.1", original=original)

    assert subscriber(session).status == SubscriberStatus.ACTIVE
    assert not is_suppressed(session, WHO, settings.secret())
    assert subscriber(session, ANA).status == SubscriberStatus.ACTIVE
    [event] = session.scalars(select(BounceEvent)).all()
    assert (event.kind, event.status, event.reason) == (BounceKind.SOFT, "5.1.1", "user_unknown")
    assert event.delivery_id == delivery.id and UNCONFIRMED in event.diagnostic
    [msg] = session.scalars(select(InboundMessage)).all()
    assert msg.status == InboundStatus.DONE and b"5.1.1" in msg.raw  # recorded first, kept
    assert UNCONFIRMED in msg.outcome and "suppressed" not in msg.outcome, msg.outcome
    report = runner.invoke(app, ["report", str(campaign.id)])
    assert "bounces   0 hard, 1 soft" in report.output, report.output


def test_the_same_bounce_returning_our_signed_message_id_is_hard_and_suppresses(
    session: Session, settings: Settings, room: Newsroom, server: InboundServer
) -> None:
    """The report carries only the signed Message-ID of the message we sent (a relay that
    returns no other header): that is enough. Hard, the reader suppressed."""
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    only_id = f"Message-ID: {message_id_of(delivery, settings)}\r\n".encode()
    bounce(server, settings, delivery, "5.1.1", original=only_id)
    assert subscriber(session).status == SubscriberStatus.BOUNCED
    entry = get_suppression(session, WHO, settings.secret())
    assert entry is not None and entry.reason == SuppressionReason.HARD_BOUNCE
    [event] = session.scalars(select(BounceEvent)).all()
    assert event.kind == BounceKind.HARD and UNCONFIRMED not in event.diagnostic


def test_a_bounce_for_mail_sent_before_a_key_rotation_is_still_hard(
    session: Session, settings: Settings, room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message was sent (token and Message-ID signed) under the key that has since moved to
    MAILER_PREVIOUS_SECRET_KEYS: its bounce still verifies, and is hard."""
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    rcpt = address("bounces", delivery.id, settings)
    raw = dsn(WHO, "5.1.1", original=sent_headers(delivery, settings, WHO))
    monkeypatch.setenv("MAILER_PREVIOUS_SECRET_KEYS", f'["{settings.secret()}"]')
    monkeypatch.setenv("MAILER_SECRET_KEY", "a-new-key-" + "n" * 40)
    reset_settings()
    rotated = get_settings()
    assert rotated.secret() != settings.secret()
    with InboundServer(rotated) as server:
        server.send("", [rcpt], raw)
    entry = get_suppression(session, WHO, rotated.secret())
    assert entry is not None and entry.reason == SuppressionReason.HARD_BOUNCE
