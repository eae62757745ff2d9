"""The campaign page's engagement block in headless Chromium: `mailer web` as a real process, a
campaign really sent by `mailer send`, clicks recorded through the tracked links' own code path.
The page shows the figures, the per-item table and the two SVG charts (pygal, served by us);
screenshots are kept under the test's tmp_path (engagement-*.png)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from mailer import tokens
from mailer.db import utcnow
from mailer.engagement import clicks
from mailer.sending.models import Delivery
from subscribers.db import make_engine, session_factory
from tests.browser import launch
from tests.engagement.support import LINKED_ISSUE
from tests.smtpd import SMTPServer
from tests.webserver import free_port, mailer_env, mailer_web, run_cli

EDITOR = "editor@example.com"
PASSWORD = "a long editor passphrase"  # noqa: S105  (the test account's)
SECRET = "e2e-secret-key-" + "y" * 32  # tests/webserver.py's
# (reader's delivery, link index) followed by people: 0 archive, 1–6 items, 7 PDF, 8 more.
CLICKS = [(0, 1), (1, 1), (2, 1), (0, 3), (3, 8), (4, 2)]


def _record_clicks(db_file: Path) -> None:
    """Readers follow their links, a minute and more after delivery (people, not scanners)."""
    engine = make_engine(f"sqlite:///{db_file}")
    with session_factory(engine)() as session:
        ids = list(session.scalars(select(Delivery.id).order_by(Delivery.id)))
        minter = tokens.Minter(tokens.CLICK, SECRET)
        start = utcnow() + timedelta(minutes=1)
        for n, (reader, index) in enumerate(CLICKS):
            token = minter.sign(tokens.click_payload(ids[reader], index))
            when = start + timedelta(minutes=7 * n)
            assert clicks.follow(session, token, [SECRET], now=when).human
        session.commit()
    engine.dispose()


@pytest.mark.slow
def test_the_campaign_page_shows_clicks_per_item_with_charts(tmp_path: Path) -> None:
    db_file = tmp_path / "mailer.db"
    with SMTPServer() as relay:
        port = free_port()
        env = mailer_env(tmp_path, f"sqlite:///{db_file}", relay.url, port)
        for args in (
            ("db", "upgrade"),
            ("list", "create", "briefing", "--name", "Security Chatter"),
        ):
            assert run_cli(env, *args, cwd=tmp_path).returncode == 0
        slug = run_cli(env, "issue", "import", str(LINKED_ISSUE), cwd=tmp_path).stdout.split()[-1]
        csv = tmp_path / "readers.csv"
        csv.write_text(
            "email,name,company\n"
            + "".join(f"r{i}@client{i}.example.com,Reader {i},Client {i}\n" for i in range(8)),
            encoding="utf-8",
        )
        assert run_cli(env, "subscribers", "import", str(csv), "--list", "briefing").returncode == 0
        sent = run_cli(env, "send", slug, "--list", "briefing", "--yes", cwd=tmp_path)
        assert sent.returncode == 0, sent.stderr
        made = run_cli(
            env, "admin", "create-user", EDITOR, "--password-stdin", stdin=PASSWORD + "\n"
        )
        assert made.returncode == 0, made.stderr
        _record_clicks(db_file)
        with mailer_web(env, port, tmp_path / "web.log") as base, sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/admin/login")
            page.fill("#email", EDITOR)
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.goto(base + "/admin/campaigns/1")
            block = page.locator("#engagement")
            expect(block.locator("[data-engagement=delivered]")).to_have_text("8")
            expect(block.locator("[data-engagement=clickers]")).to_have_text("5")
            expect(block.locator("[data-engagement=click-rate]")).to_have_text("62.5%")
            rows = block.locator("#clicks-per-item tbody tr")
            expect(rows).to_have_count(9)
            expect(rows.nth(1)).to_contain_text("Item 1:")
            expect(rows.nth(1).locator("td").nth(1)).to_have_text("3")
            expect(rows.nth(2).locator("td").nth(1)).to_have_text("1")
            expect(rows.nth(3).locator("td").nth(1)).to_have_text("1")
            expect(rows.nth(8)).to_contain_text("More information")
            expect(rows.nth(8).locator("td").nth(1)).to_have_text("1")
            for chart in ("clicks-per-item", "clicks-over-time"):
                img = block.locator(f"img[src$='{chart}.svg']")
                img.scroll_into_view_if_needed()
                page.wait_for_function(
                    "img => img.complete && img.naturalWidth > 0", arg=img.element_handle()
                )
            svg = page.request.get(base + "/admin/campaigns/1/clicks-per-item.svg")
            assert svg.status == 200 and svg.headers["content-type"] == "image/svg+xml"
            text = svg.text()
            assert "Item 1:" in text and "<script" not in text and "kozea.github.io" not in text
            block.screenshot(path=str(tmp_path / "engagement-block.png"))
            page.screenshot(path=str(tmp_path / "engagement-page.png"), full_page=True)
            # The reader's own page: the campaign received and the items clicked.
            page.goto(base + "/admin/subscribers/1")
            history = page.locator("#history")
            expect(history).to_contain_text("Item 1:")
            expect(history).to_contain_text("Item 3:")
            page.screenshot(path=str(tmp_path / "engagement-subscriber.png"), full_page=True)
            browser.close()
