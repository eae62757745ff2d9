"""Benchmark (not a test): CSV import throughput and peak memory, and a segment count.

    python bench/import.py [--sizes 10000 100000] [--backends sqlite postgresql]

For each size it writes a CSV of generated subscribers to a temporary folder, then for each
backend imports it into a fresh database (PostgreSQL: a throw-away database created and dropped
here, on MAILER_TEST_PG or postgresql+psycopg://postgres@127.0.0.1:5432; SQLite: a temp file).
Each import runs in its own child process so that its memory is its own: the child reports its
peak resident set size (`resource.getrusage(RUSAGE_SELF).ru_maxrss`, the whole process: Python,
SQLAlchemy, driver buffers) before and after the import. After the largest import it times
`subscribers.segments.count` for a typical expression.

Baseline, measured in the same run on PostgreSQL: a plain `COPY … FROM STDIN (FORMAT csv)` of
the same file into a bare six-column table in a throw-away database (no validation, no
deduplication, no consent record, no index): the floor of loading those rows at all. The import's
time is printed as a multiple of it. Memory is also printed as growth (peak − VmRSS just before
the import), which the whole-process ratio hides under the interpreter and libraries it holds.

Targets: 100,000 rows in under 60 s on PostgreSQL; peak memory at 100,000 rows within 20% of the
peak at 10,000 rows (memory must not grow with the file).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PG_SERVER = os.environ.get("MAILER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
SEGMENT = "tag:client and lang:es and not tag:press"

FIRST = ["Ana", "Luis", "Carmen", "José", "Raúl", "María", "Jorge", "Paula", "Héctor", "Siobhán"]
LAST = ["García", "Rivera", "Díaz", "Martínez", "López", "O'Brien", "Sánchez", "Morales"]
COMPANIES = ["Acme Mining SA de CV", "Banco del Norte", 'Dublin Risk Ltd, "Advisory"', ""]
LANGS = ["en", "es", "es", "pt", "fr"]
TAGS = ["client", "prospect", "press", "government", "energy", "finance", "logistics"]
DOMAINS = [f"example{n}.com" for n in range(40)] + ["gob.mx", "bücher.de"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """A realistic file: accents, quotes, commas in values, an attribute column, a few bad rows."""
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["email", "name", "company", "language", "tags", "sector"])
        for i in range(rows):
            email = f"user{i}.{rnd.choice(LAST).lower().replace(chr(39), '')}@{rnd.choice(DOMAINS)}"
            if i % 997 == 0:
                email = f"broken{i}"  # about 0.1% bad rows, as real files have
            name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)}"
            tags = ";".join(rnd.sample(TAGS, rnd.randint(0, 3)))
            sector = rnd.choice(["energy", "mining", "banking", ""])
            w.writerow([email, name, rnd.choice(COMPANIES), rnd.choice(LANGS), tags, sector])


def _vm_kib(field: str) -> int:
    """VmRSS (resident now) or VmHWM (its peak) of this process, KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def child(url: str, csv_path: str, count_segment: bool) -> None:
    """One import, measured from inside its own process; prints one JSON line."""
    from subscribers.db import make_engine, session_factory
    from subscribers.importing import import_csv
    from subscribers.lists import create_list

    engine = make_engine(url)
    factory = session_factory(engine)
    with factory() as session:
        mlist = create_list(session, "bench", "Bench")
        session.commit()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # Reset the peak (proc(5), clear_refs "5") so VmHWM after the import is the import's own.
        Path("/proc/self/clear_refs").write_text("5")
        rss_now = _vm_kib("VmRSS")
        started = time.perf_counter()
        report = import_csv(session, mlist, csv_path, "bench-secret-" + "x" * 32)
        session.commit()
        seconds = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = {
            "seconds": seconds,
            "records": report.records,
            "imported": report.imported,
            "skipped": report.skipped,
            "rss_before_kib": rss_before,
            "rss_now_kib": rss_now,
            "import_peak_kib": _vm_kib("VmHWM"),
            "peak_rss_kib": rss_after,
        }
        if count_segment:
            from subscribers.segments import count

            started = time.perf_counter()
            result["segment_count"] = count(session, mlist.id, SEGMENT)
            result["segment_seconds"] = time.perf_counter() - started
            started = time.perf_counter()
            result["list_count"] = count(session, mlist.id, None)
            result["list_count_seconds"] = time.perf_counter() - started
    engine.dispose()
    print(json.dumps(result))


def _pg_admin():  # type: ignore[no-untyped-def]
    import psycopg

    dsn = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    return psycopg.connect(dsn, autocommit=True)


