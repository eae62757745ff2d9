"""The admin dashboard: counts, recent campaigns, inquiries waiting for an answer."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy import func, select

from mailer.content.models import Issue
from mailer.sending.models import Campaign, CampaignStatus
from mailer.web import queries
from mailer.web.admin.forms import DB, Admin, protected_router, render
from mailer.web.admin.inquiries import recent_inquiries
from subscribers.lists import mailable
from subscribers.models import MailingList, Subscriber, Subscription

router = protected_router()


@router.get("")
def dashboard(request: Request, session: DB, admin: Admin) -> Response:
    stats = {
        "lists": session.scalar(select(func.count()).select_from(MailingList)) or 0,
        # People a send reaches on at least one list (`subscribers.lists.mailable`: a
        # hard-bounced, complained or suppressed reader keeps an active subscription but was
        # counted here as if mailed): exact up to 10,000, then the planner's "about N"
        # (counting a million distinct people took a second per view).
        "mailable": queries.estimated_total(
            session,
            select(Subscription.subscriber_id)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(*mailable())
            .distinct(),
        ),
        "issues": session.scalar(select(func.count()).select_from(Issue)) or 0,
        "sending": session.scalar(
            select(func.count()).where(Campaign.status == CampaignStatus.SENDING)
        )
        or 0,
    }
    return render(
        request,
        "dashboard.html.j2",
        {
            "title": "Dashboard",
            "stats": stats,
            "campaigns": queries.recent_campaigns(session, 8),
            "inquiries": recent_inquiries(session, 5, waiting_only=True),
            "has_inquiries": True,
        },
        admin=admin,
        active="dashboard",
    )
