"""Helpers for the inbound-mail tests: deliveries to answer, realistic replies and bounce reports,
an in-process `mailer inbound` server, and an SMTP client that records every reply code."""

from __future__ import annotations

import email.policy
import smtplib
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer import tokens
from mailer.content.issues import get_issue
from mailer.inbound.door import Door, InboundSMTP
from mailer.inbound.receive import InboundHandler, smtp_parameters
from mailer.sending import campaigns, start
from mailer.sending.models import Campaign, Delivery
from mailer.settings import Settings
from subscribers.models import Subscriber
from tests.builders import Newsroom, cleared
from tests.smtpd import free_port

DOMAIN = "news.example.com"


def snapshot_campaign(session: Session, room: Newsroom, *, force_resend: bool = False) -> Campaign:
    """A campaign of the fixture issue with its Delivery rows (the real audience snapshot), not
    sent: enough to receive replies and bounces for, without rendering the issue again."""
    issue = get_issue(session, room.issue_slug)
    audience = campaigns.resolve_audience(session, issue, room.list_slug, force_resend=force_resend)
    campaign = campaigns.create(session, issue, cleared(audience), force_resend=force_resend)
    start.snapshot(session, campaign)
    session.commit()
    return campaign


def delivery_of(session: Session, email: str, campaign_id: int | None = None) -> Delivery:
    query = (
        select(Delivery)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Subscriber.email == email)
        .order_by(Delivery.id)
    )
    if campaign_id is not None:
        query = query.where(Delivery.campaign_id == campaign_id)
    delivery = session.scalars(query).first()
    assert delivery is not None, f"no delivery to {email}"
    return delivery


def address(kind: str, delivery_id: int, settings: Settings) -> str:
    return tokens.address(kind, tokens.delivery_token(delivery_id, settings.secret()), DOMAIN)


def message_id_of(delivery: Delivery, settings: Settings) -> str:
    """The signed Message-ID we wrote on `delivery`'s message (with angle brackets): what a
    genuine bounce or complaint carries back, and a forger cannot read off the reader's mail."""
    return tokens.delivery_message_id(
        delivery.campaign_id, delivery.id, settings.secret(), settings.mail_domain
    )


def tampered(message_id: str) -> str:
    """`message_id` with one character of its MAC changed: what a forger's best guess looks like."""
    tag = message_id.split(".")[2].split("@")[0]
    return message_id.replace(tag, tag[:-1] + ("a" if tag[-1] != "a" else "b"))


def sent_headers(
    delivery: Delivery,
    settings: Settings,
    email: str,
    *,
    message_id: str | None = None,
    subject: str = "Tax briefing, April",
) -> bytes:
    """The header block of `delivery`'s message as we sent it to `email` (CRLF, no body): what a
    mail system returns in a bounce (text/rfc822-headers) or a feedback loop in its report.
    `message_id`: another value (a forger's guess, a tampered one) in place of the signed one."""
    token = tokens.delivery_token(delivery.id, settings.secret())
    domain = settings.mail_domain
    lines = [
        f"Return-Path: <{tokens.bounce_address(token, domain)}>",
        f"From: Tax Firm <news@{domain}>",
        f"To: <{email}>",
        f"Subject: {subject}",
        "Date: Wed, 9 Apr 2025 08:00:00 -0600",
        f"Message-ID: {message_id or message_id_of(delivery, settings)}",
        f"Reply-To: <{tokens.reply_address(token, domain)}>",
        f"List-Unsubscribe: <mailto:{tokens.unsubscribe_address(token, domain)}>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def reply(
    *,
    from_: str,
    to: str,
    subject: str,
    body: str,
    quoted: str = "",
    headers: dict[str, str] | None = None,
    html: str | None = None,
) -> bytes:
    """A reply as a mail client writes it: the client's text, then the quoted newsletter."""
    msg = EmailMessage()
    msg["From"] = from_
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2025, 4, 10, 9, 30, tzinfo=UTC))
    msg["Message-ID"] = make_msgid(domain="client.example")
    for name, value in (headers or {}).items():
        msg[name] = value
    text = body
    if quoted:
        text += "\n\nOn Wed, Apr 9, 2025 at 8:00 AM Fausto Carbajal Glass wrote:\n" + "\n".join(
            "> " + line for line in quoted.splitlines()
        )
    if html is not None and not body:
        msg.set_content(html, subtype="html")  # an HTML-only reply
    else:
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    return msg.as_bytes(policy=email.policy.SMTP)  # CRLF, as clients send it


