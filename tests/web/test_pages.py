"""The public pages in headless Chromium (Debian's, driven by Playwright): they fit a 375 px phone
without sideways scrolling, wear the briefing's look, and work by clicking. Screenshots are kept
under the test's tmp dir for a human to look at."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy.orm import Session

from mailer.settings import Settings, reset_settings
from subscribers.lifecycle import get_subscriber
from subscribers.models import SubscriptionStatus
from tests.browser import launch
from tests.processes import wait_until
from tests.smtpd import free_port
from tests.web_support import Sent, recipient, send_fixture_issue, unsubscribe_url, web_app

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

NAVY = "rgb(14, 42, 71)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def base(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app served by uvicorn in a thread; PUBLIC_URL points at it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("MAILER_PUBLIC_URL", url)
    reset_settings()
    server = uvicorn.Server(
        uvicorn.Config(web_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    end = time.monotonic() + 15
    while not server.started and time.monotonic() < end:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def sent(session: Session, settings: Settings, base: str) -> Sent:
    return send_fixture_issue(session, settings)


def phone(browser: Browser, width: int = 375) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 740}, device_scale_factor=1)
    return context.new_page()


def fits(page: Page) -> None:
    """No horizontal overflow: the document is no wider than the viewport."""
    scroll, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{page.url}: {scroll} px wide in a {inner} px viewport"


def looks_like_the_briefing(page: Page) -> None:
    mast = page.locator("header.mast")
    assert mast.evaluate("e => getComputedStyle(e).backgroundColor") == NAVY
    h1 = page.locator("main h1").first
    assert "Georgia" in h1.evaluate("e => getComputedStyle(e).fontFamily")


def test_unsubscribe_page_on_a_phone_then_click(
    browser: Browser, sent: Sent, session: Session, tmp_path: Path
) -> None:
    msg = sent.messages[0]
    who = recipient(msg)
    page = phone(browser)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(unsubscribe_url(msg))
    fits(page)
    looks_like_the_briefing(page)
    assert page.get_by_text(who).is_visible()
    assert page.get_by_role("heading", name="Unsubscribe from Security Chatter?").is_visible()
    page.screenshot(path=str(tmp_path / "unsubscribe-375.png"), full_page=True)
    assert errors == []  # e.g. no CSP violation for our own stylesheet

    page.get_by_role("button", name="Unsubscribe").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="You are unsubscribed").is_visible()
    fits(page)
    page.screenshot(path=str(tmp_path / "unsubscribed-375.png"), full_page=True)
    session.expire_all()
    subscriber = get_subscriber(session, who)
    assert subscriber is not None
    assert [s.status for s in subscriber.subscriptions] == [SubscriptionStatus.UNSUBSCRIBED]


def test_preferences_form_posts_from_the_browser(
    browser: Browser, sent: Sent, session: Session, tmp_path: Path
) -> None:
    """The same-origin check lets our own page through (the browser sends our Origin)."""
    msg = sent.messages[1]
    reader = get_subscriber(session, recipient(msg))
    assert reader is not None
    reader.language = "en"  # the sample file gives some readers es: this one reads English
    session.commit()
    page = phone(browser)
    page.goto(unsubscribe_url(msg) + "#preferences")
    page.get_by_label("Preferred language").select_option("fr")
    page.get_by_role("button", name="Save preferences").click()
    page.wait_for_load_state()
    # The answer is in the language just chosen.
    assert page.get_by_text("Langue choisie : Français.").is_visible()
    assert page.locator("html").get_attribute("lang") == "fr"
    fits(page)
    page.screenshot(path=str(tmp_path / "preferences-saved-375.png"), full_page=True)
    session.expire_all()
    subscriber = get_subscriber(session, recipient(msg))
    assert subscriber is not None and subscriber.language == "fr"


def test_subscribe_page_on_a_phone_and_a_desktop(
    browser: Browser, sent: Sent, session: Session, tmp_path: Path
) -> None:
    for width in (375, 1280):
        page = phone(browser, width)
        page.goto(f"{sent_base(page, sent)}/subscribe/briefing")
        fits(page)
        looks_like_the_briefing(page)
        box = page.locator("#website").bounding_box()  # the honeypot stays out of sight
        assert box is not None and box["x"] + box["width"] <= 0
        page.screenshot(path=str(tmp_path / f"subscribe-{width}.png"), full_page=True)
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").is_visible()
    page.get_by_label("Email address").fill("visitor@example.org")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Check your inbox").is_visible()
    page.screenshot(path=str(tmp_path / "check-inbox-1280.png"), full_page=True)

    # The pending subscription is written after the answer (a background task, so that the
    # answer says nothing about the address's state): wait for it rather than race it.
    def pending() -> bool:
        session.rollback()
        return get_subscriber(session, "visitor@example.org") is not None

    wait_until(pending, 30, "the pending subscription of visitor@example.org")
    subscriber = get_subscriber(session, "visitor@example.org")
    assert subscriber is not None
    assert [s.status for s in subscriber.subscriptions] == [SubscriptionStatus.PENDING]


def sent_base(page: Page, sent: Sent) -> str:
    return unsubscribe_url(sent.messages[0]).split("/u/")[0]


def test_archive_pages_on_a_phone(browser: Browser, sent: Sent, tmp_path: Path) -> None:
    base = sent_base(phone(browser), sent)
    page = phone(browser)
    page.goto(f"{base}/archive")
    fits(page)
    looks_like_the_briefing(page)
    page.screenshot(path=str(tmp_path / "archive-375.png"), full_page=True)
    page.get_by_role("link", name="Security Chatter — 9 April 2025").click()
    page.wait_for_load_state()
    assert page.url == f"{base}/archive/{sent.room.issue_slug}"
    fits(page)
    assert page.get_by_text("Executive summary").is_visible()
    assert page.get_by_role("link", name="Subscribe").first.is_visible()
    page.screenshot(path=str(tmp_path / "web-edition-375.png"), full_page=True)
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the PDF edition").click()
    assert info.value.suggested_filename == "MI-SecurityChatter-040925.pdf"


def test_error_page_for_a_broken_link(browser: Browser, sent: Sent, tmp_path: Path) -> None:
    base = sent_base(phone(browser), sent)
    page = phone(browser)
    answer = page.goto(f"{base}/u/this-link-was-cut-in-half")
    assert answer is not None and answer.status == 400
    fits(page)
    looks_like_the_briefing(page)
    assert page.get_by_role("heading", name="This link is not valid").is_visible()
    page.screenshot(path=str(tmp_path / "bad-link-375.png"), full_page=True)
