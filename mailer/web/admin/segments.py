"""Segments of a list in the admin area, with the live count behind the expression editor:
saving one, changing a saved one's expression, deleting one (a confirmed POST)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from mailer.accounts import AdminUser
from mailer.sending import campaigns
from mailer.web import queries
from mailer.web.admin.forms import DB, Admin, protected_router, redirect, render
from mailer.web.admin.lists import list_or_404
from mailer.web.errors import user_message
from subscribers import segments
from subscribers.errors import SegmentSyntaxError, SubscribersError
from subscribers.models import MailingList
from subscribers.text import counted

router = protected_router()


def _segments_page(
    request: Request,
    session: Session,
    admin: AdminUser,
    mlist: MailingList,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    edit_error: str | None = None,
    status_code: int = 200,
) -> Response:
    rows = queries.segment_rows(session, mlist.id)
    return render(
        request,
        "segments.html.j2",
        {
            "title": f"Segments of {mlist.slug}",
            "mlist": mlist,
            "segments": rows,
            "used": queries.using_segments(session, (seg.id for seg, _n, _e in rows)),
            "everyone": segments.count(session, mlist.id, None),
            "form": form or {},
            "error": error,
            "edit_error": edit_error,
        },
        admin=admin,
        active="lists",
        status_code=status_code,
    )


@router.get("/lists/{slug}/segments")
def segments_page(request: Request, slug: str, session: DB, admin: Admin) -> Response:
    return _segments_page(request, session, admin, list_or_404(session, slug))


@router.post("/lists/{slug}/segments")
def submit_new_segment(
    request: Request,
    slug: str,
    session: DB,
    admin: Admin,
    segment_slug: Annotated[str, Form(alias="slug", max_length=64)] = "",
    expression: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    mlist = list_or_404(session, slug)
    try:
        seg = segments.create_segment(session, mlist.id, segment_slug.strip(), expression)
        n = segments.count(session, mlist.id, seg.expression)
        session.commit()
    except SubscribersError as exc:
        session.rollback()
        return _segments_page(
            request,
            session,
            admin,
            mlist,
            form={"slug": segment_slug, "expression": expression},
            error=user_message(exc),
            status_code=422,
        )
    return redirect(
        f"/admin/lists/{mlist.slug}/segments",
        f"Segment {seg.slug} saved: {counted(n, 'recipient')} now.",
    )


@router.get("/lists/{slug}/segments/count")
def count_segment(
    slug: str,
    session: DB,
    admin: Admin,
    expression: Annotated[str, Query(max_length=2000)] = "",
) -> JSONResponse:
    """The live count behind the segment editor: {"count": n} or {"error": caret message}."""
    mlist = list_or_404(session, slug)
    text = expression.strip() or None
    try:
        n = segments.count(session, mlist.id, text)
    except SegmentSyntaxError as exc:
        return JSONResponse({"error": user_message(exc), "column": exc.column}, status_code=422)
    except SubscribersError as exc:
        return JSONResponse({"error": user_message(exc)}, status_code=422)
    return JSONResponse({"count": n, "expression": text})


@router.post("/lists/{slug}/segments/{segment_slug}/edit")
def submit_segment_edit(
    request: Request,
    slug: str,
    segment_slug: str,
    session: DB,
    admin: Admin,
    expression: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A new expression for a saved segment, checked as on create; the slug stays. Campaigns
    already created keep the expression they were created with."""
    mlist = list_or_404(session, slug)
    seg = segments.get_segment(session, mlist.id, segment_slug)  # unknown: 404
    try:
        segments.update_segment(session, mlist.id, seg.slug, expression)
        n = segments.count(session, mlist.id, seg.expression)
        note = campaigns.segment_campaigns_note(
            campaigns.using_segment(session, seg.id), deleted=False
        )
        session.commit()
    except SubscribersError as exc:
        session.rollback()
        return _segments_page(
            request,
            session,
            admin,
            mlist,
            form={"edit": seg.slug, "edit_expression": expression},
            edit_error=user_message(exc),
            status_code=422,
        )
    said = f"Segment {seg.slug} updated: {counted(n, 'recipient')} now."
    return redirect(f"/admin/lists/{mlist.slug}/segments", said + (f" ({note}.)" if note else ""))


@router.post("/lists/{slug}/segments/{segment_slug}/delete")
def submit_segment_deletion(slug: str, segment_slug: str, session: DB, admin: Admin) -> Response:
    """Delete a saved segment. Nobody is unsubscribed; campaigns sent to it keep the expression
    they were sent with, and their reports show it instead of the slug."""
    mlist = list_or_404(session, slug)
    seg = segments.get_segment(session, mlist.id, segment_slug)  # unknown: 404
    note = campaigns.segment_campaigns_note(campaigns.using_segment(session, seg.id), deleted=True)
    done = segments.delete_segment(session, mlist.id, seg.slug)
    session.commit()
    said = f"Segment {done.slug} deleted; nobody was unsubscribed."
    return redirect(f"/admin/lists/{mlist.slug}/segments", said + (f" ({note}.)" if note else ""))
