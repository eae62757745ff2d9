"""`mailer segment` at the door: a mistake in a long expression is shown as a short excerpt; a
saved segment is updated (checked, its new count printed) and deleted (confirmed, its
campaigns keeping the expression they were sent to)."""

from __future__ import annotations

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer.cli import app
from mailer.content.issues import get_issue
from mailer.sending import campaigns
from mailer.sending.models import Campaign
from mailer.settings import Settings
from subscribers import segments
from subscribers.errors import NotFound
from subscribers.lists import create_list
from tests.builders import Newsroom, cleared, newsroom

runner = CliRunner()


def test_a_mistake_in_a_long_expression_prints_a_short_excerpt_with_the_column(
    session: Session, settings: Settings
) -> None:
    """5,000 `or` terms (45 KB) were refused by printing every one of them."""
    create_list(session, "clients", "Clients")
    session.commit()
    terms = " or ".join(f"tag:t{i}" for i in range(5000))
    for command in ("count", "create"):
        args = ["segment", command, *(["big"] if command == "create" else []), terms]
        result = runner.invoke(app, [*args, "--list", "clients"])
        assert result.exit_code == 1
        assert "at most 200" in result.output and "(column 2291)" in result.output
        assert len(result.output) < 600, result.output[:300]
        shown, under = result.output.splitlines()[1:3]
        assert shown[under.index("^")] == terms[2290]


def _campaign_to_segment(session: Session, room: Newsroom, segment: str) -> int:
    """A campaign created for a saved segment, as `mailer send --segment` creates it."""
    issue = get_issue(session, room.issue_slug)
    audience = campaigns.resolve_audience(session, issue, room.list_slug, segment=segment)
    campaign_id = campaigns.create(session, issue, cleared(audience)).id
    session.commit()
    return campaign_id


def test_a_segment_is_updated_with_a_checked_expression_and_its_new_count(
    session: Session, settings: Settings
) -> None:
    """A segment's expression could not be changed: there was no `segment update`."""
    room = newsroom(session, settings)
    made = runner.invoke(app, ["segment", "create", "clients", "tag:client", "--list", "briefing"])
    assert made.exit_code == 0, made.output
    campaign_id = _campaign_to_segment(session, room, "clients")

    bad = ["segment", "update", "clients", "--list", "briefing", "--expression", "tag:client or"]
    refused = runner.invoke(app, bad)
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[-2] == "tag:client or"
    session.expire_all()
    assert segments.get_segment(session, room.list_id, "clients").expression == "tag:client"

    new = "tag:client and lang:es"
    expected = segments.count(session, room.list_id, new)
    assert 0 < expected < segments.count(session, room.list_id, "tag:client")
    fixed = ["segment", "update", "clients", "--list", "briefing", "--expression", new]
    done = runner.invoke(app, fixed)
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines() == [
        f"updated segment 'clients' on list 'briefing': {expected} subscribers match now",
        f"campaign {campaign_id} keeps the expression it was created with",
    ]
    session.expire_all()
    assert segments.get_segment(session, room.list_id, "clients").expression == new
    assert session.get(Campaign, campaign_id).expression == "tag:client"  # as it was created

    unknown = runner.invoke(
        app, ["segment", "update", "nope", "--list", "briefing", "--expression", "tag:client"]
    )
    assert isinstance(unknown.exception, NotFound)
    assert "no saved segment 'nope' on list 'briefing' (its segments: clients)" in str(
        unknown.exception
    )


def test_a_segment_is_deleted_only_when_confirmed_and_its_campaigns_keep_their_record(
    session: Session, settings: Settings
) -> None:
    room = newsroom(session, settings)
    segments.create_segment(session, room.list_id, "clients", "tag:client")
    session.commit()
    campaign_id = _campaign_to_segment(session, room, "clients")

    kept = runner.invoke(app, ["segment", "delete", "clients", "--list", "briefing"], input="n\n")
    assert kept.exit_code == 0, kept.output
    assert f"campaign {campaign_id} keeps the expression it was created with" in kept.stdout
    assert "Delete it? [y/N]" in kept.stdout
    assert kept.stdout.splitlines()[-1] == "not deleted: nothing was changed"
    session.expire_all()
    assert segments.get_segment(session, room.list_id, "clients").expression == "tag:client"

    gone = runner.invoke(app, ["segment", "delete", "clients", "--list", "briefing", "--yes"])
    assert gone.exit_code == 0, gone.output
    assert gone.stdout.splitlines()[-1] == "deleted segment 'clients' from list 'briefing'"
    session.expire_all()
    assert segments.list_segments(session, room.list_id) == []
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None
    assert (campaign.segment_id, campaign.expression) == (None, "tag:client")
    # Its report now names the expression it was sent to, where it named the segment.
    status = runner.invoke(app, ["campaign", "status", str(campaign_id)])
    assert status.exit_code == 0, status.output
    assert "briefing › tag:client" in status.stdout
    assert segments.count(session, room.list_id, None) == room.report.imported  # nobody left

    again = runner.invoke(app, ["segment", "delete", "clients", "--list", "briefing", "--yes"])
    assert isinstance(again.exception, NotFound)
