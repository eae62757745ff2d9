"""Client inquiries: a reader's reply, forwarded to the partner who wrote the issue.

The forward is a new message, not a redirect: From `Client Name via <newsletter>` at the firm's
own address (so SPF/DKIM/DMARC pass for a domain we control), To the partner, Reply-To the client
(the partner's answer goes straight to them), the client's subject, a short block saying who the
client is and which issue they answered, the client's own words with the quoted newsletter
trimmed, and the original message attached unchanged as message/rfc822 (one over
MAX_FORWARDED_BYTES is not attached: the forward names what was left out, `left_out`).

It carries `Auto-Submitted: auto-forwarded` (RFC 3834: responders must not answer it) and our
loop-guard header (if it ever comes back to us, it is stored and ignored).

At most MAX_FORWARDS_PER_DELIVERY_PER_DAY forwards per delivery (one reader's reply+ address)
per day: a reply+ address is in every copy of the issue, so whoever holds one could otherwise
flood the partner's mailbox and our relay's reputation with it. The surplus is recorded as an
inquiry like any other (the admin's inquiries page lists it, "held (limit)") and not forwarded.

Exactly once: one Inquiry row per inbound message (unique key), a Message-ID derived from the
inquiry's id, and an atomic claim before sending, so a task that runs twice, or two
workers at once, send one forward. Only a worker dying between the relay's 250 and the commit can
repeat it, and the repeat has the same Message-ID, which mail systems de-duplicate.
"""

from __future__ import annotations

import email
import email.errors
import email.policy
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailer import tokens
from mailer.content.models import Issue, Partner
from mailer.db import rowcount, utcnow
from mailer.errors import ComposeError
from mailer.headers import check_address, clean_header_text, mailbox_header, unstructured
from mailer.inbound import senders
from mailer.inbound.message import (
    LOOP_HEADER,
    attachment_bytes,
    attachment_name,
    attachments,
    body_text,
    header,
    parse_in_pieces,
    parse_safely,
    read_head,
    reply_text,
)
from mailer.inbound.models import InboundMessage, Inquiry, InquiryStatus
from mailer.inbound.shape import UnreadableMessage, header_problem, shape
from mailer.sending.models import Campaign, Delivery
from mailer.sending.transport import Reply, Transport
from mailer.settings import Settings
from subscribers.models import MailingList, Subscriber, Subscription

# Bytes of a reader's message the forward attaches: a larger one (25 MiB is accepted) made a
# forward a third larger again, more than many partners' mail systems take (Postfix's default
# is 10,240,000 bytes). Past it the forward carries the reader's words and names what was left
# out; the message stays recorded whole for the admin's inquiry page.
MAX_FORWARDED_BYTES = 5 * 1024 * 1024

# Forwards to the partner per delivery per day. A reader writes a few replies to one issue at
# most; a few dozen to one address in a day is a script or a mail loop.
MAX_FORWARDS_PER_DELIVERY_PER_DAY = 5
HELD_FOR_LIMIT = "not forwarded: over the limit of"  # the start of a held inquiry's last_reply


@dataclass(frozen=True)
class ClientContext:
    """What the partner needs to know about who wrote and about what."""

    client_name: str
    client_email: str  # the address to answer (the message's Reply-To or From)
    subscriber_email: str  # the address on file ("" if the subscriber was erased)
    company: str
    lists: tuple[str, ...]
    tags: tuple[str, ...]
    issue_title: str
    issue_slug: str
    issue_date: str
    newsletter: str
    campaign_id: int | None
    list_name: str
    partner_name: str
    partner_email: str
    subscriber_name: str = ""  # the name on file of the subscriber the token belongs to
    caution: str = ""  # why answers may not reach the reader on file (senders.caution), or ""
    written_name: str = ""  # the name the sender wrote, untrusted, when there is a caution
    unsubscribe_url: str = ""  # one click unsubscribes the token's subscriber (/u/TOKEN)


