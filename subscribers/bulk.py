"""Bulk actions on a set of subscribers (a search's `ids()` or a hand-picked selection):
add to a list, remove from a list, tag, untag, unsubscribe everywhere, suppress, forget.

Each action first says how many subscribers it would change (`changing`), which is what the
confirmation page shows, and `apply` changes exactly those: the ids are read once (integers only)
and then written in chunks of set-wise statements, so 10,000 rows take a few statements per
thousand, never one ORM object each. The same rules hold as for one subscriber
(subscribers/lifecycle.py): a suppressed address is never added to a list, an unsubscribed
subscription is never reactivated by an admin, and unsubscribing everywhere also suppresses.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from subscribers.addresses import hash_canonical
from subscribers.db import rowcount, utcnow
from subscribers.errors import InvalidInput
from subscribers.gdpr import forget
from subscribers.lifecycle import clean_tags
from subscribers.models import (
    MailingList,
    Subscriber,
    SubscriberStatus,
    SubscriberTag,
    Subscription,
    SubscriptionStatus,
    Suppression,
    SuppressionEvent,
    SuppressionReason,
)
from subscribers.suppression import one_of

CHUNK = 1000


class BulkAction(enum.StrEnum):
    ADD_TO_LIST = "add-to-list"
    REMOVE_FROM_LIST = "remove-from-list"
    TAG = "tag"
    UNTAG = "untag"
    UNSUBSCRIBE = "unsubscribe"
    SUPPRESS = "suppress"
    FORGET = "forget"


# What each action does, in words for the confirmation ("N subscribers will be …").
DESCRIPTIONS = {
    BulkAction.ADD_TO_LIST: "added to the list (suppressed addresses and people who "
    "unsubscribed from it are left out)",
    BulkAction.REMOVE_FROM_LIST: "unsubscribed from the list (the subscription is kept as "
    "evidence)",
    BulkAction.TAG: "tagged",
    BulkAction.UNTAG: "untagged",
    BulkAction.UNSUBSCRIBE: "unsubscribed from every list and suppressed",
    BulkAction.SUPPRESS: "put on the suppression list (their subscriptions are kept)",
    BulkAction.FORGET: "erased (GDPR): their data is deleted and only a keyed hash of the "
    "address is kept",
}


@dataclass(frozen=True)
class BulkRequest:
    """One action with its argument: `list_id` for the list actions, `tag` for the tag ones."""

    action: BulkAction
    list_id: int | None = None
    tag: str = ""
    reason: str = ""

    def validated(self) -> BulkRequest:
        """InvalidInput naming what is missing (the list or the tag)."""
        needs_list = self.action in (BulkAction.ADD_TO_LIST, BulkAction.REMOVE_FROM_LIST)
        if needs_list and self.list_id is None:
            raise InvalidInput(f"{self.action.value} needs a list")
        if self.action in (BulkAction.TAG, BulkAction.UNTAG):
            tags = clean_tags([self.tag])
            if len(tags) != 1:
                raise InvalidInput(f"{self.action.value} needs one tag")
            return BulkRequest(self.action, self.list_id, tags[0], self.reason)
        return self


def parse_action(value: str) -> BulkAction:
    try:
        return BulkAction(value)
    except ValueError:
        known = ", ".join(a.value for a in BulkAction)
        raise InvalidInput(f"unknown bulk action {value!r}: use one of {known}") from None


def _suppressed() -> ColumnElement[bool]:
    return exists().where(Suppression.email == Subscriber.email)


def _on_list(list_id: int | None, *statuses: SubscriptionStatus) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [
        Subscription.subscriber_id == Subscriber.id,
        Subscription.list_id == list_id,
    ]
    if statuses:
        conditions.append(Subscription.status.in_(statuses))
    return exists().where(*conditions)


def _has_tag(tag: str) -> ColumnElement[bool]:
    return exists().where(SubscriberTag.subscriber_id == Subscriber.id, SubscriberTag.tag == tag)


def _changing(request: BulkRequest) -> ColumnElement[bool]:
    """Which subscribers of the set the action would actually change."""
    action = request.action
    if action is BulkAction.ADD_TO_LIST:
        return ~_on_list(request.list_id) & ~_suppressed()
    if action is BulkAction.REMOVE_FROM_LIST:
        active = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PENDING)
        return _on_list(request.list_id, *active)
    if action is BulkAction.TAG:
        return ~_has_tag(request.tag)
    if action is BulkAction.UNTAG:
        return _has_tag(request.tag)
    if action is BulkAction.UNSUBSCRIBE:
        still_on = exists().where(
            Subscription.subscriber_id == Subscriber.id,
            Subscription.status != SubscriptionStatus.UNSUBSCRIBED,
        )
        return or_(Subscriber.status != SubscriberStatus.UNSUBSCRIBED, still_on, ~_suppressed())
    if action is BulkAction.SUPPRESS:
        return ~_suppressed()
    return Subscriber.email.is_not(None)  # FORGET: everyone in the set


def changing(session: Session, ids: Select[Any], request: BulkRequest) -> int:
    """How many subscribers of `ids` the action would change (for the confirmation)."""
    request = request.validated()
    query = select(func.count()).where(Subscriber.id.in_(ids), _changing(request))
    return int(session.scalar(query) or 0)


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def apply(
    session: Session,
    ids: Select[Any],
    request: BulkRequest,
    secret: str,
    *,
    before_forget: Callable[[Session, str], object] | None = None,
) -> int:
    """Carry out the action; returns how many subscribers changed. The caller commits.

    `before_forget(session, email)` runs before each erasure, for the mailer's own rows about
    the person (inbound mail, bounces, inquiries), in the same transaction.
    """
    request = request.validated()
    rows = session.execute(
        select(Subscriber.id, Subscriber.email)
        .where(Subscriber.id.in_(ids), _changing(request))
        .order_by(Subscriber.id)
    ).all()
    targets = [int(r[0]) for r in rows]
    emails = [str(r[1]) for r in rows]
    now = utcnow()
    reason = (request.reason or "changed in bulk by an admin")[:200]
    action = request.action
    for chunk in _chunks(targets):
        _apply_chunk(session, request, chunk, now, reason)
    if action in (BulkAction.UNSUBSCRIBE, BulkAction.SUPPRESS):
        kind = (
            SuppressionReason.UNSUBSCRIBE
            if action is BulkAction.UNSUBSCRIBE
            else SuppressionReason.MANUAL
        )
        _suppress(session, emails, secret, kind, reason)
    if action is BulkAction.FORGET:
        for email in emails:
            if before_forget is not None:
                before_forget(session, email)
            forget(session, email, secret)
    session.flush()
    session.expire_all()
    return len(targets)


def _apply_chunk(
    session: Session, request: BulkRequest, chunk: list[int], now: Any, reason: str
) -> None:
    """The set-wise statements of one chunk of ids (suppression and erasure come after)."""
    action = request.action
    in_chunk = one_of(session, Subscription.subscriber_id, chunk)
    if action is BulkAction.ADD_TO_LIST:
        session.execute(
            insert(Subscription),
            [
                {
                    "subscriber_id": sid,
                    "list_id": request.list_id,
                    "status": SubscriptionStatus.ACTIVE,
                    "created_at": now,
                    "confirmed_at": now,
                }
                for sid in chunk
            ],
        )
    elif action is BulkAction.REMOVE_FROM_LIST:
        _unsubscribe(session, in_chunk & (Subscription.list_id == request.list_id), now, reason)
    elif action is BulkAction.TAG:
        session.execute(
            insert(SubscriberTag), [{"subscriber_id": s, "tag": request.tag} for s in chunk]
        )
    elif action is BulkAction.UNTAG:
        session.execute(
            delete(SubscriberTag)
            .where(one_of(session, SubscriberTag.subscriber_id, chunk))
            .where(SubscriberTag.tag == request.tag)
            .execution_options(synchronize_session=False)
        )
    elif action is BulkAction.UNSUBSCRIBE:
        _unsubscribe(session, in_chunk, now, reason)
        session.execute(
            update(Subscriber)
            .where(one_of(session, Subscriber.id, chunk))
            .values(status=SubscriberStatus.UNSUBSCRIBED, updated_at=now)
            .execution_options(synchronize_session=False)
        )


def _unsubscribe(session: Session, where: ColumnElement[bool], now: Any, reason: str) -> int:
    result = session.execute(
        update(Subscription)
        .where(where, Subscription.status != SubscriptionStatus.UNSUBSCRIBED)
        .values(
            status=SubscriptionStatus.UNSUBSCRIBED, unsubscribed_at=now, unsubscribe_reason=reason
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


def _suppress(
    session: Session, emails: list[str], secret: str, kind: SuppressionReason, detail: str
) -> None:
    """Suppression entries for the addresses that have none (keyed hash + plaintext)."""
    for chunk in _chunks(emails):
        hashes = {email: hash_canonical(email, secret) for email in chunk}
        have = set(
            session.scalars(
                select(Suppression.address_hash).where(
                    one_of(session, Suppression.address_hash, list(hashes.values()))
                )
            )
        )
        events = [
            {"address_hash": h, "email": e, "action": "added", "reason": kind.value}
            | {"detail": detail, "actor": "bulk", "created_at": utcnow()}
            for e, h in hashes.items()
            if h not in have
        ]
        fresh = [
            {
                "address_hash": h,
                "email": e,
                "reason": kind,
                "detail": detail,
                "created_at": utcnow(),
            }
            for e, h in hashes.items()
            if h not in have
        ]
        if fresh:
            session.execute(insert(Suppression), fresh)
            session.execute(insert(SuppressionEvent), events)


def list_name(session: Session, list_id: int | None) -> str:
    mlist = session.get(MailingList, list_id) if list_id is not None else None
    return mlist.slug if mlist else ""
