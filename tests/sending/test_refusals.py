"""Why mail is not out, said where the editor looks: a relay that is down (deferred, grouped by
its reply in `campaign status`, `mailer report` and the admin's campaign page) and a worker whose
settings cannot send (the campaign pauses naming the variable). A relay refusing our login
(535 5.7.8) is in test_campaigns.py (`auth_relay`).

In-process (the embedded default, a real aiosmtpd relay), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import warnings

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer import accounts
from mailer.cli import app
from mailer.content.issues import get_issue
from mailer.sending import campaigns, tasks
from mailer.sending.models import CampaignStatus
from mailer.settings import Settings, reset_settings
from mailer.web.app import create_app
from tests.builders import Newsroom, cleared, newsroom
from tests.smtpd import SMTPServer, free_port

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

runner = CliRunner()
PASSWORD = "correct horse battery"  # noqa: S105


@pytest.fixture
def room(session: Session, settings: Settings) -> Newsroom:
    return newsroom(session, settings)


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def admin_page(session: Session, path: str) -> str:
    """The page as a signed-in editor gets it, tags stripped."""
    accounts.create_user(session, "editor@example.com", PASSWORD)
    session.commit()
    with TestClient(create_app(), base_url="https://news.example.com") as client:
        login = client.get("/admin/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login)
        assert csrf is not None
        done = client.post(
            "/admin/login",
            data={"email": "editor@example.com", "password": PASSWORD, "next": "/admin",
                  "csrf_token": csrf.group(1)},
            headers={"Origin": "https://news.example.com"},  # a browser's same-origin post
            follow_redirects=False,
        )  # fmt: skip
        assert done.status_code == 303
        html = client.get(path).text
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_relay_that_is_down_is_named_with_its_count_everywhere(
    session: Session, room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("MAILER_SMTP_URL", f"smtp://127.0.0.1:{port}")
    reset_settings()
    tasks.reset_caches()
    n = room.report.imported
    out = cli("send", room.issue_slug, "--list", room.list_slug, "--yes", "--no-wait")
    assert "campaign 1" in out
    refusal = f"deferred {n} — cannot reach 127.0.0.1:{port}: [Errno 111] Connection refused"
    status = cli("campaign", "status", "1")
    assert "campaign 1: sending" in status and refusal in status
    report = cli("report", "1")
    assert "not delivered, by last reply:" in report and refusal in report
    page = admin_page(session, "/admin/campaigns/1")
    assert (
        f"Deferrals by SMTP reply Count Reply {n} cannot reach 127.0.0.1:{port}: [Errno 111]"
        in page
    )


def test_a_worker_whose_settings_cannot_send_pauses_the_campaign_naming_the_variable(
    session: Session, room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The door checked the sender's settings; a worker configured differently (another machine,
    a key file removed since) pauses instead of retrying for ever."""
    with SMTPServer() as relay:
        monkeypatch.setenv("MAILER_SMTP_URL", relay.url)
        reset_settings()
        tasks.reset_caches()
        audience = campaigns.resolve_audience(
            session, get_issue(session, room.issue_slug), room.list_slug
        )
        cid = campaigns.create(session, get_issue(session, room.issue_slug), cleared(audience)).id
        session.commit()
        monkeypatch.setenv("MAILER_DKIM_SELECTOR", "brief")  # half configured on this worker
        reset_settings()
        tasks.reset_caches()
        tasks.start_campaign(cid)
        session.expire_all()
        campaign = campaigns.get(session, cid)
        assert campaign.status == CampaignStatus.PAUSED
        assert campaign.status_reason.startswith("paused: cannot send: DKIM is half configured")
        assert "MAILER_DKIM_KEY_FILE, MAILER_DKIM_DOMAIN" in campaign.status_reason
        assert relay.sink.received == []
        status = cli("campaign", "status", str(cid))
        assert "MAILER_DKIM_KEY_FILE" in status


def test_a_worker_without_the_postal_address_pauses_before_any_reader_gets_the_placeholder(
    session: Session, room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A campaign created (or scheduled) while MAILER_POSTAL_ADDRESS was set, sent by a worker
    where it is not, would print "Postal address not configured" to every reader: it pauses
    naming the setting, and nothing is sent."""
    with SMTPServer() as relay:
        monkeypatch.setenv("MAILER_SMTP_URL", relay.url)
        reset_settings()
        tasks.reset_caches()
        issue = get_issue(session, room.issue_slug)
        audience = campaigns.resolve_audience(session, issue, room.list_slug)
        cid = campaigns.create(session, issue, cleared(audience)).id
        session.commit()
        monkeypatch.delenv("MAILER_POSTAL_ADDRESS")
        reset_settings()
        tasks.reset_caches()
        tasks.start_campaign(cid)
        session.expire_all()
        campaign = campaigns.get(session, cid)
        assert campaign.status == CampaignStatus.PAUSED
        assert campaign.status_reason.startswith(
            "paused: cannot send: MAILER_POSTAL_ADDRESS is not set"
        ), campaign.status_reason
        assert relay.sink.received == []
        assert "MAILER_POSTAL_ADDRESS" in cli("campaign", "status", str(cid))


def test_mailer_send_says_why_mail_waits_while_it_follows(
    session: Session, room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The progress bar is not left at 0/N without a word: each new reason is printed as it
    appears, and the end lists them with their counts."""
    port = free_port()
    monkeypatch.setenv("MAILER_SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("MAILER_RETRY_BASE_DELAY", "0.2")
    # ~7 s, then the rows fail: long enough that a loaded machine still sees them deferred first
    monkeypatch.setenv("MAILER_RETRY_DEADLINE_HOURS", "0.002")
    reset_settings()
    tasks.reset_caches()
    n = room.report.imported
    out = cli("send", room.issue_slug, "--list", room.list_slug, "--yes")
    reason = f"cannot reach 127.0.0.1:{port}: [Errno 111] Connection refused"
    assert f"deferred: {reason}" in out  # while it waited
    assert "campaign 1 done" in out
    assert f"failed {n} — {reason}" in out  # at the end, with the count
