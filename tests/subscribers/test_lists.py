"""Mailing lists: slugs, look-up errors that help, and per-status counts."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from mailer.settings import Settings
from subscribers.errors import AlreadyExists, InvalidInput, NotFound
from subscribers.lifecycle import add_subscriber, subscribe_pending, unsubscribe_from_list
from subscribers.lists import (
    ListSummary,
    create_list,
    get_list,
    list_lists,
    update_list,
    validate_name,
)


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
        ListSummary("weekly", "Weekly", 2, 1, 1, mailable=2),
    ]
    # A hard bounce suppresses a2: still an active subscription, no longer mailable.
    from subscribers.models import SuppressionReason
    from subscribers.suppression import add_suppression

    add_suppression(session, "a2@example.com", key, SuppressionReason.HARD_BOUNCE, "550 5.1.1")
    session.commit()
    assert list_lists(session)[1] == ListSummary("weekly", "Weekly", 2, 1, 1, mailable=1)


# Each a name that would read as something else, or break a header or a table: CR/LF (a second
# header line), TAB and ESC (a terminal), C1's NEL, the line and paragraph separators, and the
# invisible format characters (zero-width space, bidi marks, byte-order mark, bidi override).
UNSEEN = [
    ("Weekly\r\nBcc: everyone@example.com", "control character U+000D"),
    ("Weekly\nBriefing", "control character U+000A"),
    ("Weekly\tBriefing", "control character U+0009"),
    ("Weekly\x1b[2J", "control character U+001B"),
    ("Weekly\x85Briefing", "control character U+0085"),
    ("Weekly\u2028Briefing", "control character U+2028"),
    ("Weekly\u2029", "control character U+2029"),
    ("Week\u200bly", "invisible character U+200B"),
    ("\u200eWeekly", "invisible character U+200E"),
    ("Weekly\u200f", "invisible character U+200F"),
    ("\ufeffWeekly", "invisible character U+FEFF"),
    ("Weekly \u202eyfeirb", "invisible character U+202E"),
    ("Weekly\ud800", "half surrogate pair U+D800"),
]


@pytest.mark.parametrize(("name", "named"), UNSEEN)
def test_a_name_with_a_control_or_invisible_character_is_refused_naming_it(
    name: str, named: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_name(name)
    message = str(refused.value)
    assert named in message and "one line of visible text" in message
    assert message.endswith("(--name)")
    assert "{name}" in (refused.value.web or "")
    assert not any(c in message for c in "\r\n\x1b\u200b\u202e")  # shown escaped, not raw


def test_a_name_is_stripped_kept_with_its_script_and_at_most_200_characters() -> None:
    assert validate_name("  Boletín Semanal ") == "Boletín Semanal"
    family = "Familia \U0001f468\u200d\U0001f469\u200d\U0001f467"  # joiners inside an emoji
    assert validate_name(family) == family
    assert validate_name("x" * 200) == "x" * 200
    with pytest.raises(InvalidInput, match="201 characters long: shorten it to at most 200"):
        validate_name("x" * 201)
    with pytest.raises(InvalidInput, match="needs a name"):
        validate_name(" \u00a0 ")


def test_create_and_update_keep_only_names_the_rule_accepts(session: Session) -> None:
    with pytest.raises(InvalidInput, match=r"U\+000A"):
        create_list(session, "weekly", "Weekly\nBriefing")
    create_list(session, "weekly", " Weekly ")
    with pytest.raises(InvalidInput, match=r"U\+200B"):
        update_list(session, "weekly", name="Week\u200bly")
    with pytest.raises(InvalidInput, match="201 characters long"):
        update_list(session, "weekly", name="y" * 201)  # no longer cut silently to 200
    with pytest.raises(InvalidInput, match="nothing to change for list 'weekly'"):
        update_list(session, "weekly")
    assert get_list(session, "weekly").name == "Weekly"
