"""The JSON API under /api/v1 in-process on SQLite and PostgreSQL: answers match the domain
functions and the CLI's semantics, errors are 4xx with the CLI's wording, and /openapi.json
documents every response model and the bearer scheme."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.content.issues import get_issue
from mailer.sending import campaigns
from mailer.settings import Settings
from mailer.web import queries
from mailer.web.app import create_app
from subscribers import segments
from subscribers.lifecycle import get_subscriber
from subscribers.models import Segment, SuppressionReason
from subscribers.suppression import add_suppression
from tests.builders import Newsroom, audience, cleared, newsroom
from tests.smtpd import SMTPServer

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient


@pytest.fixture
def room(session: Session, settings: Settings) -> Newsroom:
    room = newsroom(session, settings)
    session.add(Segment(list_id=room.list_id, slug="clients", expression="tag:client"))
    session.commit()
    return room


@pytest.fixture
def api(session: Session, room: Newsroom) -> Iterator[TestClient]:
    token, _row = accounts.create_token(
        session, "newsroom-bot", scopes=("read", "subscribers", "send")
    )
    session.commit()
    with TestClient(
        create_app(),
        base_url="https://news.example.com",
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client


def wait_final(api: TestClient, campaign_id: int, timeout: float = 60) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        body = api.get(f"/api/v1/campaigns/{campaign_id}").json()
        if body["status"] in ("done", "cancelled"):
            return body
        time.sleep(0.2)
    raise AssertionError(body)


def test_lists_are_listed_with_counts_and_created(api: TestClient, room: Newsroom) -> None:
    lists = api.get("/api/v1/lists").json()
    assert lists == [
        {
            "slug": "briefing",
            "name": "Security Chatter",
            "active": room.report.imported,
            "pending": 0,
            "unsubscribed": 0,
            "private": False,
            "mailable": room.report.imported,
        }
    ]
    created = api.post("/api/v1/lists", json={"slug": "alerts", "name": "Alerts"})
    assert created.status_code == 201 and created.json()["slug"] == "alerts"
    again = api.post("/api/v1/lists", json={"slug": "alerts", "name": "Alerts"})
    assert again.status_code == 409 and "exists already" in again.json()["detail"]
    bad = api.post("/api/v1/lists", json={"slug": "No Good", "name": "X"})
    assert bad.status_code == 422 and "invalid list slug" in bad.json()["detail"]
    # One list, as the listing gives it (the path answered 405 to a GET: only PATCH was there).
    one = api.get("/api/v1/lists/briefing")
    assert one.status_code == 200 and one.json() == lists[0]
    missing = api.get("/api/v1/lists/nope")
    assert missing.status_code == 404 and "briefing" in missing.json()["detail"]


def test_subscribers_search_get_add_and_unsubscribe(
    api: TestClient, session: Session, room: Newsroom, settings: Settings
) -> None:
    page = api.get("/api/v1/subscribers", params={"list": "briefing", "q": "Banco del Norte"})
    body = page.json()
    assert body["total"] == len(body["items"]) > 0
    assert all(i["company"] == "Banco del Norte" for i in body["items"])
    assert all(i["list_status"] == "active" for i in body["items"])
    first = api.get("/api/v1/subscribers", params={"limit": 5, "offset": 0}).json()
    assert first["total"] == room.report.imported and len(first["items"]) == 5

    added = api.post(
        "/api/v1/lists/briefing/subscribers",
        json={"email": "Nuevo@Example.com", "name": "Nuevo", "language": "es", "tags": ["client"]},
    )
    assert added.status_code == 201
    assert added.json()["email"] == "nuevo@example.com"
    sub = get_subscriber(session, "nuevo@example.com")
    assert sub is not None and sub.consent_source == "api: newsroom-bot"

    detail = api.get("/api/v1/subscribers/nuevo@example.com").json()
    assert detail["subscriptions"][0]["list"] == "briefing"
    assert detail["subscriptions"][0]["status"] == "active"
    assert detail["suppressed"] is False

    gone = api.post("/api/v1/lists/briefing/subscribers/nuevo@example.com/unsubscribe")
    assert gone.status_code == 200 and gone.json()["list_status"] == "unsubscribed"
    # An admin or API cannot undo a person's unsubscribe (the CLI's rule and message).
    back = api.post("/api/v1/lists/briefing/subscribers", json={"email": "nuevo@example.com"})
    assert back.status_code == 422 and "cannot re-subscribe" in back.json()["detail"]

    add_suppression(session, "blocked@example.com", settings.secret(), SuppressionReason.MANUAL)
    session.commit()
    refused = api.post("/api/v1/lists/briefing/subscribers", json={"email": "blocked@example.com"})
    assert refused.status_code == 409 and "suppression list" in refused.json()["detail"]
    assert api.get("/api/v1/subscribers/nobody@example.com").status_code == 404
    assert (
        api.post("/api/v1/lists/briefing/subscribers", json={"email": "not-an-address"}).status_code
        == 422
    )


def test_segment_counts_agree_with_the_domain_and_errors_carry_the_column(
    api: TestClient, session: Session, room: Newsroom
) -> None:
    saved = api.get("/api/v1/lists/briefing/segments").json()
    assert saved == [
        {
            "slug": "clients",
            "expression": "tag:client",
            "count": segments.count(session, room.list_id, "tag:client"),
        }
    ]
    expr = "tag:client and not lang:es"
    counted = api.get("/api/v1/lists/briefing/segments/count", params={"expression": expr})
    assert counted.json()["count"] == segments.count(session, room.list_id, expr)
    by_slug = api.get("/api/v1/lists/briefing/segments/count", params={"expression": "clients"})
    assert by_slug.json()["count"] == saved[0]["count"]
    broken = api.get("/api/v1/lists/briefing/segments/count", params={"expression": "tag:"})
    assert broken.status_code == 422
    assert broken.json()["column"] == 5 and "^" in broken.json()["detail"]
    assert api.get("/api/v1/lists/nope/segments/count").status_code == 404


def test_a_long_expression_gets_a_short_answer_that_keeps_the_column(
    api: TestClient, room: Newsroom
) -> None:
    """An error near the end of a 2,000-character expression (the longest the API takes) showed
    all of it; a longer one was refused by echoing every character back."""
    expr = "tag:client or " * 141 + "tag:"
    assert len(expr) <= 2000
    broken = api.get("/api/v1/lists/briefing/segments/count", params={"expression": expr})
    assert broken.status_code == 422
    body = broken.json()
    assert body["column"] == len(expr) + 1 and f"(column {len(expr) + 1})" in body["detail"]
    header, shown, under = body["detail"].splitlines()
    assert len(shown) <= 80 and under.index("^") == len(shown)  # just past the end
    huge = " or ".join(f"tag:t{i}" for i in range(1000))  # 10 KB
    refused = api.get("/api/v1/lists/briefing/segments/count", params={"expression": huge})
    assert refused.status_code == 422
    assert len(refused.content) < 600 and "at most 2000 characters" in refused.text


def test_a_name_with_a_bidi_override_is_stored_without_it(
    api: TestClient, session: Session, room: Newsroom
) -> None:
    """Hostile input: `Evil\u202emoc.live@ Ana` and a zero-width space, through the API."""
    added = api.post(
        "/api/v1/lists/briefing/subscribers",
        json={"email": "q9@example.com", "name": "Evil\u202emoc.live@ A\u200bna", "company": "X"},
    )
    assert added.status_code in (200, 201), added.text
    sub = get_subscriber(session, "q9@example.com")
    assert sub is not None and sub.name == "Evilmoc.live@ Ana"
    assert api.get("/api/v1/subscribers/q9@example.com").json()["name"] == "Evilmoc.live@ Ana"


def test_issues_are_listed_and_read(api: TestClient, session: Session, room: Newsroom) -> None:
    issue = get_issue(session, room.issue_slug)
    listed = api.get("/api/v1/issues").json()
    assert [i["slug"] for i in listed] == [room.issue_slug]
    one = api.get(f"/api/v1/issues/{room.issue_slug}").json()
    assert one["title"] == issue.title
    assert [i["headline"] for i in one["item_list"]] == [i.headline for i in issue.items]
    missing = api.get("/api/v1/issues/no-such-issue")
    assert missing.status_code == 404 and "known issues" in missing.json()["detail"]


def test_creating_a_campaign_sends_like_mailer_send_yes(
    api: TestClient, session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    expected = segments.count(session, room.list_id, "tag:client")
    created = api.post(
        "/api/v1/campaigns",
        json={"issue": room.issue_slug, "list": "briefing", "segment": "clients"},
    )
    assert created.status_code == 201
    body = created.json()
    assert body["recipients"] == expected and body["segment"] == "clients"
    final = wait_final(api, body["id"])
    assert final["status"] == "done" and final["counts"]["sent"] == expected
    assert len(relay.sink.received) == expected
    # Everyone already has it: a second send reaches nobody (unless forced), like the CLI.
    second = api.post("/api/v1/campaigns", json={"issue": room.issue_slug, "list": "briefing",
                                                  "segment": "clients"})  # fmt: skip
    assert second.status_code == 422
    assert "nobody to send to" in second.json()["detail"]
    assert (
        f"all {expected} active subscribers of list 'briefing' with " in (second.json()["detail"])
    )


def test_a_campaign_not_started_gives_whom_it_was_counted_for_not_only_total_0(
    api: TestClient, room: Newsroom, relay: SMTPServer
) -> None:
    """Scheduled, or paused before its time, a campaign has snapshotted nobody: `total` is 0.
    GET says so (`not_started`) and gives `recipients`, the audience counted at its creation,
    as `mailer campaign status` and the admin do; the create answer had it, the reads did not."""
    created = api.post(
        "/api/v1/campaigns",
        json={"issue": room.issue_slug, "list": "briefing", "at": "2099-01-01T09:00:00+00:00"},
    ).json()
    cid = created["id"]
    for step in ("scheduled", "paused"):
        if step == "paused":
            assert api.post(f"/api/v1/campaigns/{cid}/pause").json()["status"] == "paused"
        got = api.get(f"/api/v1/campaigns/{cid}").json()
        assert got["total"] == 0 and got["not_started"] is True, step
        assert got["recipients"] == created["recipients"] == room.report.imported, step
    listed = {c["id"]: c for c in api.get("/api/v1/campaigns").json()}
    assert listed[cid]["recipients"] == room.report.imported and listed[cid]["not_started"]
    assert relay.sink.received == []


def test_campaign_state_changes_and_their_refusals(
    api: TestClient, room: Newsroom, relay: SMTPServer
) -> None:
    scheduled = api.post(
        "/api/v1/campaigns",
        json={"issue": room.issue_slug, "list": "briefing", "at": "2099-01-01T09:00:00+00:00"},
    ).json()
    cid = scheduled["id"]
    assert scheduled["status"] == "scheduled"
    assert scheduled["scheduled_at"].startswith("2099-01-01T09:00:00")
    assert scheduled["also_under_way"] == []
    # The same issue scheduled to the same list again: created, and the answer names the first.
    twin = api.post(
        "/api/v1/campaigns",
        json={"issue": room.issue_slug, "list": "briefing", "at": "2099-01-02T09:00:00+00:00"},
    ).json()
    assert twin["also_under_way"] == [cid]
    assert api.post(f"/api/v1/campaigns/{twin['id']}/cancel").json()["status"] == "cancelled"
    assert api.post(f"/api/v1/campaigns/{cid}/pause").json()["status"] == "paused"
    refused = api.post(f"/api/v1/campaigns/{cid}/pause")
    assert refused.status_code == 409 and "only a sending or scheduled" in refused.json()["detail"]
    assert api.post(f"/api/v1/campaigns/{cid}/cancel").json()["status"] == "cancelled"
    assert api.post(f"/api/v1/campaigns/{cid}/resume").status_code == 409
    assert api.get("/api/v1/campaigns/99999").status_code == 404
    assert api.get("/api/v1/campaigns/0").status_code == 422
    both = api.post(
        "/api/v1/campaigns",
        json={"issue": room.issue_slug, "list": "briefing", "segment": "clients", "where": "x:y"},
    )
    assert both.status_code == 422 and "either" in both.json()["detail"]
    assert relay.sink.received == []


def test_openapi_documents_the_models_and_the_bearer_scheme() -> None:
    schema = create_app().openapi()
    names = set(schema["components"]["schemas"])
    assert {"CampaignOut", "CampaignCreated", "SubscriberPage", "SubscriberDetail", "ListOut",
            "IssueDetail", "CountOut", "ErrorOut"} <= names  # fmt: skip
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    post = schema["paths"]["/api/v1/campaigns"]["post"]
    assert post["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CampaignCreated"
    }
    assert "401" in post["responses"]
    assert not any(p.startswith("/admin") for p in schema["paths"])


def test_campaigns_are_listed_and_their_failed_deliveries_retried(
    api: TestClient, session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    """GET /campaigns lists what was sent, newest first, with its counts; POST retry-failed
    sends the failed deliveries again once the relay takes them, each once."""
    target = "ana.torres31@example.net"
    expected = {e for e in audience(session, room.list_id) if e.endswith("@example.net")}
    assert target in expected and len(expected) > 2
    relay.sink.rules[target] = ["554 5.7.1 message refused by policy"]
    sent = api.post(
        "/api/v1/campaigns",
        json={"issue": room.issue_slug, "list": "briefing", "where": "domain:example.net"},
    ).json()
    first = wait_final(api, sent["id"])
    assert (first["counts"]["sent"], first["counts"]["failed"]) == (len(expected) - 1, 1)
    later = api.post(
        "/api/v1/campaigns",
        json={"issue": room.issue_slug, "list": "briefing", "at": "2099-01-01T09:00:00+00:00"},
    ).json()

    listed = api.get("/api/v1/campaigns").json()
    assert [(c["id"], c["status"]) for c in listed] == [
        (later["id"], "scheduled"),
        (sent["id"], "done"),
    ]
    assert listed[1]["issue"] == room.issue_slug and listed[1]["counts"]["failed"] == 1

    relay.sink.rules[target] = ["250 OK"]
    retried = api.post(f"/api/v1/campaigns/{sent['id']}/retry-failed")
    assert retried.status_code == 200, retried.text
    final = wait_final(api, sent["id"])
    assert (final["counts"]["sent"], final["counts"].get("failed", 0)) == (len(expected), 0)
    assert sorted(r.rcpt_tos[0].lower() for r in relay.sink.received) == sorted(expected)
    assert api.post("/api/v1/campaigns/99999/retry-failed").status_code == 404


def test_subscribers_page_through_by_keyset_and_each_address_comes_once(
    api: TestClient, room: Newsroom
) -> None:
    """Following next_after visits every subscriber once, in address order, as offset does."""
    everyone = api.get("/api/v1/subscribers", params={"list": "briefing", "limit": 200}).json()
    expected = [s["email"] for s in everyone["items"]]
    assert len(expected) == everyone["total"] > 7
    seen: list[str] = []
    params: dict[str, Any] = {"list": "briefing", "limit": 7}
    while True:
        page = api.get("/api/v1/subscribers", params=params).json()
        assert page["total"] == len(expected)
        seen += [s["email"] for s in page["items"]]
        if page["next_after"] is None:
            break
        params["after"] = page["next_after"]
    assert seen == expected == sorted(expected)
    both = api.get("/api/v1/subscribers", params={"after": expected[0], "offset": 3})
    assert both.status_code == 422 and "offset or after" in both.text


def test_a_subscriber_total_past_the_cap_is_marked_and_count_exact_counts(
    api: TestClient, room: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = api.get("/api/v1/subscribers", params={"q": "example"}).json()
    assert exact["total_exact"] is True and exact["total"] > 3
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    capped = api.get("/api/v1/subscribers", params={"q": "example"}).json()
    assert capped["total_exact"] is False and capped["total"] == 3
    counted = api.get("/api/v1/subscribers", params={"q": "example", "count": "exact"}).json()
    assert counted["total_exact"] is True and counted["total"] == exact["total"]
    assert api.get("/api/v1/subscribers", params={"count": "all"}).status_code == 422


def test_a_campaigns_deliveries_page_through_by_keyset(
    api: TestClient, session: Session, room: Newsroom, relay: SMTPServer
) -> None:
    created = api.post("/api/v1/campaigns", json={"issue": room.issue_slug, "list": "briefing"})
    cid = created.json()["id"]
    final = wait_final(api, cid)
    emails: list[str | None] = []
    ids: list[int] = []
    params: dict[str, Any] = {"limit": 4}
    while True:
        page = api.get(f"/api/v1/campaigns/{cid}/deliveries", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        ids += [d["id"] for d in body["items"]]
        emails += [d["email"] for d in body["items"]]
        assert all(d["status"] == "sent" and d["sent_at"] for d in body["items"])
        if body["next_after"] is None:
            break
        params["after"] = body["next_after"]
    assert ids == sorted(set(ids)) and len(ids) == final["counts"]["sent"]
    assert sorted(e for e in emails if e) == sorted(r.rcpt_tos[0] for r in relay.sink.received)
    failed = api.get(f"/api/v1/campaigns/{cid}/deliveries", params={"status": "failed"})
    assert failed.json() == {"items": [], "next_after": None}
    assert api.get("/api/v1/campaigns/999/deliveries").status_code == 404
    bad = api.get(f"/api/v1/campaigns/{cid}/deliveries", params={"status": "lost"})
    assert bad.status_code == 422


def test_a_campaign_the_door_refuses_is_a_422_and_nothing_is_created(
    api: TestClient, session: Session, room: Newsroom, relay: SMTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Like `mailer send`: a past time (read in MAILER_TIMEZONE), an empty audience, and
    settings that cannot send are refused with what to fix, before any campaign exists."""
    from mailer.settings import reset_settings

    monkeypatch.setenv("MAILER_TIMEZONE", "America/Mexico_City")
    reset_settings()
    body = {"issue": room.issue_slug, "list": "briefing"}
    past = api.post("/api/v1/campaigns", json={**body, "at": "2020-01-01T09:00"})
    assert past.status_code == 422
    assert "2020-01-01 09:00 CST (2020-01-01 15:00 UTC) is in the past" in past.json()["detail"]
    empty = api.post("/api/v1/campaigns", json={**body, "where": "tag:nobody"})
    assert empty.status_code == 422 and "nobody to send to" in empty.json()["detail"]
    typo = api.post("/api/v1/campaigns", json={**body, "force_resend": "yes"})
    assert typo.status_code == 422  # only JSON true resends to everyone
    assert [e["loc"] for e in typo.json()["detail"]] == [["body", "force_resend"]]
    monkeypatch.setenv("MAILER_DKIM_SELECTOR", "brief")
    reset_settings()
    dkim = api.post("/api/v1/campaigns", json=body)
    assert dkim.status_code == 422 and "MAILER_DKIM_KEY_FILE" in dkim.json()["detail"]
    assert api.get("/api/v1/campaigns").json() == []
    assert relay.sink.received == []


