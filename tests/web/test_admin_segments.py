"""A list's saved segments in the admin area: a segment's expression changed (checked as on
create, the page showing the new count) and a segment deleted by a CSRF-protected, confirmed
POST, its campaigns keeping the expression they were sent to; in process on SQLite and
PostgreSQL."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailer.content.issues import get_issue
from mailer.sending import campaigns
from mailer.sending.models import Campaign
from subscribers import segments
from tests.builders import Newsroom, cleared
from tests.web.test_admin import Editor, editor, text_of  # noqa: F401

# ruff: noqa: F811  (the fixtures imported from test_admin are parameters here)


def _campaign_to(session: Session, room: Newsroom, segment: str) -> int:
    issue = get_issue(session, room.issue_slug)
    audience = campaigns.resolve_audience(session, issue, room.list_slug, segment=segment)
    campaign_id = campaigns.create(session, issue, cleared(audience)).id
    session.commit()
    return campaign_id


def test_a_segments_expression_is_changed_checked_and_its_new_count_shown(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    """The Segments page had only a create form: a saved segment could not be changed."""
    segments.create_segment(session, room.list_id, "clients", "tag:client")
    session.commit()
    page = editor.get("/admin/lists/briefing/segments")
    assert 'action="/admin/lists/briefing/segments/clients/edit"' in page.text
    assert 'action="/admin/lists/briefing/segments/clients/delete"' in page.text

    refused = editor.post(
        "/admin/lists/briefing/segments/clients/edit", {"expression": "tag:client and (lang:es"}
    )
    assert refused.status_code == 422
    assert "column 24" in refused.text and "tag:client and (lang:es" in refused.text
    session.expire_all()
    assert segments.get_segment(session, room.list_id, "clients").expression == "tag:client"

    new = "tag:client and lang:es"
    n = segments.count(session, room.list_id, new)
    changed = editor.post("/admin/lists/briefing/segments/clients/edit", {"expression": new})
    assert changed.status_code == 200
    assert f"Segment clients updated: {n} recipients now." in text_of(changed.text)
    assert f'data-segment="clients">{n}<' in changed.text
    session.expire_all()
    assert segments.get_segment(session, room.list_id, "clients").expression == new

    forged = editor.client.post(
        "/admin/lists/briefing/segments/clients/edit", data={"expression": "tag:press"}
    )
    assert forged.status_code == 403
    missing = editor.post("/admin/lists/briefing/segments/nope/edit", {"expression": "tag:x"})
    assert missing.status_code == 404
    session.expire_all()
    assert segments.get_segment(session, room.list_id, "clients").expression == new


def test_a_segment_a_campaign_was_sent_to_is_deleted_and_the_campaign_keeps_its_audience(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    segments.create_segment(session, room.list_id, "clients", "tag:client")
    session.commit()
    campaign_id = _campaign_to(session, room, "clients")
    page = editor.get("/admin/lists/briefing/segments")
    assert "1 campaign sent to it keeps the expression it was sent with." in page.text

    forged = editor.client.post("/admin/lists/briefing/segments/clients/delete")
    assert forged.status_code == 403
    gone = editor.post("/admin/lists/briefing/segments/clients/delete")
    assert gone.status_code == 200
    said = text_of(gone.text)
    assert "Segment clients deleted; nobody was unsubscribed." in said
    assert f"campaign {campaign_id} keeps the expression it was created with" in said
    assert "No saved segments on this list yet." in gone.text
    session.expire_all()
    assert segments.list_segments(session, room.list_id) == []
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None
    assert (campaign.segment_id, campaign.expression) == (None, "tag:client")
    report = editor.get(f"/admin/campaigns/{campaign_id}")
    assert report.status_code == 200 and "tag:client" in report.text
    again = editor.post("/admin/lists/briefing/segments/clients/delete")
    assert again.status_code == 404