def copy_baseline(csv_path: Path) -> float:
    """Seconds to COPY the file's rows as they are into a bare table (see the docstring)."""
    import psycopg

    name = f"mailer_bench_copy_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + f"/{name}"
    try:
        with psycopg.connect(dsn) as conn:
            conn.execute(
                "CREATE TABLE rows (email text, name text, company text, language text, "
                "tags text, sector text)"
            )
            conn.commit()
            started = time.perf_counter()
            with (
                conn.cursor() as cur,
                cur.copy("COPY rows FROM STDIN (FORMAT csv, HEADER true)") as copy,
                csv_path.open("rb") as f,
            ):
                while chunk := f.read(1 << 16):
                    copy.write(chunk)
            conn.commit()
            return time.perf_counter() - started
    finally:
        with _pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_one(backend: str, csv_path: Path, workdir: Path, count_segment: bool) -> dict[str, object]:
    from mailer import db as mailer_db

    name = f"mailer_bench_{uuid.uuid4().hex[:10]}"
    if backend == "postgresql":
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"{PG_SERVER}/{name}"
    else:
        url = f"sqlite:///{workdir / (name + '.db')}"
    try:
        mailer_db.upgrade(url)
        mailer_db.reset_engines()
        done = subprocess.run(
            [sys.executable, __file__, "--child", url, str(csv_path)]
            + (["--count-segment"] if count_segment else []),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"import child failed:\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        if backend == "postgresql":
            with _pg_admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--backends", nargs="+", default=["postgresql", "sqlite"], choices=["postgresql", "sqlite"]
    )
    parser.add_argument("--child", nargs=2, metavar=("URL", "CSV"), help=argparse.SUPPRESS)
    parser.add_argument("--count-segment", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.count_segment)
        return

    results: dict[tuple[str, int], dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="mailer-bench-") as tmp:
        workdir = Path(tmp)
        for size in args.sizes:
            csv_path = workdir / f"subscribers-{size}.csv"
            generate(csv_path, size)
            mib = csv_path.stat().st_size / 2**20
            for backend in args.backends:
                r = run_one(backend, csv_path, workdir, count_segment=size == max(args.sizes))
                results[(backend, size)] = r
                seconds = float(r["seconds"])  # type: ignore[arg-type]
                line = (
                    f"{backend:<10} {size:>7} rows ({mib:5.1f} MiB): {seconds:6.1f} s, "
                    f"{size / seconds:7.0f} rows/s, "
                    f"peak RSS {int(r['peak_rss_kib']) / 1024:6.1f} MiB "  # type: ignore[call-overload]
                    f"(before import {int(r['rss_before_kib']) / 1024:5.1f} MiB); "  # type: ignore[call-overload]
                    f"imported {r['imported']}, skipped {r['skipped']}; memory growth "
                    f"{(int(r['import_peak_kib']) - int(r['rss_now_kib'])) / 1024:.1f} MiB"  # type: ignore[call-overload]
                )
                print(line, flush=True)
                if backend == "postgresql":
                    floor = copy_baseline(csv_path)
                    print(
                        f"{'':<10} baseline: plain COPY of the same rows {floor:.2f} s "
                        f"({size / floor:,.0f} rows/s); the import takes {seconds / floor:.1f}× it",
                        flush=True,
                    )
                if "segment_count" in r:
                    print(
                        f"{'':<10} segment count {SEGMENT!r} = {r['segment_count']} in "
                        f"{float(r['segment_seconds']) * 1000:.0f} ms; whole list "  # type: ignore[arg-type]
                        f"{r['list_count']} in {float(r['list_count_seconds']) * 1000:.0f} ms",  # type: ignore[arg-type]
                        flush=True,
                    )

    small, large = min(args.sizes), max(args.sizes)
    for backend in args.backends:
        if (backend, large) in results and (backend, small) in results and small != large:
            a = int(results[(backend, small)]["peak_rss_kib"])  # type: ignore[call-overload]
            b = int(results[(backend, large)]["peak_rss_kib"])  # type: ignore[call-overload]
            ok = b <= a * 1.2
            print(
                f"{backend}: peak memory {large} vs {small} rows: {b / a:.2f}x "
                f"({'within' if ok else 'OVER'} the 1.20x ceiling)"
            )
    if ("postgresql", 100_000) in results:
        s = float(results[("postgresql", 100_000)]["seconds"])  # type: ignore[arg-type]
        print(f"postgresql: 100000 rows in {s:.1f} s ({'under' if s < 60 else 'OVER'} 60 s)")


if __name__ == "__main__":
    main()