@dataclass(frozen=True)
class ForwardMessage:
    """A ready forward, shaped for a Transport."""

    envelope_from: str
    recipients: tuple[str, ...]
    data: bytes
    message_id: str


def forward_message_id(inquiry_id: int, settings: Settings) -> str:
    """The forward's Message-ID, named after the inquiry's id (the number the admin, `mailer
    inquiries list` and the inbound log show), signed so it cannot be guessed; the same for
    every attempt at one inquiry, so repeats are recognisably one message. Its local part is
    also the forward's X-Mailer-Inquiry header (`build_forward`)."""
    tag = tokens.digest("inquiry", str(inquiry_id), settings.secret())
    return f"<inquiry.{inquiry_id}.{tag}@{settings.mail_domain}>"


def client_context(session: Session, inbound: InboundMessage, settings: Settings) -> ClientContext:
    """Everything about the client and the issue they answered, read from the database; with
    the caution (senders.py) when answers to the reply would not reach the reader on file."""
    head = senders.head_of(inbound.raw)
    display, addr = senders.answers_go_to(head)
    subscriber = session.get(Subscriber, inbound.subscriber_id) if inbound.subscriber_id else None
    delivery = session.get(Delivery, inbound.delivery_id) if inbound.delivery_id else None
    campaign = session.get(Campaign, delivery.campaign_id) if delivery else None
    issue = session.get(Issue, delivery.issue_id) if delivery else None
    partner = session.get(Partner, issue.partner_id) if issue else None
    mlist = session.get(MailingList, campaign.list_id) if campaign else None
    lists: list[str] = []
    if subscriber is not None:
        rows = session.execute(
            select(MailingList.name, MailingList.slug, Subscription.status)
            .join(Subscription, Subscription.list_id == MailingList.id)
            .where(Subscription.subscriber_id == subscriber.id)
            .order_by(MailingList.slug)
        ).all()
        lists = [f"{name} ({slug}, {status.value})" for name, slug, status in rows]
    try:
        reply_to = check_address(addr) if addr else ""
    except ComposeError:
        reply_to = ""
    if not reply_to and subscriber is not None and subscriber.email:
        reply_to = subscriber.email
    on_file = (subscriber.email or "") if subscriber else ""
    on_file_name = clean_header_text(subscriber.name or "") if subscriber else ""
    named = None
    if display and display.casefold() != on_file_name.casefold():
        named = senders.namesake(session, display, reply_to)
    caution = senders.caution(
        reply_to,
        on_file=on_file,
        on_file_name=on_file_name,
        from_address=senders.sent_from(head)[1],
        named=named,
    )
    # With a caution the name the sender wrote is not trusted: the forward names them by
    # address; otherwise the reader's name on file (the one they gave us), else theirs.
    name = "" if caution else (on_file_name or display)
    unsubscribe_url = (
        f"{settings.public_url.rstrip('/')}/u/"
        f"{tokens.delivery_token(delivery.id, settings.secret())}"
        if delivery is not None and subscriber is not None
        else ""
    )
    return ClientContext(
        client_name=clean_header_text(name),
        client_email=reply_to,
        subscriber_email=on_file,
        company=subscriber.company if subscriber else "",
        lists=tuple(lists),
        tags=tuple(subscriber.tags) if subscriber else (),
        issue_title=issue.title if issue else "",
        issue_slug=issue.slug if issue else "",
        issue_date=issue.issue_date.isoformat() if issue else "",
        newsletter=(issue.newsletter if issue else "") or settings.newsletter_name,
        campaign_id=campaign.id if campaign else None,
        list_name=mlist.name if mlist else "",
        partner_name=partner.name if partner else "",
        partner_email=partner.email if partner else "",
        subscriber_name=on_file_name,
        caution=caution,
        written_name=display if caution else "",
        unsubscribe_url=unsubscribe_url,
    )


