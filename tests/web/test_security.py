"""Security of the admin area and the API: every route is closed to anonymous users, forms need
the CSRF token, bearer tokens are checked, sessions are revocable, logins are rate-limited, and
schemathesis finds no server error in the API."""

from __future__ import annotations

import os
import re
import string
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import itsdangerous
import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.content.issues import get_issue
from mailer.inbound.models import Inquiry
from mailer.sending import campaigns
from mailer.sending.models import Campaign
from mailer.settings import Settings
from mailer.web import auth
from mailer.web.app import create_app
from subscribers.db import make_engine
from subscribers.models import (
    MailingList,
    Segment,
    Subscriber,
    SubscriberTag,
    Subscription,
    Suppression,
)
from tests.builders import Newsroom, cleared, newsroom
from tests.conftest import BRIEFING, SUBSCRIBERS_CSV
from tests.webserver import free_port, mailer_env, mailer_web, run_cli

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

# A browser sends its page's Origin with every form post (the admin's same-origin check).
SITE = "https://news.example.com"
BROWSER = {"Origin": SITE}

PASSWORD = "correct horse battery"  # noqa: S105  (a test account's password)
WRONG = "not the password"  # noqa: S105
# Pages that must be reachable without credentials: the login form, and the API's documentation
# page and its assets (static Swagger UI; it holds no data and every call it makes needs the token).
PUBLIC = {
    ("GET", "/admin/login"),
    ("POST", "/admin/login"),
    ("GET", "/api/docs"),
    ("GET", "/api/docs/assets/{name}"),
}


@pytest.fixture
def room(session: Session, settings: Settings) -> Newsroom:
    room = newsroom(session, settings)
    issue = get_issue(session, room.issue_slug)
    audience = campaigns.resolve_audience(session, issue, room.list_slug)
    campaigns.create(session, issue, cleared(audience))  # campaign 1, planned (not started)
    session.add(Segment(list_id=room.list_id, slug="clients", expression="tag:client"))
    accounts.create_user(session, "editor@example.com", PASSWORD)
    session.commit()
    return room


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(), base_url=SITE, headers=BROWSER) as c:
        yield c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def login(client: TestClient, email: str = "editor@example.com", password: str = PASSWORD):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/admin/login").text)
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/admin"},
        follow_redirects=False,
    )


def state(session: Session) -> tuple[object, ...]:
    """What a refused request must leave as it was."""
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(MailingList)),
        session.scalar(select(func.count()).select_from(Subscriber)),
        tuple(session.scalars(select(Subscription.status).order_by(Subscription.id))),
        session.scalar(select(func.count()).select_from(Segment)),
        tuple(session.scalars(select(Campaign.status).order_by(Campaign.id))),
        session.scalar(select(func.count()).select_from(SubscriberTag)),
        tuple(session.scalars(select(Suppression.address_hash).order_by(Suppression.id))),
        tuple(session.scalars(select(MailingList.name).order_by(MailingList.id))),
        tuple(session.scalars(select(accounts.AdminUser.active).order_by(accounts.AdminUser.id))),
        tuple(session.scalars(select(accounts.ApiToken.revoked_at).order_by(accounts.ApiToken.id))),
        tuple(session.scalars(select(Inquiry.closed_at).order_by(Inquiry.id))),
    )


SAMPLE_PARAMS = {
    "slug": "briefing",
    "email": "valeria.gonzalez0@example.com",
    "campaign_id": "1",
    "subscriber_id": "1",
    "action": "cancel",
    "inquiry_id": "1",
    "index": "0",
    "user_id": "1",
    "token_id": "1",
    "kind": "failed",
    "segment_slug": "clients",  # the admin's segment edit and delete
    "segment": "clients",  # the API's segment PATCH and DELETE
}


def guarded_routes() -> list[tuple[str, str]]:
    """(method, path) of every route of the app under /admin and /api, from app.routes."""
    app = create_app()
    found = []
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if not (path.startswith("/admin") or path.startswith("/api")):
            continue
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((method, path))
    return found


