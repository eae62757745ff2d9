"""A private list's public doors, through real HTTP: its subscribe form is the very same 404 as a
list that does not exist, a confirmation link mailed before it became private is refused, what
was sent only to it is not in the archive (index, web edition, PDF), and its readers can still
leave."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer.settings import Settings
from subscribers.lifecycle import add_subscriber, get_subscriber
from subscribers.lists import create_list, get_list, update_list
from subscribers.models import Subscription, SubscriptionStatus
from tests.web_support import (
    html_part,
    parse,
    recipient,
    send_fixture_issue,
    text_part,
    unsubscribe_url,
    web_app,
)

BASE = "https://news.example.com"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(web_app(), base_url=BASE, follow_redirects=False) as c:
        yield c


def outbox_files(settings: Settings) -> list[Path]:
    return sorted(Path(settings.smtp_url.removeprefix("outbox://")).glob("*.eml"))


def status_on(session: Session, email: str, list_slug: str) -> SubscriptionStatus | None:
    session.expire_all()
    subscriber = get_subscriber(session, email)
    if subscriber is None:
        return None
    sub = session.scalar(
        select(Subscription).where(
            Subscription.subscriber_id == subscriber.id,
            Subscription.list_id == get_list(session, list_slug).id,
        )
    )
    return sub.status if sub is not None else None


def answer(response: httpx.Response) -> tuple[int, str | None, bytes]:
    """What a visitor can compare between two answers: status, type and the body's bytes."""
    return response.status_code, response.headers.get("content-type"), response.content


def test_a_private_lists_form_answers_the_same_404_as_an_unknown_list(
    client: TestClient, session: Session, settings: Settings
) -> None:
    create_list(session, "board", "Board Briefing", "For the board only.", private=True)
    session.commit()
    unknown_get = client.get("/subscribe/no-such-list")
    private_get = client.get("/subscribe/board")
    assert unknown_get.status_code == 404
    assert answer(private_get) == answer(unknown_get)
    data = {"email": "curious@example.org", "name": "Curious"}
    unknown_post = client.post("/subscribe/no-such-list", data=data)
    private_post = client.post("/subscribe/board", data=data)
    assert unknown_post.status_code == 404
    assert answer(private_post) == answer(unknown_post)
    assert "Board Briefing" not in private_get.text and "board only" not in private_get.text
    assert get_subscriber(session, "curious@example.org") is None
    assert outbox_files(settings) == []
    # The same list made public again has its form back.
    update_list(session, "board", private=False)
    session.commit()
    assert client.get("/subscribe/board").status_code == 200


def test_a_confirmation_link_for_a_list_made_private_since_is_refused(
    client: TestClient, session: Session, settings: Settings
) -> None:
    create_list(session, "board", "Board Briefing")
    session.commit()
    asked = client.post("/subscribe/board", data={"email": "late@example.org"})
    assert asked.status_code == 200 and "Check your inbox" in asked.text
    [mail] = outbox_files(settings)
    body = text_part(parse(mail.read_bytes()))
    found = re.search(rf"{re.escape(BASE)}(/confirm/\S+)", body)
    assert found, body
    confirm = found.group(1)
    assert status_on(session, "late@example.org", "board") == SubscriptionStatus.PENDING

    update_list(session, "board", private=True)
    session.commit()
    for response in (client.get(confirm), client.post(confirm, data={})):
        assert response.status_code == 410
        assert "This newsletter no longer takes subscriptions" in response.text
        assert "you have not been subscribed" in response.text
        assert "Board Briefing" not in response.text
    assert status_on(session, "late@example.org", "board") == SubscriptionStatus.PENDING


def test_an_issue_sent_only_to_a_private_list_is_not_in_the_archive(
    client: TestClient, session: Session, settings: Settings
) -> None:
    sent = send_fixture_issue(session, settings, private=True)
    slug = sent.room.issue_slug
    index = client.get("/archive")
    assert index.status_code == 200
    assert slug not in index.text
    for path in (f"/archive/{slug}", f"/archive/{slug}.pdf"):
        hidden = client.get(path)
        assert hidden.status_code == 404, path
        unknown = client.get(path.replace(slug, "no-such-issue-2025-01-01"))
        assert answer(hidden) == answer(unknown), path
    # Made public, the list publishes what it was sent: printed afresh for the archive, since
    # the campaign's own rendering (made private) links to no web edition.
    update_list(session, sent.room.list_slug, private=False)
    session.commit()
    assert f'href="/archive/{slug}"' in client.get("/archive").text
    web = client.get(f"/archive/{slug}")
    assert web.status_code == 200
    assert "Download the PDF edition" in web.text and "is attached to this email" not in web.text
    pdf = client.get(f"/archive/{slug}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_an_issue_also_sent_to_a_public_list_is_archived_as_that_list_got_it(
    client: TestClient, session: Session, settings: Settings
) -> None:
    sent = send_fixture_issue(session, settings)  # the public list
    create_list(session, "board", "Board Briefing", private=True)
    session.commit()
    slug = sent.room.issue_slug
    assert f'href="/archive/{slug}"' in client.get("/archive").text
    web = client.get(f"/archive/{slug}")
    assert web.status_code == 200 and 'href="/subscribe/briefing"' in web.text
    assert client.get(f"/archive/{slug}.pdf").status_code == 200
    # The public list made private: the issue was sent to no public list any more.
    update_list(session, sent.room.list_slug, private=True)
    session.commit()
    assert slug not in client.get("/archive").text
    assert client.get(f"/archive/{slug}").status_code == 404
    assert client.get(f"/archive/{slug}.pdf").status_code == 404


