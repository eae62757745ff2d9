"""What the admin pages and the API say when an editor's input is refused: the field by its label
on the page (by its JSON key in the API), the bad address among several, why a form post was not
verified, and numbers with their nouns in the right number — never the CLI's flags and commands,
which a browser user has no way to type. (The CLI's own wording is checked in tests/cli.)"""

from __future__ import annotations

import re
import warnings

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.errors import MailerError
from mailer.sending.models import Campaign
from mailer.settings import Settings
from mailer.web.app import create_app
from mailer.web.errors import API_NAMES, user_message
from subscribers.lifecycle import unsubscribe_from_list
from subscribers.lists import get_list
from subscribers.models import Segment, Subscriber
from tests.builders import Newsroom, cleared
from tests.smtpd import SMTPServer
from tests.web.test_admin import PASSWORD, SITE, Editor, editor, text_of  # noqa: F401

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

# ruff: noqa: F811  (the fixtures imported from test_admin are parameters here)

CLI_FLAG = re.compile(r"--[a-z]")


def refusal(response) -> str:  # type: ignore[no-untyped-def]
    """The page's text, checked to name no CLI flag or command."""
    text = text_of(response.text)
    assert not CLI_FLAG.search(text), text
    assert "`mailer " not in text and "mailer segment" not in text, text
    return text


def test_a_past_send_time_names_the_schedule_field(
    editor: Editor, room: Newsroom, relay: SMTPServer, session: Session
) -> None:
    editor.get(f"/admin/issues/{room.issue_slug}")
    past = editor.post(
        f"/admin/issues/{room.issue_slug}/send", {"audience": "briefing", "at": "2020-01-01T09:00"}
    )
    assert past.status_code == 422
    text = refusal(past)
    assert "is in the past" in text
    assert "give a later time, or leave “Schedule” empty to send now" in text
    assert session.scalar(select(Campaign.id)) is None


def test_an_unknown_segment_lists_the_lists_segments_and_both_choices_name_the_fields(
    editor: Editor, room: Newsroom, relay: SMTPServer, session: Session
) -> None:
    session.add(Segment(list_id=room.list_id, slug="clients", expression="tag:client"))
    session.commit()
    editor.get(f"/admin/issues/{room.issue_slug}")
    unknown = editor.post(f"/admin/issues/{room.issue_slug}/send", {"audience": "briefing/vips"})
    assert unknown.status_code == 422
    text = refusal(unknown)
    assert "no segment &#39;vips&#39; on list &#39;briefing&#39; (its segments: clients)" in (
        unknown.text
    )
    both = editor.post(
        f"/admin/issues/{room.issue_slug}/send",
        {"audience": "briefing/clients", "where": "tag:vip"},
    )
    assert both.status_code == 422
    text = refusal(both)
    assert "give either a segment in “Audience” or “Or an expression”, not both" in text


def test_a_test_copy_to_several_addresses_names_the_bad_one_and_sends_nothing(
    editor: Editor, room: Newsroom, relay: SMTPServer
) -> None:
    editor.get(f"/admin/issues/{room.issue_slug}")
    bad = editor.post(
        f"/admin/issues/{room.issue_slug}/test",
        {"addresses": "editor@firm.example, not-an-address"},
    )
    assert bad.status_code == 422
    text = refusal(bad)
    assert "not-an-address is not a valid address: An email address must have an @-sign." in text
    assert "editor@firm.example is not" not in text  # the good one is not blamed
    assert 'value="editor@firm.example, not-an-address"' in bad.text  # kept to correct
    assert relay.sink.received == []


def test_a_bad_token_expiry_names_the_expires_field(editor: Editor) -> None:
    editor.get("/admin/tokens")
    bad = editor.post("/admin/tokens", {"name": "ci", "expires": "soon", "scope": "read"})
    assert bad.status_code == 422
    assert "“Expires” &#39;soon&#39; is not understood" in refusal(bad)


def test_re_adding_someone_who_unsubscribed_points_to_the_subscribe_page(
    editor: Editor, room: Newsroom, session: Session
) -> None:
    email = session.scalars(select(Subscriber.email).order_by(Subscriber.id)).first()
    assert email is not None
    unsubscribe_from_list(session, get_list(session, room.list_slug), email)
    session.commit()
    editor.get("/admin/lists/briefing")
    again = editor.post("/admin/lists/briefing/subscribers", {"email": email})
    assert again.status_code == 422
    text = refusal(again)
    assert "an admin cannot re-subscribe them: they can sign up again at /subscribe/briefing" in (
        text
    )


