"""Whole-process start-up of the CLI against the interpreter's own start, in the same run; and
the cost of starting a campaign at two audience sizes.

    python bench/startup.py [--repeat 15]
    python bench/startup.py --start [--sizes 5000 50000] [--broker REDIS_URL]

Start-up (the default). Each command runs as a fresh process (`subprocess.run`, output
discarded) in a throw-away folder with a migrated SQLite database (the product's default) that
holds one campaign (`mailer send` of the fixture issue to 20 generated subscribers, into the
outbox folder), --repeat times, the commands interleaved round-robin so a load change on the
shared machine touches all of them alike; the figure is the median wall-clock time, with the
median CPU time of the process (user + system, from wait4) beside it: on a loaded machine the
wall clock includes waiting for a core, the CPU time much less so. Measured:
- `python -c pass`: the interpreter alone, the floor no command can go under;
- `python -m mailer --help`: the listing (the root group loads no sub-command module);
- `python -m mailer campaign list`: one real command that reads the database (sqlite3 and SQL
  compiled ahead of time from the ORM statement; neither SQLAlchemy nor pydantic-settings, nor
  pydantic, since typer no longer builds a parameter's adapter for a value left out);
- the same on a database URL that path does not take (`?timeout=30` added): the ORM path, i.e.
  what the listing costs with SQLAlchemy, the models and the settings loaded (the baseline);
- the same on PostgreSQL (a throw-away database on MAILER_TEST_PG's server, seeded alike): read
  with psycopg and the same precompiled SQL, without SQLAlchemy or the settings;
- `python -m mailer campaign status 1` and `python -m mailer report 1`: the ORM commands.

Target (issue 17): `mailer --help` and `mailer campaign list` under 0.25 s on this machine; the
line "over python" is what the product adds to the interpreter's start.

Campaign start (--start). For each size, a throw-away PostgreSQL database (bench/send.py's
create_database and populate: the fixture issue, list `bench`, N active subscribers) and a broker
(a private redis-server as bench/send.py starts, or --broker, a Redis db this bench may flush)
with NO worker, so nothing is sent and each part is measured alone:
- `mailer send SLUG --list bench --yes --no-wait` as a whole process (wall clock, and its CPU
  time, which load disturbs less): start-up, the door's checks and audience count, the campaign
  row, and enqueueing the start task;
- the start task itself (`tasks.start_campaign` run in this process on that campaign), timed
  by wrapping the functions it calls: render once (`render_issue`, with the PDF; it runs in a
  thread beside the first snapshot chunk), snapshot the audience into delivery rows
  (`start.snapshot_range`, summed over the chunks), enqueue each chunk's batches
  (`enqueue_batches`: the query that cuts the rows into batch ranges, `campaigns.batch_ranges`,
  then publishing one message per batch), and when the first batches were enqueued (what the
  first message waits for). The parts overlap, so they do not add up to the whole. The process
  has rendered the issue and reached the broker once before (untimed): first-use costs
  (imports, fonts, templates, a connection) are a worker's once, not each campaign's.
The last line gives the ratio of the largest size to the smallest for each part.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import bench_env, table  # noqa: E402

TARGET_S = 0.25
SEED_RECIPIENTS = 20


def _env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILER_")}
    env.update(bench_env())
    env["MAILER_DATABASE_URL"] = f"sqlite:///{folder / 'mailer.db'}"
    return env


def _time_once(argv: list[str], folder: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock seconds and the process's CPU seconds (user + system, from wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, argv)
    return wall, usage.ru_utime + usage.ru_stime


def _seed(folder: Path, env: dict[str, str]) -> None:
    """Migrate, generate the subscribers and send the fixture issue to them (the outbox)."""
    py = sys.executable
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from bench.send import populate; "
        "print(populate(sys.argv[2], int(sys.argv[3]))[0])"
    )
    root = str(Path(__file__).resolve().parent.parent)
    slug = subprocess.run(
        [py, "-c", code, root, env["MAILER_DATABASE_URL"], str(SEED_RECIPIENTS)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    subprocess.run(
        [py, "-m", "mailer", "send", slug, "--list", "bench", "--yes", "--no-wait"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        check=True,
    )


def startup(repeat: int) -> None:
    from bench.send import PG_SERVER, create_database, drop_database

    database = create_database()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        try:
            times, cpu = _interleaved(repeat, Path(tmp), f"{PG_SERVER}/{database}")
        finally:
            drop_database(database)
    _print_startup(repeat, times, cpu)


def _interleaved(
    repeat: int, folder: Path, pg_url: str
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Each command's wall-clock and CPU seconds, `repeat` rounds of all of them in turn."""
    py = sys.executable
    mailer = [py, "-m", "mailer"]
    env = _env(folder)
    orm_env = {**env, "MAILER_DATABASE_URL": env["MAILER_DATABASE_URL"] + "?timeout=30"}
    pg_env = {**env, "MAILER_DATABASE_URL": pg_url}
    _seed(folder, env)
    _seed(folder, pg_env)
    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([py, "-c", "pass"], env),
        "mailer --help": ([*mailer, "--help"], env),
        "mailer campaign list": ([*mailer, "campaign", "list"], env),
        "campaign list, ORM path": ([*mailer, "campaign", "list"], orm_env),
        "campaign list, PostgreSQL": ([*mailer, "campaign", "list"], pg_env),
        "mailer campaign status 1": ([*mailer, "campaign", "status", "1"], env),
        "mailer report 1": ([*mailer, "report", "1"], env),
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for argv, cmd_env in commands.values():  # warm-up: the OS file cache, .pyc files
        _time_once(argv, folder, cmd_env)
    for _ in range(repeat):
        for name, (argv, cmd_env) in commands.items():
            wall, used = _time_once(argv, folder, cmd_env)
            times[name].append(wall)
            cpu[name].append(used)
    return times, cpu


