"""`mailer issue list`: every stored issue, newest first, with what a user needs to act on it
(the slug other commands take) and how many campaigns have sent it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.content.issues import get_issue
from mailer.sending import campaigns
from mailer.sending.models import CampaignStatus, Delivery, DeliveryStatus
from mailer.settings import Settings
from tests.builders import cleared, newsroom

runner = CliRunner()
ISSUES = Path(__file__).resolve().parent.parent / "data" / "issues"


def mailer(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "160"})  # no title folded
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_issue_list_shows_slug_date_title_partner_and_campaigns_sent_newest_first(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    assert mailer("issue", "list") == (
        "no issues yet: import one with `mailer issue import FILE`\n"
    )
    room = newsroom(session, settings)  # Security Chatter of 2025-04-09 (the briefing text)
    later = tmp_path / "security-chatter-2025-04-16.md"
    later.write_text(
        (ISSUES / "security-chatter.md")
        .read_text(encoding="utf-8")
        .replace(
            "title: Security Chatter — 9 April 2025", "title: Security Chatter — 16 April 2025"
        )
        .replace("date: 2025-04-09", "date: 2025-04-16"),
        encoding="utf-8",
    )
    newer = mailer("issue", "import", str(later)).splitlines()[-1].removeprefix("slug: ")
    # The older issue was sent by one campaign (one message out); a second, cancelled before
    # it started, sent nothing and is not counted.
    issue = get_issue(session, room.issue_slug)
    for _ in range(2):
        campaign = campaigns.create(
            session, issue, cleared(campaigns.resolve_audience(session, issue, "briefing"))
        )
    session.flush()
    campaign.status = CampaignStatus.CANCELLED
    session.add(
        Delivery(
            campaign_id=campaign.id - 1,
            issue_id=issue.id,
            subscriber_id=1,
            status=DeliveryStatus.SENT,
        )
    )
    session.commit()

    lines = mailer("issue", "list").splitlines()
    assert lines[0].split() == ["SLUG", "DATE", "SENT", "PARTNER", "TITLE"]
    assert [line.split()[:3] for line in lines[1:]] == [
        [newer, "2025-04-16", "0"],
        [room.issue_slug, "2025-04-09", "1"],
    ]
    assert "Fausto Carbajal Glass" in lines[1] and "16 April 2025" in lines[1]