def dsn(
    recipient: str,
    status: str,
    *,
    action: str | None = None,
    diagnostic: str | None = None,
    original: bytes = b"",
    reporting_mta: str = "mx.client.example",
    original_recipient: str | None = None,
) -> bytes:
    """An RFC 3464 delivery status notification as Postfix writes it; `original_recipient`:
    the address `recipient` was expanded from (an alias or forward), as Postfix reports it."""
    action = action or ("failed" if status.startswith("5") else "delayed")
    expanded = f" (expanded from <{original_recipient}>)" if original_recipient else ""
    diagnostic = diagnostic or f"smtp; 550 {status} <{recipient}>: Recipient address rejected"
    boundary = "=_report_boundary_1"
    human = textwrap.dedent(
        f"""\
        This is the mail system at host {reporting_mta}.

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients.

        <{recipient}>{expanded}: host {reporting_mta} said: {diagnostic.split(";", 1)[-1].strip()}
        """
    )
    status_block = textwrap.dedent(
        f"""\
        Reporting-MTA: dns; {reporting_mta}
        Arrival-Date: Wed,  9 Apr 2025 08:00:03 -0600 (CST)

        Final-Recipient: rfc822; {recipient}
        Original-Recipient: rfc822;{original_recipient or recipient}
        Action: {action}
        Status: {status}
        Remote-MTA: dns; mx2.client.example
        Diagnostic-Code: {diagnostic}
        """
    )
    head = textwrap.dedent(
        f"""\
        From: MAILER-DAEMON@{reporting_mta} (Mail Delivery System)
        To: bounces@{DOMAIN}
        Subject: Undelivered Mail Returned to Sender
        Date: Wed,  9 Apr 2025 08:00:04 -0600 (CST)
        Message-ID: <{make_msgid(domain=reporting_mta).strip("<>")}>
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status;
        \tboundary="{boundary}"
        """
    )
    parts = [
        head,
        f"--{boundary}\nContent-Description: Notification\nContent-Type: text/plain; "
        f"charset=us-ascii\n\n{human}\n",
        f"--{boundary}\nContent-Description: Delivery report\nContent-Type: "
        f"message/delivery-status\n\n{status_block}\n",
        f"--{boundary}\nContent-Description: Undelivered Message Headers\nContent-Type: "
        "text/rfc822-headers\n\n"
        + (
            original.replace(b"\r\n", b"\n").split(b"\n\n")[0].decode("ascii", "replace")
            if original
            else ""
        )
        + "\n",
        f"--{boundary}--\n",
    ]
    return "".join(parts).replace("\n", "\r\n").encode("ascii")


@dataclass
class Transaction:
    """Every reply of one SMTP transaction, so a test can assert the code of each step."""

    mail: tuple[int, bytes]
    rcpts: dict[str, tuple[int, bytes]]
    data: tuple[int, bytes] | None


def smtp_transaction(
    port: int, mail_from: str, rcpts: list[str], data: bytes, **mail_options: Any
) -> Transaction:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as conn:
        conn.ehlo("client.example")
        options = [f"{k}={v}" for k, v in mail_options.items()]
        mail = conn.mail(mail_from, options)
        if mail[0] != 250:
            return Transaction(mail, {}, None)
        answers = {r: conn.rcpt(r) for r in rcpts}
        if not any(code == 250 for code, _ in answers.values()):
            conn.rset()
            return Transaction(mail, answers, None)
        try:
            result = conn.data(data)
        except smtplib.SMTPDataError as exc:
            result = (exc.smtp_code, exc.smtp_error)
        return Transaction(mail, answers, result)


class DoorController(Controller):
    """aiosmtpd's threaded server, making each connection's protocol as `mailer inbound` does
    (through its door: the caps on open connections and on a session's length)."""

    def __init__(self, door: Door, **kwargs: Any) -> None:
        super().__init__(door.handler, **kwargs)
        self.door = door

    def factory(self) -> InboundSMTP:
        return self.door.protocol()


class InboundServer:
    """`mailer inbound`'s handler and SMTP options on a free port, in this process."""

    def __init__(self, settings: Settings, **handler_kwargs: Any):
        self.port = free_port()
        self.handler = InboundHandler(settings, **handler_kwargs)
        self.door = Door(self.handler, settings, **smtp_parameters(settings))
        self.controller = DoorController(self.door, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> InboundServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
        self.settle()
        self.handler._executor.shutdown(wait=True)

    def settle(self) -> None:
        """Wait for the processing started after each 250 (in-process, no broker)."""
        for future in list(self.handler._background):
            future.result(timeout=60)

    def send(self, mail_from: str, rcpts: list[str], data: bytes) -> Transaction:
        """One transaction; returns after the message (if accepted) has been processed."""
        result = smtp_transaction(self.port, mail_from, rcpts, data)
        self.settle()
        return result