def context_block(ctx: ClientContext) -> str:
    """The short header block at the top of the forward."""
    lines = [
        f"{ctx.client_name or ctx.client_email} replied to {ctx.newsletter}. "
        "Reply to this message to answer them directly.",
        "",
    ]
    if ctx.caution:
        lines += [ctx.caution, ""]
    written = f' (wrote the name "{ctx.written_name}"; not verified)' if ctx.written_name else ""
    lines += [
        f"Client:   {ctx.client_name or ctx.client_email or '-'}{written}",
        f"Email:    {ctx.client_email or '-'}",
    ]
    if ctx.caution and ctx.subscriber_email:
        lines.append(f"Sent to:  {ctx.subscriber_name or '-'} <{ctx.subscriber_email}>")
    elif ctx.subscriber_email and ctx.subscriber_email.lower() != ctx.client_email.lower():
        lines.append(f"On file:  {ctx.subscriber_email}")
    lines += [
        f"Company:  {ctx.company or '-'}",
        f"Lists:    {', '.join(ctx.lists) or '-'}",
        f"Tags:     {', '.join(ctx.tags) or '-'}",
        f"Issue:    {ctx.issue_title or '-'}"
        + (f" ({ctx.issue_date}, {ctx.issue_slug})" if ctx.issue_slug else ""),
    ]
    if ctx.campaign_id is not None:
        lines.append(f"Sent:     campaign {ctx.campaign_id} to {ctx.list_name or '-'}")
    if ctx.unsubscribe_url:
        lines += [
            "",
            f"If {ctx.subscriber_email} meant to stop receiving {ctx.newsletter}, one click "
            f"unsubscribes them: {ctx.unsubscribe_url}",
        ]
    return "\n".join(lines)


def build_forward(
    raw: bytes, ctx: ClientContext, settings: Settings, message_id: str, *, when: datetime
) -> ForwardMessage:
    """The forward to the partner. Pure: the same inputs give the same bytes."""
    if not ctx.partner_email:
        raise ComposeError("the issue has no partner address to forward the reply to")
    too_many = header_problem(shape(raw))
    if too_many:  # judged before the limit existed: never forwarded either
        raise ComposeError(too_many)
    original = _readable(raw)
    firm_name, firm_addr = parseaddr(settings.from_)
    firm_addr = check_address(firm_addr)
    partner_addr = check_address(ctx.partner_email)
    who = ctx.client_name or ctx.client_email or "A reader"
    display = clean_header_text(f"{who} via {ctx.newsletter}")

    # From, To and Reply-To are written by mailer/headers.py, folded there and checked to name
    # exactly one mailbox each, not left to the email package's folding (see `_serialise`).
    addresses = mailbox_header("From", display, firm_addr) + mailbox_header(
        "To", ctx.partner_name, partner_addr
    )
    if ctx.client_email:
        addresses += mailbox_header("Reply-To", ctx.client_name, ctx.client_email)
    fwd = EmailMessage(policy=email.policy.SMTP)
    subject = unstructured(header(original, "Subject"), limit=400)
    fwd["Subject"] = subject or f"Reply to {ctx.newsletter}: {ctx.issue_title}".strip()
    fwd["Date"] = format_datetime(when)
    fwd["Message-ID"] = message_id
    client_mid = clean_header_text(header(original, "Message-ID"), limit=900)
    # An id holding "=?" would be decoded once more by the email package, whose CR LF would
    # start a header line (CVE-2024-6923); no real Message-ID holds one.
    if (
        client_mid.startswith("<")
        and client_mid.endswith(">")
        and " " not in client_mid
        and "=?" not in client_mid
    ):
        fwd["In-Reply-To"] = client_mid
        fwd["References"] = client_mid
    fwd["Auto-Submitted"] = "auto-forwarded"
    fwd[LOOP_HEADER] = settings.mail_domain
    fwd["X-Mailer-Inquiry"] = message_id.strip("<>").split("@")[0]
    text = reply_text(body_text(original)) or "(the message has no text; see the attachment)"
    body = f"{context_block(ctx)}\n\n{'-' * 60}\n\n{text}\n"
    if len(raw) > MAX_FORWARDED_BYTES:
        fwd.set_content(f"{body}\n{left_out(raw, original)}\n")
        data = _serialise(fwd, message_id, addresses)
        return ForwardMessage(
            envelope_from=firm_addr, recipients=(partner_addr,), data=data, message_id=message_id
        )
    fwd.set_content(body)
    try:
        attached = parse_in_pieces(raw, email.policy.SMTP)
        fwd.add_attachment(attached, filename="original-message.eml")
        data = _serialise(fwd, message_id, addresses)
    except (ValueError, TypeError, LookupError, RecursionError, email.errors.MessageError):
        # Headers the standard library refuses to re-serialise (e.g. an encoded word decoding
        # to CR LF), or messages nested in messages deeper than it can write out again (it
        # reads a few hundred levels, then fails with RecursionError writing them): attach the
        # bytes unparsed instead, so the partner still gets the original.
        fwd.clear_content()
        fwd.set_content(body)
        fwd.add_attachment(raw, "application", "octet-stream", filename="original-message.eml")
        data = _serialise(fwd, message_id, addresses)
    return ForwardMessage(
        envelope_from=firm_addr, recipients=(partner_addr,), data=data, message_id=message_id
    )


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"


