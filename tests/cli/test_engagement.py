"""`mailer report`'s engagement lines: what it says of links for a campaign that never started."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.content.issues import get_issue
from mailer.sending import campaigns
from mailer.settings import Settings, get_settings
from tests.builders import newsroom

runner = CliRunner()


def test_a_scheduled_campaign_cancelled_before_it_started_says_so_not_links_untracked(
    settings: Settings, session: Session
) -> None:
    """Click tracking is on, but the campaign was cancelled while scheduled: nothing was ever
    rendered or sent, so the report says it never started instead of "not tracked"."""
    assert get_settings().track_clicks
    room = newsroom(session, settings)
    issue = get_issue(session, room.issue_slug)
    at = datetime.now(UTC) + timedelta(days=3)
    audience = campaigns.resolve_audience(session, issue, room.list_slug)
    campaign = campaigns.create(session, issue, campaigns.check(audience, at, get_settings()))
    session.commit()
    campaigns.cancel(session, campaign.id)
    session.commit()
    result = runner.invoke(app, ["report", str(campaign.id)], env={"COLUMNS": "120"})
    assert result.exit_code == 0, (result.output, result.exception)
    # Flattened: the console's width is the one it found when the module was first imported.
    said = " ".join(result.stdout.split())
    assert "not tracked" not in said
    assert (
        "links none: the campaign never started (no message was rendered or sent, "
        "so nothing was tracked)" in said
    )


def test_a_scheduled_campaign_paused_before_it_started_says_none_yet_and_whom(
    settings: Settings, session: Session
) -> None:
    """Paused while scheduled, a campaign can still start (resume schedules it again): its
    report says nothing was tracked *yet*, not that it "never started", and gives the recipients
    it was counted for, not "total 0" (read as "to nobody")."""
    room = newsroom(session, settings)
    issue = get_issue(session, room.issue_slug)
    at = datetime.now(UTC) + timedelta(days=3)
    audience = campaigns.resolve_audience(session, issue, room.list_slug)
    campaign = campaigns.create(session, issue, campaigns.check(audience, at, get_settings()))
    session.commit()
    campaigns.pause(session, campaign.id)
    session.commit()
    result = runner.invoke(app, ["report", str(campaign.id)], env={"COLUMNS": "120"})
    assert result.exit_code == 0, (result.output, result.exception)
    said = " ".join(result.stdout.split())
    assert "never started" not in said
    assert "links none yet: the campaign has not started" in said
    assert "total 0" not in said
    assert f"not started: {campaign.recipients} recipients when counted" in said
