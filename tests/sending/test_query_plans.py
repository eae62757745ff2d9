"""Every query the send path runs on the delivery table uses an index, whatever the statistics say.

The queries are not copies: they are captured (SQLAlchemy's before_cursor_execute) while the real
code sends a small campaign in-process to a real SMTP server, on a PostgreSQL database of its own
with a few thousand delivery rows and autovacuum off. Each captured statement is then EXPLAINed
(FORMAT JSON) twice: as the code left the database, and with the planner's statistics wiped, as
on a database just filled by an import that nothing has analysed yet. A sequential or bitmap heap
scan over `delivery` costs time in proportion to the whole table (every campaign ever sent), which
is what made a 100,000-recipient campaign slow down as it went.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, event, select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mailer import db as mailer_db
from mailer.cli import app
from mailer.content.issues import import_issue
from mailer.content.models import Issue
from mailer.sending import campaigns, outcomes, start
from mailer.sending.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from mailer.settings import Settings
from subscribers.db import Base, analyze, make_engine, session_factory, utcnow
from subscribers.importing import import_csv
from subscribers.lists import create_list
from tests.builders import add_subscribers, cleared
from tests.conftest import BRIEFING, PG_SERVER
from tests.smtpd import SMTPServer

OLDER_ISSUE = Path(__file__).resolve().parent.parent / "data" / "issues" / "seguridad-es.md"
HISTORY = 3_000  # subscribers who already received the issue from an earlier campaign
NEWCOMERS = 40  # those the campaign under test sends to
ALLOWED = {"Index Scan", "Index Only Scan"}  # with an Index Cond (see _scans)


def _admin() -> psycopg.Connection:
    dsn = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    return psycopg.connect(dsn, autocommit=True)


@pytest.fixture
def database_url() -> Iterator[str]:
    """A database of its own (never analysed, autovacuum off): the shared one has statistics."""
    name = f"mailer_plans_{uuid.uuid4().hex[:10]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_SERVER}/{name}"
    mailer_db.upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            conn.exec_driver_sql(f'ALTER TABLE "{table.name}" SET (autovacuum_enabled = false)')
    engine.dispose()
    yield url
    mailer_db.reset_engines()
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _history(session: Session) -> tuple[str, str]:
    """Last month's issue and this one were sent to HISTORY readers (campaigns 1 and 2, snapshot
    by the real code, then marked sent); NEWCOMERS joined the list since."""
    older = import_issue(session, OLDER_ISSUE)
    issue = import_issue(session, BRIEFING)
    mlist = create_list(session, "briefing", "Security Chatter")
    session.commit()
    add_subscribers(session, mlist.id, HISTORY)
    for sent in (older, issue):
        audience = campaigns.resolve_audience(session, sent, mlist.slug)
        earlier = campaigns.create(session, sent, cleared(audience))
        start.snapshot(session, earlier)
        session.execute(
            update(Delivery)
            .where(Delivery.campaign_id == earlier.id)
            .values(status=DeliveryStatus.SENT, attempts=1)
        )
        earlier.status = CampaignStatus.DONE
        session.commit()
    newcomers = add_subscribers(session, mlist.id, NEWCOMERS, prefix="newcomer")
    assert len(newcomers) == NEWCOMERS
    return issue.slug, mlist.slug


def _scans(plan: dict[str, Any], leading: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(node, relation) of every node; an index scan whose condition does not bound the index's
    first column walks the whole index, and is named as such."""
    node = plan["Node Type"]
    column = leading.get(plan.get("Index Name", ""))
    bounded = re.search(rf"\({column} (=|<|>|<=|>=) ", plan.get("Index Cond", ""))
    if node in ("Index Scan", "Index Only Scan") and column and not bounded:
        node = f"{node} of all of {plan['Index Name']}"
    yield node, plan.get("Relation Name", "")
    for child in plan.get("Plans", []):
        yield from _scans(child, leading)


def _leading_columns(conn: Any) -> dict[str, str]:
    """Each index on delivery → its first column."""
    rows = conn.exec_driver_sql(
        "SELECT i.indexrelid::regclass::text, a.attname FROM pg_index i JOIN pg_attribute a "
        "ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
        "WHERE i.indrelid = 'delivery'::regclass"
    )
    return dict(rows.all())