def test_a_list_is_created_private_and_patched(
    api: TestClient, session: Session, room: Newsroom
) -> None:
    """Lists carry `private`; PATCH changes only what it is given, names the field it refuses,
    and needs the `subscribers` scope like the other list writes."""
    assert [entry["private"] for entry in api.get("/api/v1/lists").json()] == [False]
    made = api.post("/api/v1/lists", json={"slug": "board", "name": "Board", "private": True})
    assert made.status_code == 201 and made.json()["private"] is True
    assert api.get("/subscribe/board").status_code == 404  # the public form is closed

    opened = api.patch("/api/v1/lists/board", json={"private": False})
    assert opened.status_code == 200
    assert opened.json() == {
        "slug": "board",
        "name": "Board",
        "active": 0,
        "pending": 0,
        "unsubscribed": 0,
        "private": False,
        "mailable": 0,
    }
    assert api.get("/subscribe/board").status_code == 200
    renamed = api.patch(
        "/api/v1/lists/briefing", json={"name": "Client Briefing", "description": "Mondays"}
    ).json()
    assert (renamed["name"], renamed["private"], renamed["active"]) == (
        "Client Briefing",
        False,
        room.report.imported,
    )
    listed = {entry["slug"]: entry for entry in api.get("/api/v1/lists").json()}
    assert listed["briefing"]["name"] == "Client Briefing"

    unknown = api.patch("/api/v1/lists/nope", json={"private": True})
    assert unknown.status_code == 404 and "no list with slug 'nope'" in unknown.json()["detail"]
    for body, field in (
        ({"private": "sometimes"}, "private"),
        ({"private": "yes"}, "private"),  # JSON true or false only: no "yes", "no", 1 or "off"
        ({"private": "no"}, "private"),
        ({"private": 1}, "private"),
        ({"name": ""}, "name"),
        ({"description": "x" * 2001}, "description"),
        ({"slug": "other"}, "slug"),
    ):
        refused = api.patch("/api/v1/lists/board", json=body)
        assert refused.status_code == 422, body
        assert [e["loc"] for e in refused.json()["detail"]] == [["body", field]], body
    blank = api.patch("/api/v1/lists/board", json={"name": "   "})
    assert blank.status_code == 422 and "`name`" in blank.json()["detail"]
    control = api.patch("/api/v1/lists/board", json={"description": "a\x00b"})
    assert control.status_code == 422 and "description" in control.json()["detail"]

    for nothing in ({}, {"name": None, "description": None}):
        empty = api.patch("/api/v1/lists/board", json=nothing)
        assert empty.status_code == 422, nothing
        assert empty.json()["detail"] == (
            "nothing to change for list 'board': give at least one of `name`, `description` or "
            "`private` (the slug never changes)"
        )

    reader, _row = accounts.create_token(session, "reader", scopes=("read",))
    session.commit()
    forbidden = api.patch(
        "/api/v1/lists/board",
        json={"private": True},
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert (
        forbidden.status_code == 403
        and "insufficient_scope" in forbidden.headers["WWW-Authenticate"]
    )
    assert api.get("/api/v1/lists").json()[0]["private"] is False  # board: unchanged

    spec = api.get("/openapi.json").json()
    patch = spec["paths"]["/api/v1/lists/{slug}"]["patch"]
    assert patch["x-required-scope"] == "subscribers"
    schema = spec["components"]["schemas"]["ListPatch"]["properties"]
    assert set(schema) == {"name", "description", "private"}
    assert "private" in spec["components"]["schemas"]["ListOut"]["required"]


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("Weekly\r\nBcc: all@example.com", "U+000D"),
        ("Week\u200bly", "U+200B"),
        ("\u200eWeekly", "U+200E"),
        ("Weekly\u2029", "U+2029"),
        ("\ufeffWeekly", "U+FEFF"),
        ("Weekly\x85", "U+0085"),
    ],
)
def test_a_list_name_that_is_not_one_line_of_visible_text_is_refused_on_create_and_patch(
    api: TestClient, name: str, named: str
) -> None:
    sent = {"headers": {"Content-Type": "application/json"}}
    made = api.post("/api/v1/lists", content=json.dumps({"slug": "board", "name": name}), **sent)
    assert made.status_code == 422
    assert named in made.json()["detail"] and "(`name`)" in made.json()["detail"]
    patched = api.patch("/api/v1/lists/briefing", content=json.dumps({"name": name}), **sent)
    assert patched.status_code == 422 and named in patched.json()["detail"]
    assert [entry["slug"] for entry in api.get("/api/v1/lists").json()] == ["briefing"]
    assert "\n" not in api.get("/api/v1/lists").json()[0]["name"]


