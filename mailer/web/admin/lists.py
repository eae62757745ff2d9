"""Mailing lists in the admin area: the lists, one list's subscribers (search, pages), adding a
subscriber by hand, renaming and describing a list, deleting it (typed confirmation)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mailer.accounts import AdminUser
from mailer.db import get_sessionmaker
from mailer.filenames import file_name
from mailer.headers import content_disposition
from mailer.sending import lists as sending_lists
from mailer.settings import get_settings
from mailer.web import keyset, queries
from mailer.web.admin.forms import DB, Admin, protected_router, redirect, render, split_tags
from mailer.web.errors import user_message
from subscribers.errors import InvalidInput, SubscribersError
from subscribers.exporting import iter_csv
from subscribers.lifecycle import add_subscriber, refuse_control_characters
from subscribers.lists import (
    NAME_MAX,
    create_list,
    edit_list,
    get_list,
    list_lists,
    mailable,
)
from subscribers.models import MailingList, Subscriber, Subscription, SubscriptionStatus
from subscribers.search import list_status_choices
from subscribers.text import sentence

PAGE_SIZE = 50
# How much of a list name the forms read: more than the rule allows (`validate_name`), so that
# a long name gets the rule's message, which says how long it may be, not a bare 422.
NAME_READ = 4 * NAME_MAX

router = protected_router()


@router.get("/lists")
def lists_page(request: Request, session: DB, admin: Admin) -> Response:
    return render(
        request,
        "lists.html.j2",
        {"title": "Lists", "lists": list_lists(session), "form": {}},
        admin=admin,
        active="lists",
    )


@router.post("/lists")
def submit_new_list(
    request: Request,
    session: DB,
    admin: Admin,
    slug: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=NAME_READ)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
    private: Annotated[bool, Form()] = False,
) -> Response:
    try:
        mlist = create_list(session, slug.strip(), name, description.strip(), private=private)
        session.commit()
    except SubscribersError as exc:
        session.rollback()
        return render(
            request,
            "lists.html.j2",
            {
                "title": "Lists",
                "lists": list_lists(session),
                "form": {
                    "slug": slug,
                    "name": name,
                    "description": description,
                    "private": private,
                },
                "error": user_message(exc),
            },
            admin=admin,
            active="lists",
            status_code=422,
        )
    kind = "Private list" if mlist.private else "List"
    return redirect(f"/admin/lists/{mlist.slug}", f"{kind} {mlist.slug} created.")


def list_or_404(session: Session, slug: str) -> MailingList:
    return get_list(session, slug)


def render_list_page(
    request: Request,
    session: Session,
    admin: AdminUser,
    mlist: MailingList,
    *,
    q: str = "",
    status: str = "",
    position: keyset.Position | None = None,
    form: dict[str, str] | None = None,
    error: str | None = None,
    report: Any = None,
    status_code: int = 200,
) -> Response:
    query = queries.subscriber_query(mlist.id, q, status or None)
    found = keyset.page(
        session,
        query.options(selectinload(Subscriber.tag_rows)),
        [Subscriber.email, Subscriber.id],
        position or keyset.Position(),
        limit=PAGE_SIZE,
        key_of=lambda row: (row[0].email, row[0].id),
    )
    counts = status_totals(session, mlist)
    everyone = queries.Total(
        sum(t.n for t in counts.values()),
        exact=all(t.exact for t in counts.values()),
        estimate=any(t.estimate for t in counts.values()),
    )
    if q.strip():
        total = queries.subscriber_total(query, session, text=True, exact=False)
    else:
        if not status:
            total = everyone
        elif status in counts:
            total = counts[status]
        else:  # bounced, complained: the person's status, not counted by the list's index
            total = queries.estimated_total(session, query.with_only_columns(Subscriber.id))
    return render(
        request,
        "list.html.j2",
        {
            "title": mlist.name,
            "mlist": mlist,
            "summary": counts,
            "mailable": mailable_total(session, mlist),
            "subscriptions": everyone,
            "rows": queries.subscriber_rows(found.rows),
            "found": found,
            "total": total,
            "q": q,
            "status": status,
            "base": urlencode({k: v for k, v in (("q", q), ("status", status)) if v}),
            "form": form or {},
            "error": error,
            "report": report,
            "statuses": list_status_choices(),
            "campaigns": sending_lists.campaigns_of(session, mlist.id),
            "subscribe_url": f"{get_settings().public_url}/subscribe/{mlist.slug}",
        },
        admin=admin,
        active="lists",
        status_code=status_code,
    )


@router.get("/lists/{slug}")
def list_page(
    request: Request,
    slug: str,
    session: DB,
    admin: Admin,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    after: Annotated[str, Query(max_length=2000)] = "",
    before: Annotated[str, Query(max_length=2000)] = "",
    page: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """A list's subscribers by address, a page at a time by keyset (`after=`/`before=` a row's
    encoded address and id, `page=last`)."""
    mlist = list_or_404(session, slug)
    if status not in list_status_choices():
        status = ""
    position = keyset.Position.of(after, before, page, 2)
    return render_list_page(request, session, admin, mlist, q=q, status=status, position=position)


@router.post("/lists/{slug}/subscribers")
def submit_new_subscriber(
    request: Request,
    slug: str,
    session: DB,
    admin: Admin,
    email: Annotated[str, Form(max_length=320)] = "",
    name: Annotated[str, Form(max_length=400)] = "",
    company: Annotated[str, Form(max_length=400)] = "",
    language: Annotated[str, Form(max_length=20)] = "",
    tags: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    mlist = list_or_404(session, slug)
    try:
        refuse_control_characters(name, "name", "name")
        refuse_control_characters(company, "company", "company")
        result = add_subscriber(
            session,
            mlist,
            email,
            get_settings().secret(),
            name=name,
            company=company,
            language=language or None,
            tags=split_tags(tags),
            consent_method="admin",
            consent_source=f"admin: {admin.email}",
        )
        session.commit()
    except SubscribersError as exc:
        session.rollback()
        form = {"email": email, "name": name, "company": company, "language": language}
        form["tags"] = tags
        return render_list_page(
            request, session, admin, mlist, form=form, error=user_message(exc), status_code=422
        )
    what = "added to" if result.created else "already on"
    return redirect(f"/admin/lists/{mlist.slug}", f"{result.subscriber.email} {what} the list.")


@router.get("/lists/{slug}/export.csv")
def export_list(slug: str, session: DB, admin: Admin) -> Response:
    """The list as CSV, like `mailer subscribers export`: spreadsheet-safe (a name typed into the
    subscribe form as `=HYPERLINK(…)` is not run when the file is opened). Streamed from a
    session of its own, which lives as long as the download."""
    list_id, list_slug = (mlist := list_or_404(session, slug)).id, mlist.slug

    def lines() -> Iterator[str]:
        with get_sessionmaker()() as own:
            yield from iter_csv(own, own.get_one(MailingList, list_id))

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": content_disposition(
                file_name(f"{list_slug}-subscribers.csv", "subscribers.csv")
            ),
            "Cache-Control": "no-store",
        },
    )


def status_totals(session: Session, mlist: MailingList) -> dict[str, queries.Total]:
    """The list's subscriptions by status value, each exact up to 10,000 and beyond that
    PostgreSQL's estimate ("about N"): each reads at most 10,001 entries of the (list_id,
    status) index, where an exact count of a million-subscriber list read the million."""
    return {
        s.value: queries.estimated_total(
            session,
            select(Subscription.id).where(
                Subscription.list_id == mlist.id, Subscription.status == s
            ),
        )
        for s in SubscriptionStatus
    }


def mailable_total(session: Session, mlist: MailingList) -> queries.Total:
    """Whom a send to the whole list reaches (`subscribers.lists.mailable`): its active
    subscriptions less the hard-bounced, complained and suppressed people who hold one."""
    return queries.estimated_total(
        session,
        select(Subscription.id)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(Subscription.list_id == mlist.id, *mailable()),
    )


@router.post("/lists/{slug}/edit")
def submit_list_edit(
    request: Request,
    slug: str,
    session: DB,
    admin: Admin,
    name: Annotated[str, Form(max_length=NAME_READ)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
    private: Annotated[bool, Form()] = False,
    visibility_shown: Annotated[bool, Form()] = False,
) -> Response:
    """Rename, describe, and make public or private. An unticked box sends nothing, so the
    form also sends `visibility_shown`: without it (a page from before the box existed) the
    visibility stays as it is rather than turning a private list public."""
    was_private = list_or_404(session, slug).private
    mlist = edit_list(
        session, slug, name, description, private=private if visibility_shown else None
    )
    session.commit()
    said = sentence(f"List {mlist.slug} renamed to {mlist.name}")
    if mlist.private != was_private:
        said += (
            " It is now private: no public subscribe form, not in the public archive."
            if mlist.private
            else " It is now public: its subscribe form and archive are open."
        )
    return redirect(f"/admin/lists/{mlist.slug}", said)


@router.post("/lists/{slug}/delete")
def submit_list_deletion(
    slug: str,
    session: DB,
    admin: Admin,
    typed: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Delete a list: its subscriptions and saved segments go, the people stay. Refused while
    campaigns refer to it (their figures and archive links need it), and unless the slug is
    typed out."""
    mlist = list_or_404(session, slug)
    if typed.strip() != mlist.slug:
        raise InvalidInput(
            f"to delete, type the list's slug {mlist.slug} in the box; nothing was deleted"
        )
    done = sending_lists.delete_list(session, mlist.slug)
    session.commit()
    return redirect(
        "/admin/lists",
        f"List {done.slug} deleted with its {done.subscriptions} subscriptions and "
        f"{done.segments} segments; the subscribers themselves are kept.",
    )
