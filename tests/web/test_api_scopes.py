"""API tokens with scopes and an expiry: a token does only what its scopes say, an expired or
revoked one does nothing, and a refusal comes before the body is read (so it changes nothing
whatever is posted). The admin area lists the tokens without ever showing one."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.db import utcnow
from mailer.sending.models import Campaign
from mailer.settings import Settings
from mailer.web.app import create_app
from subscribers.models import MailingList, Subscriber, Subscription
from tests.builders import Newsroom, newsroom

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient


# A browser sends its page's Origin with every form post (the admin's same-origin check).
SITE = "https://news.example.com"
BROWSER = {"Origin": SITE}


@pytest.fixture
def room(session: Session, settings: Settings) -> Newsroom:
    room = newsroom(session, settings)
    session.commit()
    return room


@pytest.fixture
def client(room: Newsroom) -> Iterator[TestClient]:
    with TestClient(create_app(), base_url=SITE, headers=BROWSER) as c:
        yield c


def bearer(session: Session, name: str, *scopes: str, **kwargs: object) -> dict[str, str]:
    token, _row = accounts.create_token(session, name, scopes=scopes, **kwargs)  # type: ignore[arg-type]
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def counts(session: Session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (MailingList, Subscriber, Subscription, Campaign)
    )


def test_a_read_only_token_reads_and_every_write_is_403_before_its_body_is_read(
    client: TestClient, session: Session, room: Newsroom
) -> None:
    """Hostile input: a leaked read-only token used to add an active subscriber without opt-in,
    create a list and send a campaign — with valid bodies, broken JSON and no body at all."""
    reader = bearer(session, "dashboard", "read")
    assert client.get("/api/v1/lists", headers=reader).status_code == 200
    assert client.get("/api/v1/campaigns", headers=reader).status_code == 200
    before = counts(session)
    writes = [
        ("/api/v1/lists", {"slug": "x", "name": "X"}, "subscribers"),
        (
            f"/api/v1/lists/{room.list_slug}/subscribers",
            {"email": "eve@example.com"},
            "subscribers",
        ),
        ("/api/v1/campaigns", {"issue": room.issue_slug, "list": room.list_slug}, "send"),
        ("/api/v1/campaigns/1/cancel", None, "send"),
    ]
    for path, body, scope in writes:
        for kwargs in ({"json": body}, {"content": b"{not json"}, {}):
            refused = client.post(path, headers=reader, **kwargs)  # type: ignore[arg-type]
            assert refused.status_code == 403, (path, kwargs, refused.text)
            assert refused.headers["www-authenticate"] == (
                f'Bearer error="insufficient_scope", scope="{scope}"'
            )
            assert f"lacks the '{scope}' scope" in refused.json()["detail"]
    assert counts(session) == before


def test_each_scope_opens_only_its_own_operations(
    client: TestClient, session: Session, room: Newsroom
) -> None:
    audience = bearer(session, "crm-sync", "subscribers")
    sender = bearer(session, "scheduler", "read", "send")
    added = client.post(
        f"/api/v1/lists/{room.list_slug}/subscribers",
        json={"email": "new.client@example.com", "name": "New Client"},
        headers=audience,
    )
    assert added.status_code == 201
    assert client.get("/api/v1/lists", headers=audience).status_code == 403  # no read
    assert (
        client.post(
            "/api/v1/campaigns",
            json={"issue": room.issue_slug, "list": room.list_slug},
            headers=audience,
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/lists/{room.list_slug}/subscribers",
            json={"email": "other@example.com"},
            headers=sender,
        ).status_code
        == 403
    )
    assert client.get("/api/v1/campaigns", headers=sender).status_code == 200


def test_expired_and_revoked_tokens_get_401_saying_why(
    client: TestClient, session: Session, room: Newsroom
) -> None:
    expired = bearer(session, "old", "read", expires_at=utcnow() - timedelta(minutes=1))
    answer = client.get("/api/v1/lists", headers=expired)
    assert answer.status_code == 401
    assert "expired on" in answer.json()["detail"]
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    revoked = bearer(session, "gone", "read")
    accounts.revoke_token(session, "gone")
    session.commit()
    answer = client.get("/api/v1/lists", headers=revoked)
    assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
    never = bearer(session, "forever", "read", expires_at=None)
    assert client.get("/api/v1/lists", headers=never).status_code == 200


def test_a_new_token_is_read_only_and_expires_in_90_days_unless_asked(session: Session) -> None:
    _token, row = accounts.create_token(session, "defaults")
    assert row.scope_list == ["read"]
    assert row.expires_at is not None
    assert abs(row.expires_at - (utcnow() + timedelta(days=90))) < timedelta(minutes=1)
    with pytest.raises(accounts.AuthError, match="unknown scope 'admin'"):
        accounts.create_token(session, "x", scopes=["read,admin"])
    with pytest.raises(accounts.AuthError, match="in the past"):
        accounts.parse_expiry("2020-01-01")
    with pytest.raises(accounts.AuthError, match="not understood"):
        accounts.parse_expiry("soon")
    assert accounts.parse_expiry("never") is None


def test_the_openapi_document_names_each_writes_scope(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    writes = {
        (m, p): op.get("x-required-scope")
        for p, ops in paths.items()
        for m, op in ops.items()
        if m == "post"
    }
    assert writes and all(writes.values()), writes
    assert writes[("post", "/api/v1/campaigns")] == "send"
    assert writes[("post", "/api/v1/lists/{slug}/subscribers")] == "subscribers"


def test_the_admin_lists_tokens_with_scopes_and_state_but_never_a_token(
    client: TestClient, session: Session, room: Newsroom
) -> None:
    import re

    accounts.create_user(session, "editor@example.com", "correct horse battery")
    token, _ = accounts.create_token(session, "dashboard", scopes=["read"])
    accounts.create_token(session, "stale", expires_at=utcnow() - timedelta(days=1))
    session.commit()
    form = client.get("/admin/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf
    client.post(
        "/admin/login",
        data={
            "email": "editor@example.com",
            "password": "correct horse battery",
            "csrf_token": csrf.group(1),
        },
    )
    page = client.get("/admin/tokens")
    assert page.status_code == 200
    assert "dashboard" in page.text and "stale" in page.text and "expired" in page.text
    assert token[:12] in page.text and token not in page.text


def test_tokens_made_before_scopes_keep_what_they_could_do(tmp_path: object) -> None:
    """The upgrade must not break a script that works today: an old token gets every scope and
    no expiry (list-tokens shows it, so an admin can replace it)."""
    from pathlib import Path

    from sqlalchemy import create_engine, text

    from mailer import db as mailer_db

    url = f"sqlite:///{Path(str(tmp_path)) / 'old.db'}"
    mailer_db.upgrade(url, revision="0006")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO api_token (name, token_hash, prefix, created_at) "
                "VALUES ('legacy', :h, 'mlr_legacy00', CURRENT_TIMESTAMP)"
            ),
            {"h": "0" * 64},
        )
    mailer_db.upgrade(url)
    with engine.connect() as conn:
        scopes, expires = conn.execute(
            text("SELECT scopes, expires_at FROM api_token WHERE name = 'legacy'")
        ).one()
    engine.dispose()
    assert (scopes, expires) == ("read subscribers send", None)
