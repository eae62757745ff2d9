"""The admin's subscriber search and bulk actions at 100,000 subscribers on PostgreSQL.

    python bench/admin.py [--subscribers 100000] [--bulk 10000] [--repeat 5]

A throw-away PostgreSQL database is migrated and filled with N subscribers (bulk INSERT), spread
over two lists, 400 companies, four languages and a `client` tag on one in three. The pages are
requested in process through FastAPI's TestClient as a signed-in admin, so each figure includes
routing, the queries, the template and the session checks, but no network.

Measured (median of --repeat runs, after one warm-up):
- the search page: by company text, by segment expression, the last page of everyone (the
  deepest OFFSET), and sorted by company descending on a page in the middle; each page reads one
  page of rows (50), whatever the total. Baseline: the same search loading every matching row
  and slicing the page in Python (what "paging" would cost if it were done after the query).
- bulk actions on --bulk rows (one company group): the confirmation's count, tag, untag, and
  unsubscribe-everywhere (which computes each address's keyed hash and adds suppression
  entries), through the same POST the admin's confirmation page sends. Baseline: the one-at-a-time
  path (`lifecycle.unsubscribe_everywhere` per address, as the subscriber page does) on 500 rows,
  extrapolated.

Targets: a search page under 0.5 s; a bulk action on 10,000 rows under 10 s and at least 10x the
one-at-a-time path.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

# BENCH_CODE: another checkout's root (the code before a change) to time the same pages with.
sys.path.insert(0, os.environ.get("BENCH_CODE") or str(Path(__file__).resolve().parent.parent))

from bench._common import PG_SERVER, SECRET, fmt_us, table  # noqa: E402

COMPANIES = 400
PAGE = 50


def _pg_admin():  # type: ignore[no-untyped-def]
    import psycopg

    dsn = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    return psycopg.connect(dsn, autocommit=True)


def fill(url: str, n: int, bulk: int) -> None:
    """N subscribers: the first `bulk` at company "Bulk Group", the rest over 400 companies."""
    from sqlalchemy import insert, text

    from mailer import accounts
    from subscribers.db import make_engine, session_factory
    from subscribers.lists import create_list
    from subscribers.models import Subscriber, SubscriberTag, Subscription

    engine = make_engine(url)
    with session_factory(engine)() as session:
        lists = [create_list(session, "briefing", "Briefing"), create_list(session, "alerts", "A")]
        accounts.create_user(session, "bench@example.com", "bench password 123")
        session.commit()
        for start in range(0, n, 10_000):
            rows = [
                {
                    "email": f"reader{i:06d}@firm{i % 97}.example",
                    "domain": f"firm{i % 97}.example",
                    "name": f"Reader {i}",
                    "company": "Bulk Group" if i < bulk else f"Company {i % COMPANIES:03d}",
                    "language": ("en", "es", "pt", "fr")[i % 4],
                    "attributes": {},
                }
                for i in range(start, min(n, start + 10_000))
            ]
            ids = session.scalars(insert(Subscriber).returning(Subscriber.id), rows).all()
            session.execute(
                insert(Subscription),
                [{"subscriber_id": sid, "list_id": lists[sid % 2].id} for sid in ids],
            )
            session.execute(
                insert(SubscriberTag),
                [{"subscriber_id": sid, "tag": "client"} for sid in ids if sid % 3 == 0],
            )
            session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
    engine.dispose()


def signed_in(url: str) -> Any:
    """A TestClient signed in as the bench admin, and its CSRF token."""
    from mailer.settings import reset_settings

    os.environ.update(
        MAILER_DATABASE_URL=url,
        MAILER_SECRET_KEY=SECRET,
        MAILER_PUBLIC_URL="https://news.example.com",
    )
    reset_settings()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient

    from mailer.web.app import create_app

    client = TestClient(create_app(), base_url="https://news.example.com")
    client.headers["Origin"] = "https://news.example.com"  # as a browser sends on a form post
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/login").text)
    assert token
    done = client.post(
        "/admin/login",
        data={"email": "bench@example.com", "password": "bench password 123"}
        | {"csrf_token": token.group(1), "next": "/admin"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text[:500]
    page = client.get("/admin/subscribers")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    return client, csrf.group(1)


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    fn()
    runs, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - started)
    return sorted(runs)[len(runs) // 2], result


def search_pages(client: Any, url: str, n: int, repeat: int) -> list[list[str]]:
    from sqlalchemy import select

    from subscribers import search
    from subscribers.db import make_engine, session_factory
    from subscribers.models import Subscriber

    cases = [
        (
            "text: company 'company 123'",
            {"q": "company 123"},
            search.SubscriberSearch("company 123"),
        ),
        (
            "expression: tag:client and lang:es",
            {"expr": "tag:client and lang:es"},
            search.SubscriberSearch(expression="tag:client and lang:es"),
        ),
        ("everyone, last page (keyset)", {"page": "last"}, search.SubscriberSearch()),
        (
            "everyone by company desc, last page",
            {"sort": "company", "dir": "desc", "page": "last"},
            search.SubscriberSearch(),
        ),
    ]
    engine = make_engine(url)
    rows = []
    with session_factory(engine)() as session:
        for label, params, wanted in cases:
            seconds, page = timed(
                lambda p=params: client.get("/admin/subscribers", params=p), repeat
            )
            assert page.status_code == 200, page.text[:300]
            found = re.search(r'data-total="(\d+)"[^>]*data-total-kind="(\w+)"', page.text)
            assert found
            n, kind = f"{int(found.group(1)):,}", found.group(2)
            total = {"exact": n, "about": f"about {n}"}.get(kind, f"more than {n}")
            shown = page.text.count('name="id"')

            def load_all(w: Any = wanted) -> int:
                """Paging after the query: every matching row read, then one page sliced."""
                everything = session.scalars(
                    select(Subscriber).where(*w.conditions()).order_by(Subscriber.email)
                ).all()
                session.expunge_all()
                return len(everything[:PAGE])

            base, _ = timed(load_all, max(1, repeat // 2))
            rows.append(
                [
                    label,
                    total,
                    str(shown),
                    fmt_us(seconds),
                    fmt_us(base),
                    f"{base / seconds:.1f}x",
                ]
            )
    engine.dispose()
    return rows


def bulk_actions(client: Any, csrf: str, url: str, bulk: int) -> list[list[str]]:
    from sqlalchemy import select

    from subscribers.db import make_engine, session_factory
    from subscribers.lifecycle import unsubscribe_everywhere
    from subscribers.models import Subscriber

    search = {"q": "bulk group", "scope": "all", "csrf_token": csrf}
    out = []
    for action, extra in (("tag", {"tag": "q3"}), ("untag", {"tag": "q3"}), ("unsubscribe", {})):
        form = search | {"action": action} | extra
        started = time.perf_counter()
        confirm = client.post("/admin/subscribers/bulk", data=form)
        counted = time.perf_counter() - started
        n = int(re.search(r'data-bulk-count="(\d+)"', confirm.text).group(1))  # type: ignore[union-attr]
        started = time.perf_counter()
        done = client.post("/admin/subscribers/bulk/apply", data=form | {"expected": str(n)})
        applied = time.perf_counter() - started
        changed = int(re.search(r'data-bulk-changed="(\d+)"', done.text).group(1))  # type: ignore[union-attr]
        assert changed == n == bulk, (action, n, changed)
        out.append(
            [
                action,
                f"{changed:,}",
                fmt_us(counted),
                fmt_us(applied),
                f"{changed / applied:,.0f}/s",
            ]
        )
    # Baseline: one at a time, as the subscriber page would do it, on 500 other rows.
    engine = make_engine(url)
    with session_factory(engine)() as session:
        emails = session.scalars(
            select(Subscriber.email).where(Subscriber.company == "Company 007").limit(500)
        ).all()
        started = time.perf_counter()
        for email in emails:
            unsubscribe_everywhere(session, email or "", SECRET, "bench")
        session.commit()
        per_row = (time.perf_counter() - started) / len(emails)
    engine.dispose()
    out.append(
        [
            "unsubscribe, one at a time (500, extrapolated)",
            f"{bulk:,}",
            "",
            fmt_us(per_row * bulk),
            f"{1 / per_row:,.0f}/s",
        ]
    )
    return out


SENT_SHARE = 0.6  # of the campaign's deliveries, sent when the pages are timed


def add_campaign(url: str) -> int:
    """A campaign of the first list's subscribers, part-way through sending, in bulk SQL.

    The subscriber tables are analysed where their statistics are stale (as the campaign's start
    does), every subscription becomes a pending delivery, the table is vacuumed (as autovacuum
    does after a large insert), then 60% are marked sent over the last hour, 0.5% failed and 0.5%
    deferred with one of three relay replies: the row versions a sending campaign leaves, so
    the pages meet the heap as they would mid-send.
    """
    import psycopg

    from subscribers.db import analyze, make_engine, session_factory

    engine = make_engine(url)
    with session_factory(engine)() as session:  # what the campaign's start does first
        analyze(session, "subscriber", "subscription", "subscriber_tag", only_stale=True)
        session.commit()
    engine.dispose()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        issue_id = conn.execute("SELECT min(id) FROM issue").fetchone()[0]  # type: ignore[index]
        list_id = conn.execute("SELECT min(id) FROM mailing_list").fetchone()[0]  # type: ignore[index]
        total = conn.execute(
            "SELECT count(*) FROM subscription WHERE list_id = %s", (list_id,)
        ).fetchone()[0]  # type: ignore[index]
        campaign_id = conn.execute(
            "INSERT INTO campaign (issue_id, list_id, status, status_reason, force_resend,"
            " started_at, created_at, created_by, total)"
            " VALUES (%s, %s, 'sending', '', false, now() - interval '1 hour', now(), 'bench', %s)"
            " RETURNING id",
            (issue_id, list_id, total),
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            "INSERT INTO delivery (campaign_id, issue_id, subscriber_id, status, resend,"
            " attempts, updated_at) SELECT %s, %s, subscriber_id, 'pending', false, 0, now()"
            " FROM subscription WHERE list_id = %s ORDER BY subscriber_id",
            (campaign_id, issue_id, list_id),
        )
        conn.execute("VACUUM ANALYZE delivery")
        conn.execute(
            "UPDATE delivery SET status = 'sent', attempts = 1, last_reply = '250 2.0.0 Ok',"
            " sent_at = now() - interval '1 hour' * random(), updated_at = now()"
            " WHERE campaign_id = %s AND random() < %s",
            (campaign_id, SENT_SHARE),
        )
        for status, reply in (
            ("failed", "550 5.1.1 <{}> User unknown"),
            ("deferred", "451 4.7.1 Greylisted, try again later"),
        ):
            conn.execute(
                "UPDATE delivery SET status = %s, attempts = 1, last_reply = %s,"
                " updated_at = now() WHERE campaign_id = %s AND status = 'pending'"
                " AND random() < 0.0125",
                (status, reply, campaign_id),
            )
        conn.execute("ANALYZE delivery")
    return int(campaign_id)


def max_campaign(url: str) -> int | None:
    """The newest campaign's id (one an earlier run added), if any."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        found = conn.execute("SELECT max(id) FROM campaign").fetchone()
    return int(found[0]) if found and found[0] is not None else None