def left_out(raw: bytes, original: EmailMessage, most: int = 20) -> str:
    """What the forward of a message over MAX_FORWARDED_BYTES says in place of the original:
    its size, the limit, the attachments left out (`most` of them named, with their sizes), and
    that the whole message is kept for the admin."""
    found = attachments(original)
    named = [
        f"{attachment_name(part, index)} ({_mib(len(attachment_bytes(part) or b''))})"
        for index, part in enumerate(found[:most])
    ]
    if len(found) > most:
        named.append(f"and {len(found) - most} more")
    files = f" ({', '.join(named)})" if named else ""
    return (
        f"The reader's message is {_mib(len(raw))}, more than the "
        f"{MAX_FORWARDED_BYTES // 1024 // 1024} MiB a forward carries: the original and its "
        f"attachments{files} were left out. The whole message is kept on this inquiry's page "
        "for the admin."
    )


def describe_error(exc: BaseException) -> str:
    """An error as an admin reads it: what a RecursionError means here, else its repr."""
    if isinstance(exc, RecursionError):
        return f"the message is nested too deeply to process ({exc!r})"
    return repr(exc)


def _readable(raw: bytes) -> EmailMessage:
    """The client's message parsed, or, when it cannot be read safely (nested too deeply), its
    headers alone: the forward then says the text is in the attachment, which is `raw`."""
    try:
        return parse_safely(raw)
    except UnreadableMessage:
        head = read_head(raw)
        assert isinstance(head, EmailMessage)
        del head["Content-Type"], head["Content-Transfer-Encoding"]
        head.set_payload("")
        return head


def _serialise(fwd: EmailMessage, message_id: str, addresses: str) -> bytes:
    # A boundary from the Message-ID, not a random one: a retried forward is byte-identical.
    fwd.set_boundary("=_fwd_" + hashlib.sha256(message_id.encode()).hexdigest()[:24])
    return addresses.encode("ascii") + fwd.as_bytes(policy=email.policy.SMTP)


