"""Tracked links end to end in-process, on SQLite and PostgreSQL: the issue really sent by
`mailer send`, its links followed through the web app (`mailer web`'s application)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer import tokens
from mailer.db import utcnow
from mailer.engagement import clicks, reports
from mailer.engagement.models import Click
from mailer.sending.models import CampaignRender, Delivery
from mailer.settings import Settings
from subscribers.lifecycle import get_subscriber
from tests.engagement.support import (
    ITEM_URLS,
    MORE_INFO,
    TRACKED,
    Mailed,
    delivered_a_minute_ago,
    hrefs,
    send_linked_issue,
    tracked_urls,
)
from tests.web_support import alter_one_char, html_part, text_part, web_app

BASE = "https://news.example.com"
READER = "valeria.gonzalez0@example.com"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(web_app(), base_url=BASE, follow_redirects=False) as c:
        yield c


@pytest.fixture
def mailed(session: Session, settings: Settings) -> Mailed:
    return send_linked_issue(session, settings)


def clicks_of(session: Session) -> list[Click]:
    session.expire_all()
    return list(session.scalars(select(Click).order_by(Click.id)))


def test_every_link_of_the_issue_is_a_signed_redirect(mailed: Mailed, session: Session) -> None:
    msg = mailed.by_rcpt[READER]
    links = hrefs(msg)
    # Each item's source, the PDF, "More information" and both "View in browser" links.
    for text, href in links.items():
        if text in ("manage preferences", "unsubscribe") or href.startswith("mailto:"):
            assert "/r/" not in href, text
        else:
            assert TRACKED.fullmatch(href), (text, href)
    assert not any(url in html_part(msg) for url in ITEM_URLS)
    assert MORE_INFO.removeprefix("https://") in html_part(msg)  # the visible label stays
    assert "Links in this email are tracked" in html_part(msg)
    assert "Links in this email are tracked" in text_part(msg)
    table = session.scalar(select(CampaignRender.links))
    assert [link["url"] for link in table if link["kind"] == "item"] == ITEM_URLS
    assert {link["kind"] for link in table} == {"archive", "item", "pdf", "more"}
    # The text part links to the same table.
    assert set(TRACKED.findall(text_part(msg))) <= set(tracked_urls(msg))
    assert len(tracked_urls(msg)) == len(table)


def test_following_a_link_redirects_to_the_exact_url_and_counts_once(
    mailed: Mailed, session: Session, client: TestClient
) -> None:
    delivered_a_minute_ago(session)
    msg = mailed.by_rcpt[READER]
    first_item = hrefs(msg)[
        "da sheinbaum un giro de timón en el combate a la inseguridad en méxico."
    ]
    for _ in range(2):
        response = client.get(first_item.removeprefix(BASE))
        assert response.status_code == 302
        assert response.headers["location"] == ITEM_URLS[0]
    [click] = clicks_of(session)
    assert click.human_at is not None and click.human_hits == 2 and click.machine_hits == 0
    engagement = reports.campaign_engagement(session, click.campaign_id)
    assert engagement.unique_clickers == 1
    assert [link.clickers for link in engagement.links if link.kind == "item"] == [1, 0, 0, 0, 0, 0]


def test_a_tampered_token_is_404_and_records_nothing(
    mailed: Mailed, session: Session, client: TestClient
) -> None:
    delivered_a_minute_ago(session)
    url = tracked_urls(mailed.by_rcpt[READER])[1]
    token = url.rsplit("/", 1)[1]
    payload, mac = token.split("-")
    for bad in (
        alter_one_char(token),
        f"{tokens._b36(int(payload, 36) + 1)}-{mac}",  # another link or delivery, same MAC
        payload,
        "x" * 300,
    ):
        response = client.get(f"/r/{bad}")
        assert response.status_code == 404, bad
        assert "location" not in response.headers
    assert clicks_of(session) == []


def test_no_token_can_lead_outside_the_issue(
    mailed: Mailed, session: Session, settings: Settings, client: TestClient
) -> None:
    """Even tokens signed with our own key: every index past the link table is 404, and every
    redirect goes to a URL of the issue's table."""
    delivered_a_minute_ago(session)
    table = [link["url"] for link in session.scalar(select(CampaignRender.links))]
    delivery_id = session.scalar(select(func.min(Delivery.id)))
    assert delivery_id is not None
    minter = tokens.Minter(tokens.CLICK, settings.secret())
    targets = set()
    for index in range(tokens.LINK_SLOTS):
        token = minter.sign(tokens.click_payload(delivery_id, index))
        response = client.head(f"/r/{token}")
        if index < len(table):
            assert response.status_code == 302
            targets.add(response.headers["location"])
        else:
            assert response.status_code == 404
    assert targets == set(table)
    with pytest.raises(ValueError):
        tokens.click_payload(delivery_id, tokens.LINK_SLOTS)


