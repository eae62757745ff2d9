"""Client replies forwarded to the partner who wrote the issue (in-process, SQLite and PostgreSQL,
through the inbound SMTP server and a real outgoing SMTP server): what the partner receives,
exactly once, and what happens when the relay defers or refuses."""

from __future__ import annotations

import base64
import html
import re
import threading
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer import tokens
from mailer.cli import app
from mailer.db import get_sessionmaker
from mailer.inbound import receive
from mailer.inbound import tasks as inbound_tasks
from mailer.inbound.inquiries import (
    HELD_FOR_LIMIT,
    MAX_FORWARDS_PER_DELIVERY_PER_DAY,
    build_forward,
    client_context,
    forward_message_id,
)
from mailer.inbound.models import InboundKind, InboundMessage, InboundStatus, Inquiry, InquiryStatus
from mailer.inbound.process import process
from mailer.settings import get_settings
from subscribers.models import Subscriber
from tests.builders import Newsroom
from tests.inbound_support import (
    InboundServer,
    address,
    delivery_of,
    reply,
    snapshot_campaign,
)
from tests.smtpd import SMTPServer
from tests.web.test_admin import signed_in

runner = CliRunner()
PARTNER = "fausto.carbajal@miranda-partners.com"
WHO = "jose.rivera1@example.org"


def forwards(relay: SMTPServer) -> list[EmailMessage]:
    return [r.message for r in relay.sink.to(PARTNER)]


def quick_reply(
    session: Session, room: Newsroom, body: str = "Could we talk on Thursday?"
) -> tuple[str, bytes]:
    delivery = delivery_of(session, WHO, snapshot_campaign(session, room).id)
    rcpt = address("reply", delivery.id, get_settings())
    raw = reply(
        from_="José Rivera <jose.rivera1@example.org>",
        to=f"Fausto Carbajal Glass <{rcpt}>",
        subject="Re: Security Chatter",
        body=body,
    )
    return rcpt, raw


