"""Bulk actions: the confirmation's count is what changes, and the one-subscriber rules hold."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subscribers import bulk, search, segments
from subscribers.errors import InvalidInput
from subscribers.lifecycle import add_subscriber, unsubscribe_from_list
from subscribers.lists import create_list
from subscribers.models import (
    MailingList,
    Subscriber,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
    Suppression,
)
from subscribers.suppression import add_suppression, is_suppressed

SECRET = "s" * 32


def fill(session: Session, weekly: MailingList, n: int = 12) -> None:
    for i in range(n):
        tags = ["client"] if i % 2 == 0 else []
        add_subscriber(session, weekly, f"r{i:02d}@corp.example", SECRET, company="Corp", tags=tags)
    session.commit()


def test_tag_counts_only_those_not_yet_tagged_and_a_segment_sees_them(
    session: Session, weekly: MailingList
) -> None:
    fill(session, weekly)
    ids = search.SubscriberSearch(text="corp").ids()
    request = bulk.BulkRequest(bulk.BulkAction.TAG, tag="client")
    assert bulk.changing(session, ids, request) == 6
    assert bulk.apply(session, ids, request, SECRET) == 6
    session.commit()
    assert segments.count(session, weekly.id, "tag:client") == 12
    assert bulk.changing(session, ids, request) == 0
    untag = bulk.BulkRequest(bulk.BulkAction.UNTAG, tag="client")
    assert bulk.apply(session, ids, untag, SECRET) == 12
    session.commit()
    assert segments.count(session, weekly.id, "tag:client") == 0


def test_list_actions_keep_unsubscribed_and_suppressed_people_out(
    session: Session, weekly: MailingList
) -> None:
    fill(session, weekly, 4)
    other = create_list(session, "other", "Other")
    add_subscriber(session, other, "r00@corp.example", SECRET)
    unsubscribe_from_list(session, other, "r00@corp.example")
    add_suppression(session, "r01@corp.example", SECRET)
    session.commit()
    ids = search.SubscriberSearch(list_id=weekly.id).ids()
    add = bulk.BulkRequest(bulk.BulkAction.ADD_TO_LIST, list_id=other.id)
    assert bulk.changing(session, ids, add) == 2  # r00 unsubscribed, r01 suppressed
    assert bulk.apply(session, ids, add, SECRET) == 2
    session.commit()
    statuses = dict(
        session.execute(
            select(Subscriber.email, Subscription.status)
            .join(Subscription)
            .where(Subscription.list_id == other.id)
        ).all()
    )
    assert statuses == {
        "r00@corp.example": SubscriptionStatus.UNSUBSCRIBED,
        "r02@corp.example": SubscriptionStatus.ACTIVE,
        "r03@corp.example": SubscriptionStatus.ACTIVE,
    }
    remove = bulk.BulkRequest(bulk.BulkAction.REMOVE_FROM_LIST, list_id=other.id)
    assert bulk.apply(session, ids, remove, SECRET) == 2
    session.commit()
    assert segments.count(session, other.id, None) == 0
    with pytest.raises(InvalidInput, match="needs a list"):
        bulk.changing(session, ids, bulk.BulkRequest(bulk.BulkAction.ADD_TO_LIST))


def test_unsubscribe_suppress_and_forget(session: Session, weekly: MailingList) -> None:
    fill(session, weekly, 6)
    two = search.SubscriberSearch(expression="email:r00@corp.example or email:r01@corp.example")
    unsub = bulk.BulkRequest(bulk.BulkAction.UNSUBSCRIBE, reason="asked by phone")
    assert bulk.apply(session, two.ids(), unsub, SECRET) == 2
    session.commit()
    assert is_suppressed(session, "r00@corp.example", SECRET)
    r00 = session.scalar(select(Subscriber).where(Subscriber.email == "r00@corp.example"))
    assert r00 is not None and r00.status == SubscriberStatus.UNSUBSCRIBED
    assert r00.subscriptions[0].unsubscribe_reason == "asked by phone"
    assert bulk.changing(session, two.ids(), unsub) == 0
    suppress = bulk.BulkRequest(bulk.BulkAction.SUPPRESS)
    assert bulk.changing(session, search.SubscriberSearch().ids(), suppress) == 4
    erased: list[str] = []
    forget = bulk.BulkRequest(bulk.BulkAction.FORGET)
    n = bulk.apply(session, two.ids(), forget, SECRET, before_forget=lambda _s, e: erased.append(e))
    session.commit()
    assert n == 2 and erased == ["r00@corp.example", "r01@corp.example"]
    assert session.scalar(select(func.count()).select_from(Subscriber)) == 4
    assert session.scalar(select(func.count()).where(Suppression.email.is_(None))) == 2
    assert is_suppressed(session, "r01@corp.example", SECRET)