def test_head_and_scanner_bursts_are_recorded_apart(
    mailed: Mailed, session: Session, settings: Settings, client: TestClient
) -> None:
    delivered_a_minute_ago(session)
    secrets = settings.verification_secrets()
    urls = tracked_urls(mailed.by_rcpt[READER])
    assert client.head(urls[0].removeprefix(BASE)).status_code == 302
    # A gateway opens three links of the message within one second…
    start = utcnow()
    for n, url in enumerate(urls[1:4]):
        token = url.rsplit("/", 1)[1]
        clicks.follow(session, token, secrets, now=start + timedelta(milliseconds=200 * n))
    session.commit()
    rows = clicks_of(session)
    assert [r.human_hits for r in rows] == [0, 0, 0, 0]
    assert all(r.human_at is None for r in rows) and sum(r.machine_hits for r in rows) == 4
    # …and the reader clicks one of them a minute later: that one is theirs.
    token = urls[2].rsplit("/", 1)[1]
    assert clicks.follow(session, token, secrets, now=start + timedelta(minutes=1)).human
    session.commit()
    engagement = reports.campaign_engagement(session, rows[0].campaign_id)
    assert engagement.unique_clickers == 1 and engagement.machine_hits == 4


def test_a_click_right_after_delivery_is_a_scanner(
    mailed: Mailed, session: Session, settings: Settings
) -> None:
    [delivery] = session.scalars(select(Delivery).where(Delivery.sent_at.is_not(None)).limit(1))
    url = TRACKED.search(html_part(mailed.by_rcpt[READER]))
    assert url is not None
    token = tokens.Minter(tokens.CLICK, settings.secret()).sign(
        tokens.click_payload(delivery.id, 0)
    )
    assert delivery.sent_at is not None
    followed = clicks.follow(
        session,
        token,
        settings.verification_secrets(),
        now=delivery.sent_at + timedelta(milliseconds=400),
    )
    assert not followed.human


def test_a_reader_who_opted_out_gets_direct_links_and_is_never_recorded(
    session: Session, settings: Settings, client: TestClient
) -> None:
    other = "jose.rivera1@example.org"
    mailed = send_linked_issue(session, settings, opted_out=(READER,))
    delivered_a_minute_ago(session)
    mine = mailed.by_rcpt[READER]
    assert tracked_urls(mine) == []
    assert set(ITEM_URLS) <= set(hrefs(mine).values())
    assert all(url in text_part(mine) for url in ITEM_URLS)
    assert "Links in this email are tracked" not in html_part(mine) + text_part(mine)
    # A link of someone else's message works; then they opt out too, and it still works but
    # records nothing more.
    link = tracked_urls(mailed.by_rcpt[other])[0].removeprefix(BASE)
    assert client.get(link).status_code == 302
    assert len(clicks_of(session)) == 1
    subscriber = get_subscriber(session, other)
    assert subscriber is not None
    subscriber.tracking_opt_out = True
    session.commit()
    assert client.get(tracked_urls(mailed.by_rcpt[other])[1].removeprefix(BASE)).status_code == 302
    assert len(clicks_of(session)) == 1


def test_tracking_off_leaves_the_links_as_they_are(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mailer.settings import reset_settings

    monkeypatch.setenv("MAILER_TRACK_CLICKS", "false")
    reset_settings()
    mailed = send_linked_issue(session, settings)
    msg = mailed.by_rcpt[READER]
    assert tracked_urls(msg) == []
    assert set(ITEM_URLS) <= set(hrefs(msg).values())  # exactly, `&` and all
    assert all(url in text_part(msg) for url in ITEM_URLS)
    assert "tracked" not in text_part(msg)
    assert session.scalar(select(CampaignRender.links)) == []