def page_paths(client: Any, campaign_id: int, list_slug: str) -> dict[str, str]:
    """The admin pages the acceptance names, with the deep keyset pages found by following
    the pages' own "Last" links (as a user would)."""
    paths = {
        "dashboard": "/admin",
        "campaign": f"/admin/campaigns/{campaign_id}",
        "campaign, counted afresh": f"/admin/campaigns/{campaign_id}",
        "campaign progress.json": f"/admin/campaigns/{campaign_id}/progress.json",
        "campaign chart.svg": f"/admin/campaigns/{campaign_id}/chart.svg",
        "campaign sent people p1": f"/admin/campaigns/{campaign_id}/people/sent",
        "list": f"/admin/lists/{list_slug}",
        "subscribers p1": "/admin/subscribers",
        "api subscribers p1": "/api/v1/subscribers?limit=100",
    }
    for name, first in (
        ("campaign sent people, last", paths["campaign sent people p1"]),
        ("subscribers, last page", paths["subscribers p1"]),
    ):
        page = client.get(first).text
        found = re.search(r'href="([^"]*)"[^>]*>Last', page)
        if found:
            paths[name] = first.split("?")[0] + found.group(1).replace("&amp;", "&")
        else:  # numbered pages (the code before keyset paging): the last number
            numbers = [int(n) for n in re.findall(r'href="\?[^"]*page=(\d+)"', page)]
            paths[name] = f"{first}?page={max(numbers)}" if numbers else first
    return paths