def test_readers_of_a_private_list_can_still_leave(
    client: TestClient, session: Session, settings: Settings
) -> None:
    sent = send_fixture_issue(session, settings, private=True)
    msg = sent.messages[0]
    who = recipient(msg)
    url = unsubscribe_url(msg).removeprefix(BASE)
    page = client.get(url)
    assert page.status_code == 200 and "Unsubscribe from Security Chatter?" in page.text
    assert 'id="preferences"' in page.text
    done = client.post(
        url,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    assert status_on(session, who, sent.room.list_slug) == SubscriptionStatus.UNSUBSCRIBED
    # No way back through a public form the list does not have.
    assert "/subscribe/" not in done.text
    again = client.get(url)
    assert "You are already unsubscribed" in again.text and "/subscribe/" not in again.text
    assert "View in browser" not in html_part(msg)


CONFIDENTIAL_LIST = "Board Briefing (M&A target: Acme)"
SAME_ORIGIN = {"Origin": BASE}


def test_a_public_lists_unsubscribe_page_hides_the_readers_private_lists(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """Hostile reader: whoever holds a forwarded copy of a public list's issue opens its
    unsubscribe link. The reader's other public lists are there to manage; their private lists
    are neither named nor changed by the preference form (an unticked hidden box is not a
    request to leave)."""
    sent = send_fixture_issue(session, settings)  # the public list
    msg = sent.messages[0]
    who = recipient(msg)
    board = create_list(session, "board", CONFIDENTIAL_LIST, "For the board only.", private=True)
    alerts = create_list(session, "alerts", "Security Alerts")
    add_subscriber(session, board, who, settings.secret())
    add_subscriber(session, alerts, who, settings.secret())
    session.commit()
    url = unsubscribe_url(msg).removeprefix(BASE)
    shown = client.get(url)
    assert shown.status_code == 200
    assert 'value="alerts" checked' in shown.text
    assert 'value="board"' not in shown.text
    assert "Board Briefing" not in shown.text and "Acme" not in shown.text
    form = {"form": "preferences", "keep": [sent.room.list_slug], "language": ""}
    saved = client.post(f"{url}/preferences", data=form, headers=SAME_ORIGIN)
    assert saved.status_code == 200 and "Unsubscribed from Security Alerts." in saved.text
    assert "Board Briefing" not in saved.text
    assert status_on(session, who, "alerts") == SubscriptionStatus.UNSUBSCRIBED
    assert status_on(session, who, "board") == SubscriptionStatus.ACTIVE
    assert status_on(session, who, sent.room.list_slug) == SubscriptionStatus.ACTIVE


def test_a_private_lists_own_unsubscribe_page_shows_that_list_only_among_private_ones(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """The delivery's own list is shown even when private (the reader got its mail); another
    private list the reader is on is not."""
    sent = send_fixture_issue(session, settings, private=True)
    msg = sent.messages[0]
    who = recipient(msg)
    board = create_list(session, "board", CONFIDENTIAL_LIST, private=True)
    add_subscriber(session, board, who, settings.secret())
    session.commit()
    url = unsubscribe_url(msg).removeprefix(BASE)
    shown = client.get(url)
    assert f'value="{sent.room.list_slug}" checked' in shown.text
    assert 'value="board"' not in shown.text and "Acme" not in shown.text
    form = {"form": "preferences", "keep": [], "language": ""}
    saved = client.post(f"{url}/preferences", data=form, headers=SAME_ORIGIN)
    assert saved.status_code == 200
    assert status_on(session, who, sent.room.list_slug) == SubscriptionStatus.UNSUBSCRIBED
    assert status_on(session, who, "board") == SubscriptionStatus.ACTIVE
