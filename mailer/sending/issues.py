"""Issues as sending sees them: which campaigns have sent each one (`mailer issue list`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from mailer.content.models import Issue
from mailer.sending.models import Delivery, DeliveryStatus


@dataclass(frozen=True)
class IssueRow:
    slug: str
    issue_date: date
    title: str
    partner: str
    campaigns_sent: int  # campaigns that sent it to at least one reader


def issue_rows(session: Session) -> list[IssueRow]:
    """Every issue, newest first, with how many campaigns sent it. A campaign counts once it
    has sent one message: one cancelled before it started (or refused by the relay for every
    reader) has not sent the issue, and one cancelled part-way has."""
    sent = dict(
        session.execute(
            select(Delivery.issue_id, func.count(func.distinct(Delivery.campaign_id)))
            .where(Delivery.status == DeliveryStatus.SENT)
            .group_by(Delivery.issue_id)
        ).all()
    )
    issues = session.scalars(
        select(Issue)
        .options(selectinload(Issue.partner))
        .order_by(Issue.issue_date.desc(), Issue.id.desc())
    )
    return [
        IssueRow(i.slug, i.issue_date, i.title, i.partner.name, int(sent.get(i.id, 0)))
        for i in issues
    ]
