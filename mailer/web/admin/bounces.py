"""Bounces in the admin area: the latest bounce events (hard and soft, with their reason), spam
complaints, departure notices (auto-replies, or a reader's own message, saying the reader has left
their firm), mail to the role addresses postmaster@ and abuse@ (what became of it), and inbound
messages that could not be processed (failed, with their error)."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy import select

from mailer.inbound.departures import DEPARTURE_OUTCOME
from mailer.inbound.models import BounceEvent, InboundKind, InboundMessage, InboundStatus
from mailer.inbound.roles import ROLE_ADDRESSES
from mailer.web.admin.forms import DB, Admin, protected_router, render

router = protected_router()


@router.get("/bounces")
def bounces_page(request: Request, session: DB, admin: Admin) -> Response:
    event = BounceEvent
    rows = session.scalars(
        select(event).order_by(event.created_at.desc(), event.id.desc()).limit(200)
    ).all()
    message = InboundMessage
    latest = (message.received_at.desc(), message.id.desc())
    complaints = session.scalars(
        select(message).where(message.kind == InboundKind.COMPLAINT).order_by(*latest).limit(100)
    ).all()
    departures = session.scalars(
        select(message)
        .where(
            message.kind.in_((InboundKind.AUTO_REPLY, InboundKind.INQUIRY)),
            message.outcome.startswith(DEPARTURE_OUTCOME, autoescape=True),
        )
        .order_by(*latest)
        .limit(100)
    ).all()
    roles = session.scalars(
        select(message).where(message.address_kind.in_(ROLE_ADDRESSES)).order_by(*latest).limit(100)
    ).all()
    failed = session.scalars(
        select(message).where(message.status == InboundStatus.FAILED).order_by(*latest).limit(100)
    ).all()
    return render(
        request,
        "bounces.html.j2",
        {
            "title": "Bounces",
            "rows": rows,
            "complaints": complaints,
            "departures": departures,
            "roles": roles,
            "failed": failed,
        },
        admin=admin,
        active="bounces",
    )
