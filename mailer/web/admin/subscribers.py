"""One subscriber in the admin area: details, subscriptions and suppression, edits, and
unsubscribing them from a list."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.accounts import AdminUser
from mailer.settings import get_settings
from mailer.web.admin.forms import DB, Admin, protected_router, redirect, render, split_tags
from subscribers.errors import NotFound as SubscribersNotFound
from subscribers.errors import SubscribersError
from subscribers.languages import parse_language
from subscribers.lifecycle import (
    COMPANY_MAX,
    NAME_MAX,
    clean_tags,
    clean_text,
    describe_subscriptions,
    unsubscribe,
)
from subscribers.lists import get_list
from subscribers.models import Subscriber, Subscription
from subscribers.suppression import get_suppression

router = protected_router()


def _subscriber_or_404(session: Session, subscriber_id: int) -> Subscriber:
    sub = session.get(Subscriber, subscriber_id)
    if sub is None or sub.email is None:
        raise SubscribersNotFound(f"no subscriber {subscriber_id} (erased or never existed)")
    return sub


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
    return render(
        request,
        "subscriber.html.j2",
        {
            "title": sub.email,
            "sub": sub,
            "subscriptions": describe_subscriptions(session, sub),
            "suppression": suppression,
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
        active="lists",
        status_code=status_code,
    )


@router.get("/subscribers/{subscriber_id}")
def subscriber_page(
    request: Request,
    subscriber_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: DB,
    admin: Admin,
) -> Response:
    return _subscriber_page(request, session, admin, _subscriber_or_404(session, subscriber_id))


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
    sub = _subscriber_or_404(session, subscriber_id)
    try:
        sub.name = clean_text(name, "name", NAME_MAX)
        sub.company = clean_text(company, "company", COMPANY_MAX)
        sub.language = parse_language(language) if language.strip() else None
        sub.set_tags(clean_tags(split_tags(tags)))
        session.commit()
    except SubscribersError as exc:
        session.rollback()
        form = {"name": name, "company": company, "language": language, "tags": tags}
        return _subscriber_page(
            request, session, admin, sub, error=str(exc), form=form, status_code=422
        )
    return redirect(f"/admin/subscribers/{sub.id}", "Changes saved.")


@router.post("/subscribers/{subscriber_id}/unsubscribe")
def unsubscribe_(
    subscriber_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: DB,
    admin: Admin,
    list_slug: Annotated[str, Form(alias="list", max_length=64)] = "",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    sub = _subscriber_or_404(session, subscriber_id)
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