def time_pages(client: Any, token: str, paths: dict[str, str], repeat: int) -> dict[str, float]:
    """Median milliseconds per page after one warm-up request."""
    try:
        from mailer.web import delivery_counts
    except ImportError:  # the code before kept no counts
        delivery_counts = None

    out = {}
    for name, path in paths.items():
        headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api") else {}

        def get(p: str = path, h: dict[str, str] = headers, fresh: bool = "afresh" in name) -> Any:
            if (
                fresh and delivery_counts is not None
            ):  # no figures kept from the last few seconds: the first view's cost
                delivery_counts._recent.clear()
            response = client.get(p, headers=h)
            assert response.status_code == 200, (p, response.status_code, response.text[:300])
            return response

        seconds, _ = timed(get, repeat)
        out[name] = seconds * 1e3
    return out


def pages_run(url: str, repeat: int, campaign_id: int | None = None) -> dict[str, float]:
    """Time the pages on a campaign sending; `campaign_id` one added earlier (else added)."""
    from sqlalchemy import select

    from mailer import accounts
    from mailer.accounts import AdminUser
    from subscribers.db import make_engine, session_factory
    from subscribers.models import MailingList

    if campaign_id is None:
        campaign_id = add_campaign(url)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        if session.scalar(select(AdminUser).where(AdminUser.email == "bench@example.com")) is None:
            accounts.create_user(session, "bench@example.com", "bench password 123")
        token, _ = accounts.create_token(session, f"bench-{uuid.uuid4().hex[:8]}")
        slug = session.query(MailingList.slug).order_by(MailingList.id).first()[0]  # type: ignore[index]
        session.commit()
    engine.dispose()
    client, _ = signed_in(url)
    paths = page_paths(client, campaign_id, slug)
    figures = time_pages(client, token, paths, repeat)
    client.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--bulk", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--template",
        help="copy this database (e.g. a million-subscriber bench_1m_tpl) instead of filling one;"
        " only the page timings run",
    )
    parser.add_argument(
        "--database",
        help="use this existing database (a copy of the template, say) and keep it: pages only;"
        " a campaign added by an earlier run is reused",
    )
    parser.add_argument("--pages-only", action="store_true", help="skip search and bulk")
    parser.add_argument(
        "--before",
        metavar="DIR",
        help="also time the same pages with the code in DIR (a checkout of the code before)",
    )
    parser.add_argument("--campaign", type=int, help=argparse.SUPPRESS)  # --before's child run
    parser.add_argument("--keep", action="store_true", help="keep the database (name printed)")
    args = parser.parse_args()
    from mailer import db as mailer_db

    name = args.database or f"mailer_bench_{uuid.uuid4().hex[:10]}"
    args.keep = args.keep or bool(args.database)
    with _pg_admin() as conn:
        if args.database:
            pass
        elif args.template:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{args.template}"')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_SERVER}/{name}"
    try:
        if args.template or args.pages_only or args.database:
            if not (args.template or args.database):
                sys.path.insert(0, str(Path(__file__).resolve().parent))
                from send import populate  # type: ignore[import-not-found]

                populate(url, args.subscribers)
            if not args.campaign:  # the code before may not know the newest migrations
                mailer_db.upgrade(url)
            if args.campaign:  # a child run for --before: print the figures as JSON
                print(json.dumps(pages_run(url, args.repeat, args.campaign)))
                return
            print(f"database {name}; load average: {os.getloadavg()[0]:.2f} (1 min)")
            earlier = max_campaign(url) if args.database else None  # added by an earlier run
            figures = pages_run(url, args.repeat, earlier)
            print(json.dumps({k: round(v, 1) for k, v in figures.items()}), flush=True)
            before: dict[str, float] = {}
            if args.before:
                child = subprocess.run(
                    [sys.executable, __file__, "--database", name, "--repeat", str(args.repeat)]
                    + ["--campaign", str(max_campaign(url))],
                    env=os.environ | {"BENCH_CODE": str(Path(args.before).resolve())},
                    capture_output=True,
                    text=True,
                )
                if child.returncode:
                    print(child.stderr[-3000:], file=sys.stderr)
                else:
                    line = [x for x in child.stdout.splitlines() if x.startswith("{")][-1]
                    before = json.loads(line)
            print(f"load average: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores\n")
            print("Admin pages during a campaign's sending (ms, median of --repeat):")
            rows = [
                [k, f"{v:,.0f}", "yes" if v <= 300 else "NO"]
                + ([f"{before[k]:,.0f}" if k in before else "—"] if before else [])
                for k, v in figures.items()
            ]
            print(table(["page", "ms", "≤ 300 ms"] + (["before"] if before else []), rows))
            return
        mailer_db.upgrade(url)
        started = time.perf_counter()
        fill(url, args.subscribers, args.bulk)
        print(
            f"{args.subscribers:,} subscribers generated in {time.perf_counter() - started:.1f} s"
        )
        print(f"load average: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores\n")
        client, csrf = signed_in(url)
        print("Search page (GET /admin/subscribers, one page of 50 rows):")
        headers = ["search", "matches", "rows read", "page", "load-all baseline", "speed-up"]
        print(table(headers, search_pages(client, url, args.subscribers, args.repeat)))
        print(f"\nBulk actions on the {args.bulk:,} results of one search (confirm, then apply):")
        headers = ["action", "rows", "confirm (count)", "apply", "rows/s"]
        print(table(headers, bulk_actions(client, csrf, url, args.bulk)))
        client.close()
    finally:
        mailer_db.reset_engines()
        if args.keep:
            print(f"kept {url}")
        else:
            with _pg_admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
