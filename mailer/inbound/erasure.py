"""Erasing one person's inbound mail, bounces and inquiries (GDPR): run before `forget`."""

from __future__ import annotations

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from mailer.inbound.models import BounceEvent, InboundMessage, Inquiry
from subscribers.addresses import parse_address as parse_email
from subscribers.models import Subscriber


def erase_person(session: Session, email: str) -> int:
    """Delete the inbound mail, bounces and inquiries of one person; how many messages went.

    Run before `subscribers.gdpr.forget` in the same transaction, while the subscriber row (and
    so the id these rows are keyed on) still exists. Messages they sent from the address are
    found by the envelope sender as well.
    """
    canonical = parse_email(email, allow_smtputf8=True).email  # erasing what is on record
    subscriber_id = session.scalar(select(Subscriber.id).where(Subscriber.email == canonical))
    mine = [func.lower(InboundMessage.mail_from) == canonical.lower()]
    if subscriber_id is not None:
        mine.append(InboundMessage.subscriber_id == subscriber_id)
    ids = list(session.scalars(select(InboundMessage.id).where(or_(*mine))))
    inquiry_of = [func.lower(Inquiry.client_email) == canonical.lower()]
    if subscriber_id is not None:
        inquiry_of.append(Inquiry.subscriber_id == subscriber_id)
        session.execute(delete(BounceEvent).where(BounceEvent.subscriber_id == subscriber_id))
    ids += [
        i
        for i in session.scalars(select(Inquiry.inbound_message_id).where(or_(*inquiry_of)))
        if i not in ids
    ]
    if ids:
        session.execute(delete(BounceEvent).where(BounceEvent.inbound_message_id.in_(ids)))
        session.execute(delete(Inquiry).where(Inquiry.inbound_message_id.in_(ids)))
        session.execute(delete(InboundMessage).where(InboundMessage.id.in_(ids)))
    session.flush()
    return len(ids)
