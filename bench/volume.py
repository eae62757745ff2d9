"""Benchmark (not a test): does a message cost the same at 10,000 and 100,000 subscribers?

    python bench/volume.py [--sizes 10000 100000] [--first N] [--layout 2x1]
    python bench/volume.py --sizes 1000000 --first 50000     # the one-off million run
    python bench/volume.py --sizes 1000000 --first 50000 --bulk   # rows inserted, not imported
    python bench/volume.py --sizes 1000000 --first 50000 --template bench_1m_tpl  # a ready copy

For each size, on a fresh PostgreSQL database of its own (created and dropped here) that nothing
analyses by hand, as a user has it right after an import:
- a CSV of that many realistic rows (bench/import.py's generator) imported with the real importer,
  then the segment `tag:client and lang:es` counted (`--bulk`: the rows inserted straight into
  the tables as bench/send.py does, minutes instead of half an hour at a million on this machine;
  nothing analyses them, so the campaign's start finds tables that were never analysed;
  `--template DBNAME`: a copy of a database already holding the fixture issue and that many
  subscribers on the list `bench`, e.g. one --bulk made and nothing analysed, `CREATE DATABASE
  … TEMPLATE` in seconds, then migrated to the current schema; the output says which was used);
- two `mailer worker` processes (own redis-server as the broker) and `mailer send --yes --no-wait`
  into the fast SMTP sink of bench/send.py, until the sink has every message (or --first of them);
- while it sends, the admin pages (in-process, signed in) and the API's subscriber list timed.

Printed per size, and as ratios of the last size to the first:
- per-message time: the sending phase (first → last message at the sink) ÷ messages;
- `mailer send`'s own time (counting the audience, the checks, creating the campaign);
- time to first message: launch of `mailer send` → first message at the sink;
- snapshot: `campaign status` saying "starting: snapshot of N recipients" → the snapshot complete
  (`campaign.snapshot_complete`, polled every 20 ms; the rendering runs beside the first chunk,
  so a one-chunk snapshot waits for it), the chunks' own time from the workers' logs (rendering
  excluded) and the rows per second of that, and when the first chunk was in (the campaign
  sending) and when the snapshot completed, counted from the launch, beside the first message:
  the snapshot runs in chunks, and the first batches send while later chunks are inserted;
- batch times: `send_batch` durations from the workers' logs, percentiles;
- writes: delivery row versions left behind (pg_stat_user_tables n_tup_upd, of which HOT, and
  n_dead_tup after the run) per 100,000 messages;
- the workers' peak memory (VmHWM) and the machine's load average.
Acceptance (issue 19): per message ≤ 1.15×, first message ≤ 2× at 100k vs 10k, snapshot of
100k ≤ 3 s; at 1,000,000: snapshot ≤ 30 s, first message ≤ 40 s, worker memory within 10% of
the 10k run, every admin page ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BRIEFING, PG_SERVER, bench_env, table  # noqa: E402
from send import (  # noqa: E402
    LIST_SLUG,
    Sink,
    create_database,
    drop_database,
    flush_redis,
    mailer_exe,
    start_redis,
    start_workers,
    stop_workers,
    worker_memory,
)

SEGMENT = "tag:client and lang:es"
PASSWORD = "bench password " + "x" * 12  # noqa: S105
SITE = "https://news.example.com"
BATCH_DONE = re.compile(rb"mailer\.tasks\.send_batch\[[^\]]+\] succeeded in ([0-9.]+)s")
CHUNK_DONE = re.compile(rb"campaign 1: snapshot chunk of [0-9]+ rows in ([0-9.]+) s")


@dataclass
class Run:
    size: int
    messages: int
    import_s: float
    segment_s: float
    segment: int
    first_message: float
    snapshot: float  # wall: "starting: snapshot" → complete (the rendering runs beside it)
    snapshot_insert: float  # the chunks' own time (the workers' logs), rendering excluded
    chunks: int
    send_cli: float
    first_chunk_at: float  # from the launch of `mailer send`: the campaign sending
    snapshot_done_at: float  # from the launch: the snapshot complete
    rows: int
    source: str
    sending_phase: float
    batches: list[float]
    writes: dict[str, int]
    memory: list[dict[str, int]]
    pages: dict[str, float]
    load: tuple[float, float, float]
    statuses: list[str] = field(default_factory=list)

    @property
    def per_message_ms(self) -> float:
        return self.sending_phase / max(self.messages - 1, 1) * 1e3

    @property
    def snapshot_rows_per_s(self) -> float:
        return self.rows / max(self.snapshot_insert, 1e-3)


def import_list(url: str, size: int, workdir: Path) -> tuple[str, float, int, float]:
    """The fixture issue, a list, `size` generated rows through the real importer."""
    from mailer.content.issues import import_issue
    from subscribers.db import make_engine, session_factory
    from subscribers.importing import import_csv
    from subscribers.lists import create_list
    from subscribers.segments import count

    csv_path = workdir / f"subscribers-{size}.csv"
    generate(csv_path, size)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        slug = import_issue(session, BRIEFING).slug
        mlist = create_list(session, LIST_SLUG, "Security Chatter")
        session.commit()
        started = time.perf_counter()
        import_csv(session, mlist, csv_path, "bench-secret-" + "x" * 32)
        session.commit()
        import_s = time.perf_counter() - started
        started = time.perf_counter()
        segment = count(session, mlist.id, SEGMENT)
        segment_s = time.perf_counter() - started
    engine.dispose()
    csv_path.unlink()
    return slug, import_s, segment, segment_s


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Every row importable (bench/import.py's file has bad rows on purpose): names and companies
    with accents, quotes and commas, a few internationalised domains, tags and a language."""
    generator = importlib.import_module("import")  # bench/import.py's vocabulary
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["email", "name", "company", "language", "tags"])
        for i in range(rows):
            w.writerow(
                [
                    f"reader{i}@{rnd.choice(generator.DOMAINS)}",
                    f"{rnd.choice(generator.FIRST)} {rnd.choice(generator.LAST)}",
                    rnd.choice(generator.COMPANIES),
                    rnd.choice(generator.LANGS),
                    ";".join(rnd.sample(generator.TAGS, rnd.randint(0, 3))),
                ]
            )


