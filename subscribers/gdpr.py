"""GDPR access (everything held about a person, as data) and erasure (keep only a keyed hash).

Erasure deletes the subscriber row, which cascades to its subscriptions and tags, and leaves one
suppression entry holding the HMAC of the address with reason `erased` and no plaintext: a later
import or sign-up of the same address is refused, yet the address is stored nowhere. Tables
outside this package that refer to the person (deliveries, inbound mail, inquiries) are the
mailer's to erase in the same transaction; `forget` returns the subscriber id they key on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from subscribers.addresses import hash_canonical, parse_address
from subscribers.errors import NotFound
from subscribers.lifecycle import describe_subscriber, describe_subscriptions
from subscribers.models import Subscriber, Suppression, SuppressionEvent, SuppressionReason
from subscribers.suppression import describe_suppression


def export_data(session: Session, email: str, secret: str) -> dict[str, Any]:
    """Everything this package holds about the address, JSON-serialisable (GDPR art. 15).

    The mailer adds its own keys (deliveries, inquiries…) before printing.
    """
    canonical = parse_address(email, allow_smtputf8=True).email
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == canonical))
    entry = session.scalar(
        select(Suppression).where(Suppression.address_hash == hash_canonical(canonical, secret))
    )
    if subscriber is None and entry is None:
        raise NotFound(f"no data is held about {canonical}")
    data: dict[str, Any] = {
        "email": canonical,
        "subscriber": None,
        "subscriptions": [],
        "suppression": describe_suppression(entry),
    }
    if subscriber is not None:
        data["subscriber"] = describe_subscriber(subscriber)
        data["subscriptions"] = describe_subscriptions(session, subscriber)
    return data


def forget(session: Session, email: str, secret: str) -> int | None:
    """Erase the person (GDPR art. 17); returns the deleted subscriber's id (None if none).

    Idempotent: forgetting an address that is already erased changes nothing.
    """
    canonical = parse_address(email, allow_smtputf8=True).email
    digest = hash_canonical(canonical, secret)
    subscriber = session.scalar(select(Subscriber).where(Subscriber.email == canonical))
    subscriber_id = subscriber.id if subscriber is not None else None
    if subscriber is not None:
        session.delete(subscriber)  # cascades to subscriptions and tags
    entry = session.scalar(select(Suppression).where(Suppression.address_hash == digest))
    if entry is None:
        session.add(Suppression(address_hash=digest, email=None, reason=SuppressionReason.ERASED))
    else:
        entry.email = None
        entry.reason = SuppressionReason.ERASED
        entry.detail = ""
    # The suppression history keeps no plaintext either.
    session.execute(
        update(SuppressionEvent)
        .where(or_(SuppressionEvent.address_hash == digest, SuppressionEvent.email == canonical))
        .values(email=None, detail="")
        .execution_options(synchronize_session=False)
    )
    # Older entries might hold the plaintext under a hash from a previous secret key.
    for stale in session.scalars(select(Suppression).where(Suppression.email == canonical)):
        stale.email = None
        stale.reason = SuppressionReason.ERASED
        stale.detail = ""
    session.flush()
    return subscriber_id
