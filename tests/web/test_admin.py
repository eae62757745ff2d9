"""The admin pages in-process (FastAPI TestClient) on SQLite and PostgreSQL: what an editor sees and
what each form changes — subscribers, CSV import report, segments with a live count, issue import
and preview, test sends, the send confirmation, scheduling, and steering campaigns."""

from __future__ import annotations

import html
import re
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import lxml.html
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.content.issues import get_issue
from mailer.sending import campaigns
from mailer.sending.models import Campaign, CampaignStatus
from mailer.settings import Settings
from mailer.web.app import create_app
from subscribers import segments
from subscribers.errors import SegmentSyntaxError
from subscribers.lifecycle import get_subscriber
from subscribers.models import Segment, Subscription, SubscriptionStatus, SuppressionReason
from subscribers.suppression import add_suppression
from tests.builders import Newsroom, cleared
from tests.conftest import BRIEFING
from tests.smtpd import SMTPServer
from tests.web_support import EDITOR_PASSWORD

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

# A browser sends its page's Origin with every form post (the admin's same-origin check).
SITE = "https://news.example.com"
BROWSER = {"Origin": SITE}

PASSWORD = EDITOR_PASSWORD


class Editor:
    """A signed-in browser: GETs pages, posts forms with the page's CSRF token."""

    def __init__(self, client: TestClient):
        self.client = client
        self.csrf = ""

    def get(self, path: str, **kw):  # type: ignore[no-untyped-def]
        response = self.client.get(path, **kw)
        found = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, path: str, data: dict[str, str] | None = None, **kw):  # type: ignore[no-untyped-def]
        return self.client.post(path, data={**(data or {}), "csrf_token": self.csrf}, **kw)


@contextmanager
def signed_in(session: Session) -> Iterator[Editor]:
    """An editor account and a browser signed in with it (for tests of other modules' pages)."""
    accounts.create_user(session, "editor@example.com", PASSWORD)
    session.commit()
    with TestClient(create_app(), base_url=SITE, headers=BROWSER) as client:
        editor = Editor(client)
        editor.get("/admin/login")
        editor.post("/admin/login", {"email": "editor@example.com", "password": PASSWORD})
        yield editor


