"""Client inquiries in the admin area: replies forwarded (or waiting) to the partners."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.content.models import Issue, Partner
from mailer.inbound.models import Inquiry, InquiryStatus
from mailer.web.admin.forms import DB, Admin, protected_router, render

router = protected_router()


def recent_inquiries(session: Session, limit: int, *, waiting_only: bool = False) -> list[Any]:
    inquiry = Inquiry
    query = select(inquiry).order_by(inquiry.created_at.desc(), inquiry.id.desc()).limit(limit)
    if waiting_only:
        query = query.where(inquiry.status != InquiryStatus.SENT)
    return list(session.scalars(query))


@router.get("/inquiries")
def inquiries_page(request: Request, session: DB, admin: Admin) -> Response:
    rows = recent_inquiries(session, 200)
    partners = {p.id: p for p in session.scalars(select(Partner))}
    issues = {i.id: i for i in session.scalars(select(Issue))}
    return render(
        request,
        "inquiries.html.j2",
        {"title": "Inquiries", "rows": rows, "partners": partners, "issues": issues},
        admin=admin,
        active="inquiries",
    )
