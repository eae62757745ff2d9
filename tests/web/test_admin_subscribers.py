"""The subscriber search, bulk actions, search export and one subscriber's page (GDPR export and
erasure) in-process, on SQLite and PostgreSQL."""

# ruff: noqa: F811  (the fixtures imported from test_admin are parameters here)

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import quote, unquote

import lxml.html
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from mailer.settings import Settings
from mailer.web import keyset, queries
from subscribers import search, segments
from subscribers.lifecycle import get_subscriber
from subscribers.models import Subscriber, Suppression, SuppressionReason
from subscribers.suppression import get_suppression
from tests.builders import Newsroom, add_subscribers
from tests.web.test_admin import Editor, editor, text_of  # noqa: F401 (fixtures)


def readers_on(html: str) -> list[str]:
    return re.findall(r'title="(reader\d+@example\.net)"', html)


def pager_link(html: str, rel: str) -> str | None:
    """The query string of the pager's First, Previous, Next or Last link, if it shows one."""
    found = re.search(rf'href="(\?[^"]*)" rel="{rel}"', html)
    if rel == "last":
        found = re.search(r'href="(\?[^"]*)" data-page="last"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_search_across_lists_sorts_pages_and_shows_expression_errors(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    add_subscribers(session, room.list_id, 120)
    page = editor.get("/admin/subscribers", params={"q": "banco del"})
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "Banco del Norte" in shown and "Acme Mining" not in shown
    everyone = editor.get("/admin/subscribers", params={"q": "reader0", "sort": "email"})
    assert "120 subscribers match" in text_of(everyone.text)
    assert pager_link(everyone.text, "prev") is None  # the first page: no Previous, no First
    assert pager_link(everyone.text, "first") is None
    seen, page = readers_on(everyone.text), everyone
    while (following := pager_link(page.text, "next")) is not None:  # Next › to the end
        page = editor.get("/admin/subscribers" + following)
        assert "120 subscribers match" in text_of(page.text)
        seen += readers_on(page.text)
    assert seen == [f"reader{i:06d}@example.net" for i in range(120)]  # each once, in order
    assert pager_link(page.text, "last") is None
    last_link = pager_link(everyone.text, "last")
    assert last_link is not None
    last = editor.get("/admin/subscribers" + last_link)
    assert readers_on(last.text) == seen[70:]  # the last full page, read from the end
    before = editor.get("/admin/subscribers" + (pager_link(last.text, "prev") or ""))
    assert readers_on(before.text) == seen[20:70]
    first = editor.get("/admin/subscribers" + (pager_link(before.text, "first") or ""))
    assert readers_on(first.text) == seen[:50]
    mangled = editor.get("/admin/subscribers", params={"q": "reader0", "after": "not a cursor"})
    assert readers_on(mangled.text) == seen[:50]  # an edited URL falls back to the first page
    beyond = keyset.encode(("zzz@example.net", 2**31 - 1))  # past every row (all deleted since)
    stale = editor.get("/admin/subscribers", params={"q": "reader0", "after": beyond})
    assert "No subscriber matches here." in text_of(stale.text)
    to_first = pager_link(stale.text, "first")
    assert to_first is not None
    assert readers_on(editor.get("/admin/subscribers" + to_first).text) == seen[:50]
    last = editor.get(
        "/admin/subscribers",
        params={"q": "reader0", "sort": "email", "dir": "desc", "page": "last"},
    )
    assert readers_on(last.text) == [f"reader{i:06d}@example.net" for i in range(49, -1, -1)]
    by_company = editor.get("/admin/subscribers", params={"q": "reader0", "sort": "company"})
    seen, page = readers_on(by_company.text), by_company
    while (following := pager_link(page.text, "next")) is not None:
        page = editor.get("/admin/subscribers" + following)
        seen += readers_on(page.text)
    assert sorted(seen) == [f"reader{i:06d}@example.net" for i in range(120)]
    bad = editor.get("/admin/subscribers", params={"expr": "tag:client and ("})
    assert bad.status_code == 422 and "column 17" in bad.text
    # Not searched, so not "0 subscribers match"; with no expression, the count says so.
    assert "0 subscribers match" not in text_of(bad.text)
    assert "Not searched: correct the expression above" in text_of(bad.text)
    assert "matching the expression: — (type one to count)" in text_of(by_company.text)
    count = editor.get("/admin/subscribers/count", params={"expression": "tag:client"}).json()
    assert count["count"] == search.count(session, search.SubscriberSearch(expression="tag:client"))
    assert editor.get("/admin/subscribers/count", params={"expression": "lang:"}).status_code == 422


def test_bulk_tag_confirms_the_count_then_a_segment_counts_them(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    add_subscribers(session, room.list_id, 60)
    fields = {"q": "reader0", "action": "tag", "tag": "q3-prospect", "scope": "all"}
    confirm = editor.post("/admin/subscribers/bulk", fields)
    assert confirm.status_code == 200
    assert 'data-bulk-count="60"' in confirm.text and "60 subscribers will change" in confirm.text
    assert segments.count(session, room.list_id, "tag:q3-prospect") == 0  # nothing yet
    done = editor.post("/admin/subscribers/bulk/apply", {**fields, "expected": "60"})
    assert 'data-bulk-changed="60"' in done.text
    session.expire_all()
    assert segments.count(session, room.list_id, "tag:q3-prospect") == 60
    again = editor.post("/admin/subscribers/bulk", fields)
    assert 'data-bulk-count="0"' in again.text


def test_bulk_on_ticked_rows_and_a_typed_bulk_erasure(
    editor: Editor, session: Session, room: Newsroom, settings: Settings
) -> None:
    emails = add_subscribers(session, room.list_id, 5)
    ids = [get_subscriber(session, e).id for e in emails[:2]]  # type: ignore[union-attr]
    picked = {"action": "unsubscribe", "scope": "selected", "id": [str(i) for i in ids]}
    confirm = editor.post("/admin/subscribers/bulk", picked)  # type: ignore[arg-type]
    assert "2 subscribers will change" in confirm.text
    editor.post("/admin/subscribers/bulk/apply", {**picked, "expected": "2"})  # type: ignore[dict-item]
    assert get_suppression(session, emails[0], settings.secret()) is not None
    nothing = editor.post(
        "/admin/subscribers/bulk", {"action": "tag", "tag": "x", "scope": "selected"}
    )
    assert nothing.status_code == 422 and "no subscriber is ticked" in nothing.text

    forget = {"q": "reader00000", "action": "forget", "scope": "all"}
    assert "5 subscribers will change" in editor.post("/admin/subscribers/bulk", forget).text
    refused = editor.post(
        "/admin/subscribers/bulk/apply", {**forget, "expected": "5", "typed": "4"}
    )
    assert refused.status_code == 422 and "nothing was erased" in refused.text
    assert get_subscriber(session, emails[4]) is not None
    editor.post("/admin/subscribers/bulk/apply", {**forget, "expected": "5", "typed": "5"})
    session.expire_all()
    assert all(get_subscriber(session, e) is None for e in emails)
    assert get_suppression(session, emails[4], settings.secret()).reason == SuppressionReason.ERASED  # type: ignore[union-attr]


def test_search_export_rows_equal_the_search_and_are_spreadsheet_safe(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    sub = get_subscriber(session, "valeria.gonzalez0@example.com")
    assert sub is not None
    sub.company = "=HYPERLINK(1)"
    session.commit()
    params = {"q": "e", "expr": "tag:client"}
    page = editor.get("/admin/subscribers", params=params)
    total = int(re.search(r'data-total="(\d+)"', page.text).group(1))  # type: ignore[union-attr]
    download = editor.get("/admin/subscribers/export.csv", params=params)
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    wanted = search.SubscriberSearch(text="e", expression="tag:client")
    expected = set(session.scalars(select(Subscriber.email).where(Subscriber.id.in_(wanted.ids()))))
    assert {r["email"] for r in rows} == expected and len(rows) == total > 0
    if "valeria.gonzalez0@example.com" in expected:
        row = next(r for r in rows if r["email"] == "valeria.gonzalez0@example.com")
        assert row["company"] == "'=HYPERLINK(1)"
    assert editor.get("/admin/subscribers/export.csv", params={"expr": "(("}).status_code == 422


def test_downloads_named_from_a_hostile_list_slug_get_a_safe_file_name(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    """Hostile input: a list slug stored by another door (the create rule refuses it) holding a
    quote, a backslash, a path and a non-ASCII letter. Each download of its subscribers and
    their consent (the list export, the search export) names a safe file: one path component,
    no quote or backslash, the non-ASCII name as RFC 6266 `filename*=`."""
    hostile = 'q"t\\..\\x;é'
    session.execute(
        text("UPDATE mailing_list SET slug = :slug WHERE id = :id"),
        {"slug": hostile, "id": room.list_id},
    )
    session.commit()
    listed = editor.get(f"/admin/lists/{quote(hostile)}/export.csv")
    searched = editor.get("/admin/subscribers/export.csv", params={"list": hostile})
    person = get_subscriber(session, "valeria.gonzalez0@example.com")
    assert person is not None
    gdpr = editor.get(f"/admin/subscribers/{person.id}/export.json")
    for answer, name in (
        (listed, "q-t-.-x;é-subscribers.csv"),
        (searched, "q-t-.-x;é-search.csv"),
        (gdpr, f"subscriber-{person.id}.json"),
    ):
        assert answer.status_code == 200, answer.text[:300]
        header = answer.headers["content-disposition"]
        fallback = re.fullmatch(r'attachment; filename="([^"\\/]*)"(; filename\*=(.*))?', header)
        assert fallback, header
        shown = unquote(fallback[3].removeprefix("UTF-8''")) if fallback[3] else fallback[1]
        assert shown == name, header
        assert "\r" not in header and "\n" not in header
    assert "valeria.gonzalez0@example.com" in listed.text


def test_a_subscribers_page_gdpr_export_and_typed_erasure(
    editor: Editor, session: Session, room: Newsroom, settings: Settings
) -> None:
    sub = get_subscriber(session, "valeria.gonzalez0@example.com")
    assert sub is not None
    page = editor.get(f"/admin/subscribers/{sub.id}")
    shown = text_of(page.text)
    for part in ("Deliveries", "Bounces", "Inquiries", "Complaints", "Never mailed", "Erase"):
        assert part in shown, part
    data = json.loads(editor.get(f"/admin/subscribers/{sub.id}/export.json").text)
    assert data["email"] == sub.email and data["subscriber"]["id"] == sub.id
    assert data["subscriptions"][0]["list"] == "briefing"
    wrong = editor.post(f"/admin/subscribers/{sub.id}/forget", {"typed": "someone@else.example"})
    assert wrong.status_code == 422
    assert get_subscriber(session, "valeria.gonzalez0@example.com") is not None
    sub_id, email = sub.id, sub.email or ""
    done = editor.post(f"/admin/subscribers/{sub_id}/forget", {"typed": email.upper()})
    assert done.status_code == 200 and "erased" in done.text
    session.expire_all()
    assert get_subscriber(session, email) is None
    assert session.scalar(select(func.count()).where(Suppression.email == email)) == 0
    entry = get_suppression(session, email, settings.secret())
    assert entry is not None and entry.reason == SuppressionReason.ERASED
    assert editor.get(f"/admin/subscribers/{sub_id}").status_code == 404


def test_totals_beyond_the_counting_cap_say_so(
    editor: Editor, session: Session, room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the cap a page does not count every match: a text search says "more than N"; a
    whole list says "about N" on PostgreSQL (the planner's estimate) and "more than N" where
    there is none; the bulk confirmation still counts exactly what it will change."""
    add_subscribers(session, room.list_id, 30)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE subscription"))  # as autovacuum would
    session.commit()
    monkeypatch.setattr(queries, "COUNT_CAP", 10)
    found = editor.get("/admin/subscribers", params={"q": "reader0"})
    assert "more than 10 subscribers match" in text_of(found.text)
    assert 'data-total-exact="no"' in found.text
    assert "All results…" in text_of(found.text)  # no number it cannot vouch for
    assert (
        "30 subscribers will change"
        in editor.post(
            "/admin/subscribers/bulk", {"q": "reader0", "action": "tag", "tag": "x", "scope": "all"}
        ).text
    )
    listed = text_of(editor.get(f"/admin/lists/{room.list_slug}").text)
    postgres = session.get_bind().dialect.name == "postgresql"
    assert re.search(r"about \d[\d,]* active" if postgres else r"more than 10 active", listed)
    monkeypatch.setattr(queries, "COUNT_CAP", 10_000)
    exact = editor.get("/admin/subscribers", params={"q": "reader0"})
    assert "30 subscribers match" in text_of(exact.text) and "All 30 results…" in text_of(
        exact.text
    )


def test_an_expression_typed_in_the_text_box_is_offered_as_an_expression(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    add_subscribers(session, room.list_id, 3)  # English, tagged client
    typed = editor.get("/admin/subscribers", params={"q": "lang:en and tag:client"})
    shown = text_of(typed.text)
    assert "0 subscribers match" in shown
    assert "data-export" not in typed.text  # nothing to export ("Export these 0 as CSV")
    assert "“lang:en and tag:client” was searched as text" in shown
    link = re.search(r'href="(/admin/subscribers\?[^"]+)">search it as a segment', typed.text)
    assert link is not None
    as_expression = editor.get(link.group(1).replace("&amp;", "&"))
    assert "3 subscribers match" in text_of(as_expression.text)
    assert "was searched as text" not in text_of(as_expression.text)
    plain = editor.get("/admin/subscribers", params={"q": "reader0"})  # words, not fields
    assert "was searched as text" not in text_of(plain.text)
    # One match is said in the singular ("1 subscriber match", "All 1 results…" before).
    one = text_of(editor.get("/admin/subscribers", params={"q": "reader000001"}).text)
    assert "1 subscriber matches" in one and "The one result…" in one
    assert "Export this one as CSV" in one


def test_a_list_page_filters_its_bounced_members_and_links_to_the_sortable_search(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    """A list's page sorted its members by address only, with no way to sort otherwise, and its
    status filter had no bounced or complained: both are the person's status."""
    from sqlalchemy import update

    from subscribers.models import SubscriberStatus

    first = session.scalars(select(Subscriber).order_by(Subscriber.id)).first()
    assert first is not None
    session.execute(
        update(Subscriber).where(Subscriber.id == first.id).values(status=SubscriberStatus.BOUNCED)
    )
    session.commit()
    page = editor.get("/admin/lists/briefing", params={"status": "bounced"})
    assert page.status_code == 200
    doc = lxml.html.fromstring(page.text)
    assert "bounced" in doc.xpath("//select[@id='status']/option/@value")
    assert "1 subscriber match" in text_of(page.text), re.findall(
        r"data-total[^>]*>[^<]*", page.text
    )
    assert first.email in page.text
    link = doc.xpath("//a[@data-sortable-search]/@href")[0]
    assert link == "/admin/subscribers?list=briefing&status=bounced"
    searched = editor.get(link)
    assert "1 subscriber matches" in text_of(searched.text) and first.email in searched.text
