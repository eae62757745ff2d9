"""The personalised email in real Chromium at phone (375 px) and desktop-pane (600 px) widths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, sync_playwright

from mailer.content.briefing import parse_briefing
from mailer.rendering.email_edition import Personal, Personalizer, render_issue
from mailer.settings import Settings
from tests.browser import launch
from tests.conftest import BRIEFING


@pytest.fixture(scope="module")
def email_html() -> str:
    content = parse_briefing(BRIEFING.read_text(encoding="utf-8"), path=str(BRIEFING))
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        public_url="https://news.example.com",
        postal_address="Miranda Delphi Solutions, Paseo de la Reforma 250, 06600 Ciudad de México",
    )
    rendered = render_issue(content, settings)
    html, _ = Personalizer(rendered).render(
        Personal(
            email="ana.perez@client.example.com",
            name="Ana Pérez",
            unsubscribe_url="https://news.example.com/u/abc123",
            preferences_url="https://news.example.com/u/abc123/preferences",
        )
    )
    return html


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 600])
def test_email_fits_and_reads_at_width(
    browser: Browser,
    email_html: str,
    width: int,
    scheme: Literal["light", "dark"],
    tmp_path: Path,
) -> None:
    page = browser.new_page(viewport={"width": width, "height": 800}, color_scheme=scheme)
    try:
        # offline: the email must not need the network to lay out
        page.route("**/*", lambda route: route.abort())
        page.set_content(email_html, wait_until="load")
        scroll_width, inner_width = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert scroll_width <= inner_width

        headlines = page.locator("h2")
        assert headlines.count() == 6
        for i in range(6):
            h = headlines.nth(i)
            assert h.is_visible()
            box = h.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
            assert float(h.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 20

        body_size = page.locator("h2 + p").first.evaluate(
            "e => parseFloat(getComputedStyle(e).fontSize)"
        )
        assert body_size >= 15  # readable on a phone without zooming

        for name in ("Talk to Fausto", "Download the PDF edition", "Unsubscribe"):
            link = page.get_by_role("link", name=name)
            assert link.is_visible(), name
        cta = page.get_by_role("link", name="Talk to Fausto").bounding_box()
        assert cta is not None and cta["height"] >= 40  # a comfortable tap target

        shot = tmp_path / f"email-{width}-{scheme}.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"\nscreenshot: {shot}")
        assert shot.stat().st_size > 10_000
    finally:
        page.close()