def record_inquiry(session: Session, inbound: InboundMessage, settings: Settings) -> Inquiry:
    """The Inquiry for this inbound message, created once (a concurrent second insert fails on
    the unique key and the existing row is returned). Commits."""
    existing = session.scalar(select(Inquiry).where(Inquiry.inbound_message_id == inbound.id))
    if existing is not None:
        return existing
    ctx = client_context(session, inbound, settings)
    delivery = session.get(Delivery, inbound.delivery_id) if inbound.delivery_id else None
    issue = session.get(Issue, delivery.issue_id) if delivery else None
    inquiry = Inquiry(
        inbound_message_id=inbound.id,
        subscriber_id=inbound.subscriber_id,
        delivery_id=inbound.delivery_id,
        campaign_id=ctx.campaign_id,
        issue_id=issue.id if issue else None,
        partner_id=issue.partner_id if issue else None,
        client_email=ctx.client_email[:320],
        client_name=ctx.client_name[:200],
        subject=inbound.subject,
        # Unique until the row has its id, in the same transaction: nobody sees this value.
        forward_message_id=f"<pending.{inbound.id}@{settings.mail_domain}>",
    )
    session.add(inquiry)
    try:
        session.flush()
        inquiry.forward_message_id = forward_message_id(inquiry.id, settings)
        session.commit()
    except IntegrityError:
        session.rollback()
        found = session.scalar(select(Inquiry).where(Inquiry.inbound_message_id == inbound.id))
        assert found is not None
        return found
    return inquiry


def is_held(inquiry: Inquiry) -> bool:
    """Whether the inquiry was kept from the partner by the per-delivery limit."""
    return inquiry.status == InquiryStatus.FAILED and inquiry.last_reply.startswith(HELD_FOR_LIMIT)


# What an inquiry's forwarding state is called wherever it is shown (admin, CLI).
STATUS_WORDS = {
    InquiryStatus.PENDING: "new",
    InquiryStatus.SENT: "forwarded",
    InquiryStatus.DEFERRED: "deferred (retrying)",
    InquiryStatus.FAILED: "failed",
}


def status_word(inquiry: Inquiry) -> str:
    """The one word for an inquiry's state that the admin and `mailer inquiries list` both show
    (the CLI said "sent" where the admin said "forwarded")."""
    if inquiry.closed_at is not None:
        return "closed"
    return "held (limit)" if is_held(inquiry) else STATUS_WORDS[inquiry.status]


def hold_over_limit(session: Session, inquiry: Inquiry) -> bool:
    """Hold a new inquiry back when MAX_FORWARDS_PER_DELIVERY_PER_DAY inquiries before it (by id:
    the same answer in whichever order runs finish) to the same delivery, in the day before it,
    were forwarded or are on their way. True when held (recorded, never forwarded). Commits."""
    if inquiry.delivery_id is None or inquiry.status != InquiryStatus.PENDING:
        return False
    if inquiry.attempts:  # already tried once: it was under the limit then
        return False
    earlier = session.scalar(
        select(func.count())
        .select_from(Inquiry)
        .where(
            Inquiry.delivery_id == inquiry.delivery_id,
            Inquiry.id < inquiry.id,
            Inquiry.created_at >= inquiry.created_at - timedelta(days=1),
            Inquiry.status.in_((InquiryStatus.PENDING, InquiryStatus.SENT, InquiryStatus.DEFERRED)),
        )
    )
    if int(earlier or 0) < MAX_FORWARDS_PER_DELIVERY_PER_DAY:
        return False
    inquiry.status = InquiryStatus.FAILED
    inquiry.last_reply = (
        f"{HELD_FOR_LIMIT} {MAX_FORWARDS_PER_DELIVERY_PER_DAY} forwards per reader's reply "
        "address per day; kept here for an admin"
    )
    session.commit()
    return True