def _delivery_scans(conn: Any, statement: str, params: Any) -> list[str]:
    plan = conn.exec_driver_sql(f"EXPLAIN {statement}", params).scalars().all()
    rows = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", params).scalar()
    tree = (rows if isinstance(rows, list) else json.loads(rows))[0]["Plan"]
    scans = _scans(tree, _leading_columns(conn))
    bad = [n for n, rel in scans if rel == "delivery" and "Scan" in n and n not in ALLOWED]
    return bad and [*bad, "\n".join(plan)]


RECORD_SAMPLE = {
    "status": "sent",
    "last_reply": "250 2.0.0 Ok",
    "now": utcnow(),
    "next_attempt_at": None,
    "owner": "task/1",
    "attempts": 1,
    "message_id": "<1@example.com>",
    "sent_at": utcnow(),
    "id": 1,
    "campaign_id": 3,
}


def test_no_send_path_query_scans_the_delivery_table(
    session: Session, settings: Settings, relay: SMTPServer
) -> None:
    issue_slug, list_slug = _history(session)
    captured: dict[str, Any] = {}

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if re.match(r"(WITH|SELECT|INSERT|UPDATE|DELETE)\b.*\bdelivery\b", statement, re.S):
            params = parameters[0] if executemany else parameters
            captured.setdefault(statement, params)

    # The claim and the outcomes go to psycopg directly (no SQLAlchemy event fires): their
    # cursors are captured at the driver.
    driver_execute = psycopg.Cursor.execute

    def capture_driver(cursor, query, params=None, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(query, str) and query.startswith(f"PREPARE {outcomes.RECORD_NAME} AS"):
            # The outcomes' UPDATE is prepared here, then executed through libpq (no cursor to
            # capture): explained in its parameterised form with a row's values.
            capture(None, cursor, outcomes.RECORD_SQL, RECORD_SAMPLE, None, False)
        elif isinstance(query, str):  # psycopg.sql.Composed: not the send path's
            capture(None, cursor, query, params, None, False)
        return driver_execute(cursor, query, params, **kwargs)

    event.listen(Engine, "before_cursor_execute", capture)
    psycopg.Cursor.execute = capture_driver  # type: ignore[method-assign]
    try:
        result = CliRunner().invoke(app, ["send", issue_slug, "--list", list_slug, "--yes"])
    finally:
        event.remove(Engine, "before_cursor_execute", capture)
        psycopg.Cursor.execute = driver_execute  # type: ignore[method-assign]
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert len(relay.sink.received) == NEWCOMERS  # the send really went through this path
    # Autovacuum is off here: only the snapshot's own ANALYZE can have counted the rows.
    estimate = session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'delivery'"))
    assert estimate == 2 * HISTORY + NEWCOMERS
    assert session.scalar(select(Campaign.status).where(Campaign.id == 3)) == CampaignStatus.DONE
    kinds = " ".join(captured)
    for needed in (
        "INSERT INTO delivery",  # the snapshot
        "INSERT INTO delivery_claim",  # the claim, with the recipients' data (claim_recipients)
        "earlier.status = 'sent'",  # the already-sent check, in the same statement
        "UPDATE delivery SET status = %(status)s",  # each outcome (Recorder)
        "GROUP BY delivery.status",  # progress counts
    ):
        assert needed in kinds, f"no {needed!r} among the captured queries"

    engine = make_engine(settings.database_url)
    try:
        for label in ("as the send left it", "statistics wiped"):
            if label == "statistics wiped":
                with engine.begin() as conn:
                    conn.exec_driver_sql(
                        "DELETE FROM pg_statistic WHERE starelid IN "
                        "(SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)"
                    )
                    conn.exec_driver_sql(
                        "UPDATE pg_class SET reltuples = -1, relpages = 0 "
                        "WHERE relnamespace = 'public'::regnamespace"
                    )
            bad = {}
            with engine.connect() as conn:
                # With a few thousand rows a scan is honestly the cheapest plan; what is asked is
                # whether an index serves the query at all, as one must at a million rows.
                conn.exec_driver_sql("SET enable_seqscan = off")
                conn.exec_driver_sql("SET enable_bitmapscan = off")
                for statement, params in captured.items():
                    scans = [
                        s for s in _delivery_scans(conn, statement, params) if s not in ALLOWED
                    ]
                    if scans:
                        bad[statement] = scans
                conn.rollback()
            assert not bad, f"{label}: " + "\n\n".join(f"{v}: {k}" for k, v in bad.items())
    finally:
        engine.dispose()


@pytest.fixture
def session(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings.database_url)
    with session_factory(engine)() as s:
        yield s
    engine.dispose()


def test_a_campaign_start_analyses_only_tables_whose_statistics_lost_track(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    """Right after an import (which analysed its rows before committing them): not again. After
    rows added in bulk with no ANALYZE: again. Just analysed: not again."""
    audience = ("subscriber", "subscription")

    def settle() -> None:
        # This session's row counts reach pg_stat_user_tables when its transaction ends.
        session.execute(text("SELECT pg_stat_force_next_flush()"))
        session.commit()

    mlist = create_list(session, "briefing", "Security Chatter")
    session.commit()
    csv_path = tmp_path / "readers.csv"
    csv_path.write_text(
        "email,name\n" + "".join(f"reader{i}@example.org,Reader {i}\n" for i in range(2_000))
    )
    assert import_csv(session, mlist, csv_path, settings.secret()).imported == 2_000
    settle()
    assert analyze(session, *audience, only_stale=True) == []
    add_subscribers(session, mlist.id, 3_000, prefix="bulk")
    settle()
    assert sorted(analyze(session, *audience, only_stale=True)) == sorted(audience)
    settle()
    assert analyze(session, *audience, only_stale=True) == []


def test_every_chunk_of_a_snapshot_is_planned_for_its_own_bounds(session: Session) -> None:
    """The chunk's INSERT … SELECT runs once per chunk on one connection: psycopg prepares it
    after five runs, and PostgreSQL would then plan it once for any bounds (a generic plan, here
    nested loops comparing each chunk subscriber with every delivery already sent: at a million
    subscribers, chunks ten times slower and slower with each message sent meanwhile). Each run
    of the prepared statement must be planned for its own bounds, and the snapshot still leaves
    out everyone who received the issue. PostgreSQL's choice of a generic plan (`auto`) depends
    on costs that a few thousand rows do not reach: the connection asks for generic plans
    (`force_generic_plan`, as a role's or server's setting may), which the chunks must override."""
    issue_slug, list_slug = _history(session)
    issue = session.scalars(select(Issue).where(Issue.slug == issue_slug)).one()
    audience = campaigns.resolve_audience(session, issue, list_slug)
    campaign = campaigns.create(session, issue, cleared(audience))
    session.commit()
    session.execute(text("SET plan_cache_mode = force_generic_plan"))
    after, chunks, added = None, 0, 0
    while True:  # one transaction, one connection: every chunk's statement on the same one
        through = start.chunk_end(session, after, 200)
        added += start.snapshot_range(session, campaign, after, through)
        chunks += 1
        if through is None:
            break
        after = through
    assert chunks > 10  # enough runs for psycopg to prepare the statement
    assert added == NEWCOMERS
    plans = session.execute(
        text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE 'INSERT INTO delivery %'"
        )
    ).all()
    assert len(plans) == 1  # prepared, as any statement run five times on a connection is
    generic, custom = plans[0]
    assert custom > 5  # PostgreSQL considers a generic plan from the sixth run on
    assert generic == 0
    session.rollback()


def test_a_snapshot_chunk_reads_only_its_stretch_of_the_deliveries_already_sent(
    session: Session,
) -> None:
    """The already-received check of a chunk reads the sent deliveries of the issue whose
    subscriber ids are in the chunk's range, not all of them: at a million subscribers the first
    chunks send while the later ones are inserted, and each chunk read every row sent so far."""
    issue_slug, list_slug = _history(session)  # HISTORY readers received the issue
    issue = session.scalars(select(Issue).where(Issue.slug == issue_slug)).one()
    audience = campaigns.resolve_audience(session, issue, list_slug)
    campaign = campaigns.create(session, issue, cleared(audience))
    session.commit()
    captured: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO delivery "):
            captured.append((statement, parameters))

    after = start.chunk_end(session, None, 1_000)
    through = start.chunk_end(session, after, 1_000)
    event.listen(Engine, "before_cursor_execute", capture)
    try:
        start.snapshot_range(session, campaign, after, through)
    finally:
        event.remove(Engine, "before_cursor_execute", capture)
    session.rollback()
    [(statement, params)] = captured
    conn = session.connection()
    tree = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", params).scalar()
    plan = (tree if isinstance(tree, list) else json.loads(tree))[0]["Plan"]

    def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    sent = [n for n in nodes(plan) if n.get("Index Name") == "ix_delivery_issue_subscriber_sent"]
    assert sent, json.dumps(plan, indent=1)
    for node in sent:
        bounds = node["Index Cond"]
        assert "subscriber_id >" in bounds and "subscriber_id <=" in bounds, bounds
