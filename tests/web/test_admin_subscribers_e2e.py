"""The admin's daily tasks in headless Chromium against `mailer web`, a `mailer worker` on a
private Redis, PostgreSQL and a real SMTP server that refuses some recipients: searching across
lists by company, exporting the search, bulk-tagging 500 results and counting them with a segment,
a bulk unsubscribe with its confirmation, lifting a suppression, a GDPR erasure, reading an
inquiry, and a campaign page showing its rate, chart and grouped failures while the worker sends.
One browser session for all of it; screenshots under the test's tmp_path/screens."""

from __future__ import annotations

import csv
import io
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.inbound.models import InboundMessage, Inquiry
from mailer.settings import Settings
from subscribers import search, segments
from subscribers.db import make_engine, session_factory
from subscribers.lists import create_list
from subscribers.models import Subscriber, Subscription
from subscribers.suppression import get_suppression
from tests.browser import launch
from tests.builders import Newsroom, newsroom
from tests.conftest import _truncate_all
from tests.processes import SECRET, Stack, wait_until
from tests.redis_server import RedisServer
from tests.smtpd import SMTPServer
from tests.webserver import free_port

pytestmark = pytest.mark.slow

EDITOR = "editor@example.com"
PASSWORD = "a long editor passphrase"  # noqa: S105  (the test account's)
INQUIRY = Path(__file__).resolve().parent.parent / "data" / "inbound"
REFUSED = {f"orbis{i:03d}@orbis-logistics.example": "550 5.1.1 mailbox unknown" for i in range(5)}
REFUSED |= {f"orbis{i:03d}@orbis-logistics.example": "554 5.7.1 rejected by policy" for i in (5, 6)}


@pytest.fixture
def db(pg_database: str) -> Iterator[Session]:
    _truncate_all(pg_database)
    engine = make_engine(pg_database)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def orbis(session: Session, list_id: int, emails: list[str]) -> None:
    """People of one company, "Orbis Logistics", on one list (bulk insert)."""
    session.execute(
        insert(Subscriber),
        [
            {"email": e, "domain": e.split("@")[1], "name": f"Analyst {i}", "language": "en"}
            | {"company": "Orbis Logistics", "attributes": {}}
            for i, e in enumerate(emails)
        ],
    )
    ids = session.scalars(select(Subscriber.id).where(Subscriber.email.in_(emails))).all()
    session.execute(insert(Subscription), [{"subscriber_id": i, "list_id": list_id} for i in ids])


def setup(db: Session) -> Newsroom:
    room = newsroom(db, Settings(secret_key=SECRET))
    alerts = create_list(db, "alerts", "Alerts")
    orbis(db, room.list_id, [f"orbis{i:03d}@orbis-logistics.example" for i in range(500)])
    orbis(db, alerts.id, [f"orbis.alerts{i}@orbis-logistics.example" for i in range(3)])
    raw = (INQUIRY / "inquiry-long-quoted-name.eml").read_bytes()
    inbound = InboundMessage(
        rcpt_to="reply+x@news.example.com", address_kind="reply", size=len(raw), raw=raw
    )
    db.add(inbound)
    db.flush()
    db.add(
        Inquiry(
            inbound_message_id=inbound.id,
            issue_id=room.issue_id,
            client_email="maria.fernanda@example.com",
            client_name="Maria Fernanda",
            subject="Re: Test Briefing",
            forward_message_id="<inquiry-e2e@news.example.com>",
        )
    )
    accounts.create_user(db, EDITOR, PASSWORD)
    db.commit()
    return room


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310  (our own server, loopback)
            return True
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def total(page: Page) -> int:
    return int(page.locator("[data-total]").first.get_attribute("data-total") or -1)


