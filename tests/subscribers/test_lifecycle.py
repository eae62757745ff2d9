"""Admin add, double opt-in, list and global unsubscribe, and the data behind `show`."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from mailer.settings import Settings
from subscribers.errors import InvalidInput, NotFound
from subscribers.lifecycle import (
    add_subscriber,
    confirm,
    describe,
    get_subscriber,
    subscribe_pending,
    unsubscribe_everywhere,
    unsubscribe_from_list,
)
from subscribers.lists import create_list
from subscribers.models import SubscriberStatus, SubscriptionStatus, SuppressionReason
from subscribers.suppression import get_suppression


def test_an_admin_add_is_active_with_the_admins_consent(
    session: Session, settings: Settings
) -> None:
    weekly = create_list(session, "weekly", "Weekly")
    result = add_subscriber(
        session,
        weekly,
        " Ana@Example.ORG",
        settings.secret(),
        name="Ana",
        company="Acme",
        language="ES",
        tags=["client", "vip", "client"],
    )
    session.commit()
    assert result.created
    ana = result.subscriber
    assert (ana.email, ana.domain, ana.language, ana.tags) == (
        "ana@example.org",
        "example.org",
        "es",
        ["client", "vip"],
    )
    assert (ana.status, ana.consent_method, ana.consent_source) == (
        SubscriberStatus.ACTIVE,
        "admin",
        "admin",
    )
    assert result.subscription.status == SubscriptionStatus.ACTIVE
    assert result.subscription.confirmed_at is not None


def test_adding_again_updates_details_without_wiping_them(
    session: Session, settings: Settings
) -> None:
    weekly = create_list(session, "weekly", "Weekly")
    add_subscriber(session, weekly, "ana@example.org", settings.secret(), name="Ana", tags=["a"])
    again = add_subscriber(
        session, weekly, "ANA@example.org", settings.secret(), company="Acme", tags=["b"]
    )
    assert not again.created
    assert (again.subscriber.name, again.subscriber.company) == ("Ana", "Acme")
    assert again.subscriber.tags == ["a", "b"]


def test_bad_details_are_refused_naming_the_field(session: Session, settings: Settings) -> None:
    weekly = create_list(session, "weekly", "Weekly")
    with pytest.raises(InvalidInput, match="unknown language 'xx'"):
        add_subscriber(session, weekly, "a@example.org", settings.secret(), language="xx")
    with pytest.raises(InvalidInput, match="tag 'a;b' contains ';'"):
        add_subscriber(session, weekly, "a@example.org", settings.secret(), tags=["a;b"])


def test_double_opt_in_is_pending_until_confirmed_and_then_records_consent(
    session: Session, settings: Settings
) -> None:
    weekly = create_list(session, "weekly", "Weekly")
    sub = subscribe_pending(session, weekly, "new@example.org", settings.secret(), name="New")
    session.commit()
    assert sub.status == SubscriptionStatus.PENDING
    assert sub.subscriber.status == SubscriberStatus.PENDING
    assert sub.subscriber.consent_at is None
    confirmed = confirm(
        session,
        sub.id,
        source="https://news.example.com/subscribe/weekly",
        ip="203.0.113.9",
        user_agent="Mozilla/5.0",
    )
    session.commit()
    person = confirmed.subscriber
    assert confirmed.status == SubscriptionStatus.ACTIVE
    assert confirmed.confirmed_at is not None
    assert person.status == SubscriberStatus.ACTIVE
    assert (person.consent_method, person.consent_source, person.consent_ip) == (
        "form",
        "https://news.example.com/subscribe/weekly",
        "203.0.113.9",
    )
    first = confirmed.confirmed_at
    assert confirm(session, sub.id).confirmed_at == first  # a second click changes nothing
    with pytest.raises(NotFound):
        confirm(session, sub.id + 1000)


def test_a_list_unsubscribe_keeps_the_row_time_and_reason_and_blocks_an_admin_re_add(
    session: Session, settings: Settings
) -> None:
    weekly = create_list(session, "weekly", "Weekly")
    add_subscriber(session, weekly, "ana@example.org", settings.secret())
    sub = unsubscribe_from_list(session, weekly, "Ana@example.org", "too many emails")
    session.commit()
    assert sub.status == SubscriptionStatus.UNSUBSCRIBED
    assert sub.unsubscribed_at is not None
    assert sub.unsubscribe_reason == "too many emails"
    assert get_subscriber(session, "ana@example.org") is not None
    with pytest.raises(InvalidInput, match="unsubscribed from weekly .* --pending"):
        add_subscriber(session, weekly, "ana@example.org", settings.secret())
    # They may come back by confirming themselves.
    again = subscribe_pending(session, weekly, "ana@example.org", settings.secret())
    assert again.id == sub.id and again.status == SubscriptionStatus.PENDING
    alerts = create_list(session, "alerts", "Alerts")
    with pytest.raises(NotFound, match="ana@example.org is not on list alerts"):
        unsubscribe_from_list(session, alerts, "ana@example.org")
    with pytest.raises(NotFound, match="no subscriber with address bea@example.org"):
        unsubscribe_from_list(session, weekly, "bea@example.org")


def test_a_global_unsubscribe_leaves_every_list_and_suppresses_the_address(
    session: Session, settings: Settings
) -> None:
    key = settings.secret()
    weekly = create_list(session, "weekly", "Weekly")
    alerts = create_list(session, "alerts", "Alerts")
    add_subscriber(session, weekly, "ana@example.org", key)
    add_subscriber(session, alerts, "ana@example.org", key)
    unsubscribe_everywhere(session, "ana@example.org", key, "one-click unsubscribe")
    session.commit()
    ana = get_subscriber(session, "ana@example.org")
    assert ana is not None
    assert ana.status == SubscriberStatus.UNSUBSCRIBED
    assert {s.status for s in ana.subscriptions} == {SubscriptionStatus.UNSUBSCRIBED}
    entry = get_suppression(session, "ana@example.org", key)
    assert entry is not None and entry.reason == SuppressionReason.UNSUBSCRIBE


def test_describe_gives_status_lists_and_suppression_as_data(
    session: Session, settings: Settings
) -> None:
    key = settings.secret()
    weekly = create_list(session, "weekly", "Weekly")
    alerts = create_list(session, "alerts", "Alerts")
    add_subscriber(session, weekly, "ana@example.org", key, name="Ana")
    add_subscriber(session, alerts, "ana@example.org", key)
    unsubscribe_from_list(session, alerts, "ana@example.org", "not relevant")
    session.commit()
    data = describe(session, "ANA@example.org", key)
    assert data["email"] == "ana@example.org"
    assert data["subscriber"]["name"] == "Ana"
    assert data["subscriber"]["status"] == "active"
    assert [(s["list"], s["status"], s["unsubscribe_reason"]) for s in data["subscriptions"]] == [
        ("alerts", "unsubscribed", "not relevant"),
        ("weekly", "active", None),
    ]
    assert data["suppression"] is None
    with pytest.raises(NotFound, match="no subscriber with address bea@example.org"):
        describe(session, "bea@example.org", key)


@pytest.mark.parametrize("bad", ["Ana\x00", "Ana\x1b[31m", "Ana\x08"])
def test_control_characters_in_a_name_are_refused_on_both_backends(
    session: Session, settings: Settings, bad: str
) -> None:
    mlist = create_list(session, "weekly", "Weekly")
    with pytest.raises(InvalidInput, match="control character"):
        add_subscriber(session, mlist, "ana@example.org", settings.secret(), name=bad)


def test_a_line_break_in_a_name_becomes_a_space(session: Session, settings: Settings) -> None:
    mlist = create_list(session, "weekly", "Weekly")
    added = add_subscriber(
        session, mlist, "ana@example.org", settings.secret(), name="Ana\r\n  Bcc: x@example.org"
    )
    assert added.subscriber.name == "Ana Bcc: x@example.org"  # one line: no header can follow
