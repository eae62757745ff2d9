"""The application as a whole: what every response carries, whichever router (or none) answered.

"Every" is every route the app has, enumerated from the app itself (so a route added later is
covered without editing this test), with each of its methods, asked anonymously, as a signed-in
editor and with an API token, plus a path no router knows.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute

from mailer import accounts
from mailer.settings import Settings, reset_settings
from mailer.web.app import create_app
from tests.builders import Newsroom
from tests.web_support import EDITOR_PASSWORD

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

PASSWORD = EDITOR_PASSWORD


def routes_of(routes: list[BaseRoute]) -> Iterator[tuple[str, str]]:
    """(method, path template) of every route, through included routers (FastAPI keeps them
    as wrappers holding the original router)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from routes_of(inner.routes)
            continue
        sub = getattr(route, "routes", None)
        if sub is not None and not hasattr(route, "methods"):
            yield from routes_of(sub)
            continue
        for method in sorted(getattr(route, "methods", None) or ["GET"]):
            if method != "HEAD":
                yield method, route.path  # type: ignore[attr-defined]


def concrete(template: str, room: Newsroom) -> str:
    """A path for the template: ids 1, the fixture's issue and list, an address, a token."""
    values = {
        "slug": room.issue_slug if "issue" in template or "archive" in template else "briefing",
        "campaign_id": "1",
        "subscriber_id": "1",
        "email": "jose.rivera1@example.org",
        "action": "pause",
        "name": "mailer.css",
    }
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "not-a-token"), template)


def sign_in(client: TestClient) -> None:
    """Sign the client in as the room's editor, through the login form as a browser does."""
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/login").text)
    assert csrf is not None
    signed_in = client.post(
        "/admin/login",
        data={"email": "editor@example.com", "password": PASSWORD, "csrf_token": csrf[1]},
    )
    assert signed_in.status_code == 303


def check_headers(response, where: str) -> None:  # type: ignore[no-untyped-def]
    """The headers a browser enforces: no sniffing, a CSP that allows no more than our own origin
    (the API docs page keeps a stricter one of its own), no inline script, no framing by anyone
    else (the admin's issue preview is framed by the admin itself: SAMEORIGIN), a referrer
    policy."""
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert re.search(r"default-src '(self|none)'", csp), (where, csp)
    directives = dict((d.strip() + " ").split(" ", 1) for d in csp.split(";") if d.strip())
    assert "unsafe" not in directives.get("script-src", ""), (where, csp)
    # Inline style only where no script can run: the sandboxed email preview, or a document
    # (the admin's SVG charts) whose CSP allows nothing else at all.
    scriptless = "sandbox" in directives or (
        directives.get("default-src", "").strip() == "'none'" and "script-src" not in directives
    )
    assert "unsafe-inline" not in directives.get("style-src", "") or scriptless, (where, csp)
    # Never framed by another site: X-Frame-Options always, and frame-ancestors agreeing with it
    # where the CSP states one.
    framing = {"DENY": "'none'", "SAMEORIGIN": "'self'"}
    assert headers.get("X-Frame-Options") in framing, (where, dict(headers))
    if "frame-ancestors" in directives:
        assert directives["frame-ancestors"].strip() == framing[headers["X-Frame-Options"]], (
            where,
            csp,
        )
    # Never a full URL to another site (token-bearing paths must not leak).
    assert headers.get("Referrer-Policy") in {"same-origin", "no-referrer"}, where


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_route_answers_with_the_security_headers(
    room: Newsroom, session: Session, settings: Settings
) -> None:
    app = create_app()
    routes = sorted(set(routes_of(app.routes)))
    # The enumeration really reaches every family (a change in how routers are kept would
    # otherwise leave this test checking nothing).
    for family in ("/admin", "/api/v1", "/u/", "/subscribe/", "/archive", "/api/docs"):
        assert any(path.startswith(family) for _, path in routes), family
    assert len(routes) >= 50
    token, _row = accounts.create_token(session, "headers", scopes=["read", "send"])
    session.commit()
    site = "https://news.example.com"
    with TestClient(app, base_url=site, headers={"Origin": site}, follow_redirects=False) as client:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/login").text)
        assert csrf is not None
        for method, path in routes:
            url = concrete(path, room)
            check_headers(client.request(method, url), f"anonymous {method} {url}")
        check_headers(client.get("/no/such/page"), "404")
        signed_in = client.post(
            "/admin/login",
            data={"email": "editor@example.com", "password": PASSWORD, "csrf_token": csrf[1]},
        )
        assert signed_in.status_code == 303
        for method, path in routes:
            if path.startswith("/admin") and method == "GET":
                url = concrete(path, room)
                check_headers(client.get(url), f"editor GET {url}")
        bearer = {"Authorization": f"Bearer {token}"}
        for method, path in routes:
            if path.startswith("/api/v1") and method == "GET":
                url = concrete(path, room)
                check_headers(client.get(url, headers=bearer), f"API GET {url}")


