"""Erasing one person's engagement (GDPR): their clicks and opens. Run before `forget`.

`erase_mailer_rows` is what every door that erases a person (`mailer subscribers forget`, the
admin's erasure of one subscriber and its bulk erasure) runs before `forget`: this stage is the
highest below the doors, so it is the one place that sees every kind of row the mailer keeps
about a person.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mailer.engagement.models import Click, Open
from mailer.inbound.erasure import erase_person
from subscribers.addresses import parse_address as parse_email
from subscribers.models import Subscriber


def erase_mailer_rows(session: Session, email: str) -> None:
    """Delete everything the mailer keeps about the person at `email`: inbound mail, bounces and
    inquiries (mailer/inbound/erasure.py), then clicks and opens. Run in the same transaction as
    `subscribers.gdpr.forget`, before it, while the subscriber id these rows are keyed on still
    exists; a new kind of personal row is erased by adding it here."""
    erase_person(session, email)
    erase_engagement(session, email)


def erase_engagement(session: Session, email: str) -> int:
    """Delete the clicks and opens recorded for the address's subscriber; how many rows went.

    Run in the same transaction as `subscribers.gdpr.forget`, while the subscriber row (the id
    these rows are keyed on) still exists."""
    canonical = parse_email(email, allow_smtputf8=True).email
    subscriber_id = session.scalar(select(Subscriber.id).where(Subscriber.email == canonical))
    if subscriber_id is None:
        return 0
    return forget_tracking(session, subscriber_id)


def forget_tracking(session: Session, subscriber_id: int) -> int:
    """Delete what was recorded of the subscriber's clicks and opens (opting out, erasure)."""
    gone = 0
    for table in (Click, Open):
        result = session.execute(
            delete(table)
            .where(table.subscriber_id == subscriber_id)
            .execution_options(synchronize_session=False)
        )
        gone += int(getattr(result, "rowcount", 0) or 0)
    session.flush()
    return gone
