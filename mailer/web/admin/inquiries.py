"""Client inquiries in the admin area: replies forwarded (or waiting) to the partners, filtered by
partner; one inquiry with the client's message as they wrote it (their own words first, the
quoted newsletter folded away), its attachments (downloadable), the context block the partner
received above the forward (with its caution, shown at the top too, when answers would not reach
the reader on file: mailer/inbound/senders.py); closing and reopening it. Read from the stored
raw message with mailer/inbound's own readers; nothing here changes how inbound mail is judged
or forwarded.

Status: new (not yet forwarded), forwarded, deferred or failed (the forward's state), held
(limit) (recorded, not forwarded: over the per-delivery daily limit, inquiries.py), closed (an
admin settled it). "Answered" is not shown: the forward's Reply-To is the client, so the
partner's answer goes straight to them and never passes through us."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.content.models import Issue, Partner
from mailer.db import utcnow
from mailer.errors import MailerError
from mailer.headers import content_disposition
from mailer.inbound import message
from mailer.inbound.inquiries import client_context, context_block, status_word
from mailer.inbound.models import InboundMessage, Inquiry, InquiryStatus
from mailer.settings import get_settings
from mailer.web.admin.forms import DB, Admin, protected_router, redirect, render
from subscribers.errors import NotFound
from subscribers.text import sentence

router = protected_router()


def recent_inquiries(
    session: Session, limit: int, *, waiting_only: bool = False, partner_id: int | None = None
) -> list[Any]:
    query = select(Inquiry).order_by(Inquiry.created_at.desc(), Inquiry.id.desc()).limit(limit)
    if waiting_only:
        query = query.where(Inquiry.status != InquiryStatus.SENT)
    if partner_id is not None:
        query = query.where(Inquiry.partner_id == partner_id)
    return list(session.scalars(query))


@router.get("/inquiries")
def inquiries_page(
    request: Request,
    session: DB,
    admin: Admin,
    partner: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    partners = {p.id: p for p in session.scalars(select(Partner).order_by(Partner.name))}
    chosen = next((p for p in partners.values() if p.slug == partner), None)
    rows = recent_inquiries(session, 200, partner_id=chosen.id if chosen else None)
    issues = {i.id: i for i in session.scalars(select(Issue))}
    return render(
        request,
        "inquiries.html.j2",
        {
            "title": "Inquiries",
            "rows": rows,
            "partners": partners,
            "issues": issues,
            "partner": chosen.slug if chosen else "",
            "status_word": status_word,
        },
        admin=admin,
        active="inquiries",
    )


@dataclass(frozen=True)
class Attachment:
    index: int
    filename: str
    content_type: str
    size: int | None  # None: an attached message nested too deeply to rebuild


@dataclass(frozen=True)
class Readable:
    own_words: str  # what the client wrote
    full_text: str  # the whole body, quotes included (shown folded)
    attachments: list[Attachment]  # this page's (ATTACHMENTS_PER_PAGE at most)
    problem: str = ""  # why the message (or its text) cannot be shown, "" when it can
    attachment_total: int = 0
    page: int = 1  # of the attachments
    pages: int = 1

    @property
    def first(self) -> int:
        """The number (from 1) of the first attachment on this page."""
        return (self.page - 1) * ATTACHMENTS_PER_PAGE + 1


# Attachments listed on one page of an inquiry (the message may carry up to
# shape.MAX_MIME_PARTS): each listed one is decoded to give its size, so a long list is paged.
ATTACHMENTS_PER_PAGE = 100


# What the page says of an attached message the standard library reads but cannot write out.
TOO_DEEP = (
    "an attached message nested too deeply (messages within messages) to rebuild; the partner's "
    "forward carries the original as received"
)


def _parts(raw: bytes) -> list[EmailMessage]:
    """A stored message's attachments; UnreadableMessage when it cannot be read safely."""
    return message.attachments(message.parse_safely(raw))


