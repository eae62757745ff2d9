"""/api/docs: Swagger UI from local, pinned assets under a CSP, and HSTS with an https site.

The browser test runs `mailer web` as a process and Debian's Chromium with every request that does
not go to this machine refused, as on an offline server: the page must still render every
operation, and the CSP must not have blocked anything the page needs.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Route, sync_playwright

from mailer.settings import Settings
from mailer.web.app import create_app
from mailer.web.docs import DOCS_CSP
from tests.browser import launch
from tests.webserver import free_port, mailer_env, mailer_web, run_cli

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(), base_url="https://news.example.com") as c:
        yield c


def test_the_docs_page_loads_only_local_scripts_under_a_strict_csp(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == DOCS_CSP
    assert "'unsafe-inline'" not in DOCS_CSP and "'unsafe-eval'" not in DOCS_CSP
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/api/docs/assets/") for s in sources), sources
    assert "<script>" not in page.text  # no inline script: every script has a src
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 100, source
    assert client.get("/api/docs/assets/..%2f..%2fsettings.py").status_code == 404
    assert client.get("/api/docs/assets/redoc.standalone.js").status_code == 404


def test_every_response_carries_hsts_when_the_public_url_is_https(client: TestClient) -> None:
    """A page, an API 401, a 404 outside any router, a static asset and a redirect."""
    for path in ("/archive", "/api/v1/lists", "/no/such/page", "/api/docs", "/admin"):
        response = client.get(path, follow_redirects=False)
        assert response.headers["strict-transport-security"] == "max-age=31536000", path


def test_no_hsts_on_a_plain_http_site(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from mailer.settings import reset_settings

    monkeypatch.setenv("MAILER_PUBLIC_URL", "http://127.0.0.1:8000")
    reset_settings()
    with TestClient(create_app(), base_url="http://127.0.0.1:8000") as plain:
        assert "strict-transport-security" not in plain.get("/archive").headers


@pytest.mark.slow
def test_api_docs_render_in_chromium_with_the_network_closed(tmp_path: Path) -> None:
    port = free_port()
    env = mailer_env(tmp_path, f"sqlite:///{tmp_path / 'mailer.db'}", "outbox://./outbox", port)
    assert run_cli(env, "db", "upgrade", cwd=tmp_path).returncode == 0
    refused: list[str] = []
    console: list[str] = []

    def only_this_machine(route: Route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if host in LOCAL_HOSTS:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    with mailer_web(env, port, tmp_path / "web.log") as base, sync_playwright() as pw:
        browser = launch(pw)
        try:
            context = browser.new_context()
            context.route("**/*", only_this_machine)
            page = context.new_page()
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.goto(f"{base}/api/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
            title = page.inner_text(".swagger-ui .info .title")
            operations = page.locator(".opblock-summary-path").all_inner_texts()
            page.screenshot(path=str(tmp_path / "api-docs.png"), full_page=True)
        finally:
            browser.close()
    assert "Briefing mailer" in title
    assert "/api/v1/campaigns" in operations and len(operations) >= 17, operations
    assert refused == []
    blocked = [m for m in console if "Content Security Policy" in m or "Refused" in m]
    assert blocked == [], blocked