def test_the_route_enumeration_sees_every_admin_page_and_api_operation() -> None:
    routes = set(guarded_routes())
    assert ("POST", "/admin/lists/{slug}/import") in routes
    assert ("POST", "/admin/campaigns/{campaign_id}/{action}") in routes
    assert ("POST", "/api/v1/campaigns") in routes
    openapi = create_app().openapi()["paths"]
    for path, operations in openapi.items():
        for method in operations:
            assert (method.upper(), path) in routes, (method, path)
    assert len(routes) >= 40


def test_every_admin_and_api_route_refuses_anonymous_requests(
    client: TestClient, session: Session, room: Newsroom
) -> None:
    before = state(session)
    checked = 0
    for method, template in guarded_routes():
        if (method, template) in PUBLIC:
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PARAMS[m.group(1)], template)
        kwargs: dict[str, object] = {}
        if method == "POST" and path.startswith("/api"):
            kwargs["json"] = {
                "issue": room.issue_slug,
                "list": "briefing",
                "slug": "x",
                "name": "x",
            }
        elif method == "POST":
            kwargs["data"] = {"slug": "x", "name": "x", "email": "new@example.com"}
        response = client.request(method, path, follow_redirects=False, **kwargs)  # type: ignore[arg-type]
        if path.startswith("/api"):
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.headers["www-authenticate"].startswith("Bearer"), path
        else:
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/admin/login"), (method, path)
        checked += 1
    assert checked >= 38
    assert state(session) == before