def _print_startup(repeat: int, times: dict[str, list[float]], cpu: dict[str, list[float]]) -> None:
    floor = statistics.median(times["python -c pass"])
    targeted = ("mailer --help", "mailer campaign list")
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        verdict = ""
        if name in targeted:
            verdict = "met" if median < TARGET_S else "MISSED"
        rows.append(
            [
                name,
                f"{median * 1000:.0f}",
                f"{min(values) * 1000:.0f}",
                f"{(median - floor) * 1000:.0f}",
                f"{statistics.median(cpu[name]) * 1000:.0f}",
                verdict,
            ]
        )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{repeat} runs each, interleaved; target < {TARGET_S * 1000:.0f} ms")
    headers = ["command", "median ms", "min ms", "over python ms", "CPU ms", "target"]
    print(table(headers, rows))


# ============================================================================================
# Campaign start at two sizes
# ============================================================================================


class Stopwatch:
    """Seconds spent in each wrapped function, summed over its calls, and when (seconds after
    `started`) its first call returned."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.first_done: dict[str, float] = {}
        self.started = time.perf_counter()

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                ended = time.perf_counter()
                self.seconds[name] = self.seconds.get(name, 0.0) + ended - began
                self.first_done.setdefault(name, ended - self.started)

        return timed


def start_once(size: int, broker: str) -> dict[str, float]:
    from bench.send import (
        LIST_SLUG,
        PG_SERVER,
        create_database,
        drop_database,
        flush_redis,
        mailer_exe,
        populate,
    )
    from mailer import db as mailer_db
    from mailer.settings import reset_settings

    name = create_database()
    url = f"{PG_SERVER}/{name}"
    env = {**os.environ, **bench_env(), "MAILER_DATABASE_URL": url, "MAILER_BROKER_URL": broker}
    os.environ.update({k: v for k, v in env.items() if k.startswith("MAILER_")})
    reset_settings()
    mailer_db.reset_engines()
    try:
        flush_redis(broker)
        slug, _ = populate(url, size)
        argv = [mailer_exe(), "send", slug, "--list", LIST_SLUG, "--yes", "--no-wait"]
        cli, cli_cpu = _time_once(argv, Path.cwd(), env)
        figures = {
            "mailer send (process)": cli,
            "mailer send (its CPU)": cli_cpu,
            **_start_task(url),
        }
        flush_redis(broker)
        return figures
    finally:
        drop_database(name)


def _start_task(url: str) -> dict[str, float]:
    """Run the start task of the campaign just created, in this process; time its parts."""
    from sqlalchemy import func, select

    from mailer.db import session_scope
    from mailer.sending import campaigns, tasks
    from mailer.sending.models import Campaign, Delivery

    with session_scope() as session:
        campaign_id = session.scalar(select(func.max(Campaign.id)))
        issue = session.get(Campaign, campaign_id).issue  # type: ignore[union-attr]
        content = tasks.content_of(issue)
    # First use in this process (imports, fonts, templates, the broker connection) is not the
    # start's own cost, and only the first size would pay it: paid here, untimed.
    tasks.render_issue(content, tasks.get_settings())
    tasks.app.send_task("celery.ping")  # flushed with the rest after the run
    watch = Stopwatch()
    wrapped = [
        (tasks, "render_issue", "render"),
        (campaigns, "snapshot_range", "snapshot"),
        (tasks, "enqueue_batches", "enqueue"),
        (campaigns, "batch_ranges", "ranges"),
    ]
    saved = [getattr(module, attr) for module, attr, _ in wrapped]
    for module, attr, name in wrapped:
        setattr(module, attr, watch.wrap(name, getattr(module, attr)))
    try:
        watch.started = time.perf_counter()
        batches = tasks.start_campaign(campaign_id)
        total = time.perf_counter() - watch.started
    finally:
        for (module, attr, _), original in zip(wrapped, saved, strict=True):
            setattr(module, attr, original)
    with session_scope() as session:
        rows = session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.campaign_id == campaign_id)
        )
    if not batches or not rows:
        raise SystemExit(f"the start enqueued {batches} batches for {rows} deliveries")
    seconds = {k: watch.seconds.get(k, 0.0) for k in ("render", "snapshot", "enqueue", "ranges")}
    return {
        "start task": total,
        "first batches enqueued at": watch.first_done.get("enqueue", total),
        "render (beside the 1st chunk)": seconds["render"],
        "snapshot (all chunks)": seconds["snapshot"],
        "enqueue (all)": seconds["enqueue"],
        "  enqueue: batch ranges query": seconds["ranges"],
        "  enqueue: publishing": seconds["enqueue"] - seconds["ranges"],
        "batches": float(batches),
    }


def start_section(sizes: list[int], broker: str | None) -> None:
    from bench.send import start_redis

    with tempfile.TemporaryDirectory(prefix="bench-start-") as tmp:
        redis_proc = None
        if broker is None:
            redis_proc, broker = start_redis(Path(tmp))
        try:
            results = {size: start_once(size, broker) for size in sizes}
        finally:
            if redis_proc is not None:
                redis_proc.terminate()
                redis_proc.wait(10)
    parts = [k for k in next(iter(results.values())) if k != "batches"]
    small, large = min(sizes), max(sizes)
    rows = []
    for part in parts:
        cells = [f"{results[size][part]:.2f}" for size in sizes]
        ratio = results[large][part] / max(results[small][part], 1e-6)
        rows.append([part, *cells, f"{ratio:.2f}x"])
    rows.append(["batches enqueued", *(f"{results[s]['batches']:.0f}" for s in sizes), ""])
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("campaign start, no worker (seconds)")
    headers = ["part", *(f"{size:,}" for size in sizes), f"{large:,} ÷ {small:,}"]
    print(table(headers, rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--start", action="store_true", help="measure the campaign start instead")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--broker", help="a Redis URL this bench may flush (default: private)")
    args = parser.parse_args()
    if args.start:
        start_section(args.sizes, args.broker)
    else:
        startup(args.repeat)


if __name__ == "__main__":
    main()
