"""Benchmark (not a test): what one snapshot chunk costs the PostgreSQL backend, with and without
a foreign key from `delivery.campaign_id` to `campaign` (migration 0019).

    python bench/snapshot_fk.py [--template bench_1m_tpl] [--chunks 8] [--chunk 50000]

On a copy of the template (created here, dropped after; the template is never modified), migrated
to 0018, with one campaign of the template's issue to its list `bench`: the snapshot's chunks in
order, each as the start task runs it (`start.chunk_end`, `start.snapshot_range`,
`start.record_chunk`, one transaction), alternately with the key (re-created NOT VALID, so
nothing scans the table) and without it. Alternating in one run compares the two under the same
load, which other processes on this machine change all the time. Printed per chunk: wall time and
the backend's CPU time (user+system from /proc, the server being local), then the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PG_SERVER  # noqa: E402

FK = "fk_delivery_campaign_id_campaign"


def backend_cpu(pid: int) -> float:
    """The backend process's user+system CPU seconds (needs the server on this machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="bench_1m_tpl")
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--chunk", type=int, default=50_000)
    args = parser.parse_args()

    from sqlalchemy import select, text

    from mailer import db as mailer_db
    from mailer.content.models import Issue
    from mailer.sending import campaigns, start
    from mailer.sending.models import Campaign, CampaignStatus
    from subscribers.db import make_engine, session_factory
    from subscribers.lists import get_list

    name = f"mailer_fkbench_{os.getpid()}"
    admin = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{args.template}"')
    url = f"{PG_SERVER}/{name}"
    try:
        mailer_db.upgrade(url, "0018_delivery_issue_fk")
        engine = make_engine(url)
        factory = session_factory(engine)
        with factory() as session:  # as `mailer send` does: the audience's tables analysed
            campaigns.prepare_snapshot(session)
            session.commit()
        with factory() as session:
            issue_id = session.scalars(select(Issue.id).order_by(Issue.id)).first()
            campaign = Campaign(
                issue_id=issue_id,
                list_id=get_list(session, "bench").id,
                status=CampaignStatus.SENDING,
                start_owner="bench",
            )
            session.add(campaign)
            session.commit()
            campaign_id = campaign.id
        times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        after = None
        for n in range(args.chunks):
            with_key = n % 2 == 0
            with engine.begin() as conn:
                has = conn.scalar(
                    text("SELECT count(*) FROM pg_constraint WHERE conname = :fk"), {"fk": FK}
                )
                if with_key and not has:
                    conn.execute(
                        text(
                            f"ALTER TABLE delivery ADD CONSTRAINT {FK} FOREIGN KEY (campaign_id) "
                            "REFERENCES campaign (id) ON DELETE CASCADE NOT VALID"
                        )
                    )
                if not with_key and has:
                    conn.execute(text(f"ALTER TABLE delivery DROP CONSTRAINT {FK}"))
            with factory() as session:
                pid = session.scalar(text("SELECT pg_backend_pid()"))
                cpu, began = backend_cpu(pid), time.perf_counter()
                campaign = session.get(Campaign, campaign_id)
                through = start.chunk_end(session, after, args.chunk)
                added = start.snapshot_range(session, campaign, after, through)
                start.record_chunk(session, campaign_id, "bench", added=added, through=through)
                session.commit()
                wall, used = time.perf_counter() - began, backend_cpu(pid) - cpu
            times[with_key].append((wall, used))
            print(
                f"chunk {n + 1}: {added:,} rows {'with' if with_key else 'without'} the key: "
                f"{wall:.2f} s, backend CPU {used:.2f} s; load "
                f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}",
                flush=True,
            )
            if through is None:
                break
            after = through
        for key in (True, False):
            walls = [w for w, _ in times[key]]
            cpus = [c for _, c in times[key]]
            print(
                f"{'with' if key else 'without'} the key: median {statistics.median(walls):.2f} s "
                f"wall, {statistics.median(cpus):.2f} s backend CPU per chunk ({len(walls)} chunks)"
            )
        engine.dispose()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.execute(f'DROP DATABASE "{name}"')


if __name__ == "__main__":
    main()