def test_the_login_page_is_open_and_redirects_back_after_login(
    client: TestClient, room: Newsroom
) -> None:
    first = client.get("/admin/lists/briefing", follow_redirects=False)
    assert first.headers["location"] == "/admin/login?next=/admin/lists/briefing"
    page = client.get(first.headers["location"])
    assert page.status_code == 200
    token = csrf_of(page.text)
    done = client.post(
        "/admin/login",
        data={
            "email": "Editor@Example.com",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/admin/lists/briefing",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/admin/lists/briefing"
    assert "valeria.gonzalez0@example.com" in client.get("/admin/lists/briefing").text


def test_login_never_redirects_to_another_site(client: TestClient, room: Newsroom) -> None:
    token = csrf_of(client.get("/admin/login").text)
    for target in ("https://evil.example/", "//evil.example/admin", "/admin\\@evil"):
        client.cookies.clear()
        token = csrf_of(client.get("/admin/login").text)
        response = client.post(
            "/admin/login",
            data={
                "email": "editor@example.com",
                "password": PASSWORD,
                "csrf_token": token,
                "next": target,
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/admin", target


def test_every_admin_form_post_without_the_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, session: Session, room: Newsroom
) -> None:
    assert login(client).status_code == 303
    before = state(session)
    posts = [
        (m, p)
        for m, p in guarded_routes()
        if m == "POST" and p.startswith("/admin") and p != "/admin/login"
    ]
    assert len(posts) >= 11
    paths = []
    for _method, template in posts:
        for action in ("pause", "resume", "cancel", "retry-failed"):
            params = {**SAMPLE_PARAMS, "action": action}
            paths.append(re.sub(r"\{(\w+)\}", lambda m, p=params: str(p[m.group(1)]), template))  # type: ignore[misc]
    for path in sorted(set(paths)):
        form = {
            "slug": "sneaky",
            "name": "Sneaky",
            "email": "sneaky@example.com",
            "expression": "tag:client",
            "list": "briefing",
            "audience": "briefing",
            "confirm": "yes",
            "text": BRIEFING.read_text(encoding="utf-8"),
            # the bulk, erasure and suppression forms, filled as if confirmed
            "action": "tag",
            "tag": "sneaky",
            "scope": "all",
            "expected": "1",
            "typed": "valeria.gonzalez0@example.com",
            "reason": "sneaky",
        }
        for extra in ({}, {"csrf_token": "forged-token"}):
            response = client.post(path, data={**form, **extra}, follow_redirects=False)
            assert response.status_code == 403, (path, extra, response.status_code)
            assert "Nothing was changed" in response.text
    # Still signed in (the refusals did not log anyone out), and nothing changed.
    assert client.get("/admin", follow_redirects=False).status_code == 200
    assert state(session) == before
    # The same form with the session's token goes through: the token is what was missing.
    token = csrf_of(client.get("/admin/lists").text)
    ok = client.post(
        "/admin/lists",
        data={"slug": "sneaky", "name": "Sneaky", "csrf_token": token},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert state(session)[0] == int(before[0]) + 1  # type: ignore[call-overload]


def test_a_post_from_another_origin_is_refused_even_with_the_token(
    client: TestClient, session: Session, room: Newsroom
) -> None:
    login(client)
    token = csrf_of(client.get("/admin/lists").text)
    before = state(session)
    response = client.post(
        "/admin/lists",
        data={"slug": "evil", "name": "Evil", "csrf_token": token},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert state(session) == before


def test_a_post_with_neither_origin_nor_referer_is_refused_even_with_the_token(
    client: TestClient, session: Session, room: Newsroom
) -> None:
    """Every browser sends Origin (or at least Referer) on a form post; a request with neither is
    not one of our pages, so it changes nothing, as on the public preference centre."""
    login(client)
    token = csrf_of(client.get("/admin/lists").text)
    before = state(session)
    del client.headers["Origin"]
    response = client.post(
        "/admin/lists",
        data={"slug": "headless", "name": "Headless", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert state(session) == before
    ours = client.post(
        "/admin/lists",
        data={"slug": "referred", "name": "Referred", "csrf_token": token},
        headers={"Referer": f"{SITE}/admin/lists"},
        follow_redirects=False,
    )
    assert ours.status_code == 303


def test_the_login_form_needs_its_csrf_token(client: TestClient, room: Newsroom) -> None:
    client.get("/admin/login")
    response = client.post(
        "/admin/login",
        data={"email": "editor@example.com", "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_session_cookie_is_httponly_samesite_secure_and_scoped(
    client: TestClient, room: Newsroom
) -> None:
    response = login(client)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("mailer_admin=")
    for flag in ("HttpOnly", "Secure", "Path=/admin", "SameSite=lax", "Max-Age=28800"):
        assert flag in cookie, flag


def test_logout_revokes_a_copied_session_cookie(client: TestClient, room: Newsroom) -> None:
    login(client)
    stolen = client.cookies.get("mailer_admin")
    assert stolen
    token = csrf_of(client.get("/admin").text)
    out = client.post("/admin/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/admin/login"
    client.cookies.clear()
    client.cookies.set("mailer_admin", stolen, domain="news.example.com", path="/admin")
    again = client.get("/admin", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/admin/login")


def test_an_altered_or_expired_session_cookie_is_refused(
    client: TestClient, settings: Settings, room: Newsroom
) -> None:
    login(client)
    good = client.cookies.get("mailer_admin")
    assert good
    payload, stamp, signature = good.split(".")
    forged = auth.SessionData(csrf="x", user_id=2, version=0)
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    altered = [
        # The last character's lowest bit is unused: another spelling of the same signature.
        good[:-1] + alphabet[alphabet.index(good[-1]) ^ 1],
        # A character whose every bit counts.
        good[:-5] + ("A" if good[-5] != "A" else "Q") + good[-4:],
        auth.encode_session(forged, settings).split(".")[0] + f".{stamp}.{signature}",
    ]
    for value in altered:
        client.cookies.clear()
        client.cookies.set("mailer_admin", value, domain="news.example.com", path="/admin")
        assert client.get("/admin", follow_redirects=False).status_code == 303
    assert auth.decode_session(good, settings) is not None
    # A cookie signed longer ago than the session's maximum age is refused.
    user_id = auth.decode_session(good, settings).user_id  # type: ignore[union-attr]
    with pytest.MonkeyPatch.context() as mp:
        signed_at = int(time.time()) - auth.SESSION_MAX_AGE - 5
        mp.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: signed_at)
        expired = auth.encode_session(auth.SessionData("x", user_id, 0), settings)
    assert auth.decode_session(expired, settings) is None
    client.cookies.clear()
    client.cookies.set("mailer_admin", expired, domain="news.example.com", path="/admin")
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_wrong_missing_or_revoked_bearer_tokens_get_401(
    client: TestClient, session: Session, room: Newsroom
) -> None:
    token, _row = accounts.create_token(session, "ci")
    session.commit()
    assert (
        client.get("/api/v1/lists", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    for header in (
        None,
        "Bearer ",
        "Bearer mlr_wrong",
        f"Bearer {token[:-1]}{'A' if token[-1] != 'A' else 'B'}",
        f"Basic {token}",
        token,
    ):
        headers = {"Authorization": header} if header is not None else {}
        response = client.get("/api/v1/lists", headers=headers)
        assert response.status_code == 401, header
        assert response.headers["www-authenticate"].startswith("Bearer")
    accounts.revoke_token(session, "ci")
    session.commit()
    revoked = client.get("/api/v1/lists", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401
    assert 'error="invalid_token"' in revoked.headers["www-authenticate"]


def test_the_database_keeps_only_hashes_of_passwords_and_tokens(
    session: Session, settings: Settings
) -> None:
    from mailer.accounts import AdminUser, ApiToken

    user = accounts.create_user(session, "keeper@example.com", PASSWORD)
    token, row = accounts.create_token(session, "keeper")
    session.commit()
    assert PASSWORD not in user.password_hash and user.password_hash.startswith("$argon2id$")
    assert token not in row.token_hash and row.prefix == token[:12]
    stored = [
        *session.scalars(select(ApiToken.token_hash)),
        *session.scalars(select(AdminUser.password_hash)),
    ]
    assert all(token not in s and PASSWORD not in s for s in stored)


# --- schemathesis against the running server --------------------------------------------------


def _schemathesis(base: str, token: str, checks: str, cwd: Path) -> str:
    """One schemathesis run over /api/v1 with `token`; returns its output (asserted on)."""
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": str(Path(__file__).parent.parent / "schemathesis_hooks.py"),
    }
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"), "run", f"{base}/openapi.json",
            "--header", f"Authorization: Bearer {token}",
            "--checks", checks,
            "--include-path-regex", "^/api/v1",
            "--max-examples", "20",
            "--seed", "20250409",
            "--request-timeout", "20",
            "--workers", "1",
        ],
        capture_output=True, text=True, timeout=300, check=False, cwd=cwd, env=env,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    tested = re.search(r"(\d+) generated, (\d+) passed", output)
    assert tested, output[-2000:]
    assert int(tested.group(1)) == int(tested.group(2)) >= 200
    assert "Tested: 17" in output or re.search(r"Selected: (\d+)/\1", output)
    return output


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_a_read_only_token_writes_nothing(
    tmp_path: Path,
) -> None:
    """Property-based requests from /openapi.json against `mailer web`: with a token holding every
    scope, no 5xx; with a read-only token, no 5xx, every write 403 and no read refused."""
    db = tmp_path / "mailer.db"
    port = free_port()
    env = mailer_env(tmp_path, f"sqlite:///{db}", f"outbox://{tmp_path / 'outbox'}", port)
    for args in (
        ("db", "upgrade"),
        ("issue", "import", str(BRIEFING)),
        ("list", "create", "briefing", "--name", "Security Chatter"),
        ("subscribers", "import", str(SUBSCRIBERS_CSV), "--list", "briefing"),
        ("segment", "create", "clients", "--list", "briefing", "tag:client"),
    ):
        done = run_cli(env, *args, cwd=tmp_path)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    tokens = {}
    for name, scopes in (("full", "read,subscribers,send"), ("reader", "read")):
        created = run_cli(
            env, "admin", "create-token", name, "--scope", scopes, "--expires", "1d", cwd=tmp_path
        )
        assert created.returncode == 0, created.stderr
        tokens[name] = created.stdout.strip()
    log = tmp_path / "web.log"
    with mailer_web(env, port, log) as base:
        engine = make_engine(f"sqlite:///{db}")
        with Session(engine) as session:
            before = state(session)
            reader = _schemathesis(
                base,
                tokens["reader"],
                "not_a_server_error,writes_are_forbidden,reads_are_allowed",
                tmp_path,
            )
            assert state(session) == before  # the read-only run changed nothing
        engine.dispose()
        full = _schemathesis(base, tokens["full"], "not_a_server_error", tmp_path)
    (tmp_path / "schemathesis.txt").write_text(reader + full)
    assert "Traceback" not in log.read_text()