def bulk_list(url: str, size: int) -> tuple[str, float, int, float]:
    """bench/send.py's populate: the fixture issue, a list, `size` rows in bulk (no ANALYZE)."""
    from send import populate

    from subscribers.db import make_engine, session_factory
    from subscribers.segments import count

    slug, seconds = populate(url, size)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        started = time.perf_counter()
        segment = count(session, 1, SEGMENT)
        segment_s = time.perf_counter() - started
    engine.dispose()
    return slug, seconds, segment, segment_s


def copy_template(template: str) -> str:
    """A new database copied from `template` (which nobody may be connected to)."""
    import psycopg

    name = f"mailer_bench_{uuid.uuid4().hex[:10]}"
    dsn = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


def template_list(url: str) -> tuple[str, float, int, float]:
    """The copied database's issue slug, and the segment counted as for the other sources."""
    from sqlalchemy import select

    from mailer.content.models import Issue
    from subscribers.db import make_engine, session_factory
    from subscribers.lists import get_list
    from subscribers.segments import count

    engine = make_engine(url)
    with session_factory(engine)() as session:
        slug = session.scalars(select(Issue.slug).order_by(Issue.id)).first()
        if slug is None:
            raise SystemExit("the template holds no issue: make it with --bulk's populate")
        list_id = get_list(session, LIST_SLUG).id
        started = time.perf_counter()
        segment = count(session, list_id, SEGMENT)
        segment_s = time.perf_counter() - started
    engine.dispose()
    return slug, 0.0, segment, segment_s


