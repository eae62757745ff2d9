"""The suppression list in the admin area: search it, add an address with a reason, lift an
entry with a reason, and read the history (subscribers/suppression.py keeps every change in
`suppression_event`, which outlives a lifted entry)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Query, Request, Response

from mailer.settings import get_settings
from mailer.web.admin.forms import DB, Admin, protected_router, redirect, render
from mailer.web.admin.search import page_numbers
from mailer.web.errors import user_message
from subscribers.errors import InvalidInput, SubscribersError
from subscribers.models import SuppressionReason
from subscribers.suppression import (
    add_suppression,
    history,
    remove_suppression,
    search_suppressions,
)

PAGE_SIZE = 50
# An admin picks one of these; bounce, complaint and erased entries come from the system.
CHOICES = [SuppressionReason.MANUAL, SuppressionReason.UNSUBSCRIBE, SuppressionReason.COMPLAINT]

router = protected_router()


@router.get("/suppressions")
def suppressions_page(
    request: Request,
    session: DB,
    admin: Admin,
    q: Annotated[str, Query(max_length=320)] = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
) -> Response:
    return _page(request, session, admin, q, page_no)


def _page(
    request: Request,
    session: DB,
    admin: Admin,
    q: str = "",
    page_no: int = 1,
    *,
    form: dict[str, str] | None = None,
    error: str = "",
) -> Response:
    """The page; after a refused suppression, with the error and what was typed (it used to
    go to a bare error page, and the note was lost)."""
    total, rows = search_suppressions(session, q, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    return render(
        request,
        "suppressions.html.j2",
        {
            "title": "Suppression list",
            "q": q,
            "rows": rows,
            "total": total,
            "page_no": page_no,
            "pages": pages,
            "numbers": page_numbers(page_no, pages),
            "events": history(session, q, limit=100),
            "choices": [c.value for c in CHOICES],
            "form": form or {},
            "error": error,
        },
        admin=admin,
        active="suppressions",
        status_code=422 if error else 200,
    )


@router.post("/suppressions")
def submit_suppression(
    request: Request,
    session: DB,
    admin: Admin,
    email: Annotated[str, Form(max_length=320)] = "",
    reason: Annotated[str, Form(max_length=32)] = "manual",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Suppress an address (its subscriber, if any, is kept but never mailed)."""
    try:
        if reason not in {c.value for c in CHOICES}:
            raise InvalidInput(f"choose a reason among {', '.join(c.value for c in CHOICES)}")
        if not note.strip():
            raise InvalidInput(
                "say why the address is suppressed (the note is kept in the history)"
            )
        entry, created = add_suppression(
            session,
            email,
            get_settings().secret(),
            SuppressionReason(reason),
            note.strip(),
            actor=admin.email,
        )
        session.commit()
    except SubscribersError as exc:
        session.rollback()
        typed = {"email": email, "reason": reason, "note": note}
        return _page(request, session, admin, form=typed, error=user_message(exc))
    shown = entry.email or "the erased address"
    verb = "suppressed" if created else "was already suppressed; reason updated:"
    target = f"/admin/suppressions?{urlencode({'q': entry.email or ''})}"
    return redirect(target, f"{shown} {verb} ({reason}).")


@router.post("/suppressions/lift")
def lift_suppression(
    session: DB,
    admin: Admin,
    email: Annotated[str, Form(max_length=320)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Lift an entry: the address may be subscribed and mailed again. A reason is required:
    it stays in the history with the admin's address."""
    if not reason.strip():
        raise InvalidInput(
            f"say why {email.strip()} may be mailed again (kept in the history); nothing changed"
        )
    entry = remove_suppression(
        session, email, get_settings().secret(), reason=reason.strip(), actor=admin.email
    )
    session.commit()
    return redirect(
        f"/admin/suppressions?{urlencode({'q': entry.email or ''})}",
        f"Lifted: {entry.email} may be mailed again. The history keeps why.",
    )