@pytest.fixture
def editor(room: Newsroom) -> Iterator[Editor]:
    with TestClient(create_app(), base_url=SITE, headers=BROWSER) as client:
        ed = Editor(client)
        ed.get("/admin/login")
        done = ed.post(
            "/admin/login",
            {"email": "editor@example.com", "password": PASSWORD, "next": "/admin"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        ed.get("/admin")
        yield ed


def text_of(html: str) -> str:
    """The page's text as a reader sees it (a <wbr> break opportunity adds no space)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.replace("<wbr>", "")))


def wait_until_final(editor: Editor, campaign_id: int, timeout: float = 60) -> dict:  # type: ignore[type-arg]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        progress = editor.client.get(f"/admin/campaigns/{campaign_id}/progress.json").json()
        if progress["final"]:
            return progress
        time.sleep(0.2)
    raise AssertionError(f"campaign {campaign_id} did not finish: {progress}")


def test_lists_page_shows_counts_and_creating_a_list_reports_a_bad_slug(
    editor: Editor, room: Newsroom
) -> None:
    page = text_of(editor.get("/admin/lists").text)
    assert (
        f"Security Chatter briefing public {room.report.imported} {room.report.imported} 0 0"
        in page
    )
    bad = editor.post("/admin/lists", {"slug": "Bad Slug", "name": "X"})
    assert bad.status_code == 422
    assert "invalid list slug &#39;Bad Slug&#39;" in bad.text
    assert 'value="Bad Slug"' in bad.text  # what was typed is kept
    taken = editor.post("/admin/lists", {"slug": "briefing", "name": "Again"})
    assert taken.status_code == 422 and "exists already" in taken.text


def test_subscribers_search_add_edit_and_unsubscribe(
    editor: Editor, session: Session, room: Newsroom, settings: Settings
) -> None:
    found = text_of(editor.get("/admin/lists/briefing", params={"q": "banco del"}).text)
    assert "Banco del Norte" in found and "Acme Mining" not in found
    added = editor.post(
        "/admin/lists/briefing/subscribers",
        {"email": "Nueva@Example.COM", "name": "Nueva Persona", "tags": "client; vip"},
    )
    assert added.status_code == 200
    assert "nueva@example.com added to the list." in added.text
    sub = get_subscriber(session, "nueva@example.com")
    assert sub is not None and sub.tags == ["client", "vip"] and sub.consent_method == "admin"
    assert sub.consent_source == "admin: editor@example.com"

    add_suppression(session, "blocked@example.com", settings.secret(), SuppressionReason.MANUAL)
    session.commit()
    refused = editor.post("/admin/lists/briefing/subscribers", {"email": "blocked@example.com"})
    assert refused.status_code == 422 and "suppression list" in refused.text
    assert get_subscriber(session, "blocked@example.com") is None

    page = editor.get(f"/admin/subscribers/{sub.id}")
    assert "Nueva Persona" in page.text
    bad = editor.post(f"/admin/subscribers/{sub.id}", {"name": "N", "language": "xx"})
    assert bad.status_code == 422 and "unknown language" in bad.text
    saved = editor.post(
        f"/admin/subscribers/{sub.id}",
        {"name": "Nueva P.", "company": "Acme", "language": "es", "tags": "press"},
    )
    assert "Changes saved." in saved.text
    session.expire_all()
    assert (sub.name, sub.company, sub.language, sub.tags) == ("Nueva P.", "Acme", "es", ["press"])
    # Hostile input: a right-to-left override and zero-width characters, typed into the form.
    hidden = editor.post(
        f"/admin/subscribers/{sub.id}",
        {"name": "Nueva\u202e P.\u200b", "company": "\ufeffAcme", "tags": "pre\u200ess"},
    )
    assert "Changes saved." in hidden.text
    session.expire_all()
    assert (sub.name, sub.company, sub.tags) == ("Nueva P.", "Acme", ["press"])

    gone = editor.post(
        f"/admin/subscribers/{sub.id}/unsubscribe",
        {"list": "briefing", "back": "/admin/lists/briefing"},
    )
    assert "nueva@example.com unsubscribed from briefing." in gone.text
    session.expire_all()
    status = session.scalar(select(Subscription.status).where(Subscription.subscriber_id == sub.id))
    assert status == SubscriptionStatus.UNSUBSCRIBED
    unsubscribed = text_of(editor.get("/admin/lists/briefing?status=unsubscribed").text)
    assert "1 subscriber match" in unsubscribed and "nueva@example.com" in unsubscribed


def test_the_import_report_names_whom_the_files_status_column_unsubscribed(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    editor.get("/admin/lists/briefing")
    people = b"email,name\nzed@zed.example,Zed\n"
    editor.client.post(
        "/admin/lists/briefing/import",
        data={"csrf_token": editor.csrf},
        files={"file": ("people.csv", people, "text/csv")},
    )
    other_list = b"email,name,status\nzed@zed.example,Zed,unsubscribed\n"
    response = editor.client.post(
        "/admin/lists/briefing/import",
        data={"csrf_token": editor.csrf},
        files={"file": ("clients-export.csv", other_list, "text/csv")},
    )
    assert response.status_code == 200
    shown = html.unescape(text_of(response.text))
    assert "Unsubscribed by the file's status column 1" in shown
    assert (
        "row 2: zed@zed.example — active on briefing: unsubscribed by the file's status column"
    ) in shown


def test_an_uploaded_windows_1252_csv_imports_and_the_report_names_the_lines_read_so(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    editor.get("/admin/lists/briefing")
    response = editor.client.post(
        "/admin/lists/briefing/import",
        data={"csrf_token": editor.csrf},
        files={
            "file": ("excel.csv", "email,name\nzoe@zed.example,Zoë\n".encode("cp1252"), "text/csv")
        },
    )
    assert response.status_code == 200
    shown = html.unescape(text_of(response.text))
    assert "Not UTF-8, read as Windows-1252" in shown and "line 2." in shown
    zoe = get_subscriber(session, "zoe@zed.example")
    assert zoe is not None and zoe.name == "Zoë"


def test_a_csv_that_cannot_be_imported_is_reported_with_its_name_and_changes_nothing(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    editor.get("/admin/lists/briefing")
    response = editor.client.post(
        "/admin/lists/briefing/import",
        data={"csrf_token": editor.csrf},
        files={"file": ("people.csv", b"name,company\nAna,Acme\n", "text/csv")},
    )
    assert response.status_code == 422
    assert "people.csv" in response.text and "email" in response.text
    assert get_subscriber(session, "ana@example.com") is None
    outlook = editor.client.post(
        "/admin/lists/briefing/import",
        data={"csrf_token": editor.csrf},
        files={"file": ("outlook.csv", b"Name,Mailbox\nAna,ana@example.com\n", "text/csv")},
    )
    assert outlook.status_code == 422
    assert (
        "the header has no column named 'email' (found: Name, Mailbox); rename the column "
        "holding the addresses to 'email' (probably 'Mailbox')"
    ) in html.unescape(text_of(outlook.text))
    assert get_subscriber(session, "ana@example.com") is None


def test_segment_live_count_matches_the_domain_count_and_errors_point_at_the_column(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    expr = 'tag:client and (lang:es or company:"Banco del Norte")'
    live = editor.client.get("/admin/lists/briefing/segments/count", params={"expression": expr})
    assert live.json()["count"] == segments.count(session, room.list_id, expr) > 0
    everyone = editor.client.get("/admin/lists/briefing/segments/count", params={"expression": ""})
    assert everyone.json()["count"] == room.report.imported
    broken = editor.client.get(
        "/admin/lists/briefing/segments/count", params={"expression": "tag:client or or"}
    )
    assert broken.status_code == 422
    with pytest.raises(SegmentSyntaxError) as expected:
        segments.parse("tag:client or or")
    assert broken.json() == {"error": str(expected.value), "column": expected.value.column}
    caret_line = broken.json()["error"].splitlines()[2]
    assert caret_line.index("^") == expected.value.column - 1

    # A mistake at the end of a long expression: a short excerpt, the real column.
    long_expr = "tag:client or " * 141 + "nto"
    long_broken = editor.client.get(
        "/admin/lists/briefing/segments/count", params={"expression": long_expr}
    )
    assert long_broken.json()["column"] == long_expr.index("nto") + 1
    shown, under = long_broken.json()["error"].splitlines()[1:3]
    assert len(shown) <= 80 and shown[under.index("^") :].startswith("nto")
    form = editor.post("/admin/lists/briefing/segments", {"slug": "y", "expression": long_expr})
    assert form.status_code == 422 and f"column {long_expr.index('nto') + 1}" in form.text
    assert form.text.count(long_expr) == 1  # in the field, to edit; not in the message

    refused = editor.post("/admin/lists/briefing/segments", {"slug": "x", "expression": "tag:"})
    assert refused.status_code == 422 and "^" in refused.text
    saved = editor.post("/admin/lists/briefing/segments", {"slug": "es", "expression": "lang:es"})
    n = segments.count(session, room.list_id, "lang:es")
    assert f"Segment es saved: {n} recipients now." in saved.text
    assert session.scalar(select(Segment.expression).where(Segment.slug == "es")) == "lang:es"


def test_issue_import_by_paste_reports_the_line_and_a_reimport_updates_in_place(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    broken = editor.post("/admin/issues", {"text": "---\ntitle: [unclosed\n---\n"})
    assert broken.status_code == 422
    assert "pasted text" in broken.text
    text = BRIEFING.read_text(encoding="utf-8")
    first = get_issue(session, room.issue_slug).title
    changed = text.replace("Sheinbaum takes a new direction", "Sheinbaum charts a new course", 1)
    response = editor.post("/admin/issues", {"text": changed})
    assert "Issue updated: 6 items." in response.text
    session.expire_all()
    issue = get_issue(session, room.issue_slug)
    assert issue.title == first
    assert issue.items[0].headline.startswith("Sheinbaum charts a new course")


def test_an_uploaded_issue_nesting_its_front_matter_100000_deep_is_refused_at_its_line(
    editor: Editor, room: Newsroom
) -> None:
    """Hostile input that crashed the YAML composer (RecursionError: a 500, the connection
    reset): the page names the file and the line, as for any import error."""
    from tests.content.test_hostile_issues import NESTED_FRONT_MATTER, with_front_matter

    nested = NESTED_FRONT_MATTER["flow-lists"]
    text = with_front_matter("summary: >-", nested + "\nsummary: >-")
    line = text.split("\n").index(nested) + 1
    editor.get("/admin/issues")
    upload = ("deep.md", text.encode(), "text/markdown")
    refused = editor.client.post(
        "/admin/issues", data={"csrf_token": editor.csrf}, files={"file": upload}
    )
    assert refused.status_code == 422
    assert f"deep.md:{line}: the front matter nests lists or mappings more than" in refused.text


def test_an_uploaded_issue_in_utf16_imports_and_a_code_page_file_is_named(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    """Word's "Unicode" (UTF-16 with its byte-order mark) imports; a Windows-1252 file is
    refused with the line, the column and what to do."""
    text = BRIEFING.read_text(encoding="utf-8")
    editor.get("/admin/issues")
    unicode_file = ("briefing.txt", text.encode("utf-16"), "text/plain")
    done = editor.client.post(
        "/admin/issues", data={"csrf_token": editor.csrf}, files={"file": unicode_file}
    )
    assert done.status_code == 200 and "Issue updated: 6 items." in done.text
    ansi = ("ansi.txt", text.encode("cp1252", errors="replace"), "text/plain")
    refused = editor.client.post(
        "/admin/issues", data={"csrf_token": editor.csrf}, files={"file": ansi}
    )
    assert refused.status_code == 422
    assert "ansi.txt:" in refused.text and "is not UTF-8: the file looks like Windows-1252" in (
        refused.text
    )
    assert "save it as UTF-8 and upload it again" in refused.text


def test_a_pasted_issue_over_the_form_parsers_limit_is_a_page_saying_upload_it(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    """A text field over starlette's 1 MB part limit (sent as multipart, as a browser does with
    the upload form) used to answer `{"detail": "Part exceeded maximum size of 1024KB."}`."""
    editor.get("/admin/issues")
    before = get_issue(session, room.issue_slug).updated_at
    huge = editor.client.post(
        "/admin/issues",
        data={"csrf_token": editor.csrf, "text": "x" * 1_100_000},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert huge.status_code == 400
    assert huge.headers["content-type"].startswith("text/html")
    assert "upload a longer issue as a file instead" in huge.text
    assert "Nothing was changed." in huge.text
    session.expire_all()
    assert get_issue(session, room.issue_slug).updated_at == before


def test_preview_html_is_sandboxed_and_the_pdf_is_the_edition(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    issue = get_issue(session, room.issue_slug)
    page = editor.get(f"/admin/issues/{room.issue_slug}")
    assert "sandbox" in page.text and "preview.html" in page.text
    html = editor.client.get(f"/admin/issues/{room.issue_slug}/preview.html")
    assert html.status_code == 200
    assert "sandbox" in html.headers["content-security-policy"]
    assert html.headers["x-frame-options"] == "SAMEORIGIN"
    for item in issue.items:
        assert item.headline.split("“")[0][:40] in html.text.replace("&#34;", '"')
    pdf = editor.client.get(f"/admin/issues/{room.issue_slug}/preview.pdf")
    assert pdf.content.startswith(b"%PDF-")
    assert f'filename="{issue.pdf_name}.pdf"' in pdf.headers["content-disposition"]


def test_a_pdf_named_in_spanish_downloads_under_its_own_name(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    """The browser saves "Panorama-Año-040925.pdf", not the name without its ñ."""
    issue = get_issue(session, room.issue_slug)
    issue.pdf_name = "Panorama-Año-040925"
    issue.updated_at = issue.updated_at.replace(year=issue.updated_at.year + 1)  # a new preview
    session.commit()
    pdf = editor.client.get(f"/admin/issues/{room.issue_slug}/preview.pdf")
    assert pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-disposition"] == (
        'inline; filename="Panorama-A_o-040925.pdf"; '
        "filename*=UTF-8''Panorama-A%C3%B1o-040925.pdf"
    )


def test_a_test_copy_goes_only_to_the_named_address(
    editor: Editor, session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    editor.get(f"/admin/issues/{room.issue_slug}")
    done = editor.post(f"/admin/issues/{room.issue_slug}/test", {"addresses": "desk@example.com"})
    assert "Test copy sent to desk@example.com." in done.text
    received = relay.sink.wait_for(1)
    assert [r.rcpt_tos for r in received] == [["desk@example.com"]]
    assert received[0].message["Subject"].startswith("[TEST]")
    assert session.scalar(select(Campaign.id)) is None
    bad = editor.post(f"/admin/issues/{room.issue_slug}/test", {"addresses": "not an address"})
    assert bad.status_code == 422


def test_a_test_copy_for_a_private_list_is_what_its_readers_get(
    editor: Editor, session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    """The form offers each list, a private one marked; its copy links to no web edition, as the
    list's campaign will send it, while the public list's copy keeps "View in browser"."""
    from subscribers.lists import create_list

    create_list(session, "clients", "Clients only", private=True)
    session.commit()
    page = editor.get(f"/admin/issues/{room.issue_slug}")
    assert "Clients only (private: no web edition)" in page.text
    for as_list in ("clients", "briefing"):
        done = editor.post(
            f"/admin/issues/{room.issue_slug}/test",
            {"addresses": f"{as_list}-desk@example.com", "as_list": as_list},
        )
        assert f"Test copy sent to {as_list}-desk@example.com." in done.text
    private, public = relay.sink.wait_for(2)
    assert private.message["List-Archive"] is None
    assert "View in browser" not in private.message.get_body(("plain",)).get_content()
    assert public.message["List-Archive"] is not None
    assert "View in browser" in public.message.get_body(("plain",)).get_content()


def test_send_asks_for_confirmation_with_the_count_then_sends_to_the_segment(
    editor: Editor, session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    session.add(Segment(list_id=room.list_id, slug="clients", expression="tag:client"))
    session.commit()
    expected = segments.count(session, room.list_id, "tag:client")
    editor.get(f"/admin/issues/{room.issue_slug}")
    form = {"audience": "briefing/clients"}
    review = editor.post(f"/admin/issues/{room.issue_slug}/send", form)
    assert f"data-recipients>{expected}<" in review.text
    assert session.scalar(select(Campaign.id)) is None  # nothing created before confirming
    sent = editor.post(
        f"/admin/issues/{room.issue_slug}/send", {**form, "confirm": "yes"}, follow_redirects=False
    )
    assert sent.status_code == 303
    campaign_id = int(sent.headers["location"].rsplit("/", 1)[1])
    progress = wait_until_final(editor, campaign_id)
    assert progress["status"] == "done"
    assert progress["counts"]["sent"] == expected == len(relay.sink.received)
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None and campaign.created_by == "admin: editor@example.com"
    page = text_of(editor.get(f"/admin/campaigns/{campaign_id}").text)
    assert "DONE" in page.upper() and f"{expected} / {expected}" in page
    # Sending again reaches nobody new: everyone already received this issue.
    again = editor.post(f"/admin/issues/{room.issue_slug}/send", form)
    assert again.status_code == 422 and "nobody to send to" in again.text
    assert f"all {expected} active subscribers of list" in again.text
    # …and the page says how to send it again with the form's own checkbox, not a CLI flag.
    assert (
        "already received this issue; ticking “Also send to people who already received this "
        "issue” sends it again; no campaign created" in text_of(again.text)
    )
    assert "--force-resend" not in again.text


def test_a_scheduled_send_waits_and_can_be_paused_resumed_and_cancelled(
    editor: Editor, session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    editor.get(f"/admin/issues/{room.issue_slug}")
    form = {"audience": "briefing", "at": "2099-01-01T09:00", "confirm": "yes"}
    sent = editor.post(f"/admin/issues/{room.issue_slug}/send", form, follow_redirects=False)
    campaign_id = int(sent.headers["location"].rsplit("/", 1)[1])
    page = editor.get(f"/admin/campaigns/{campaign_id}")
    shown = text_of(page.text)
    assert "Scheduled for 2099-01-01 09:00" in shown and "Scheduled scheduled" not in shown
    # Nothing snapshotted yet: not "0 / 0 sent", but whom it was counted for.
    assert f"not started · {room.report.imported} recipients when counted" in shown
    assert "0 / 0 sent" not in shown
    listed = text_of(editor.get("/admin/campaigns").text)
    assert f"not started · {room.report.imported} recipients when counted" in listed
    # Sending it to the list again: the confirmation names the campaign already due.
    confirm = editor.post(
        f"/admin/issues/{room.issue_slug}/send", {"audience": "briefing", "at": "2099-01-02T09:00"}
    )
    note = lxml.html.fromstring(confirm.text).xpath("//*[@data-under-way]")
    assert note and f"Campaign {campaign_id} is already sending or due to send this issue" in (
        " ".join(note[0].text_content().split())
    )
    assert relay.sink.received == []

    def status() -> CampaignStatus:
        session.expire_all()
        return campaigns.get(session, campaign_id).status

    assert status() == CampaignStatus.SCHEDULED
    editor.post(f"/admin/campaigns/{campaign_id}/pause")
    assert status() == CampaignStatus.PAUSED
    wrong = editor.post(f"/admin/campaigns/{campaign_id}/pause")
    assert "only a sending or scheduled campaign can be paused" in wrong.text
    editor.post(f"/admin/campaigns/{campaign_id}/cancel")
    assert status() == CampaignStatus.CANCELLED
    # Cancelled before it started: nothing rendered, so no links, and the page says why.
    never = text_of(editor.get(f"/admin/campaigns/{campaign_id}").text)
    assert "the campaign never started" in never and "not tracked" not in never
    late = editor.post(f"/admin/campaigns/{campaign_id}/resume")
    assert "only a paused campaign can be resumed" in late.text
    assert status() == CampaignStatus.CANCELLED
    assert relay.sink.received == []


def test_retry_failed_sends_the_refused_messages_again(
    editor: Editor, session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    target = "valeria.gonzalez0@example.com"
    relay.sink.rules[target] = ["550 5.7.1 policy"]
    editor.get(f"/admin/issues/{room.issue_slug}")
    sent = editor.post(
        f"/admin/issues/{room.issue_slug}/send",
        {"audience": "briefing", "where": f"domain:{target.split('@')[1]}", "confirm": "yes"},
        follow_redirects=False,
    )
    campaign_id = int(sent.headers["location"].rsplit("/", 1)[1])
    first = wait_until_final(editor, campaign_id)
    assert first["counts"]["failed"] == 1
    page = editor.get(f"/admin/campaigns/{campaign_id}")
    assert "Retry 1 failed" in page.text and "550 5.7.1 policy" in page.text
    relay.sink.rules[target] = ["250 OK"]
    retried = editor.post(f"/admin/campaigns/{campaign_id}/retry-failed")
    assert "1 failed delivery queued again." in retried.text  # not "1 failed deliveries"
    second = wait_until_final(editor, campaign_id)
    assert second["counts"]["failed"] == 0
    assert len(relay.sink.to(target)) == 1
    again = editor.post(f"/admin/campaigns/{campaign_id}/retry-failed")
    assert "No failed deliveries to retry; nothing was queued again." in again.text


def test_dashboard_shows_recent_campaigns_with_progress(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    issue = get_issue(session, room.issue_slug)
    audience = campaigns.resolve_audience(session, issue, "briefing")
    campaigns.create(session, issue, cleared(audience))
    session.commit()
    page = text_of(editor.get("/admin").text)
    assert f"{room.report.imported} mailable subscribers" in page
    assert issue.title in page and "PLANNED" in page.upper()


def test_the_dashboard_and_a_list_count_whom_a_send_reaches_not_every_active_subscription(
    editor: Editor, session: Session, room: Newsroom, settings: Settings
) -> None:
    """A hard-bounced or suppressed reader keeps their active subscription but is mailed no
    more: the dashboard said "109 active subscribers" and a list "29 active" where a send
    reached 27. The dashboard counts the mailable; a list says both."""
    imported = room.report.imported
    first = session.scalars(
        select(Subscription).where(Subscription.status == SubscriptionStatus.ACTIVE)
    ).first()
    assert first is not None
    add_suppression(session, first.subscriber.email, settings.secret(), SuppressionReason.MANUAL)
    session.commit()
    dashboard = text_of(editor.get("/admin").text)
    assert f"{imported - 1} mailable subscribers" in dashboard, re.findall(
        r"\d+ mailable", dashboard
    )
    page = text_of(editor.get("/admin/lists/briefing").text)
    assert f"{imported} active ( {imported - 1} mailable )" in page
    # The import form's help says what the import reads: tags split at any of ; , |.
    assert "tags (several in one cell, split at a semicolon, a comma or a vertical bar)" in page


def test_inquiries_and_bounces_pages_list_what_inbound_mail_recorded(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    from mailer.inbound import models

    raw = models.InboundMessage(
        rcpt_to="reply+x@news.example.com", address_kind="reply", size=3, raw=b"..."
    )
    bounce_raw = models.InboundMessage(
        rcpt_to="bounces+y@news.example.com", address_kind="bounces", size=3, raw=b"..."
    )
    soft_raw = models.InboundMessage(
        rcpt_to="bounces+z@news.example.com", address_kind="bounces", size=3, raw=b"..."
    )
    delayed_raw = models.InboundMessage(
        rcpt_to="bounces+w@news.example.com", address_kind="bounces", size=3, raw=b"..."
    )
    session.add_all([raw, bounce_raw, soft_raw, delayed_raw])
    session.flush()
    session.add(
        models.Inquiry(
            inbound_message_id=raw.id,
            issue_id=room.issue_id,
            client_email="cliente@example.com",
            client_name="Cliente <b>Uno</b>",
            subject="Pregunta sobre la Guardia Nacional",
            forward_message_id="<fwd-1@news.example.com>",
            status=models.InquiryStatus.DEFERRED,
        )
    )
    session.add(
        models.BounceEvent(
            inbound_message_id=bounce_raw.id,
            kind=models.BounceKind.HARD,
            status="5.1.1",
            recipient="gone@example.org",
            diagnostic="550 5.1.1 user unknown",
        )
    )
    session.add(
        models.BounceEvent(
            inbound_message_id=soft_raw.id,
            kind=models.BounceKind.SOFT,
            status="4.2.2",
            recipient="later@example.org",
            diagnostic="452 4.2.2 mailbox full",
        )
    )
    session.add(  # a "still trying" warning: shown as what it is, counted as no bounce
        models.BounceEvent(
            inbound_message_id=delayed_raw.id,
            kind=models.BounceKind.SOFT,
            action="delayed",
            status="4.4.7",
            recipient="slow@example.org",
            diagnostic="delivery delayed: connection timed out",
        )
    )
    session.commit()
    inquiries = editor.get("/admin/inquiries").text
    assert "Pregunta sobre la Guardia Nacional" in inquiries
    assert "Cliente &lt;b&gt;Uno&lt;/b&gt;" in inquiries  # escaped, never markup
    dashboard = text_of(editor.get("/admin").text)
    assert "Inquiries waiting" in dashboard and "Pregunta sobre la Guardia Nacional" in dashboard
    page = lxml.html.document_fromstring(editor.get("/admin/bounces").text)
    rows = {
        " ".join(row.xpath("string(td[2])").split()): [
            " ".join(row.xpath(f"string(td[{n}])").split()).lower() for n in (3, 4)
        ]
        for row in page.xpath("//table//tbody/tr")
    }
    assert rows == {
        "gone@example.org": ["hard", "5.1.1"],
        "later@example.org": ["soft", "4.2.2"],
        "slow@example.org": ["delayed", "4.4.7"],
    }


def test_the_bounces_page_shows_complaints_and_failed_inbound_messages_with_their_error(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    from mailer.inbound import models

    session.add_all(
        [
            models.InboundMessage(
                rcpt_to="bounces+c@news.example.com",
                address_kind="bounces",
                size=3,
                raw=b"...",
                kind=models.InboundKind.COMPLAINT,
                status=models.InboundStatus.DONE,
                reason="feedback report (abuse) about reader@example.com",
                outcome="complaint (abuse): reader@example.com marked complained and suppressed",
            ),
            models.InboundMessage(
                rcpt_to="reply+d@news.example.com",
                address_kind="reply",
                size=3,
                raw=b"...",
                subject="deep",
                status=models.InboundStatus.FAILED,
                attempts=1,
                outcome="cannot be read safely: the message has 1500 nested multipart parts",
            ),
        ]
    )
    session.commit()
    page = text_of(editor.get("/admin/bounces").text)
    assert "marked complained and suppressed" in page
    assert "Failed inbound messages" in page and "1500 nested multipart parts" in page


def test_the_schedule_field_names_the_zone_it_is_read_in(
    editor: Editor, room: Newsroom, relay: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The send form's time is read in MAILER_TIMEZONE, not the server's zone: the label says
    which, and the campaign is scheduled at that time in that zone."""
    from mailer.settings import reset_settings

    monkeypatch.setenv("MAILER_TIMEZONE", "America/Mexico_City")  # CST all year since 2022
    reset_settings()
    page = editor.get(f"/admin/issues/{room.issue_slug}")
    label = lxml.html.fromstring(page.text).xpath("//label[@for='at']")[0].text_content()
    assert (
        label
        == "Schedule (optional; time in America/Mexico_City (CST, UTC-06:00), MAILER_TIMEZONE)"
    )
    form = {"audience": "briefing", "at": "2099-01-01T09:00", "confirm": "yes"}
    sent = editor.post(f"/admin/issues/{room.issue_slug}/send", form, follow_redirects=False)
    campaign_id = int(sent.headers["location"].rsplit("/", 1)[1])
    shown = text_of(editor.get(f"/admin/campaigns/{campaign_id}").text)
    assert "Scheduled for 2099-01-01 09:00 CST (2099-01-01 15:00 UTC)" in shown
    assert relay.sink.received == []


def test_an_issue_of_the_same_date_with_another_title_needs_the_replace_box(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    markdown = Path(__file__).parent.parent / "data" / "issues" / "security-chatter.md"
    text = markdown.read_text(encoding="utf-8")
    first = get_issue(session, room.issue_slug).title
    other = text.replace(f"title: {first}", "title: A totally different issue", 1)
    assert other != text
    refused = editor.post("/admin/issues", {"text": other})
    assert refused.status_code == 422
    assert "A totally different issue" in refused.text and "Replace the issue" in refused.text
    session.expire_all()
    assert get_issue(session, room.issue_slug).title == first
    done = editor.post("/admin/issues", {"text": other, "replace": "true"})
    assert "Issue updated" in done.text
    session.expire_all()
    assert get_issue(session, room.issue_slug).title == "A totally different issue"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [("name", "Eve\r\nBcc: victim@example.org", "U+000D"), ("company", "Acme\tInc", "U+0009")],
)
def test_a_line_break_typed_into_a_subscriber_form_is_refused_as_the_api_refuses_it(
    editor: Editor, session: Session, room: Newsroom, field: str, value: str, code: str
) -> None:
    """The admin's add and edit forms folded a posted "Eve\\r\\nBcc: …" into "Eve Bcc: …"
    without a word, where the API refuses it: both forms refuse it with a 422 naming the field
    and the character, keep what was typed, and store nothing."""
    label = {"name": "“Name”", "company": "“Company”"}[field]
    added = editor.post(
        "/admin/lists/briefing/subscribers", {"email": "eve@example.org", field: value}
    )
    assert added.status_code == 422
    said = html.unescape(text_of(added.text))
    assert f"{label} holds the control character {code}" in said, said
    assert get_subscriber(session, "eve@example.org") is None
    sub = get_subscriber(session, "ana.garcia34@example.mx")
    assert sub is not None
    before = (sub.name, sub.company)
    edited = editor.post(f"/admin/subscribers/{sub.id}", {field: value})
    assert edited.status_code == 422
    assert f"{label} holds the control character {code}" in html.unescape(text_of(edited.text))
    session.expire_all()
    assert (sub.name, sub.company) == before
