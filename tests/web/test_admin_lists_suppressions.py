"""Renaming and deleting a list, and the suppression list (search, add, lift, history), in
process on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.settings import Settings
from subscribers.lifecycle import get_subscriber
from subscribers.lists import create_list, get_list, update_list
from subscribers.models import MailingList, Subscription, SuppressionEvent
from subscribers.suppression import get_suppression
from tests.builders import Newsroom, cleared
from tests.web.test_admin import Editor, editor, text_of  # noqa: F401

# ruff: noqa: F811  (the fixtures imported from test_admin are parameters here)


def test_a_list_is_renamed_and_deleted_only_when_typed_and_without_campaigns(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    renamed = editor.post(
        "/admin/lists/briefing/edit", {"name": "Chatter Weekly", "description": "Tuesdays"}
    )
    assert "List briefing renamed to Chatter Weekly." in renamed.text
    assert "Tuesdays" in renamed.text
    assert editor.post("/admin/lists/briefing/edit", {"name": " "}).status_code == 422

    spare = create_list(session, "spare", "Spare")
    session.commit()
    sub = get_subscriber(session, "valeria.gonzalez0@example.com")
    assert sub is not None
    session.add(Subscription(subscriber_id=sub.id, list_id=spare.id))
    session.commit()
    page = editor.get("/admin/lists/spare")
    assert "its 1 subscriptions" in text_of(page.text)
    wrong = editor.post("/admin/lists/spare/delete", {"typed": "sparE"})
    assert wrong.status_code == 422 and "nothing was deleted" in wrong.text
    gone = editor.post("/admin/lists/spare/delete", {"typed": "spare"})
    assert "List spare deleted with its 1 subscriptions" in gone.text
    session.expire_all()
    assert session.scalar(select(MailingList).where(MailingList.slug == "spare")) is None
    assert get_subscriber(session, "valeria.gonzalez0@example.com") is not None  # kept


def test_a_list_with_campaigns_cannot_be_deleted(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    from mailer.content.issues import get_issue
    from mailer.sending import campaigns

    issue = get_issue(session, room.issue_slug)
    campaigns.create(
        session, issue, cleared(campaigns.resolve_audience(session, issue, "briefing"))
    )
    session.commit()
    refused = editor.post("/admin/lists/briefing/delete", {"typed": "briefing"})
    assert refused.status_code == 422 and "has 1 campaign, whose figures" in refused.text
    assert get_list(session, "briefing") is not None


def test_suppressions_are_searched_added_lifted_with_reasons_and_kept_in_history(
    editor: Editor, session: Session, room: Newsroom, settings: Settings
) -> None:
    no_reason = editor.post("/admin/suppressions", {"email": "x@corp.example", "note": ""})
    assert no_reason.status_code == 422
    # Refused on the page itself, with what was typed kept (a bare error page lost the note).
    bad = editor.post(
        "/admin/suppressions", {"email": "bad@", "reason": "complaint", "note": "asked by phone"}
    )
    assert bad.status_code == 422 and "Suppress an address" in bad.text
    assert "There must be something after the @-sign" in bad.text
    assert 'value="bad@"' in bad.text and 'value="asked by phone"' in bad.text
    assert '<option value="complaint" selected>' in bad.text
    added = editor.post(
        "/admin/suppressions",
        {"email": "Legal@Corp.Example", "reason": "manual", "note": "legal hold"},
    )
    assert "legal@corp.example suppressed (manual)." in added.text
    found = editor.get("/admin/suppressions", params={"q": "legal hold"})
    assert 'data-total="1"' in found.text and 'data-suppressed="legal@corp.example"' in found.text
    refused = editor.post("/admin/suppressions/lift", {"email": "legal@corp.example"})
    assert refused.status_code == 422 and "nothing changed" in refused.text
    assert get_suppression(session, "legal@corp.example", settings.secret()) is not None
    lifted = editor.post(
        "/admin/suppressions/lift", {"email": "legal@corp.example", "reason": "hold ended"}
    )
    assert "Lifted: legal@corp.example may be mailed again." in lifted.text
    session.expire_all()
    assert get_suppression(session, "legal@corp.example", settings.secret()) is None
    events = session.execute(
        select(SuppressionEvent.action, SuppressionEvent.detail, SuppressionEvent.actor)
        .where(SuppressionEvent.email == "legal@corp.example")
        .order_by(SuppressionEvent.id)
    ).all()
    assert [tuple(e) for e in events] == [
        ("added", "legal hold", "editor@example.com"),
        ("lifted", "hold ended", "editor@example.com"),
    ]
    history = text_of(editor.get("/admin/suppressions", params={"q": "legal@"}).text)
    assert "lifted manual hold ended editor@example.com" in history
    missing = editor.post("/admin/suppressions/lift", {"email": "no@one.example", "reason": "x"})
    assert missing.status_code == 404
    assert session.scalar(select(func.count()).select_from(SuppressionEvent)) == 2


def test_a_list_is_created_private_shown_so_and_made_public_or_private_by_its_form(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    page = editor.get("/admin/lists")
    assert 'type="checkbox" name="private" value="true"' in page.text
    assert "briefing public" in text_of(page.text)
    made = editor.post(
        "/admin/lists", {"slug": "board", "name": "Board Briefing", "private": "true"}
    )
    assert made.status_code == 200 and "Private list board created." in made.text
    assert "private board" in text_of(made.text)  # the badge, before the list's slug
    assert get_list(session, "board").private is True
    assert "board private" in text_of(editor.get("/admin/lists").text)

    edit = editor.get("/admin/lists/board")
    form = edit.text[edit.text.index('action="/admin/lists/board/edit"') :]
    form = form[: form.index("</form>")]
    assert 'name="visibility_shown" value="true"' in form
    assert 'name="private" value="true" checked' in form
    assert 'name="csrf_token"' in form

    # A form from before the box existed sends no visibility: the list stays private.
    kept = editor.post("/admin/lists/board/edit", {"name": "Board", "description": ""})
    assert "List board renamed to Board." in kept.text and "now public" not in kept.text
    session.expire_all()
    assert get_list(session, "board").private is True
    # The box unticked on the page: public.
    opened = editor.post(
        "/admin/lists/board/edit", {"name": "Board", "description": "", "visibility_shown": "true"}
    )
    assert "It is now public" in opened.text
    session.expire_all()
    assert get_list(session, "board").private is False
    closed = editor.post(
        "/admin/lists/board/edit",
        {"name": "Board", "description": "", "visibility_shown": "true", "private": "true"},
    )
    assert "It is now private" in closed.text
    # Without the session's CSRF token nothing changes.
    forged = editor.client.post(
        "/admin/lists/board/edit", data={"name": "Board", "visibility_shown": "true"}
    )
    assert forged.status_code == 403
    session.expire_all()
    assert get_list(session, "board").private is True


def test_the_forms_refuse_a_list_name_that_is_not_one_line_of_visible_text(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    """The admin's forms keep what they are sent (a crafted post, or a name pasted with a
    zero-width space): the rule of `validate_name` refuses it, naming the field."""
    for name, named in (
        ("Board\r\nBriefing", "U+000D"),
        ("Board\u200bBriefing", "U+200B"),
        ("\u200fBoard", "U+200F"),
        ("Board\u2028", "U+2028"),
        ("\ufeffBoard", "U+FEFF"),
        ("B" * 201, "201 characters long: shorten it to at most 200"),
    ):
        made = editor.post("/admin/lists", {"slug": "board", "name": name})
        assert made.status_code == 422 and named in made.text, name
        assert "(“Name”)" in made.text
        edited = editor.post(
            "/admin/lists/briefing/edit", {"name": name, "description": "", "visibility_shown": "1"}
        )
        assert edited.status_code == 422 and named in edited.text, name
    session.expire_all()
    assert session.scalar(select(MailingList).where(MailingList.slug == "board")) is None
    assert "\n" not in get_list(session, "briefing").name
    assert 'id="name" name="name"' in (page := editor.get("/admin/lists").text)
    assert 'required maxlength="200"' in page


def test_a_public_lists_page_shows_its_subscribe_address_and_a_private_one_says_it_has_none(
    editor: Editor, session: Session, room: Newsroom, settings: Settings
) -> None:
    public = text_of(editor.get("/admin/lists/briefing").text)
    address = f"{settings.public_url}/subscribe/briefing"
    assert f"Public subscribe page: {address}" in public
    assert editor.client.get(address.removeprefix(settings.public_url)).status_code == 200
    create_list(session, "board", "Board Briefing", private=True)
    session.commit()
    private = text_of(editor.get("/admin/lists/board").text)
    assert "No public subscribe page: this list is private" in private
    assert "/subscribe/board" not in private


def test_the_send_form_marks_private_lists_as_the_lists_page_does(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    create_list(session, "board", "Board Briefing", private=True)
    session.commit()
    page = editor.get(f"/admin/issues/{room.issue_slug}").text
    menu = page[page.index('<select id="audience"') : page.index("</select>")]
    assert 'label="Board Briefing (private)"' in menu
    assert ">board (private) — everyone<" in menu
    assert ">briefing — everyone<" in menu and "briefing (private)" not in menu
    legend = page[page.index("data-visibility") :]
    legend = text_of(legend[: legend.index("</ul>")])
    assert "board private" in legend and "briefing public" in legend
    assert '<span class="badge badge-private">private</span>' in page  # the lists page's badge
    review = editor.post(f"/admin/issues/{room.issue_slug}/send", {"audience": "briefing"})
    assert "List briefing public" in text_of(review.text)  # the confirmation shows it too
    update_list(session, "briefing", private=True)
    session.commit()
    review = editor.post(f"/admin/issues/{room.issue_slug}/send", {"audience": "briefing"})
    assert "List briefing private" in text_of(review.text)
