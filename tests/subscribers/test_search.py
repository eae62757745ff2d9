"""Searching all subscribers: text, expression, list and status filters, sorting, stable pages."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from subscribers import search
from subscribers.errors import InvalidInput, SegmentSyntaxError
from subscribers.lifecycle import add_subscriber, unsubscribe_from_list
from subscribers.lists import create_list
from subscribers.models import MailingList

SECRET = "s" * 32


def _people(session: Session, weekly: MailingList) -> MailingList:
    other = create_list(session, "alerts", "Alerts")
    rows = [
        ("ana@acme.example", "Ana Ruiz", "Acme Corp", ["client"], weekly),
        ("bo@acme.example", "Bo Li", "ACME corp", ["press"], other),
        ("cy@zeta.example", "Cy Acme", "Zeta", ["client"], other),
        ("di@zeta.example", "Di 100%", "Zeta_Ltd", [], weekly),
    ]
    for email, name, company, tags, mlist in rows:
        add_subscriber(session, mlist, email, SECRET, name=name, company=company, tags=tags)
    session.commit()
    return other


def emails(session: Session, wanted: search.SubscriberSearch, **kw: object) -> list[str]:
    return [s.email or "" for s in search.page(session, wanted, **kw)]  # type: ignore[arg-type]


def test_text_matches_address_name_and_company_across_lists(
    session: Session, weekly: MailingList
) -> None:
    _people(session, weekly)
    wanted = search.SubscriberSearch(text="acme")
    assert search.count(session, wanted) == 3
    assert emails(session, wanted) == ["ana@acme.example", "bo@acme.example", "cy@zeta.example"]
    # LIKE wildcards are matched literally.
    assert emails(session, search.SubscriberSearch(text="100%")) == ["di@zeta.example"]
    assert emails(session, search.SubscriberSearch(text="z_t")) == []


def test_expression_list_and_status_narrow_the_search(
    session: Session, weekly: MailingList
) -> None:
    other = _people(session, weekly)
    assert emails(session, search.SubscriberSearch(expression="tag:client")) == [
        "ana@acme.example",
        "cy@zeta.example",
    ]
    on_other = search.SubscriberSearch(expression="tag:client", list_id=other.id)
    assert emails(session, on_other) == ["cy@zeta.example"]
    unsubscribe_from_list(session, other, "bo@acme.example")
    session.commit()
    gone = search.SubscriberSearch(list_id=other.id, status="unsubscribed")
    assert emails(session, gone) == ["bo@acme.example"]
    with pytest.raises(SegmentSyntaxError) as bad:
        search.count(session, search.SubscriberSearch(expression="tag:client and ("))
    assert bad.value.column == 17
    with pytest.raises(InvalidInput, match="unknown status 'gone'"):
        search.count(session, search.SubscriberSearch(status="gone"))


def test_pages_are_sorted_stable_and_never_overlap(session: Session, weekly: MailingList) -> None:
    for i in range(23):
        add_subscriber(session, weekly, f"p{i:02d}@example.com", SECRET, company="Same")
    session.commit()
    wanted = search.SubscriberSearch(text="example.com")
    seen: list[str] = []
    for offset in range(0, 23, 5):
        seen += emails(session, wanted, sort="company", limit=5, offset=offset)
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 23
    newest_first = emails(session, wanted, sort="created", descending=True, limit=3)
    assert newest_first == ["p22@example.com", "p21@example.com", "p20@example.com"]
    with pytest.raises(InvalidInput, match="cannot sort by 'password'"):
        search.page(session, wanted, sort="password")


def test_a_lists_members_can_be_filtered_by_bounced_or_complained(
    session: Session, weekly: MailingList
) -> None:
    """Choosing a list left only its subscription statuses in the filter: a bounced or
    complained member (the person's status) could no longer be found on it."""
    from sqlalchemy import update

    from subscribers.models import Subscriber, SubscriberStatus

    other = _people(session, weekly)
    session.execute(
        update(Subscriber)
        .where(Subscriber.email.in_(["ana@acme.example", "bo@acme.example"]))
        .values(status=SubscriberStatus.BOUNCED)
    )
    session.commit()
    assert "bounced" in search.list_status_choices()
    assert "complained" in search.list_status_choices()
    on_weekly = search.SubscriberSearch(list_id=weekly.id, status="bounced")
    assert emails(session, on_weekly) == ["ana@acme.example"]
    on_other = search.SubscriberSearch(list_id=other.id, status="bounced")
    assert emails(session, on_other) == ["bo@acme.example"]
    nobody = search.SubscriberSearch(list_id=weekly.id, status="complained")
    assert emails(session, nobody) == []
    with pytest.raises(InvalidInput, match="use one of pending, active, unsubscribed, bounced"):
        search.count(session, search.SubscriberSearch(list_id=weekly.id, status="gone"))
