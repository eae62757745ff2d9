"""A page listing campaigns or segments runs as many SQL statements for thirty rows as for three.

Each campaign row looked up its list, its segment and its kept figures one query at a time (the
session forgets an object nobody holds, so even the same list was fetched again per row), and
the segments page asked for each segment's campaigns separately: 47 statements for 22 campaigns
where 6 do. The statements are counted with SQLAlchemy's before_cursor_execute while the real
page is served (in process, signed in), after one warm-up request that stores the finished
campaigns' figures as any first view does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from mailer.sending.models import Campaign, CampaignStatus
from subscribers import segments
from subscribers.lists import create_list
from tests.builders import Newsroom
from tests.web.test_admin import Editor, editor  # noqa: F401
from tests.web.test_api import api  # noqa: F401

# ruff: noqa: F811  (the fixtures imported above are parameters here)


@contextmanager
def counting() -> Iterator[list[str]]:
    """Every statement any engine sends while the block runs."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def statements(get: Any, path: str) -> int:
    first = get(path)
    assert first.status_code == 200, (path, first.text[:300])
    with counting() as seen:
        assert get(path).status_code == 200
    return len(seen)


def add_campaigns(session: Session, room: Newsroom, n: int) -> None:
    """`n` finished campaigns of the fixture issue, over three lists, a third with a segment."""
    lists = [room.list_id]
    for k in range(2):
        lists.append(create_list(session, f"extra-{len(lists)}-{n}-{k}", "Extra").id)
    seg = segments.create_segment(session, room.list_id, f"clients-{n}", "tag:client")
    now = datetime.now(UTC)
    for i in range(n):
        list_id = lists[i % len(lists)]
        session.add(
            Campaign(
                issue_id=room.issue_id,
                list_id=list_id,
                segment_id=seg.id if list_id == room.list_id else None,
                status=CampaignStatus.DONE,
                status_reason="",
                force_resend=False,
                started_at=now,
                finished_at=now,
                created_by="test",
                total=0,
            )
        )
    session.commit()


def test_campaign_lists_do_not_query_per_campaign(
    editor: Editor, api: TestClient, session: Session, room: Newsroom
) -> None:
    paths = ("/admin", "/admin/campaigns", f"/admin/issues/{room.issue_slug}")
    add_campaigns(session, room, 3)
    few = {p: statements(editor.get, p) for p in paths}
    few["api"] = statements(api.get, "/api/v1/campaigns")
    add_campaigns(session, room, 27)
    many = {p: statements(editor.get, p) for p in paths}
    many["api"] = statements(api.get, "/api/v1/campaigns")
    listed = editor.get("/admin/campaigns").text
    ids = session.scalars(select(Campaign.id)).all()
    assert len(ids) == 30 and all(f'href="/admin/campaigns/{i}"' in listed for i in ids)
    assert "briefing / clients-27" in listed  # the list and segment of a row
    assert many == few


def test_the_segments_page_does_not_query_campaigns_per_segment(
    editor: Editor, session: Session, room: Newsroom
) -> None:
    path = f"/admin/lists/{room.list_slug}/segments"

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            seg = segments.create_segment(session, room.list_id, f"s{i}", "tag:client")
            session.add(
                Campaign(
                    issue_id=room.issue_id,
                    list_id=room.list_id,
                    segment_id=seg.id,
                    status=CampaignStatus.DONE,
                    status_reason="",
                    force_resend=False,
                    created_by="test",
                    total=0,
                )
            )
        session.commit()

    add(2, 0)
    two = statements(editor.get, path)
    add(18, 2)
    page = editor.get(path).text
    assert "s19" in page
    # one count per segment is the page's purpose; the campaigns behind them are one query
    assert statements(editor.get, path) - two == 18


def test_every_campaign_is_reachable_a_page_at_a_time(
    editor: Editor, api: TestClient, session: Session, room: Newsroom
) -> None:
    """The campaigns page showed the newest 200 and the API the newest `limit`, with no way to
    older ones; both now page by keyset (`before` = the last id shown)."""
    now = datetime.now(UTC)
    session.execute(
        insert(Campaign),
        [
            {
                "issue_id": room.issue_id,
                "list_id": room.list_id,
                "status": CampaignStatus.DONE,
                "status_reason": "",
                "force_resend": False,
                "started_at": now,
                "finished_at": now,
                "created_by": "test",
                "total": 0,
            }
            for _ in range(230)
        ],
    )
    session.commit()
    everyone = sorted(session.scalars(select(Campaign.id)).all(), reverse=True)

    seen: list[int] = []
    path: str | None = "/admin/campaigns"
    while path and len(seen) <= len(everyone):
        page = editor.get(path).text
        seen += [int(i) for i in re.findall(r'<td><a href="/admin/campaigns/(\d+)">', page)]
        older = re.search(r'href="(/admin/campaigns\?before=\d+)" rel="next"', page)
        path = older.group(1) if older else None
    assert seen == everyone

    seen = []
    before: list[int] = []
    while len(seen) <= len(everyone):
        params = {"limit": "100"} | ({"before": str(before[-1])} if before else {})
        got = [c["id"] for c in api.get("/api/v1/campaigns", params=params).json()]
        if not got:
            break
        seen += got
        before.append(got[-1])
    assert seen == everyone