def test_a_reply_to_the_newsletter_reaches_the_partner_with_the_clients_context(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    sent = runner.invoke(app, ["send", room.issue_slug, "--list", room.list_slug, "--yes"])
    assert sent.exit_code == 0, sent.output
    [newsletter] = [r.message for r in relay.sink.to(WHO)]
    reply_to = newsletter["Reply-To"].addresses[0]
    assert reply_to.display_name == "Fausto Carbajal Glass"
    quoted = newsletter.get_body(("plain",)).get_content()
    headline = "Executive summary"  # a line of the newsletter the client quotes
    assert headline in quoted
    raw = reply(
        from_="José Rivera <jose.rivera1@example.org>",
        to=str(newsletter["Reply-To"]),
        subject="Re: " + str(newsletter["Subject"]),
        body="Fausto,\n\nCould we talk about the National Operations Unit on Thursday?\n\nJosé",
        quoted=quoted,
    )
    relay.sink.received.clear()
    got = server.send(WHO, [reply_to.addr_spec], raw)
    assert got.data is not None and got.data[0] == 250

    [fwd] = forwards(relay)
    assert len(relay.sink.received) == 1  # only the partner, nobody else
    assert str(fwd["From"]) == "José Rivera via Security Chatter <briefing@news.example.com>"
    assert fwd["To"].addresses[0].addr_spec == PARTNER
    assert [a.addr_spec for a in fwd["Reply-To"].addresses] == [WHO]
    assert fwd["Subject"] == "Re: " + str(newsletter["Subject"])
    assert fwd["Auto-Submitted"] == "auto-forwarded"
    assert fwd["X-Mailer-Loop"] == "news.example.com"
    text = fwd.get_body(("plain",)).get_content()
    for expected in (
        "Client:   José Rivera",
        f"Email:    {WHO}",
        "Company:  Acme Mining SA de CV",
        "Lists:    Security Chatter (briefing, active)",
        "Tags:     client, energy",
        "security-chatter-2025-04-09",
        "Could we talk about the National Operations Unit on Thursday?",
    ):
        assert expected in text, expected
    assert headline not in text  # the quoted newsletter is trimmed…
    [original] = [p for p in fwd.iter_attachments() if p.get_content_type() == "message/rfc822"]
    inner = original.get_content()
    assert inner["Message-ID"] == email_message_id(raw)  # …and the original attached whole
    assert headline in inner.get_body(("plain",)).get_content()

    [inquiry] = session.scalars(select(Inquiry)).all()
    assert inquiry.status == InquiryStatus.SENT and inquiry.client_email == WHO
    assert fwd["Message-ID"] == inquiry.forward_message_id
    [msg] = session.scalars(select(InboundMessage)).all()
    assert (msg.kind, msg.status) == (InboundKind.INQUIRY, InboundStatus.DONE)

    listed = runner.invoke(app, ["inquiries", "list", "--partner", "fausto-carbajal-glass"])
    assert listed.exit_code == 0, listed.output
    # The admin's word for it ("sent" here, "forwarded" there, used to differ).
    assert WHO in listed.output and "forwarded" in listed.output and " sent " not in listed.output
    shown = runner.invoke(app, ["subscribers", "show", WHO])
    assert "inquiries:" in shown.output
    assert "forwarded re security-chatter-2025-04-09" in shown.output
    report = runner.invoke(app, ["report", room.issue_slug])
    assert "inquiries 1 (1 forwarded)" in report.output


def email_message_id(raw: bytes) -> str:
    from mailer.inbound.message import parse

    return str(parse(raw)["Message-ID"])


def test_processing_twice_or_concurrently_forwards_once(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    rcpt, raw = quick_reply(session, room)
    server.send(WHO, [rcpt], raw)
    assert len(forwards(relay)) == 1
    msg_id = session.scalar(select(InboundMessage.id))
    assert msg_id is not None
    inbound_tasks.process_inbound.delay(msg_id)  # the task delivered a second time
    process(msg_id)
    assert len(forwards(relay)) == 1

    # A new message that two workers pick up at the same moment: the claim lets one send.
    relay.sink.received.clear()
    settings = get_settings()
    recipient = receive.resolve_recipient(session, rcpt, settings)
    assert recipient is not None
    [(third, _)] = receive.store(
        get_sessionmaker(),
        raw.replace(b"Thursday", b"Friday"),
        mail_from=WHO,
        recipients=[recipient],
        peer="127.0.0.1:1",
        helo="client.example",
        settings=settings,
    )
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            process(third)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(forwards(relay)) == 1
    assert session.scalar(select(func.count()).select_from(Inquiry)) == 2


def test_a_deferred_forward_is_retried_and_sent_once(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    relay.sink.rules[PARTNER] = ["451 4.3.0 try again later", "250 OK"]
    rcpt, raw = quick_reply(session, room)
    server.send(WHO, [rcpt], raw)
    assert forwards(relay) == []
    msg = session.scalars(select(InboundMessage)).one()
    assert msg.status == InboundStatus.DEFERRED and "451 4.3.0" in msg.outcome
    inquiry = session.scalars(select(Inquiry)).one()
    assert inquiry.status == InquiryStatus.DEFERRED and inquiry.claimed_at is None

    result = process(msg.id)  # what the task's retry (or the sweep) runs
    assert result.status == InboundStatus.DONE
    assert len(forwards(relay)) == 1
    process(msg.id)
    assert len(forwards(relay)) == 1
    session.expire_all()
    assert session.get(Inquiry, inquiry.id).attempts == 2  # type: ignore[union-attr]


def test_a_refused_forward_is_failed_not_retried(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    relay.sink.rules[PARTNER] = ["550 5.1.1 no such user"]
    rcpt, raw = quick_reply(session, room)
    server.send(WHO, [rcpt], raw)
    msg = session.scalars(select(InboundMessage)).one()
    assert msg.status == InboundStatus.FAILED and "5.1.1" in msg.outcome
    assert session.scalars(select(Inquiry)).one().status == InquiryStatus.FAILED
    assert msg.id not in receive.stale_messages(get_sessionmaker(), get_settings())


def test_our_forward_coming_back_is_stored_and_ignored(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    """E.g. the partner's mailbox forwards everything back to the reply address."""
    rcpt, raw = quick_reply(session, room)
    server.send(WHO, [rcpt], raw)
    [fwd] = relay.sink.to(PARTNER)
    got = server.send(PARTNER, [rcpt], fwd.data)
    assert got.data is not None and got.data[0] == 250
    assert len(relay.sink.to(PARTNER)) == 1
    looped = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
    assert looped is not None
    assert (looped.status, looped.kind) == (InboundStatus.IGNORED, InboundKind.LOOP)
    assert process(looped.id).status == InboundStatus.IGNORED
    assert len(relay.sink.to(PARTNER)) == 1


def test_forward_headers_cannot_be_injected_and_bytes_are_deterministic(
    session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    settings = get_settings()
    rcpt, _ = quick_reply(session, room)
    # Encoded words that decode to CR LF: written by hand, the stdlib refuses to build them.
    raw = (
        "From: =?utf-8?q?Evil=0D=0ABcc=3A_victim=40example=2Ecom?= <evil@example.org>\r\n"
        f"To: {rcpt}\r\n"
        "Subject: =?utf-8?q?Hi=0D=0ABcc=3A_victim=40example=2Ecom?=\r\n"
        "Message-ID: <evil.1@example.org>\r\n"
        # Long enough to be refolded: the standard library cannot re-serialise it.
        "Cc: " + "=?utf-8?q?x=0D=0Ay?= <c@example.org>, " * 20 + "\r\n"
        "\r\n"
        "hello\r\n"
    ).encode()
    server_settings = settings
    with InboundServer(server_settings) as srv:
        srv.send("evil@example.org", [rcpt], raw)
    [fwd] = relay.sink.to(PARTNER)
    assert fwd.message["Bcc"] is None
    assert fwd.rcpt_tos == [PARTNER]
    assert "Bcc: victim@example.com" in fwd.message["Subject"]  # kept as text, on one line
    assert [a.addr_spec for a in fwd.message["Reply-To"].addresses] == ["evil@example.org"]
    [attachment] = list(fwd.message.iter_attachments())
    assert attachment.get_filename() == "original-message.eml"
    assert attachment.get_content_type() == "application/octet-stream"  # attached unparsed
    assert attachment.get_content() == raw  # byte for byte

    msg = session.scalars(select(InboundMessage)).one()
    ctx = client_context(session, msg, settings)
    mid = forward_message_id(msg.id, settings)
    one = build_forward(msg.raw, ctx, settings, mid, when=msg.received_at)
    two = build_forward(msg.raw, ctx, settings, mid, when=msg.received_at)
    assert one.data == two.data and one.recipients == (PARTNER,)


def test_inquiries_list_filters_by_partner_and_names_unknown_ones(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    assert runner.invoke(app, ["inquiries", "list"]).output.strip() == "no inquiries"
    rcpt, raw = quick_reply(session, room, "Hola, ¿pueden llamarme? [bold]x[/bold]")
    server.send(WHO, [rcpt], raw)
    out = runner.invoke(app, ["inquiries", "list"]).output
    assert "Re: Security Chatter" in out and "fausto-carbajal-glass" in out
    missing = runner.invoke(app, ["inquiries", "list", "--partner", "nobody"])
    assert missing.exit_code != 0


def test_a_reply_from_another_address_is_presented_as_its_sender_with_the_tokens_context(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    """Reader A's reply+ address used by B (an assistant): the partner sees B's name, answers B,
    and reads that the context is A's, the reader the issue was sent to."""
    rcpt, _ = quick_reply(session, room)
    raw = reply(
        from_="Marta Assistant <marta@acme.example.mx>",
        to=rcpt,
        subject="Re: Security Chatter",
        body="Hello, I handle Mr Rivera's agenda. Could we book a call?",
    )
    got = server.send("marta@acme.example.mx", [rcpt], raw)
    assert got.data is not None and got.data[0] == 250
    [fwd] = forwards(relay)
    [answer_to] = fwd["Reply-To"].addresses
    assert (answer_to.display_name, answer_to.addr_spec) == ("", "marta@acme.example.mx")
    assert fwd["From"].addresses[0].display_name.startswith("marta@acme.example.mx via")
    text = " ".join(fwd.get_body(("plain",)).get_content().split())
    assert (
        "Caution: replies to this message go to marta@acme.example.mx, not to the address we "
        f"have on file for José Rivera ({WHO})."
    ) in text
    assert f"Sent to: José Rivera <{WHO}>" in text
    assert 'Client: marta@acme.example.mx (wrote the name "Marta Assistant"; not verified)' in text
    assert "one click unsubscribes them: http" in text and "/u/" in text


def test_a_reply_offers_the_partner_a_one_click_unsubscribe_of_that_reader(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    rcpt, raw = quick_reply(session, room, "Remove me from Thursday's call; send the report.")
    server.send(WHO, [rcpt], raw)
    [fwd] = forwards(relay)
    text = fwd.get_body(("plain",)).get_content()
    [link] = [w for w in text.split() if "/u/" in w]
    page = link.rsplit("/u/", 1)[1]
    delivery = delivery_of(session, WHO)
    assert tokens.parse_delivery_token(page, get_settings().verification_secrets()) == delivery.id


def test_the_forward_names_the_inquiry_the_admin_shows(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    """Mail that is not an inquiry (an out-of-office) comes in first, so inbound messages and
    inquiries are numbered apart: each forward's Message-ID and X-Mailer-Inquiry name the
    inquiry's own id, the one in the admin's URL, `mailer inquiries list` and the page."""
    rcpt, first = quick_reply(session, room, "First question: the Thursday call?")
    away = reply(
        from_=f"José Rivera <{WHO}>",
        to=rcpt,
        subject="Out of office: Security Chatter",
        body="I am away until Monday.",
        headers={"Auto-Submitted": "auto-replied"},
    )
    server.send(WHO, [rcpt], away)
    server.send(WHO, [rcpt], away.replace(b"Monday", b"Tuesday"))
    server.send(WHO, [rcpt], first)
    _, second = quick_reply(session, room, "Second question: the Monterrey office?")
    server.send(WHO, [rcpt], second)
    inquiries = session.scalars(select(Inquiry).order_by(Inquiry.id)).all()
    assert [q.id for q in inquiries] == [1, 2]
    assert [q.inbound_message_id for q in inquiries] == [3, 4]  # the numbers differ
    settings = get_settings()
    listed = runner.invoke(app, ["inquiries", "list"]).output
    for inquiry, fwd in zip(inquiries, forwards(relay), strict=True):
        assert fwd["Message-ID"] == inquiry.forward_message_id
        assert fwd["Message-ID"] == forward_message_id(inquiry.id, settings)
        assert fwd["Message-ID"].startswith(f"<inquiry.{inquiry.id}.")
        assert fwd["X-Mailer-Inquiry"].startswith(f"inquiry.{inquiry.id}.")
        assert fwd["X-Mailer-Inquiry"] == fwd["Message-ID"].strip("<>").split("@")[0]
        assert f"\n{inquiry.id} " in "\n" + listed.replace("\n ", "\n")
    with signed_in(session) as editor:
        page = editor.get(f"/admin/inquiries/{inquiries[1].id}")
        assert page.status_code == 200 and "Second question" in page.text
        assert f"Inquiry {inquiries[1].id}: the forward" in page.text
        assert html.escape(inquiries[1].forward_message_id) in page.text


@pytest.mark.parametrize(
    ("from_header", "name"),
    [
        # raw 8-bit UTF-8, as some clients write a name without RFC 2047 encoding
        ('"Rivera, José" <ana.colleague@example.org>'.encode(), "Rivera, José"),
        # the same in Windows-1252
        ("Ramón Ñúñez <ana.colleague@example.org>".encode("cp1252"), "Ramón Ñúñez"),
        # the quotes encoded inside the encoded word
        (
            b"=?utf-8?Q?=22Mu=C3=B1oz=2C_Mar=C3=ADa_Fernanda=22?= <ana.colleague@example.org>",
            "Muñoz, María Fernanda",
        ),
    ],
)
def test_the_forward_names_the_client_as_they_wrote_their_name(
    session: Session, room: Newsroom, relay: SMTPServer, from_header: bytes, name: str
) -> None:
    """A colleague answering (their own name is shown, not the reader's on file)."""
    rcpt, _ = quick_reply(session, room)
    raw = (
        b"From: " + from_header + b"\r\nTo: " + rcpt.encode() + b"\r\n"
        b"Subject: Re: Security Chatter\r\nMessage-ID: <n.1@example.org>\r\n\r\n"
        b"Could we talk on Thursday?\r\n"
    )
    with InboundServer(get_settings()) as srv:
        srv.send("ana.colleague@example.org", [rcpt], raw)
    [fwd] = relay.sink.to(PARTNER)
    text = fwd.message.get_body(("plain",)).get_content()
    assert f'Client:   ana.colleague@example.org (wrote the name "{name}"; not verified)' in text
    # Not the reader's address: the name they wrote stays out of the headers (senders.py).
    [reply_to] = fwd.message["Reply-To"].addresses
    assert (reply_to.display_name, reply_to.addr_spec) == ("", "ana.colleague@example.org")
    [sender] = fwd.message["From"].addresses
    assert sender.display_name.startswith("ana.colleague@example.org via ")


def test_one_reply_address_forwards_a_few_inquiries_a_day_and_holds_the_rest(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    """Anyone holding a copy of the issue holds its reply+ address: a flood of messages to it in
    one SMTP session reaches the partner MAX_FORWARDS_PER_DELIVERY_PER_DAY times; the rest are
    recorded as inquiries, shown to the admin as held, and never forwarded. Another reader's
    address is not affected."""
    import smtplib

    limit = MAX_FORWARDS_PER_DELIVERY_PER_DAY
    rcpt, _ = quick_reply(session, room)
    with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as conn:
        conn.ehlo("client.example")
        for n in range(limit + 3):
            raw = reply(
                from_=f"José Rivera <{WHO}>", to=rcpt, subject=f"Re: call {n}", body=f"Call {n}?"
            )
            assert conn.sendmail(WHO, [rcpt], raw) == {}
    server.settle()
    assert len(forwards(relay)) == limit
    session.expire_all()
    rows = list(session.scalars(select(Inquiry).order_by(Inquiry.id)))
    assert len(rows) == limit + 3
    assert [r.status for r in rows[:limit]] == [InquiryStatus.SENT] * limit
    held = rows[limit:]
    assert all(r.status == InquiryStatus.FAILED for r in held)
    assert all(r.last_reply.startswith(HELD_FOR_LIMIT) for r in held), held[0].last_reply
    for r in held:
        inbound = session.get(InboundMessage, r.inbound_message_id)
        assert inbound is not None and inbound.status == InboundStatus.DONE
        assert inbound.kind == InboundKind.INQUIRY and inbound.outcome.startswith(HELD_FOR_LIMIT)

    other = delivery_of(session, "ricardo.diaz2@example.org", rows[0].campaign_id)
    other_rcpt = address("reply", other.id, get_settings())
    who = "Ricardo Díaz <ricardo.diaz2@example.org>"
    server.send(
        "ricardo.diaz2@example.org",
        [other_rcpt],
        reply(from_=who, to=other_rcpt, subject="Re: x", body="A question"),
    )
    assert len(forwards(relay)) == limit + 1

    with signed_in(session) as editor:
        page = editor.get("/admin/inquiries")
    assert page.status_code == 200
    assert page.text.count("held (limit)") == 3
    listed = runner.invoke(app, ["inquiries", "list"]).output
    assert listed.count(" held ") == 3, listed


STRANGER = "jose.rivera@acme-mining.example"
CAUTION = "Caution: replies to this message go to {answers}, not to the address we have on file"


@pytest.mark.parametrize(
    ("headers", "answers"),
    [
        # The reader's name over a stranger's address.
        (
            {"From": "José Rivera <jose.rivera@acme-mining.example>"},
            "jose.rivera@acme-mining.example",
        ),
        # The reader's own From, answers sent elsewhere.
        (
            {"From": f"José Rivera <{WHO}>", "Reply-To": "José Rivera <inbox@gmail.example>"},
            "inbox@gmail.example",
        ),
    ],
)
def test_a_reply_whose_answers_go_elsewhere_carries_a_caution_and_no_trusted_name(
    session: Session,
    room: Newsroom,
    relay: SMTPServer,
    server: InboundServer,
    headers: dict[str, str],
    answers: str,
) -> None:
    """Impersonation: the forward used to read "José Rivera via …", Reply-To "José Rivera"
    <stranger>, with no word that the partner's answer would leave José's mailbox."""
    rcpt, _ = quick_reply(session, room)
    raw = reply(
        from_=headers["From"],
        to=rcpt,
        subject="Re: Security Chatter",
        body="Fausto, please send me the full client report.",
        headers={k: v for k, v in headers.items() if k != "From"},
    )
    got = server.send(WHO, [rcpt], raw)
    assert got.data is not None and got.data[0] == 250
    [fwd] = forwards(relay)
    text = " ".join(fwd.get_body(("plain",)).get_content().split())
    assert f"{CAUTION.format(answers=answers)} for José Rivera ({WHO})" in text
    assert "José Rivera" not in str(fwd["From"]) and "José" not in str(fwd["Reply-To"])
    assert [a.addr_spec for a in fwd["Reply-To"].addresses] == [answers]
    inquiry = session.scalars(select(Inquiry)).one()
    assert inquiry.client_email == answers and inquiry.client_name == ""


def test_a_known_subscribers_name_over_another_address_carries_a_caution(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    """A reader whose own name on file is empty signs as another subscriber (José Rivera):
    the reply is from the token's own address, but the name is someone else's."""
    delivery = delivery_of(
        session, "ricardo.diaz2@example.org", snapshot_campaign(session, room).id
    )
    reader = session.get(Subscriber, delivery.subscriber_id)
    assert reader is not None
    reader.name = ""
    session.commit()
    rcpt = address("reply", delivery.id, get_settings())
    raw = reply(
        from_=f"José Rivera <{reader.email}>",
        to=rcpt,
        subject="Re: Security Chatter",
        body="Fausto, send the full report here please.",
    )
    server.send(str(reader.email), [rcpt], raw)
    [fwd] = forwards(relay)
    text = " ".join(fwd.get_body(("plain",)).get_content().split())
    assert f"{CAUTION.format(answers=reader.email)} for José Rivera ({WHO})" in text
    assert "José" not in str(fwd["From"]) and "José" not in str(fwd["Reply-To"])


@pytest.mark.parametrize(
    "sender", [f"José Rivera <{WHO}>", "J. Rivera <Jose.Rivera1+news@Example.ORG>"]
)
def test_a_reply_from_the_readers_own_mailbox_carries_no_caution(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer, sender: str
) -> None:
    """The address on file, or the same mailbox written otherwise (case, a +tag): no caution,
    and the reader's name on file."""
    rcpt, _ = quick_reply(session, room)
    raw = reply(from_=sender, to=rcpt, subject="Re: Security Chatter", body="Call me?")
    server.send(WHO, [rcpt], raw)
    [fwd] = forwards(relay)
    assert "Caution" not in fwd.get_body(("plain",)).get_content()
    assert str(fwd["From"]).startswith("José Rivera via ")


def test_a_clients_encoded_subject_cannot_add_headers_to_the_forward(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    """A reply's Subject is decoded twice on the way in (the parser, then `decode_text`): one
    written as an encoded word of an encoded word of `=?utf-8?q?=0D=0ABcc:…?=` reached the
    forward as that text, which the email package decoded a third time and wrote as a Bcc
    header line of the message to the partner (CVE-2024-6923). The forward's subject stays on
    one line, showing that text, and the message goes to the partner alone."""
    rcpt, raw = quick_reply(session, room)
    inner = "Re: =?utf-8?q?=0D=0ABcc:_victim@example.org?= Thursday"
    for _ in range(2):
        inner_bytes = inner.encode()
        inner = "=?utf-8?b?" + base64.b64encode(inner_bytes).decode() + "?="
    raw = re.sub(rb"(?m)^Subject: .*\r\n", f"Subject: {inner}\r\n".encode(), raw, count=1)
    relay.sink.received.clear()
    got = server.send(WHO, [rcpt], raw)
    assert got.data is not None and got.data[0] == 250
    [received] = relay.sink.to(PARTNER)
    head = received.data.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"(?im)^bcc:", head), head.decode("ascii", "replace")
    assert received.message["Bcc"] is None
    shown = str(received.message["Subject"]).replace("\u200b", "")
    assert shown == "Re: =?utf-8?q?=0D=0ABcc:_victim@example.org?= Thursday"
    assert len(relay.sink.received) == 1


def test_a_clients_encoded_message_id_cannot_add_headers_to_the_forward(
    session: Session, room: Newsroom, relay: SMTPServer, server: InboundServer
) -> None:
    """The client's Message-ID becomes the forward's In-Reply-To and References: one holding
    an encoded word of `=?utf-8?q?=0D=0ABcc:…?=` (nested twice) was decoded on the way in and
    once more by the email package, which wrote a Bcc header line (CVE-2024-6923). Such an id
    is left out."""
    rcpt, raw = quick_reply(session, room)
    written = "<=?utf-8?q?=0D=0ABcc:_victim@example.org?=@client.example>"
    for _ in range(2):  # decoded twice on the way in (the parser, then `decode_text`)
        written = "=?utf-8?b?" + base64.b64encode(written.encode()).decode() + "?="
    mid = f"Message-ID: {written}\r\n".encode()
    raw = re.sub(rb"(?m)^Message-ID: .*\r\n", mid, raw, count=1)
    relay.sink.received.clear()
    got = server.send(WHO, [rcpt], raw)
    assert got.data is not None and got.data[0] == 250
    [received] = relay.sink.to(PARTNER)
    head = received.data.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"(?im)^bcc:", head), head.decode("ascii", "replace")
    assert received.message["In-Reply-To"] is None and received.message["Bcc"] is None
    assert len(relay.sink.received) == 1