def claim(session: Session, inquiry_id: int, settings: Settings) -> bool:
    """Take the inquiry for sending: True for exactly one caller while it is unsent. Commits."""
    now = utcnow()
    stale = now - timedelta(seconds=settings.visibility_timeout)
    result = session.execute(
        update(Inquiry)
        .where(
            Inquiry.id == inquiry_id,
            Inquiry.status.in_((InquiryStatus.PENDING, InquiryStatus.DEFERRED)),
            or_(Inquiry.claimed_at.is_(None), Inquiry.claimed_at < stale),
        )
        .values(claimed_at=now, attempts=Inquiry.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(rowcount(result))


def forward(
    session: Session,
    inquiry: Inquiry,
    inbound: InboundMessage,
    settings: Settings,
    transport: Transport,
) -> Reply | None:
    """Send the forward if this caller wins the claim; None when someone else has it or had it.

    Records the relay's answer on the inquiry (sent, deferred with the claim released, or
    failed) and commits.
    """
    if not claim(session, inquiry.id, settings):
        return None
    session.refresh(inquiry)
    ctx = client_context(session, inbound, settings)
    try:
        message = build_forward(
            inbound.raw, ctx, settings, inquiry.forward_message_id, when=inbound.received_at
        )
    except ComposeError as exc:
        inquiry.status = InquiryStatus.FAILED
        inquiry.last_reply = f"cannot forward: {exc}"
        inquiry.claimed_at = None
        session.commit()
        return Reply(554, str(exc))
    except Exception as exc:
        # Not a refusal but a crash: release the claim, so the next run (process.py bounds
        # their number) can try again at once, and say what happened meanwhile.
        session.rollback()
        inquiry.last_reply = f"building the forward failed: {describe_error(exc)}"[:2000]
        inquiry.claimed_at = None
        session.commit()
        raise
    reply = transport.send(message)[message.recipients[0]]
    inquiry.last_reply = str(reply)[:2000]
    if reply.accepted:
        inquiry.status = InquiryStatus.SENT
        inquiry.forwarded_at = utcnow()
    elif reply.permanent:
        inquiry.status = InquiryStatus.FAILED
    else:
        inquiry.status = InquiryStatus.DEFERRED
        inquiry.claimed_at = None
    session.commit()
    return reply


@dataclass(frozen=True)
class InquiryRow:
    id: int
    received_at: datetime
    partner: str
    client: str
    subject: str
    issue: str
    status: str


def list_inquiries(session: Session, partner: str | None = None) -> list[InquiryRow]:
    """Inquiries newest first, optionally only one partner's (by slug or email)."""
    query = (
        select(Inquiry, Partner.slug, Issue.slug)
        .outerjoin(Partner, Partner.id == Inquiry.partner_id)
        .outerjoin(Issue, Issue.id == Inquiry.issue_id)
        .order_by(Inquiry.created_at.desc(), Inquiry.id.desc())
    )
    if partner is not None:
        from mailer.content.partners import get_partner

        query = query.where(Inquiry.partner_id == get_partner(session, partner).id)
    return [
        InquiryRow(
            id=inq.id,
            received_at=inq.created_at,
            partner=pslug or "-",
            client=f"{inq.client_name} <{inq.client_email}>"
            if inq.client_name
            else inq.client_email,
            subject=inq.subject,
            issue=islug or "-",
            status=status_word(inq),
        )
        for inq, pslug, islug in session.execute(query).all()
    ]


def describe_inquiries(session: Session, subscriber_id: int) -> list[str]:
    """One line per inquiry, newest first (for `mailer subscribers show` and export-data)."""
    rows = session.execute(
        select(Inquiry, Issue.slug)
        .outerjoin(Issue, Issue.id == Inquiry.issue_id)
        .where(Inquiry.subscriber_id == subscriber_id)
        .order_by(Inquiry.created_at.desc(), Inquiry.id.desc())
    ).all()
    return [
        f"{inq.created_at:%Y-%m-%d %H:%M} {status_word(inq)} re {islug or '-'}: {inq.subject!r}"
        for inq, islug in rows
    ]


def counts_for_campaign(session: Session, campaign_id: int) -> dict[str, int]:
    rows = session.scalars(select(Inquiry.status).where(Inquiry.campaign_id == campaign_id)).all()
    return {"total": len(rows), "sent": sum(1 for s in rows if s == InquiryStatus.SENT)}