def test_head_is_answered_wherever_get_is_with_the_same_status_and_no_body(
    settings: Settings,
) -> None:
    from fastapi.routing import iter_route_contexts

    app = create_app()
    samples = {"name": "admin.css", "slug": "briefing", "token": "x", "campaign_id": "1"}
    gets = [
        r.path
        for r in iter_route_contexts(app.routes)
        if "GET" in (r.methods or ()) and not r.path.startswith("/api/docs/assets")
    ]
    assert "/admin/subscribers" in gets and "/" in gets
    with TestClient(app, follow_redirects=False) as client:
        for template in gets:
            path = template
            for key, value in samples.items():
                path = path.replace("{" + key + "}", value)
            path = path.replace("{", "").replace("}", "")  # any other parameter: its name
            get, head = client.get(path), client.head(path)
            assert head.status_code == get.status_code != 405, (path, head.status_code)
            assert head.content == b"", path
            assert head.headers.get("content-type") == get.headers.get("content-type"), path
        assert client.head("/admin/lists/briefing/segments", params={"x": "1"}).status_code == 303
        assert client.head("/admin/logout").status_code == 405  # POST only: still refused


def test_the_favicon_is_served_and_named_by_every_page(settings: Settings) -> None:
    with TestClient(create_app()) as client:
        icon = client.get("/favicon.ico")
        page = client.get("/archive")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO directory
    assert '<link rel="icon" href="/static/favicon.svg"' in page.text


def test_a_missing_page_is_a_page_for_people_and_json_for_programs(
    room: Newsroom, settings: Settings
) -> None:
    site = "https://news.example.com"
    with TestClient(
        create_app(), base_url=site, headers={"Origin": site}, follow_redirects=False
    ) as client:
        admin_page = client.get("/admin/segments")
        anonymous_bad_id = client.get("/admin/campaigns/abc")
        public_page = client.get("/no/such/page")
        api = client.get("/api/v1/no-such-thing")
        sign_in(client)
        bad_id = client.get("/admin/campaigns/abc")
    for response in (admin_page, bad_id, public_page):
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html"), response.text[:200]
    assert "There is no admin page at /admin/segments" in admin_page.text
    assert "segments are per list" in admin_page.text
    assert "/admin/campaigns/abc" in bad_id.text
    assert anonymous_bad_id.status_code == 303  # anonymous: the login page first, as everywhere
    assert "Page not found" in public_page.text
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}


@pytest.mark.parametrize(
    "path", ["/brand/logo-0123abcd.png", "/brand/..%2fmailer.db", "/static/nope.css"]
)
def test_a_missing_file_is_the_same_page_not_found_as_a_missing_page(
    settings: Settings, path: str
) -> None:
    """/brand/… and /static/… answered a bare "not found" in plain text where every other
    public address answers the site's page (with a way on to the archive): the same page now;
    an API asset keeps answering JSON, as the API does."""
    with TestClient(create_app()) as client:
        missing = client.get(path)
        page = client.get("/no/such/page")
        asset = client.get("/api/docs/assets/nope.js")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html"), missing.text[:100]
    assert "Page not found" in missing.text and 'href="/archive"' in missing.text
    assert missing.text == page.text
    assert asset.status_code == 404 and asset.json() == {"detail": "Not Found"}