def readable(raw: bytes, page: int = 1) -> Readable:
    """The message as a person reads it: own words, the whole text, the attachments (page `page`
    of them, the last when it is past the end); for one that cannot be read safely (nested too
    deeply, too many parts), what is wrong with it instead."""
    try:
        msg = message.parse_safely(raw)
    except message.UnreadableMessage as exc:
        return Readable("", "", [], sentence(f"The message cannot be read: {exc}"))
    text = message.body_text(msg)
    parts = message.attachments(msg)
    pages = max(1, -(-len(parts) // ATTACHMENTS_PER_PAGE))
    page = min(max(1, page), pages)
    start = (page - 1) * ATTACHMENTS_PER_PAGE
    found = []
    for index, part in enumerate(parts[start : start + ATTACHMENTS_PER_PAGE], start):
        content = message.attachment_bytes(part)
        name = message.attachment_name(part, index)
        size = None if content is None else len(content)
        found.append(Attachment(index, name, part.get_content_type(), size))
    return Readable(
        message.reply_text(text),
        text.replace("\r\n", "\n").strip(),
        found,
        attachment_total=len(parts),
        page=page,
        pages=pages,
    )


def _inquiry(session: Session, inquiry_id: int) -> tuple[Inquiry, InboundMessage]:
    inquiry = session.get(Inquiry, inquiry_id)
    inbound = session.get(InboundMessage, inquiry.inbound_message_id) if inquiry else None
    if inquiry is None or inbound is None:
        raise NotFound(f"no inquiry {inquiry_id} (erased or never received)")
    return inquiry, inbound


@router.get("/inquiries/{inquiry_id}")
def inquiry_page(
    request: Request,
    inquiry_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: DB,
    admin: Admin,
    attachments: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    inquiry, inbound = _inquiry(session, inquiry_id)
    ctx = client_context(session, inbound, get_settings())
    partner = session.get(Partner, inquiry.partner_id) if inquiry.partner_id else None
    issue = session.get(Issue, inquiry.issue_id) if inquiry.issue_id else None
    return render(
        request,
        "inquiry.html.j2",
        {
            "title": inquiry.subject or f"Inquiry {inquiry.id}",
            "q": inquiry,
            "inbound": inbound,
            "body": readable(inbound.raw, attachments),
            "context": context_block(ctx),
            "caution": ctx.caution,
            "partner": partner,
            "issue": issue,
            "status_word": status_word(inquiry),
            "too_deep": TOO_DEEP,
        },
        admin=admin,
        active="inquiries",
    )


@router.get("/inquiries/{inquiry_id}/attachments/{index}")
def attachment(
    inquiry_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    index: Annotated[int, Path(ge=0, le=1000)],
    session: DB,
    admin: Admin,
) -> Response:
    """One attachment as sent, always as a download (never rendered on our origin: a client's
    HTML file must not run as our page)."""
    _inquiry_row, inbound = _inquiry(session, inquiry_id)
    try:
        parts = _parts(inbound.raw)
    except message.UnreadableMessage:
        parts = []  # the page says the message cannot be read, and lists nothing to download
    if index >= len(parts):
        raise NotFound(f"inquiry {inquiry_id} has no attachment {index + 1}")
    part = parts[index]
    content = message.attachment_bytes(part)
    if content is None:
        raise MailerError(f"Attachment {index + 1} of inquiry {inquiry_id} is {TOO_DEEP}.")
    return Response(
        content,
        media_type="application/octet-stream",
        headers={
            # The name the page lists, as a base name (RFC 6266, filename*= when not ASCII).
            "Content-Disposition": content_disposition(message.attachment_name(part, index)),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@router.post("/inquiries/{inquiry_id}/close")
def close_inquiry(
    inquiry_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: DB, admin: Admin
) -> Response:
    """Mark the matter settled (the list then shows it as closed); reopening undoes it."""
    inquiry, _inbound = _inquiry(session, inquiry_id)
    if inquiry.closed_at is None:
        inquiry.closed_at, inquiry.closed_by = utcnow(), admin.email
        session.commit()
    return redirect(f"/admin/inquiries/{inquiry_id}", "Inquiry closed.")


@router.post("/inquiries/{inquiry_id}/reopen")
def reopen_inquiry(
    inquiry_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: DB, admin: Admin
) -> Response:
    inquiry, _inbound = _inquiry(session, inquiry_id)
    inquiry.closed_at, inquiry.closed_by = None, ""
    session.commit()
    return redirect(f"/admin/inquiries/{inquiry_id}", "Inquiry reopened.")