@pytest.mark.slow
def test_an_admin_runs_the_newsletter_from_the_browser(
    db: Session, pg_database: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    redis_server.flush()
    room = setup(db)
    shots = tmp_path / "screens"
    shots.mkdir()
    step = iter(range(1, 100))
    port = free_port()
    with SMTPServer() as relay:
        for address, reply in REFUSED.items():
            relay.sink.rules[address] = [reply]
        stack = Stack(
            pg_database,
            redis_server.url,
            relay.url,
            tmp_path,
            MAILER_PUBLIC_URL=f"http://127.0.0.1:{port}",
            MAILER_RATE_LIMIT="40/second",
        )
        try:
            stack.spawn("web", "--host", "127.0.0.1", "--port", str(port), name="web")
            wait_until(lambda: answers(f"http://127.0.0.1:{port}/openapi.json"), 60, "mailer web")
            stack.worker()
            with sync_playwright() as pw:
                browser = launch(pw)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.on("dialog", lambda dialog: dialog.accept())
                base = f"http://127.0.0.1:{port}"

                def shot(name: str) -> None:
                    page.screenshot(
                        path=str(shots / f"{next(step):02d}-{name}.png"), full_page=True
                    )

                page.goto(base + "/admin")
                page.fill("#email", EDITOR)
                page.fill("#password", PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
                admin_pages(page, base, db, shot)
                campaign_page(page, base, db, room, relay, shot)
                browser.close()
        finally:
            stack.close()
    log = stack.log("web").decode("utf-8", "replace")
    assert "Traceback" not in log, log[-3000:]


def admin_pages(page: Page, base: str, db: Session, shot) -> None:  # type: ignore[no-untyped-def]
    nav = page.get_by_role("navigation", name="Admin")

    # A search across lists by company: the 500 on the briefing and the 3 only on alerts.
    nav.get_by_role("link", name="Subscribers").click()
    page.fill("#q", "orbis logistics")
    page.get_by_role("button", name="Search").click()
    assert total(page) == 503
    page.select_option("#list", "alerts")
    page.get_by_role("button", name="Search").click()
    assert total(page) == 3
    expect(page.locator("td.email")).to_have_count(3)
    shot("search-across-lists")

    # The export of that search has exactly its rows.
    page.select_option("#list", "")
    page.get_by_role("button", name="Search").click()
    with page.expect_download() as download:
        page.locator("[data-export]").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    wanted = search.SubscriberSearch(text="orbis logistics")
    db.expire_all()
    expected = set(db.scalars(select(Subscriber.email).where(Subscriber.id.in_(wanted.ids()))))
    assert {r["email"] for r in rows} == expected and len(rows) == 503
    assert {r["company"] for r in rows} == {"Orbis Logistics"}

    bulk_tag(page, base, shot)
    bulk_unsubscribe_and_lift(page, base, db, shot)
    erase_and_read_an_inquiry(page, base, db, shot)


def bulk_tag(page: Page, base: str, shot) -> None:  # type: ignore[no-untyped-def]
    """Bulk tag of the 500 results on the briefing, then a segment that counts them."""
    page.select_option("#list", "briefing")
    page.get_by_role("button", name="Search").click()
    assert total(page) == 500
    # Each action shows only the field it takes: a list for add/remove, a tag for tag/untag.
    page.select_option("#action", "add-to-list")
    expect(page.locator("#target_list")).to_be_visible()
    expect(page.locator("#tag")).to_be_hidden()
    page.select_option("#action", "suppress")
    expect(page.locator("#target_list")).to_be_hidden()
    expect(page.locator("#tag")).to_be_hidden()
    page.select_option("#action", "tag")
    expect(page.locator("#target_list")).to_be_hidden()
    page.fill("#tag", "orbis-q3")
    page.get_by_role("button", name="All 500 results…").click()
    expect(page.locator("[data-bulk-count]")).to_have_text("500 subscribers will change")
    shot("bulk-tag-confirm")
    page.get_by_role("button", name="Tag 500 subscribers").click()
    expect(page.locator("[data-bulk-changed]")).to_have_text("500 subscribers changed")
    page.goto(base + "/admin/lists/briefing/segments")
    page.fill("#expression", "tag:orbis-q3")
    expect(page.locator("[data-count-output]")).to_have_text("500")
    page.fill("#seg-slug", "orbis")
    page.get_by_role("button", name="Save segment").click()
    expect(page.locator("[data-segment=orbis]")).to_have_text("500")
    shot("segment-counts-the-tagged")


def bulk_unsubscribe_and_lift(page: Page, base: str, db: Session, shot) -> None:  # type: ignore[no-untyped-def]
    """A bulk unsubscribe of ticked rows with its confirmation, then one suppression lifted."""
    nav = page.get_by_role("navigation", name="Admin")
    page.goto(base + "/admin/subscribers?q=orbis&list=alerts")
    for box in page.locator("input[name=id]").all():
        box.check()
    page.select_option("#action", "unsubscribe")
    page.get_by_role("button", name="Ticked rows…").click()
    expect(page.locator("[data-bulk-count]")).to_have_text("3 subscribers will change")
    expect(page.get_by_text("unsubscribed from every list and suppressed")).to_be_visible()
    shot("bulk-unsubscribe-confirm")
    page.get_by_role("button", name="Unsubscribe 3 subscribers").click()
    expect(page.locator("[data-bulk-changed]")).to_have_text("3 subscribers changed")
    db.expire_all()
    for i in range(3):
        assert get_suppression(db, f"orbis.alerts{i}@orbis-logistics.example", SECRET)

    # Lifting one of those suppressions, with a reason the history keeps.
    nav.get_by_role("link", name="Suppressions").click()
    page.fill("#q", "orbis.alerts0")
    page.get_by_role("button", name="Search").click()
    row = page.locator("tr[data-suppressed='orbis.alerts0@orbis-logistics.example']")
    row.get_by_placeholder("why").fill("asked again by phone")
    row.get_by_role("button", name="Lift").click()
    expect(page.get_by_role("status")).to_contain_text("may be mailed again")
    expect(page.locator("tr[data-event=lifted]")).to_contain_text("asked again by phone")
    shot("suppression-lifted")
    db.expire_all()
    assert get_suppression(db, "orbis.alerts0@orbis-logistics.example", SECRET) is None


def erase_and_read_an_inquiry(page: Page, base: str, db: Session, shot) -> None:  # type: ignore[no-untyped-def]
    """A GDPR erasure confirmed by typing the address; an inquiry's own words."""
    nav = page.get_by_role("navigation", name="Admin")
    gone = "orbis.alerts1@orbis-logistics.example"
    page.goto(base + "/admin/subscribers?q=orbis.alerts1")
    page.get_by_role("link", name=gone).click()
    page.fill("#typed", gone)
    page.get_by_role("button", name="Erase this person").click()
    expect(page.get_by_role("status")).to_contain_text("erased")
    db.expire_all()
    assert db.scalar(select(Subscriber).where(Subscriber.email == gone)) is None
    shot("erased")

    # Reading an inquiry: the client's own words.
    nav.get_by_role("link", name="Inquiries").click()
    page.get_by_role("link", name="Re: Test Briefing").click()
    expect(page.locator("[data-own-words]")).to_contain_text(
        "could we talk about the first item next week?"
    )
    shot("inquiry")


def campaign_page(  # type: ignore[no-untyped-def]
    page: Page, base: str, db: Session, room: Newsroom, relay: SMTPServer, shot
) -> None:
    """Send to the briefing through the worker; while it sends, the page shows the rate, the
    chart and the refusals grouped by reply."""
    db.expire_all()
    audience = segments.count(db, room.list_id, None)
    page.goto(base + f"/admin/issues/{room.issue_slug}")
    page.select_option("#audience", "briefing")
    page.get_by_role("button", name="Review and send…").click()
    page.get_by_role("button", name=f"Send to {audience} recipients").click()
    expect(page).to_have_url(re.compile(r"/admin/campaigns/\d+$"))
    expect(page.locator("[data-count=failed]")).not_to_have_text("0", timeout=60_000)
    page.reload()
    assert page.locator("[data-progress-url]").get_attribute("data-status") == "sending"
    rate = page.locator("[data-timing=rate]").inner_text()
    assert re.fullmatch(r"\d+/min", rate) and rate != "0/min", rate
    chart = page.locator("img[data-chart]")
    expect(chart).to_be_visible()
    # A function, not an expression: Playwright compiles an expression string with eval in
    # the page, which the admin's CSP (script-src 'self', no unsafe-eval) refuses.
    page.wait_for_function(
        "() => { const img = document.querySelector('img[data-chart]');"
        " return img !== null && img.complete && img.naturalWidth > 0; }"
    )
    expect(page.locator("[data-replies=failed]")).to_contain_text("550 5.1.1 mailbox unknown")
    shot("campaign-sending")
    expect(page.locator("[data-field=status-badge]")).to_have_text("done", timeout=90_000)
    page.reload()
    failed = page.locator("[data-replies=failed] tbody tr")
    expect(failed).to_have_count(2)
    expect(failed.nth(0)).to_contain_text("5")
    expect(failed.nth(0)).to_contain_text("550 5.1.1 mailbox unknown")
    expect(failed.nth(1)).to_contain_text("554 5.7.1 rejected by policy")
    expect(page.locator("[data-count=sent]")).to_have_text(str(audience - len(REFUSED)))
    shot("campaign-done")
    assert len(relay.sink.received) == audience - len(REFUSED)