def test_a_nul_or_control_character_in_any_path_is_a_4xx_never_a_500(
    room: Newsroom, session: Session, settings: Settings
) -> None:
    """Hostile input, on SQLite and PostgreSQL (which cannot hold a NUL): every route's path
    parameters given a NUL, a line feed or a name too long for the file system, asked
    anonymously, as a signed-in editor and with an API token, the static files' mount among
    them. An admin page or API operation answers 404; a public page its own 404 or, for a
    reader's mangled unsubscribe or confirmation link, its 400 "This link is not valid"."""
    app = create_app()
    templates = sorted({(method, path) for method, path in routes_of(app.routes) if "{" in path})
    assert ("GET", "/static/{name}") in templates and ("GET", "/archive/{slug}.pdf") in templates
    token, _row = accounts.create_token(session, "nul", scopes=["read", "subscribers", "send"])
    session.commit()
    site = "https://news.example.com"
    hostile = ["%00", "a%00b", "x%0Ay", "%01", "a" * 300]
    with TestClient(app, base_url=site, headers={"Origin": site}, follow_redirects=False) as client:

        def ask(who: str, headers: dict[str, str] | None = None) -> None:
            for method, template in templates:
                for value in hostile:
                    url = re.sub(r"\{\w+(:\w+)?\}", value, template)
                    answer = client.request(method, url, headers=headers)
                    if value == "a" * 300:  # not refused for its own sake: just never a 500
                        assert answer.status_code < 500, (who, url, answer.status_code)
                        continue
                    public = not url.startswith(("/admin", "/api/"))
                    expected = {400, 404} if public else {404}
                    if who != "API" and url.startswith("/api/v1/"):
                        expected = {401}  # the token is checked before anything else
                    assert answer.status_code in expected, (who, url, answer.status_code)
                    check_headers(answer, f"{who} {url}")

        ask("anonymous")
        assert client.get("/static/%00").status_code == 404  # was a 500 (embedded null byte)
        sign_in(client)
        ask("editor")
        assert "There is no admin page" in client.get("/admin/lists/a%00b").text
        bearer = {"Authorization": f"Bearer {token}"}
        ask("API", bearer)
        assert client.get("/api/v1/issues/a%00b", headers=bearer).json() == {"detail": "Not Found"}


def test_a_service_that_cannot_be_reached_is_a_503_that_names_it_never_a_bare_500(
    room: Newsroom, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rate limits' Redis down (a closed port): signing in and subscribing used to answer
    "Internal Server Error" in plain text, saying neither what failed nor what to do. Now the
    sign-in page names Redis and the settings that point at it, the reader's form asks them to
    try again later (naming nothing internal), both as pages with Retry-After, and the API
    says it in JSON."""
    from tests.smtpd import free_port

    down = f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0"
    monkeypatch.setenv("MAILER_RATELIMIT_STORAGE_URL", down)
    reset_settings()
    site = "https://news.example.com"
    with TestClient(
        create_app(), base_url=site, headers={"Origin": site}, raise_server_exceptions=False
    ) as client:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/login").text)
        assert csrf is not None
        login = client.post(
            "/admin/login",
            data={"email": "editor@example.com", "password": PASSWORD, "csrf_token": csrf[1]},
        )
        form = client.post(f"/subscribe/{room.list_slug}", data={"email": "ana@example.org"})
    for response in (login, form):
        assert response.status_code == 503, response.text[:300]
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["retry-after"] == "30"
        check_headers(response, str(response.url))
        assert "hunter2" not in response.text
    said = " ".join(re.sub(r"<[^>]+>", " ", login.text).split())
    assert "cannot reach Redis" in said and "MAILER_RATELIMIT_STORAGE_URL" in said
    assert "Connection refused. Nothing was changed" in said
    told = " ".join(re.sub(r"<[^>]+>", " ", form.text).split())
    assert "try again in a few minutes" in told and "Redis" not in told
