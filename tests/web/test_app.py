"""The application as a whole: what every response carries, whichever router (or none) answered."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from mailer.settings import Settings
from mailer.web.app import create_app


@pytest.mark.parametrize("path", ["/no/such/page", "/archive", "/api/v1/lists", "/admin"])
def test_every_response_carries_the_security_headers(settings: Settings, path: str) -> None:
    with TestClient(create_app(), follow_redirects=False) as client:
        response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"]


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