def test_one_recipient_is_one_recipient(
    editor: Editor, room: Newsroom, relay: SMTPServer, session: Session
) -> None:
    email = session.scalars(select(Subscriber.email).order_by(Subscriber.id)).first()
    editor.get(f"/admin/issues/{room.issue_slug}")
    review = editor.post(
        f"/admin/issues/{room.issue_slug}/send", {"audience": "briefing", "where": f"email:{email}"}
    )
    assert review.status_code == 200
    assert "Send to 1 recipient<" in review.text and "1 recipients" not in review.text


def test_a_login_post_without_origin_or_cookie_says_why_it_was_not_verified(
    room: Newsroom,
) -> None:
    form = {"email": "editor@example.com", "password": PASSWORD, "next": "/admin"}
    with TestClient(create_app(), base_url=SITE) as client:  # no Origin header by default
        page = client.get("/admin/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        no_origin = client.post("/admin/login", data={**form, "csrf_token": csrf.group(1)})
        assert no_origin.status_code == 403
        text = text_of(no_origin.text)
        assert "The request could not be verified" in text and "expired" not in text
        assert "no Origin or Referer header" in text and "Reload the page" in text
        client.cookies.clear()  # as a browser that blocks cookies
        no_cookie = client.post(
            "/admin/login", data={**form, "csrf_token": csrf.group(1)}, headers={"Origin": SITE}
        )
        assert no_cookie.status_code == 403
        assert "Allow cookies for this site" in text_of(no_cookie.text)


def test_the_api_names_the_json_key_instead_of_the_cli_flag(
    session: Session, room: Newsroom, relay: SMTPServer, settings: Settings
) -> None:
    token, _ = accounts.create_token(session, "desk", scopes=["read", "send"])
    session.commit()
    with TestClient(create_app(), base_url=SITE) as client:
        body = {"issue": room.issue_slug, "list": room.list_slug, "at": "2020-01-01T09:00"}
        past = client.post(
            "/api/v1/campaigns", json=body, headers={"Authorization": f"Bearer {token}"}
        )
    assert past.status_code == 422
    detail = past.json()["detail"]
    assert "leave `at` empty to send now" in detail and "--at" not in detail


def test_a_web_wording_keeps_braces_the_user_typed() -> None:
    exc = MailerError("--at '{x}' bad", web="{at}: '{x}' or {where} is not a time")
    assert user_message(exc) == "“Schedule”: '{x}' or “Or an expression” is not a time"
    assert user_message(exc, API_NAMES) == "`at`: '{x}' or `where` is not a time"
    assert str(exc) == "--at '{x}' bad"  # the CLI's wording, unchanged
    assert user_message(MailerError("plain")) == "plain"


def test_a_paused_campaign_says_resume_it_not_which_command_to_run(
    editor: Editor, room: Newsroom, relay: SMTPServer, session: Session
) -> None:
    from mailer.content.issues import get_issue
    from mailer.sending import batch, campaigns
    from mailer.sending.models import CampaignStatus

    issue = get_issue(session, room.issue_slug)
    audience = campaigns.resolve_audience(session, issue, room.list_slug)
    campaign = campaigns.create(session, issue, cleared(audience))
    campaign.status = CampaignStatus.SENDING
    session.commit()
    batch.pause_for(campaign.id, "the relay is down")
    session.refresh(campaign)
    assert "`mailer campaign resume" in campaign.status_reason  # stored as the CLI prints it
    page = editor.get(f"/admin/campaigns/{campaign.id}")
    text = refusal(page)
    assert "paused: the relay is down; fix it, then resume the campaign" in text
    progress = editor.client.get(f"/admin/campaigns/{campaign.id}/progress.json").json()
    assert progress["reason"] == "paused: the relay is down; fix it, then resume the campaign"


def test_a_pasted_issue_naming_an_unknown_partner_says_to_give_the_partner_in_full(
    editor: Editor, room: Newsroom
) -> None:
    from tests.content.test_issues import markdown_issue

    editor.get("/admin/issues")
    refused = editor.post("/admin/issues", {"text": markdown_issue("nobody")})
    assert refused.status_code == 422
    text = refusal(refused)
    assert "no partner &#39;nobody&#39;: give the partner in full in the front matter" in (
        refused.text
    )
    assert "partner add" not in text