class StatusWatch(threading.Thread):
    """Polls campaign 1: when its snapshot began, when it started sending (its first chunk in),
    and when its snapshot was complete."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        from subscribers.db import make_engine

        self.engine = make_engine(url)
        self.snapshot_began: float | None = None
        self.sending: float | None = None
        self.complete: float | None = None
        self.rows = 0
        self.seen: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        from sqlalchemy import text

        query = text("SELECT status, status_reason, snapshot_complete, total FROM campaign")
        while not self.stop.wait(0.02):
            with self.engine.connect() as conn:
                row = conn.execute(query).first()
            if row is None:
                continue
            status, reason, complete, total = row
            said = f"{status}: {reason}" if reason else status
            if not self.seen or self.seen[-1] != said:
                self.seen.append(said)
            now = time.monotonic()
            if reason.startswith("starting: snapshot") and self.snapshot_began is None:
                self.snapshot_began = now
            if status != "planned" and self.sending is None:
                self.sending = now
            if complete:
                self.complete, self.rows = now, int(total)
                return


def time_pages(url: str, campaign_id: int, size: int) -> dict[str, float]:
    """Milliseconds for each admin page (signed in) and the API's subscriber list, median of 3."""
    from fastapi.testclient import TestClient

    from mailer import accounts
    from mailer.db import reset_engines
    from mailer.web.app import create_app
    from subscribers.db import make_engine, session_factory

    engine = make_engine(url)
    with session_factory(engine)() as session:
        accounts.create_user(session, "bench@example.com", PASSWORD)
        token, _ = accounts.create_token(session, "bench")  # read-only, as a script would have
        session.commit()
    engine.dispose()
    reset_engines()
    paths = {
        "dashboard": "/admin",
        "campaign": f"/admin/campaigns/{campaign_id}",
        "campaign sent people p1": f"/admin/campaigns/{campaign_id}/people/sent",
        "list": f"/admin/lists/{LIST_SLUG}",
        "subscribers p1": "/admin/subscribers",
        "subscribers last page": "/admin/subscribers?page=last",  # keyset: read from the end
        "api subscribers p1": "/api/v1/subscribers?limit=100",
    }
    out: dict[str, float] = {}
    with TestClient(create_app(), base_url=SITE, headers={"Origin": SITE}) as client:
        page = client.get("/admin/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        done = client.post(
            "/admin/login",
            data={
                "email": "bench@example.com",
                "password": PASSWORD,
                "next": "/admin",
                "csrf_token": csrf.group(1) if csrf else "",
            },
            follow_redirects=False,
        )
        if done.status_code != 303:
            raise SystemExit(f"admin login failed: {done.status_code} {done.text[:300]}")
        for name, path in paths.items():
            headers = {"Authorization": f"Bearer {token}"} if path.startswith("/api") else {}
            times = []
            for _ in range(3):
                started = time.perf_counter()
                response = client.get(path, headers=headers)
                times.append((time.perf_counter() - started) * 1e3)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code} {response.text[:300]}")
            out[name] = statistics.median(times)
    return out


def delivery_writes(url: str) -> dict[str, int]:
    from sqlalchemy import text

    from subscribers.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT n_tup_ins, n_tup_upd, n_tup_hot_upd, n_dead_tup FROM pg_stat_user_tables "
                "WHERE relname = 'delivery'"
            )
        ).first()
    engine.dispose()
    assert row is not None
    return dict(zip(("inserted", "updated", "hot", "dead"), (int(v) for v in row), strict=True))


