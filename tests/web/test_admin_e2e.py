"""The admin area end to end: `mailer web` as a real process, headless Chromium driven by
Playwright, a real SMTP server. An editor signs in, creates a list, imports the sample CSV, builds
a segment and sees its count, imports and previews the fixture issue, sends it to the segment and
watches the campaign finish. Screenshots of every step are kept under the test's tmp_path."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from pypdf import PdfReader
from sqlalchemy import select

from mailer.content.issues import parse_issue
from subscribers import segments
from subscribers.db import make_engine, session_factory
from subscribers.models import MailingList, Subscriber
from tests.browser import launch
from tests.conftest import BRIEFING, SUBSCRIBERS_CSV
from tests.smtpd import SMTPServer
from tests.webserver import free_port, mailer_env, mailer_web, run_cli

EDITOR = "editor@example.com"
PASSWORD = "a long editor passphrase"  # noqa: S105  (the test account's)
EXPRESSION = "tag:client and not tag:press"


def cli_import_report(tmp_path: Path) -> dict[str, int]:
    """What `mailer subscribers import` reports for the sample CSV (on a scratch database)."""
    scratch = tmp_path / "cli-scratch"
    scratch.mkdir()
    env = mailer_env(scratch, f"sqlite:///{scratch / 'cli.db'}", "outbox://./outbox", 1)
    for args in (("db", "upgrade"), ("list", "create", "check", "--name", "Check")):
        assert run_cli(env, *args, cwd=scratch).returncode == 0
    done = run_cli(env, "subscribers", "import", str(SUBSCRIBERS_CSV), "--list", "check")
    assert done.returncode == 0, done.stderr
    found = re.search(
        r"(\d+) rows read; (\d+) imported, (\d+) updated, (\d+) unchanged, "
        r"\d+ unsubscribed by the file's status column, (\d+) skipped, (\d+) suppressed, "
        r"(\d+) left unsubscribed, (\d+) duplicates? merged",
        done.stdout,
    )
    assert found, done.stdout
    keys = ("records", "imported", "updated", "unchanged", "skipped", "suppressed")
    return dict(zip(keys, map(int, found.groups()[:6]), strict=True)) | {
        "duplicates": int(found.group(8))
    }


def no_horizontal_overflow(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.slow
def test_an_editor_sends_the_fixture_issue_to_a_segment_from_the_browser(tmp_path: Path) -> None:
    expected_report = cli_import_report(tmp_path)
    shots = tmp_path / "screens"
    shots.mkdir()
    db_file = tmp_path / "mailer.db"
    content, _fmt = parse_issue(BRIEFING.read_text(encoding="utf-8"))
    with SMTPServer() as relay:
        port = free_port()
        env = mailer_env(tmp_path, f"sqlite:///{db_file}", relay.url, port)
        assert run_cli(env, "db", "upgrade", cwd=tmp_path).returncode == 0
        made = run_cli(
            env, "admin", "create-user", EDITOR, "--password-stdin", stdin=PASSWORD + "\n"
        )
        assert made.returncode == 0, made.stderr
        with (
            mailer_web(env, port, tmp_path / "web.log") as base,
            sync_playwright() as pw,
        ):
            browser = launch(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("dialog", lambda dialog: dialog.accept())
            step = iter(range(1, 100))

            def shot(name: str, *, full: bool = True) -> None:
                page.screenshot(path=str(shots / f"{next(step):02d}-{name}.png"), full_page=full)

            # Sign in: the admin area sends an anonymous visitor to the login page.
            page.goto(base + "/admin")
            expect(page).to_have_url(re.compile(r"/admin/login\?next=/admin$"))
            shot("login")
            page.fill("#email", EDITOR)
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
            expect(page.locator(".signout .who")).to_have_text(EDITOR)
            shot("dashboard")

            # A list, and the sample CSV imported into it with the CLI's report.
            page.get_by_role("navigation", name="Admin").get_by_role("link", name="Lists").click()
            page.fill("#slug", "briefing")
            page.fill("#name", "Security Chatter")
            page.get_by_role("button", name="Create list").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Security Chatter")
            page.set_input_files("#csv", str(SUBSCRIBERS_CSV))
            page.get_by_role("button", name="Import", exact=True).click()
            report = page.locator(".report")
            expect(report).to_be_visible()
            rows = {
                "records": "Rows read",
                "imported": "Imported",
                "updated": "Updated",
                "unchanged": "Unchanged",
                "skipped": "Skipped (bad rows)",
                "suppressed": "Suppressed (refused)",
                "duplicates": "Duplicates merged",
            }
            for key, label in rows.items():
                cell = report.locator("tr", has=page.locator(f"th:text-is('{label}')")).locator(
                    "td"
                )
                expect(cell).to_have_text(str(expected_report[key]))
            expect(report.get_by_text("unknown language 'xx'")).to_be_visible()
            shot("import-report")

            # A segment with a live count; a syntax error shows the caret message.
            page.get_by_role("link", name="Segments").first.click()
            expression = page.locator("#expression")
            expression.fill("tag:client and (")
            error = page.locator("[data-count-error]")
            expect(error).to_be_visible()
            expect(error).to_contain_text("column 17")
            expect(error).to_contain_text("^")
            shot("segment-error", full=False)
            expression.fill(EXPRESSION)
            engine = make_engine(f"sqlite:///{db_file}")
            with session_factory(engine)() as s:
                list_id = s.scalar(select(MailingList.id).where(MailingList.slug == "briefing"))
                assert list_id is not None
                segment_count = segments.count(s, list_id, EXPRESSION)
                segment_emails = {
                    e
                    for e in s.scalars(
                        select(Subscriber.email).where(
                            Subscriber.id.in_(
                                segments.matching_subscriber_ids(s, list_id, EXPRESSION)
                            )
                        )
                    )
                    if e
                }
            assert 0 < segment_count < expected_report["imported"]
            expect(page.locator("[data-count-output]")).to_have_text(str(segment_count))
            expect(error).to_be_hidden()
            page.fill("#seg-slug", "clients")
            shot("segment-count", full=False)
            page.get_by_role("button", name="Save segment").click()
            expect(page.get_by_role("status")).to_contain_text(
                f"Segment clients saved: {segment_count} recipients now."
            )
            shot("segments")

            # The fixture issue, uploaded and previewed (HTML in a sandboxed frame, and the PDF).
            page.get_by_role("navigation", name="Admin").get_by_role("link", name="Issues").click()
            page.set_input_files("#issue-file", str(BRIEFING))
            page.get_by_role("button", name="Import", exact=True).click()
            expect(page.get_by_role("heading", level=1)).to_have_text(content.title)
            frame = page.frame_locator("iframe.preview")
            for item in content.items:
                expect(frame.get_by_text(item.headline, exact=False).first).to_be_visible()
            pdf_link = page.locator("[data-pdf-link]")
            expect(pdf_link).to_contain_text(f"{content.pdf_name}.pdf")
            pdf = page.request.get(base + str(pdf_link.get_attribute("href")))
            assert pdf.status == 200
            assert pdf.headers["content-type"] == "application/pdf"
            pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
            assert content.items[0].headline.split()[0] in pdf_text
            shot("issue-preview")

            # Send to the segment: a confirmation step shows the recipient count first.
            page.select_option("#audience", "briefing/clients")
            page.get_by_role("button", name="Review and send…").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the send")
            expect(page.locator("[data-recipients]")).to_have_text(str(segment_count))
            assert relay.sink.received == []  # nothing goes out before the confirmation
            shot("confirm")
            page.get_by_role("button", name=f"Send to {segment_count} recipients").click()
            expect(page).to_have_url(re.compile(r"/admin/campaigns/\d+$"))
            shot("campaign-started", full=False)
            # The page polls its progress and reloads when the status changes.
            expect(page.locator("[data-field=status-badge]")).to_have_text("done", timeout=90_000)
            expect(page.locator("[data-count=sent]")).to_have_text(str(segment_count))
            expect(page.locator("[data-field=sent]")).to_have_text(str(segment_count))
            shot("campaign-done")

            received = relay.sink.wait_for(segment_count, timeout=10)
            assert len(received) == segment_count
            assert sorted(r.rcpt_tos[0] for r in received) == sorted(segment_emails)
            assert all(r.message["Subject"] for r in received)

            # Usable on a phone: no sideways scrolling on the main pages at 375 px.
            page.set_viewport_size({"width": 375, "height": 812})
            for path in ("/admin", "/admin/lists/briefing", "/admin/issues", page.url):
                page.goto(path if path.startswith("http") else base + path)
                assert no_horizontal_overflow(page), path
            shot("campaign-375")
            page.goto(base + "/admin/lists/briefing")
            shot("list-375")
            browser.close()
        engine.dispose()
    log = (tmp_path / "web.log").read_text()
    assert "Traceback" not in log, log[-3000:]
