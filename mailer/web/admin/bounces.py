"""Bounces in the admin area: the latest bounce events, hard and soft."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy import select

from mailer.inbound.models import BounceEvent
from mailer.web.admin.forms import DB, Admin, protected_router, render

router = protected_router()


@router.get("/bounces")
def bounces_page(request: Request, session: DB, admin: Admin) -> Response:
    event = BounceEvent
    rows = list(session.scalars(select(event).order_by(event.created_at.desc(), event.id.desc())))[
        :200
    ]
    return render(
        request,
        "bounces.html.j2",
        {"title": "Bounces", "rows": rows},
        admin=admin,
        active="bounces",
    )