def one_size(
    size: int,
    first: int | None,
    sink: Sink,
    broker: str,
    layout: str,
    workdir: Path,
    bulk: bool = False,
    template: str | None = None,
) -> Run:
    from mailer.settings import reset_settings

    name = copy_template(template) if template else create_database()
    url = f"{PG_SERVER}/{name}"
    env = {
        **os.environ,
        **bench_env(),
        "MAILER_DATABASE_URL": url,
        "MAILER_BROKER_URL": broker,
        "MAILER_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
        "MAILER_RATE_LIMIT": "0",
    }
    os.environ.update({k: v for k, v in env.items() if k.startswith("MAILER_")})
    reset_settings()
    workers = []
    try:
        from mailer import db as mailer_db

        flush_redis(broker)
        mailer_db.upgrade(url)
        if template:
            source = f"copy of {template}"
            slug, import_s, segment, segment_s = template_list(url)
        elif bulk:
            source = "inserted in bulk"
            slug, import_s, segment, segment_s = bulk_list(url, size)
        else:
            source = "imported"
            slug, import_s, segment, segment_s = import_list(url, size, workdir)
        print(
            f"  {size:,}: {source} in {import_s:.1f} s; segment {segment:,} in {segment_s:.2f} s",
            flush=True,
        )
        workers = start_workers(layout, env, workdir)
        sink.reset()
        watch = StatusWatch(url)
        watch.start()
        started = time.monotonic()
        sent = subprocess.run(
            [mailer_exe(), "send", slug, "--list", LIST_SLUG, "--yes", "--no-wait"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        send_cli = time.monotonic() - started
        if sent.returncode != 0:
            raise SystemExit(f"mailer send failed:\n{sent.stdout}\n{sent.stderr}")
        said = re.search(r"Recipients: ([0-9,]+)", sent.stdout)
        if said is None:
            raise SystemExit(f"no recipient count in `mailer send`'s output:\n{sent.stdout}")
        total = int(said.group(1).replace(",", ""))
        target = min(first or total, total)
        alive = [w.proc for w in workers]
        early = sink.wait_for(1, timeout=600, alive=alive)
        first_message = early["first"] - started
        watch.join(600)
        if watch.complete is None or watch.snapshot_began is None or watch.sending is None:
            raise SystemExit(f"the snapshot did not complete; campaign status: {watch.seen}")
        snapshot = watch.complete - watch.snapshot_began
        print(  # as it happens: a long run stopped early still leaves these figures
            f"  {size:,}: `mailer send` returned after {send_cli:.1f} s; first message "
            f"{first_message:.2f} s after launch; snapshot of {watch.rows:,} in {snapshot:.2f} s "
            "(the rendering beside it): first chunk in at "
            f"{watch.sending - started:.2f} s, complete at {watch.complete - started:.2f} s "
            f"after launch; load {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
            flush=True,
        )
        sink.wait_for(target // 2, timeout=120 + target / 50, alive=alive)
        pages = time_pages(url, 1, size)
        print(
            f"  {size:,}: pages (ms) {json.dumps({k: round(v) for k, v in pages.items()})}",
            flush=True,
        )
        stats = sink.wait_for(target, timeout=120 + target / 50, alive=alive)
        memory = worker_memory(workers)
        load = os.getloadavg()
        print(
            f"  {size:,}: {stats['messages']:,} messages, sending phase "
            f"{stats['last'] - stats['first']:.1f} s; pool peak "
            f"{max(m['pool'] for m in memory) / 1024:.1f} MiB",
            flush=True,
        )
        stop_workers(workers)  # their backends exit: every counter reaches pg_stat
        workers = []
        time.sleep(1.0)  # the statistics collector's flush of the exited backends
        batches, chunks = [], []
        for log in workdir.glob("worker-*.log"):
            text = log.read_bytes()
            batches += [float(m) for m in BATCH_DONE.findall(text)]
            chunks += [float(m) for m in CHUNK_DONE.findall(text)]
            log.unlink()
        print(  # one growing with the chunk's number: a plan or a lock that scales with the table
            f"  {size:,}: snapshot chunks' own times (s): " + " ".join(f"{c:.1f}" for c in chunks),
            flush=True,
        )
        return Run(
            size=size,
            messages=stats["messages"],
            import_s=import_s,
            segment_s=segment_s,
            segment=segment,
            first_message=stats["first"] - started,
            snapshot=snapshot,
            snapshot_insert=sum(chunks),
            chunks=len(chunks),
            send_cli=send_cli,
            first_chunk_at=watch.sending - started,
            snapshot_done_at=watch.complete - started,
            rows=watch.rows,
            source=source,
            sending_phase=stats["last"] - stats["first"],
            batches=batches,
            writes=delivery_writes(url),
            memory=memory,
            pages=pages,
            load=load,
            statuses=watch.seen,
        )
    finally:
        stop_workers(workers)
        flush_redis(broker)
        drop_database(name)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def brief(statuses: list[str]) -> list[str]:
    """The first statuses and the last two (the snapshot's progress says one per chunk)."""
    return statuses if len(statuses) <= 7 else [*statuses[:4], "…", *statuses[-2:]]


def report(runs: list[Run]) -> None:
    def mem(run: Run) -> float:
        return max(m["pool"] for m in run.memory) / 1024

    rows = []
    base = runs[0]
    for run in runs:
        per_100k = 100_000 / max(run.messages, 1)
        rows.append(
            [
                f"{run.size:,}",
                f"{run.messages:,}",
                f"{run.per_message_ms:.2f}",
                f"{run.send_cli:.1f}",
                f"{run.first_message:.2f}",
                f"{run.snapshot:.2f}",
                f"{run.snapshot_insert:.2f} ({run.chunks})",
                f"{run.snapshot_rows_per_s:,.0f}",
                f"{run.first_chunk_at:.1f} / {run.snapshot_done_at:.1f}",
                f"{pct(run.batches, 0.5):.2f} / {pct(run.batches, 0.9):.2f} / "
                f"{pct(run.batches, 0.99):.2f}",
                f"{run.writes['updated'] * per_100k:,.0f} ({run.writes['hot'] * per_100k:,.0f})",
                f"{run.writes['dead'] * per_100k:,.0f}",
                f"{mem(run):.1f}",
                " ".join(f"{x:.1f}" for x in run.load),
            ]
        )
    print()
    print(
        table(
            [
                "subscribers",
                "messages",
                "ms/msg",
                "`send` s",
                "first msg s",
                "snapshot s",
                "chunks' own s (n)",
                "snapshot rows/s",
                "1st chunk / complete s",
                "batch s p50/p90/p99",
                "row updates /100k (HOT)",
                "dead rows /100k",
                "pool MiB",
                "load avg",
            ],
            rows,
        )
    )
    print()
    names = list(base.pages)
    print(
        table(
            ["page (ms)", *[f"{r.size:,}" for r in runs]],
            [[n, *[f"{r.pages[n]:.0f}" for r in runs]] for n in names],
        )
    )
    for run in runs:
        print(
            f"\n{run.size:,} ({run.source}): {run.import_s:.1f} s, segment count "
            f"{run.segment:,} in {run.segment_s:.2f} s; campaign status went: "
            f"{' → '.join(brief(run.statuses))}"
        )
    if len(runs) > 1:
        last = runs[-1]
        print(
            f"\n{last.size:,} ÷ {base.size:,}: "
            f"per message {last.per_message_ms / base.per_message_ms:.2f}×"
            f" (≤ 1.15), first message {last.first_message / base.first_message:.2f}× (≤ 2), "
            f"snapshot {last.snapshot / max(base.snapshot, 1e-3):.2f}× (its chunks' own time "
            f"{last.snapshot_insert / max(base.snapshot_insert, 1e-3):.2f}×), "
            f"pool memory {mem(last) / mem(base):.2f}×; slowest page "
            f"{max(last.pages.values()):.0f} ms vs {max(base.pages.values()):.0f} ms"
        )
    print(json.dumps([{k: v for k, v in r.__dict__.items() if k != "batches"} for r in runs]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--first", type=int, default=None, help="stop after this many messages")
    parser.add_argument("--layout", default="2x1")
    parser.add_argument("--bulk", action="store_true", help="insert the rows instead of importing")
    parser.add_argument(
        "--template",
        metavar="DBNAME",
        help="copy this ready database (one size only) instead of filling a new one",
    )
    args = parser.parse_args()
    if args.template and len(args.sizes) != 1:
        parser.error("--template holds one size: give that one with --sizes")
    sink = Sink()
    redis_proc = None
    runs = []
    try:
        with tempfile.TemporaryDirectory(prefix="mailer-bench-volume-") as tmp:
            workdir = Path(tmp)
            redis_proc, broker = start_redis(workdir)
            for size in args.sizes:
                runs.append(
                    one_size(
                        size,
                        args.first,
                        sink,
                        broker,
                        args.layout,
                        workdir,
                        args.bulk,
                        args.template,
                    )
                )
    finally:
        sink.close()
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(10)
    report(runs)


if __name__ == "__main__":
    main()