def test_a_lone_surrogate_in_json_text_is_a_422_naming_the_field_not_a_500(
    api: TestClient,
) -> None:
    """`"\\ud800"` is valid JSON text but no character (PostgreSQL cannot store it, and the
    422 that echoed it could not be encoded): refused before the operation runs, naming the
    member, whatever else the body lacks."""
    sent = {"headers": {"Content-Type": "application/json"}}
    for body in (
        '{"slug": "board", "name": "Weekly\\ud800"}',
        '{"name": "Weekly\\ud800"}',  # the slug missing too
    ):
        refused = api.post("/api/v1/lists", content=body, **sent)
        assert refused.status_code == 422, body
        detail = refused.json()["detail"]
        assert "name" in detail and "U+D800" in detail, detail
    assert [entry["slug"] for entry in api.get("/api/v1/lists").json()] == ["briefing"]


def test_a_segment_is_patched_with_a_checked_expression_and_deleted(
    api: TestClient, session: Session, room: Newsroom
) -> None:
    """The API could only read segments: a saved segment could not be changed or deleted."""
    issue = get_issue(session, room.issue_slug)
    audience = campaigns.resolve_audience(session, issue, "briefing", segment="clients")
    campaign_id = campaigns.create(session, issue, cleared(audience)).id
    session.commit()
    path = "/api/v1/lists/briefing/segments/clients"

    broken = api.patch(path, json={"expression": "tag:client and (lang:es"})
    assert broken.status_code == 422 and "column 24" in broken.json()["detail"]
    assert api.patch(path, json={"expression": "tag:x", "slug": "y"}).status_code == 422
    new = "tag:client and lang:es"
    changed = api.patch(path, json={"expression": new})
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        "slug": "clients",
        "expression": new,
        "count": segments.count(session, room.list_id, new),
        "campaigns": [campaign_id],
    }
    assert (
        api.patch("/api/v1/lists/briefing/segments/nope", json={"expression": new}).status_code
        == 404
    )
    assert (
        api.patch("/api/v1/lists/nope/segments/clients", json={"expression": new}).status_code
        == 404
    )

    assert api.delete(path).status_code == 204
    assert api.get("/api/v1/lists/briefing/segments").json() == []
    assert api.delete(path).status_code == 404
    kept = api.get(f"/api/v1/campaigns/{campaign_id}").json()
    assert (kept["segment"], kept["expression"]) == (None, "tag:client")


