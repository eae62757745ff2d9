"""The suppression list: refusing addresses, keeping subscribers, and the audience's SQL filter."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.settings import Settings
from subscribers.addresses import address_hash
from subscribers.errors import NotFound, Suppressed
from subscribers.lifecycle import add_subscriber, get_subscriber, subscribe_pending
from subscribers.lists import create_list
from subscribers.models import Subscriber, SuppressionReason
from subscribers.suppression import (
    add_suppression,
    is_suppressed,
    list_suppressions,
    not_suppressed,
    remove_suppression,
    suppressed_hashes,
)


def test_suppressing_keeps_the_subscriber_but_leaves_them_out_of_the_audience(
    session: Session, settings: Settings
) -> None:
    key = settings.secret()
    weekly = create_list(session, "weekly", "Weekly")
    add_subscriber(session, weekly, "keep@example.com", key)
    add_subscriber(session, weekly, "stop@example.com", key)
    entry, created = add_suppression(
        session, "STOP@example.com", key, SuppressionReason.COMPLAINT, "FBL report"
    )
    session.commit()
    assert created
    assert (entry.email, entry.reason, entry.detail) == (
        "stop@example.com",
        SuppressionReason.COMPLAINT,
        "FBL report",
    )
    assert entry.address_hash == address_hash("stop@example.com", key)
    assert get_subscriber(session, "stop@example.com") is not None
    audience = session.scalars(
        select(Subscriber.email).where(not_suppressed()).order_by(Subscriber.email)
    ).all()
    assert audience == ["keep@example.com"]


def test_any_spelling_of_a_suppressed_address_is_suppressed(
    session: Session, settings: Settings
) -> None:
    key = settings.secret()
    add_suppression(session, "x@example.com", key)
    session.commit()
    assert is_suppressed(session, "  X@EXAMPLE.COM", key)
    assert not is_suppressed(session, "y@example.com", key)
    assert suppressed_hashes(
        session, [address_hash("x@example.com", key), address_hash("y@example.com", key)]
    ) == {address_hash("x@example.com", key)}


def test_adding_twice_updates_the_reason_and_removing_lifts_it(
    session: Session, settings: Settings
) -> None:
    key = settings.secret()
    add_suppression(session, "x@example.com", key, SuppressionReason.MANUAL)
    entry, created = add_suppression(session, "x@example.com", key, SuppressionReason.HARD_BOUNCE)
    session.commit()
    assert not created
    assert [(e.email, e.reason) for e in list_suppressions(session)] == [
        ("x@example.com", SuppressionReason.HARD_BOUNCE)
    ]
    remove_suppression(session, "X@example.com", key)
    session.commit()
    assert list_suppressions(session) == []
    with pytest.raises(NotFound, match="x@example.com is not on the suppression list"):
        remove_suppression(session, "x@example.com", key)


def test_a_suppressed_address_cannot_be_added_or_sign_up(
    session: Session, settings: Settings
) -> None:
    key = settings.secret()
    weekly = create_list(session, "weekly", "Weekly")
    add_suppression(session, "x@example.com", key, SuppressionReason.HARD_BOUNCE)
    with pytest.raises(
        Suppressed, match=r"x@example.com is on the suppression list \(hard_bounce\)"
    ):
        add_subscriber(session, weekly, "X@example.com", key)
    with pytest.raises(Suppressed):
        subscribe_pending(session, weekly, "x@example.com", key)
