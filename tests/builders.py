"""Real data for tests: the firm's fixture issue, a list, and the sample subscribers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.content.issues import import_issue
from mailer.settings import Settings
from subscribers.importing import ImportReport, import_csv
from subscribers.lists import create_list
from subscribers.models import Subscriber, SubscriberStatus, Subscription, SubscriptionStatus
from tests.conftest import BRIEFING, SUBSCRIBERS_CSV

if TYPE_CHECKING:
    from mailer.sending.campaigns import Audience, Cleared


@dataclass(frozen=True)
class Newsroom:
    issue_slug: str
    issue_id: int
    list_slug: str
    list_id: int
    report: ImportReport


def newsroom(session: Session, settings: Settings, list_slug: str = "briefing") -> Newsroom:
    """The fixture issue imported and the sample CSV imported into one list; committed."""
    issue = import_issue(session, BRIEFING)
    mlist = create_list(session, list_slug, "Security Chatter")
    report = import_csv(session, mlist, SUBSCRIBERS_CSV, settings.secret())
    session.commit()
    return Newsroom(issue.slug, issue.id, mlist.slug, mlist.id, report)


def add_subscribers(session: Session, list_id: int, n: int, *, prefix: str = "reader") -> list[str]:
    """`n` more active subscribers on the list, inserted in bulk; returns their addresses."""
    from sqlalchemy import insert

    from subscribers.models import SubscriberTag

    emails = [f"{prefix}{i:06d}@example.net" for i in range(n)]
    session.execute(
        insert(Subscriber),
        [
            {"email": e, "domain": "example.net", "name": f"Reader {i}", "language": "en"}
            for i, e in enumerate(emails)
        ],
    )
    ids = dict(
        session.execute(
            select(Subscriber.email, Subscriber.id).where(Subscriber.email.in_(emails))
        ).all()
    )
    session.execute(
        insert(Subscription), [{"subscriber_id": ids[e], "list_id": list_id} for e in emails]
    )
    session.execute(
        insert(SubscriberTag), [{"subscriber_id": ids[e], "tag": "client"} for e in emails]
    )
    session.commit()
    return emails


def audience(session: Session, list_id: int) -> set[str]:
    """Who should receive a send to the list, read from the subscriber tables by the test's own
    query (not the product's audience code): active subscribers with an active subscription."""
    rows = session.scalars(
        select(Subscriber.email)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(
            Subscription.list_id == list_id,
            Subscription.status == SubscriptionStatus.ACTIVE,
            Subscriber.status == SubscriberStatus.ACTIVE,
        )
    ).all()
    session.commit()
    return {e.lower() for e in rows if e}


def cleared(audience: Audience) -> Cleared:
    """`audience` passed through the doors' check (now, with the current settings), as
    `campaigns.create` takes it."""
    from mailer.sending import campaigns
    from mailer.settings import get_settings

    return campaigns.check(audience, None, get_settings())
