"""Mailing lists: slugs, look-up errors that help, and per-status counts."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from mailer.settings import Settings
from subscribers.errors import AlreadyExists, InvalidInput, NotFound
from subscribers.lifecycle import add_subscriber, subscribe_pending, unsubscribe_from_list
from subscribers.lists import ListSummary, create_list, get_list, list_lists


def test_a_list_is_created_and_found_by_its_slug(session: Session) -> None:
    create_list(session, "weekly-briefing", "  Weekly Briefing ")
    session.commit()
    found = get_list(session, "weekly-briefing")
    assert (found.slug, found.name) == ("weekly-briefing", "Weekly Briefing")


@pytest.mark.parametrize("slug", ["Weekly", "weekly briefing", "-weekly", "weekly-", "", "a" * 65])
def test_a_slug_unusable_in_urls_is_refused_saying_what_is_allowed(
    session: Session, slug: str
) -> None:
    with pytest.raises(InvalidInput, match="lower-case letters, digits and hyphens"):
        create_list(session, slug, "Name")


def test_a_taken_slug_and_a_missing_name_are_refused(session: Session) -> None:
    create_list(session, "weekly", "Weekly")
    with pytest.raises(AlreadyExists, match="'weekly' exists already"):
        create_list(session, "weekly", "Again")
    with pytest.raises(InvalidInput, match="needs a name"):
        create_list(session, "other", "  ")


def test_an_unknown_slug_names_the_lists_that_exist(session: Session) -> None:
    with pytest.raises(NotFound, match="no list with slug 'weekly'.*mailer list create"):
        get_list(session, "weekly")
    create_list(session, "weekly", "Weekly")
    create_list(session, "alerts", "Alerts")
    with pytest.raises(
        NotFound, match=r"no list with slug 'weeky' \(known lists: alerts, weekly\)"
    ):
        get_list(session, "weeky")


def test_lists_are_listed_with_their_counts_by_status(session: Session, settings: Settings) -> None:
    weekly = create_list(session, "weekly", "Weekly")
    create_list(session, "alerts", "Alerts")
    key = settings.secret()
    for n in range(3):
        add_subscriber(session, weekly, f"a{n}@example.com", key)
    subscribe_pending(session, weekly, "p@example.com", key)
    unsubscribe_from_list(session, weekly, "a0@example.com")
    session.commit()
    assert list_lists(session) == [
        ListSummary("alerts", "Alerts", 0, 0, 0),
        ListSummary("weekly", "Weekly", 2, 1, 1),
    ]
