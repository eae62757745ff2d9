"""One subscriber in the admin area: everything `mailer subscribers show` prints (details,
subscriptions, suppression, bounces, inquiries) plus their deliveries; edits, unsubscribing them
from a list, and GDPR erasure with a typed confirmation (the JSON export is in exports.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Form, Path, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.accounts import AdminUser
from mailer.content.models import Issue
from mailer.engagement.erasure import erase_mailer_rows
from mailer.inbound.complaints import describe_complaints
from mailer.inbound.models import BounceEvent, Inquiry
from mailer.sending.models import Delivery
from mailer.settings import get_settings
from mailer.web.admin import engagement
from mailer.web.admin.forms import DB, Admin, protected_router, redirect, render, split_tags
from mailer.web.errors import user_message
from subscribers.errors import InvalidInput, SubscribersError
from subscribers.errors import NotFound as SubscribersNotFound
from subscribers.gdpr import forget
from subscribers.languages import parse_language
from subscribers.lifecycle import (
    COMPANY_MAX,
    NAME_MAX,
    clean_tags,
    clean_text,
    describe_subscriber,
    describe_subscriptions,
    refuse_control_characters,
    unsubscribe,
)
from subscribers.lists import get_list
from subscribers.models import Subscriber, Subscription
from subscribers.suppression import get_suppression

router = protected_router()


def subscriber_or_404(session: Session, subscriber_id: int) -> Subscriber:
    sub = session.get(Subscriber, subscriber_id)
    if sub is None or sub.email is None:
        raise SubscribersNotFound(f"no subscriber {subscriber_id} (erased or never existed)")
    return sub


@dataclass(frozen=True)
class DeliveryRow:
    campaign_id: int
    issue: str
    status: str
    attempts: int
    sent_at: datetime | None
    last_reply: str


def deliveries_of(session: Session, subscriber_id: int, limit: int = 50) -> list[DeliveryRow]:
    """The person's latest deliveries, newest campaign first."""
    rows = session.execute(
        select(Delivery, Issue.slug)
        .join(Issue, Issue.id == Delivery.issue_id)
        .where(Delivery.subscriber_id == subscriber_id)
        .order_by(Delivery.campaign_id.desc())
        .limit(limit)
    ).all()
    return [
        DeliveryRow(d.campaign_id, slug, d.status.value, d.attempts, d.sent_at, d.last_reply or "")
        for d, slug in rows
    ]


def _subscriber_page(
    request: Request,
    session: Session,
    admin: AdminUser,
    sub: Subscriber,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    suppression = get_suppression(session, sub.email or "", get_settings().secret())
    bounces = session.scalars(
        select(BounceEvent)
        .where(BounceEvent.subscriber_id == sub.id)
        .order_by(BounceEvent.created_at.desc(), BounceEvent.id.desc())
        .limit(100)
    ).all()
    inquiries = session.scalars(
        select(Inquiry)
        .where(Inquiry.subscriber_id == sub.id)
        .order_by(Inquiry.created_at.desc(), Inquiry.id.desc())
        .limit(100)
    ).all()
    return render(
        request,
        "subscriber.html.j2",
        {
            "title": sub.email,
            "sub": sub,
            "subscriptions": describe_subscriptions(session, sub),
            "suppression": suppression,
            "person": describe_subscriber(sub),
            "complaints": describe_complaints(session, sub.id),
            "deliveries": deliveries_of(session, sub.id),
            "bounces": bounces,
            "inquiries": inquiries,
            **engagement.subscriber_context(session, sub.id),
            "form": form
            or {
                "name": sub.name,
                "company": sub.company,
                "language": sub.language or "",
                "tags": ", ".join(sub.tags),
            },
            "error": error,
        },
        admin=admin,
        active="subscribers",
        status_code=status_code,
    )


@router.get("/subscribers/{subscriber_id}")
def subscriber_page(
    request: Request,
    subscriber_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: DB,
    admin: Admin,
) -> Response:
    return _subscriber_page(request, session, admin, subscriber_or_404(session, subscriber_id))


@router.post("/subscribers/{subscriber_id}")
def edit_subscriber(
    request: Request,
    subscriber_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: DB,
    admin: Admin,
    name: Annotated[str, Form(max_length=400)] = "",
    company: Annotated[str, Form(max_length=400)] = "",
    language: Annotated[str, Form(max_length=20)] = "",
    tags: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    sub = subscriber_or_404(session, subscriber_id)
    try:
        refuse_control_characters(name, "name", "name")
        refuse_control_characters(company, "company", "company")
        sub.name = clean_text(name, "name", NAME_MAX)
        sub.company = clean_text(company, "company", COMPANY_MAX)
        sub.language = parse_language(language) if language.strip() else None
        sub.set_tags(clean_tags(split_tags(tags)))
        session.commit()
    except SubscribersError as exc:
        session.rollback()
        form = {"name": name, "company": company, "language": language, "tags": tags}
        return _subscriber_page(
            request, session, admin, sub, error=user_message(exc), form=form, status_code=422
        )
    return redirect(f"/admin/subscribers/{sub.id}", "Changes saved.")


@router.post("/subscribers/{subscriber_id}/unsubscribe")
def submit_unsubscribe(
    subscriber_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: DB,
    admin: Admin,
    list_slug: Annotated[str, Form(alias="list", max_length=64)] = "",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    sub = subscriber_or_404(session, subscriber_id)
    mlist = get_list(session, list_slug)
    subscription = session.scalar(
        select(Subscription).where(
            Subscription.subscriber_id == sub.id, Subscription.list_id == mlist.id
        )
    )
    if subscription is None:
        raise SubscribersNotFound(f"{sub.email} is not on list {mlist.slug}")
    unsubscribe(session, subscription, f"removed by an admin ({admin.email})")
    session.commit()
    target = back if back.startswith("/admin/") and not back.startswith("//") else ""
    return redirect(
        target or f"/admin/subscribers/{sub.id}", f"{sub.email} unsubscribed from {mlist.slug}."
    )


@router.post("/subscribers/{subscriber_id}/forget")
def submit_erasure(
    subscriber_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: DB,
    admin: Admin,
    typed: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    """GDPR erasure (art. 17), as `mailer subscribers forget`: the mailer's rows about the person
    first (inbound mail, bounces, inquiries), then the subscriber; only a keyed hash of the
    address stays, on the suppression list. The address must be typed out to confirm."""
    sub = subscriber_or_404(session, subscriber_id)
    email = sub.email or ""
    if typed.strip().lower() != email.lower():
        raise InvalidInput(
            f"to erase, type the address {email} exactly in the confirmation box; nothing was "
            "erased"
        )
    erase_mailer_rows(session, email)
    forget(session, email, get_settings().secret())
    session.commit()
    return redirect(
        "/admin/subscribers",
        f"Subscriber {subscriber_id} erased: only a keyed hash of the address is kept, on the "
        "suppression list.",
    )