def test_changing_or_deleting_a_segment_needs_the_subscribers_scope(
    session: Session, room: Newsroom
) -> None:
    token, _row = accounts.create_token(session, "dashboard", scopes=("read",))
    session.commit()
    path = "/api/v1/lists/briefing/segments/clients"
    with TestClient(create_app(), base_url="https://news.example.com") as client:
        reader = {"Authorization": f"Bearer {token}"}
        patched = client.patch(path, json={"expression": "tag:press"}, headers=reader)
        assert patched.status_code == 403 and "lacks the 'subscribers' scope" in patched.text
        assert client.delete(path, headers=reader).status_code == 403
    session.expire_all()
    assert segments.get_segment(session, room.list_id, "clients").expression == "tag:client"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [("name", "Eve\tSmith", "U+0009"), ("company", "Acme\r\nBcc: x@example.org", "U+000D")],
)
def test_a_subscriber_field_that_is_not_one_line_is_refused_naming_it(
    api: TestClient, session: Session, field: str, value: str, code: str
) -> None:
    """A TAB in `name` passed the API's check and was folded into a space; a CR/LF was refused
    as "contains control characters" without saying which: both are a 422 naming the field and
    the character, as the CLI and the admin's forms say, and no one is added."""
    made = api.post(
        "/api/v1/lists/briefing/subscribers", json={"email": "eve@example.org", field: value}
    )
    assert made.status_code == 422
    assert f"`{field}` holds the control character {code}" in made.json()["detail"]
    assert get_subscriber(session, "eve@example.org") is None
