"""Benchmark (not a test): what the delivery table's write protocol costs per message.

    python bench/writes.py [--recipients 20000]

On a throw-away PostgreSQL database (created and dropped here; autovacuum off on `delivery`, so
that the dead row versions are still there to count): bench/send.py's populate (the fixture issue,
a list, that many subscribers in bulk), one campaign snapshotted by the real code, then its rows
driven through the send path's database protocol with no SMTP at all — claim a chunk, load its
recipients, record each one as sent — in one process, twice in the same run:
- portable: `deliveries.claim` + `load_recipients` + `record` through SQLAlchemy (the path SQLite
  takes), on the first half of the rows;
- postgresql: `deliveries.claim_recipients` (one statement after the claims' advisory lock) +
  `Recorder` (a prepared UPDATE at driver level), on the second half.
Both take a claim (a `delivery_claim` row) per chunk and end it (`release`) after the chunk.

Printed: CPU milliseconds per message of this process (time.process_time) for each protocol, and
for the whole run the delivery table's row versions per 100,000 messages from
pg_stat_user_tables: n_tup_upd (of which HOT, n_tup_hot_upd) and n_dead_tup, for `delivery` and
for `delivery_claim`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PG_SERVER, table  # noqa: E402
from send import create_database, drop_database, populate  # noqa: E402

CHUNK = 25  # as mailer/sending/tasks.py claims


def drive(url: str, campaign_id: int, lo: int, hi: int, *, portable: bool) -> tuple[int, float]:
    """Send (in the database only) every due row of [lo, hi]; (messages, CPU seconds)."""
    from mailer.sending import deliveries, outcomes
    from mailer.sending.models import Campaign, DeliveryStatus
    from subscribers.db import make_engine, session_factory

    engine = make_engine(url)
    sent = outcomes.Outcome(DeliveryStatus.SENT)
    messages = 0
    with (
        session_factory(engine)() as session,
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection,
        outcomes.Recorder(connection, "bench") as recorder,
    ):
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        list_id, issue_id = campaign.list_id, campaign.issue_id
        session.commit()
        started = time.process_time()
        while True:
            if portable:
                claim_id, ids = deliveries.claim(
                    session, campaign_id=campaign_id, lo=lo, hi=hi, owner="bench", limit=CHUNK
                )
                if claim_id is None:
                    break
                send, _ = deliveries.load_recipients(
                    session, ids, list_id=list_id, issue_id=issue_id, resend=False
                )
                for rcpt in send:
                    outcomes.record(
                        connection,
                        rcpt.delivery_id,
                        sent,
                        "250 ok",
                        owner="bench",
                        attempts=rcpt.attempts,
                        message_id="x",
                    )
            else:
                chunk = deliveries.claim_recipients(
                    session,
                    campaign_id=campaign_id,
                    lo=lo,
                    hi=hi,
                    owner="bench",
                    limit=CHUNK,
                    list_id=list_id,
                    issue_id=issue_id,
                    resend=False,
                )
                if chunk.claim_id is None:
                    break
                claim_id, send = chunk.claim_id, chunk.send
                for rcpt in send:
                    recorder.record(
                        rcpt.delivery_id, sent, "250 ok", attempts=rcpt.attempts, message_id="x"
                    )
            recorder.committed()  # as the send path does before ending a claim
            deliveries.release(session, claim_id)
            messages += len(send)
        cpu = time.process_time() - started
        connection.exec_driver_sql("SELECT pg_stat_force_next_flush()")
        session.connection().exec_driver_sql("SELECT pg_stat_force_next_flush()")
    engine.dispose()
    return messages, cpu


def delivery_stats(url: str, relname: str = "delivery") -> dict[str, int]:
    from subscribers.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del, n_dead_tup "
            "FROM pg_stat_user_tables WHERE relname = %(relname)s",
            {"relname": relname},
        ).one()
    engine.dispose()
    keys = ("inserted", "updated", "hot", "deleted", "dead")
    return dict(zip(keys, (int(v) for v in row), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    args = parser.parse_args()
    from sqlalchemy import func, select

    from mailer.content.models import Issue
    from mailer.sending import campaigns, start
    from mailer.sending.models import CampaignStatus, Delivery
    from mailer.settings import get_settings
    from subscribers.db import make_engine, session_factory

    name = create_database()
    url = f"{PG_SERVER}/{name}"
    try:
        slug, _ = populate(url, args.recipients)
        engine = make_engine(url)
        with engine.begin() as conn:
            for relname in ("delivery", "delivery_claim"):
                conn.exec_driver_sql(f"ALTER TABLE {relname} SET (autovacuum_enabled = false)")
        with session_factory(engine)() as session:
            issue = session.scalars(select(Issue).where(Issue.slug == slug)).one()
            audience = campaigns.resolve_audience(session, issue, "bench")
            cleared = campaigns.check(audience, None, get_settings())
            campaign = campaigns.create(session, issue, cleared)
            start.snapshot(session, campaign)
            campaign.status = CampaignStatus.SENDING  # as the start sets it: claimable
            session.commit()
            cid = campaign.id
            lo, hi = session.execute(
                select(func.min(Delivery.id), func.max(Delivery.id)).where(
                    Delivery.campaign_id == cid
                )
            ).one()
        engine.dispose()
        before = {t: delivery_stats(url, t) for t in ("delivery", "delivery_claim")}
        mid = (lo + hi) // 2
        rows = []
        total = 0
        for label, a, b, portable in (
            ("portable (SQLAlchemy: claim, load, record)", lo, mid, True),
            ("postgresql (one claim statement, prepared outcome)", mid + 1, hi, False),
        ):
            n, cpu = drive(url, cid, a, b, portable=portable)
            total += n
            rows.append([label, f"{n:,}", f"{cpu * 1e3 / max(n, 1):.3f}"])
        print(table(["protocol", "messages", "CPU ms/msg"], rows))
        time.sleep(0.2)
        per = 100_000 / max(total, 1)
        for relname, was in before.items():
            now = delivery_stats(url, relname)
            print(
                f"{relname}: row versions per 100,000 messages: "
                + ", ".join(f"{k} {(now[k] - was[k]) * per:,.0f}" for k in now)
            )
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
