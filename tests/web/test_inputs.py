"""What no request may carry into the database (mailer/web/inputs.py), on SQLite and PostgreSQL
(which refuses a NUL in any text): a NUL in an admin form field or query parameter, or in an API
query parameter or JSON member, is a 422 naming the field, and changes nothing."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.web.app import create_app
from subscribers.models import MailingList, Subscriber
from tests.builders import Newsroom
from tests.web_support import EDITOR_PASSWORD

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

SITE = "https://news.example.com"
PASSWORD = EDITOR_PASSWORD


@pytest.fixture
def client(room: Newsroom) -> Iterator[TestClient]:
    with TestClient(
        create_app(), base_url=SITE, headers={"Origin": SITE}, follow_redirects=False
    ) as c:
        yield c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def counts(session: Session) -> tuple[int, int]:
    session.expire_all()
    subscribers = session.scalar(select(func.count()).select_from(Subscriber)) or 0
    lists = session.scalar(select(func.count()).select_from(MailingList)) or 0
    return subscribers, lists


def test_a_nul_in_the_sign_in_form_is_a_422_naming_the_field(client: TestClient) -> None:
    """Anonymous, on the one admin page open to everyone."""
    csrf = csrf_of(client.get("/admin/login").text)
    for field in ("email", "password"):
        form = {"email": "editor@example.com", "password": PASSWORD, "csrf_token": csrf}
        form[field] = form[field][:4] + "\x00" + form[field][4:]
        answer = client.post("/admin/login", data=form)
        assert answer.status_code == 422, (field, answer.status_code)
        assert answer.headers["content-type"].startswith("text/html")
        assert f"The form field “{field}” holds a NUL character (U+0000)" in answer.text
        assert "remove it" in answer.text
    assert client.get("/admin/login", params={"next": "/admin\x00"}).status_code == 422


def test_a_nul_in_an_editors_form_or_search_is_a_422_naming_it_and_changes_nothing(
    client: TestClient, session: Session, room: Newsroom
) -> None:
    csrf = csrf_of(client.get("/admin/login").text)
    signed_in = client.post(
        "/admin/login",
        data={"email": "editor@example.com", "password": PASSWORD, "csrf_token": csrf},
    )
    assert signed_in.status_code == 303
    csrf = csrf_of(client.get(f"/admin/lists/{room.list_slug}").text)
    before = counts(session)

    search = client.get("/admin/subscribers", params={"q": "jose\x00"})
    assert search.status_code == 422
    assert "The query parameter “q” holds a NUL character" in search.text

    added = client.post(
        f"/admin/lists/{room.list_slug}/subscribers",
        data={"csrf_token": csrf, "email": "new@example.org", "name": "Ana\x00Ruiz"},
    )
    assert added.status_code == 422
    assert "The form field “name” holds a NUL character" in added.text
    made = client.post(
        "/admin/lists",
        data={"csrf_token": csrf, "slug": "new", "name": "New"},
        files={"description": (None, "a\x00b")},  # multipart, as a browser may send it
    )
    assert made.status_code == 422
    assert "The form field “description” holds a NUL character" in made.text
    assert counts(session) == before
    assert client.get("/admin/subscribers", params={"q": "jose"}).status_code == 200


def test_a_nul_or_lone_surrogate_in_an_api_request_is_a_422_naming_it_and_changes_nothing(
    client: TestClient, session: Session, room: Newsroom
) -> None:
    token, _row = accounts.create_token(session, "crm", scopes=["read", "subscribers"])
    session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    before = counts(session)

    search = client.get("/api/v1/subscribers", params={"q": "a\x00"}, headers=bearer)
    assert search.status_code == 422
    assert search.json()["detail"].startswith("The query parameter “q” holds a NUL character")

    made = client.post(
        "/api/v1/lists",
        content=b'{"slug": "new", "name": "New\\u0000list"}',
        headers={**bearer, "Content-Type": "application/json"},
    )
    assert made.status_code == 422
    assert made.json()["detail"].startswith("The JSON member “name” holds a NUL character")

    subscriber = client.post(
        f"/api/v1/lists/{room.list_slug}/subscribers",
        content=b'{"email": "new@example.org", "tags": ["client", "x\\ud800"]}',
        headers={**bearer, "Content-Type": "application/json"},
    )
    assert subscriber.status_code == 422
    assert subscriber.json()["detail"].startswith(
        "The JSON member “tags[1]” holds an invalid character (a lone surrogate, U+D800)"
    )
    assert counts(session) == before
    # Without the scope, still 403 before the body is looked at.
    reader, _row = accounts.create_token(session, "reader", scopes=["read"])
    session.commit()
    refused = client.post(
        "/api/v1/lists",
        content=b'{"slug": "new", "name": "New\\u0000list"}',
        headers={"Authorization": f"Bearer {reader}", "Content-Type": "application/json"},
    )
    assert refused.status_code == 403
