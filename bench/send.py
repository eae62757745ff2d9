"""Benchmark (not a test): end-to-end sending throughput against a ceiling and a naive sender.

    python bench/send.py [--recipients 10000] [--naive-sample 200] [--layout 2x1|1x2] [--no-dkim]
                         [--no-limiter] [--cputime DIR | --cprofile DIR]
    python bench/send.py --memory [--memory-sizes 5000 50000]

Everything is real and local: a throw-away PostgreSQL database (created and dropped here, on
MAILER_TEST_PG or postgresql+psycopg://postgres@127.0.0.1:5432), Redis as the broker (a private
redis-server on a free port, or --broker URL, flushed before and after), `mailer worker`
processes, and `mailer send`. (A db number on the shared Redis is not enough: any other worker
pointed at it takes the bench's tasks, which happened while this was written.)
Messages go to the bench's own SMTP sink (bench/_sink.py): a minimal asyncio server in its own
process (so it never shares a GIL with a measured process) that answers 250 to everything, offers
PIPELINING, and counts messages and bytes with time.monotonic() stamps (CLOCK_MONOTONIC,
comparable between processes on one machine).

Recipients are generated straight into the database (bulk INSERT … RETURNING through SQLAlchemy
core), the fixture issue is imported with mailer.content.issues.import_issue.

Figures, all in one run and against the same sink:
- end-to-end: msgs/s from launching `mailer send SLUG --list bench --yes --no-wait` (a
  subprocess: CLI start-up, campaign creation, rendering with the PDF, the audience snapshot,
  enqueueing, every batch) until the sink received the last message;
- (a) ceiling: one message of the campaign, composed once, sent N times over two persistent
  smtplib connections from two processes;
- (b) naive sender: per recipient Jinja → MJML → premailer → EmailMessage with the PDF → a new
  SMTP connection, on --naive-sample recipients split over two processes (as many as the workers
  use), extrapolated to msgs/s;
- (c) Postfix's smtp-source (when /usr/sbin/smtp-source is installed: Debian's postfix package)
  sending the same message N times over two persistent connections: the physical reference, C
  with no Python on the client side;
- DKIM: --dkim-pairs (3) interleaved pairs of the same campaign unsigned and RSA-2048-signed (a
  key made in the work directory, MAILER_DKIM_* given to the workers), the signature timed by the
  workers themselves in the same runs and alone in this process, the medians against the target
  (bench/_signing.py; --no-dkim skips it);
- the workers' peak memory (VmHWM from /proc/PID/status, the resident high-water mark) of each
  worker process and its pool child. --memory runs the campaign at each --memory-sizes (fresh
  database and workers each time) and compares the peaks.

--cputime DIR prints where the pool processes' CPU went, per step of a batch in µs per message
(bench/_cprofile/sitecustomize.py, loaded into the workers alone), in the first (unsigned) run and
in the DKIM-signed run, with the difference per step: the signature (`SigningKey.sign`) is then
timed in the very processes and run whose cost it is compared with; --cprofile DIR runs cProfile
around each send_batch of the first run instead.

Targets: end-to-end ≥ 0.6 × ceiling, sending phase ≥ 0.8 × the ceiling's; worker CPU (pool
children) ≤ 1.0 ms per message; ≥ 20 × naive; worker peak memory at 50,000 recipients within 10%
of the peak at 5,000.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    BRIEFING,
    MAIL_DOMAIN,
    PG_SERVER,
    bench_env,
    recipient,
    table,
    write_key,
)
from _procs import CpuLedger, cpu_seconds, cpu_split, postgres_backends, vm_kib  # noqa: E402
from _signing import compare  # noqa: E402
from _sink import Sink, smtp_source, smtp_source_available  # noqa: E402

HERE = Path(__file__).resolve()
LIST_SLUG = "bench"
ENVELOPE_FROM = "bounces@news.example.com"

# ============================================================================================
# Children: the ceiling and the naive sender (`send.py --ceiling-child/--naive-child`)
# ============================================================================================


def wait_for_go() -> None:
    """Tell the parent this child is ready (imports done), then wait for its go."""
    print("ready", flush=True)
    sys.stdin.readline()


def ceiling_child(port: int, count: int, path: str) -> None:
    """One persistent smtplib connection sending the same pre-built message `count` times."""
    data = Path(path).read_bytes()
    wait_for_go()
    started, cpu = time.monotonic(), time.process_time()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(count):
            smtp.sendmail(ENVELOPE_FROM, [recipient(i)[0]], data)
    report = {"seconds": time.monotonic() - started, "cpu": time.process_time() - cpu}
    print(json.dumps({**report, "count": count}), flush=True)


def naive_child(port: int, count: int, offset: int) -> None:
    """Per recipient: the whole pipeline, then a new SMTP connection (timed after one warm-up)."""
    from _common import NaiveBuilder, bench_settings, fixture_content

    from mailer.rendering.context import issue_context
    from mailer.rendering.pdf_edition import render_pdf

    settings = bench_settings()
    content = fixture_content()
    pdf = render_pdf(content, settings)  # printed once, attached to every message
    builder = NaiveBuilder(content, settings, pdf, issue_context(content, settings)["pdf_filename"])

    def one(i: int) -> None:
        email, name = recipient(i)
        data = builder.message_bytes(i, email, name)
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.sendmail(ENVELOPE_FROM, [email], data)

    one(offset - 1)  # warm-up: template compilation, first connection
    wait_for_go()
    started, cpu = time.monotonic(), time.process_time()
    for i in range(offset, offset + count):
        one(i)
    report = {"seconds": time.monotonic() - started, "cpu": time.process_time() - cpu}
    print(json.dumps({**report, "count": count}), flush=True)


def run_children(kind: str, args_list: list[list[str]]) -> tuple[float, list[dict[str, Any]]]:
    """Start the children, wait until all are ready, let them go together.

    Returns the monotonic time of the go (so Python start-up and imports are not timed) and each
    child's JSON report.
    """
    procs = [
        subprocess.Popen(
            [sys.executable, str(HERE), kind, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for args in args_list
    ]
    for p in procs:
        assert p.stdout is not None
        if p.stdout.readline().strip() != "ready":
            raise SystemExit(f"{kind} child did not start")
    started = time.monotonic()
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    out = []
    for p in procs:
        stdout, _ = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"{kind} child failed with code {p.returncode}")
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return started, out


# ============================================================================================
# Database, broker and workers
# ============================================================================================


def _pg_admin():  # type: ignore[no-untyped-def]
    import psycopg

    dsn = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    return psycopg.connect(dsn, autocommit=True)


def create_database() -> str:
    name = f"mailer_bench_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    from mailer import db as mailer_db

    mailer_db.reset_engines()
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def populate(url: str, recipients: int) -> tuple[str, float]:
    """Fixture issue via import_issue, a list, and `recipients` active subscribers in bulk."""
    from sqlalchemy import insert

    from mailer import db as mailer_db
    from mailer.content.issues import import_issue
    from subscribers.db import make_engine, session_factory, utcnow
    from subscribers.lists import create_list
    from subscribers.models import Subscriber, Subscription, SubscriptionStatus

    mailer_db.upgrade(url)
    started = time.perf_counter()
    engine = make_engine(url)
    with session_factory(engine)() as session:
        issue = import_issue(session, BRIEFING)
        mlist = create_list(session, LIST_SLUG, "Security Chatter")
        session.flush()
        now = utcnow()
        step = 10_000
        for lo in range(0, recipients, step):
            rows: list[dict[str, object]] = []
            for i in range(lo, min(lo + step, recipients)):
                email, name = recipient(i)
                rows.append(
                    {
                        "email": email,
                        "domain": email.rpartition("@")[2],
                        "name": name,
                        "company": "Client SA de CV",
                        "language": "es" if i % 3 else "en",
                        "attributes": {},
                        "consent_at": now,
                        "consent_method": "import",
                        "consent_source": "bench",
                    }
                )
            ids = session.scalars(insert(Subscriber).returning(Subscriber.id), rows).all()
            session.execute(
                insert(Subscription),
                [
                    {
                        "subscriber_id": sid,
                        "list_id": mlist.id,
                        "status": SubscriptionStatus.ACTIVE,
                        "confirmed_at": now,
                    }
                    for sid in ids
                ],
            )
        slug = issue.slug
        session.commit()
    engine.dispose()
    return slug, time.perf_counter() - started


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A private redis-server on a free port, so no other worker on the machine takes our tasks."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            return proc, url
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("redis-server did not start") from None
            time.sleep(0.05)


def mailer_exe() -> str:
    exe = Path(sys.executable).parent / "mailer"
    return str(exe) if exe.exists() else (shutil.which("mailer") or "mailer")


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path
    concurrency: int

    def children(self) -> list[int]:
        pid = self.proc.pid
        kids: list[int] = []
        for task in Path(f"/proc/{pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                kids += [int(x) for x in (task / "children").read_text().split()]
        return kids


def start_workers(layout: str, env: dict[str, str], logdir: Path) -> list[Worker]:
    """`NxC`: N `mailer worker --concurrency C` processes (`2x1`: two with one pool process)."""
    count, concurrency = (int(n) for n in layout.split("x"))
    workers = []
    for n in range(count):
        log = logdir / f"worker-{n}.log"
        fh = log.open("wb")
        proc = subprocess.Popen(
            [mailer_exe(), "worker", "--concurrency", str(concurrency), "--loglevel", "INFO"],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        workers.append(Worker(proc, log, concurrency))
    deadline = time.monotonic() + 60
    for w in workers:
        while b" ready." not in w.log.read_bytes():
            if w.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"worker did not start:\n{w.log.read_text()[-3000:]}")
            time.sleep(0.1)
        while len(w.children()) < w.concurrency:
            time.sleep(0.05)
    return workers


def worker_cpu(workers: list[Worker]) -> dict[str, float]:
    """CPU seconds used by the workers' main processes and by their pool children, and the
    pool children's split into user and system (kernel: sockets, the database's wire) time."""
    pool = [cpu_split(c) or (0.0, 0.0) for w in workers for c in w.children()]
    return {
        "main": sum(cpu_seconds(w.proc.pid) or 0.0 for w in workers),
        "pool": sum(u + s for u, s in pool),
        "pool user": sum(u for u, _ in pool),
        "pool system": sum(s for _, s in pool),
    }


def worker_memory(workers: list[Worker], field: str = "VmHWM") -> list[dict[str, int]]:
    """Peak RSS (KiB; or the `field` given, e.g. VmRSS now) of each worker's main process and of
    its largest pool child."""
    out = []
    for w in workers:
        out.append(
            {
                "main": vm_kib(w.proc.pid, field),
                "pool": max((vm_kib(c, field) for c in w.children()), default=0),
            }
        )
    return out


def stop_workers(workers: list[Worker]) -> None:
    for w in workers:
        if w.proc.poll() is None:
            os.killpg(w.proc.pid, signal.SIGTERM)
    for w in workers:
        try:
            w.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(w.proc.pid, signal.SIGKILL)
            w.proc.wait()


# ============================================================================================
# One campaign, end to end
# ============================================================================================


@dataclass
class CampaignRun:
    recipients: int
    seconds: float  # launch of `mailer send` → last message at the sink
    send_cli: float  # until `mailer send --no-wait` exited
    first_message: float  # launch → first message at the sink
    sink: dict[str, Any]
    memory: list[dict[str, int]]
    memory_base: list[dict[str, int]]  # VmRSS of the same processes when the run started
    cpu: dict[str, float]  # CPU seconds during the run: workers' main processes, pool children
    # CPU seconds of every process of the product during the run, by group (bench/_procs.py)
    cpu_all: dict[str, float]
    counts: dict[str, int]
    layout: str
    populate_seconds: float
    message_bytes: bytes

    @property
    def rate(self) -> float:
        return self.recipients / self.seconds

    @property
    def sending_rate(self) -> float:
        span = self.sink["last"] - self.sink["first"]
        return (self.recipients - 1) / span if span > 0 else float("nan")


def campaign_run(
    recipients: int,
    sink: Sink,
    *,
    broker: str,
    layout: str,
    workdir: Path,
    profile: Path | None = None,
    cprofile: Path | None = None,
    cputime: Path | None = None,
    cputime_steps: str = "",
    rate_limit: str = "0",
    extra_env: dict[str, str] | None = None,
) -> CampaignRun:
    from mailer.settings import reset_settings

    name = create_database()
    url = f"{PG_SERVER}/{name}"
    env = {
        **os.environ,
        **bench_env(),
        "MAILER_DATABASE_URL": url,
        "MAILER_BROKER_URL": broker,
        "MAILER_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
        "MAILER_RATE_LIMIT": rate_limit,
        **(extra_env or {}),
    }
    probes = {"BENCH_CPROFILE_DIR": cprofile, "BENCH_CPUTIME_DIR": cputime}
    for key, folder in probes.items():  # bench/_cprofile/sitecustomize.py, in the workers alone
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            for stale in [*folder.glob("pool-*.prof"), *folder.glob("steps-*.json")]:
                stale.unlink()  # an earlier run's
            env[key] = str(folder.resolve())
            env["BENCH_CPUTIME_STEPS"] = cputime_steps
            env["PYTHONPATH"] = os.pathsep.join(
                [str(HERE.parent / "_cprofile"), *filter(None, [env.get("PYTHONPATH")])]
            )
    os.environ.update({k: v for k, v in env.items() if k.startswith("MAILER_")})
    reset_settings()
    workers: list[Worker] = []
    spy: subprocess.Popen[bytes] | None = None
    try:
        flush_redis(broker)
        slug, populate_seconds = populate(url, recipients)
        workers = start_workers(layout, env, workdir)
        sink.reset()
        ledger = CpuLedger(
            {
                "worker main": lambda: [w.proc.pid for w in workers],
                "worker pool": lambda: [c for w in workers for c in w.children()],
                "postgres backends": postgres_backends(PG_ADMIN_DSN, name),
                "redis": lambda: [REDIS_PID] if REDIS_PID else [],
            }
        )
        ledger.start()
        for pid in [p for w in workers for p in (w.proc.pid, *w.children())]:
            # Reset each peak (proc(5), clear_refs "5"): VmHWM after the run is the run's own.
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        memory_base = worker_memory(workers, "VmRSS")
        cpu_before = worker_cpu(workers)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        done = subprocess.run(
            [mailer_exe(), "send", slug, "--list", LIST_SLUG, "--yes", "--no-wait"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        send_cli = time.monotonic() - started
        # Only `mailer send` is reaped meanwhile: the difference is its own CPU.
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        send_cpu = (children_after.ru_utime + children_after.ru_stime) - (
            children_before.ru_utime + children_before.ru_stime
        )
        if done.returncode != 0:
            raise SystemExit(f"mailer send failed:\n{done.stdout}\n{done.stderr}")
        if profile is not None:
            spy = start_profiler(workers, profile)
        try:
            stats = sink.wait_for(
                recipients, timeout=120 + recipients / 50, alive=[w.proc for w in workers]
            )
        except SystemExit:
            diagnose(url, workers)
            raise
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        cpu_all = ledger.stop()
        cpu_all["mailer send"] = send_cpu
        memory = worker_memory(workers)
        cpu_after = worker_cpu(workers)
        cpu = {k: cpu_after[k] - cpu_before[k] for k in cpu_after}
        counts = wait_done(url)
        data = one_message(url)
        return CampaignRun(
            recipients=recipients,
            seconds=stats["last"] - started,
            send_cli=send_cli,
            first_message=stats["first"] - started,
            sink=stats,
            memory=memory,
            memory_base=memory_base,
            cpu=cpu,
            cpu_all=cpu_all,
            counts=counts,
            layout=layout,
            populate_seconds=populate_seconds,
            message_bytes=data,
        )
    finally:
        if spy is not None and spy.poll() is None:
            spy.kill()
        stop_workers(workers)
        flush_redis(broker)
        drop_database(name)
        for key in extra_env or {}:  # this run's own settings, not the next run's
            os.environ.pop(key, None)


def diagnose(url: str, workers: list[Worker]) -> None:
    """What the campaign and the workers say when a run stalls (printed before the clean-up)."""
    from sqlalchemy import text

    from subscribers.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        for row in conn.execute(text("SELECT id, status, status_reason, total FROM campaign")):
            print(f"campaign: {tuple(row)}", file=sys.stderr)
        for row in conn.execute(
            text("SELECT status, count(*) FROM delivery GROUP BY status ORDER BY status")
        ):
            print(f"deliveries: {tuple(row)}", file=sys.stderr)
    engine.dispose()
    for w in workers:
        print(f"--- {w.log.name} (tail)\n{w.log.read_text()[-4000:]}", file=sys.stderr)


def start_profiler(workers: list[Worker], out: Path) -> subprocess.Popen[bytes]:
    """py-spy on the first worker's pool child for the length of the run (needs py-spy)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    pid = workers[0].children()[0]
    return subprocess.Popen(
        [spy, "record", "--pid", str(pid), "--format", "raw", "-o", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_done(url: str) -> dict[str, int]:
    """The campaign's delivery counts once the workers recorded every outcome."""
    from mailer.sending import campaigns
    from mailer.sending.models import Campaign
    from subscribers.db import make_engine, session_factory

    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            deadline = time.monotonic() + 30
            while True:
                cid = session.query(Campaign.id).scalar()
                counts = campaigns.counts(session, cid)
                session.commit()
                if counts["sent"] + counts["failed"] + counts["skipped"] >= sum(counts.values()):
                    return counts
                if time.monotonic() > deadline:
                    return counts
                time.sleep(0.1)
    finally:
        engine.dispose()


def one_message(url: str) -> bytes:
    """A message of the campaign, composed from the rendering the workers used."""
    from mailer.db import reset_engines
    from mailer.sending import tasks
    from mailer.sending.models import Campaign
    from subscribers.db import make_engine, session_factory

    engine = make_engine(url)
    with session_factory(engine)() as session:
        cid = session.query(Campaign.id).scalar()
    engine.dispose()
    tasks.reset_caches()
    composer = tasks._composer(cid)
    email, name = recipient(0)
    data = composer.compose(1, email, name).data
    tasks.reset_caches()
    reset_engines()
    return data


# ============================================================================================
# Reporting
# ============================================================================================


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def memory_cells(run: CampaignRun) -> list[str]:
    pools = [m["pool"] for m in run.memory]
    mains = [m["main"] for m in run.memory]
    return [mib(max(pools)), mib(max(mains))]


def print_run(run: CampaignRun, label: str) -> None:
    workers = "two `mailer worker -c 1`" if run.layout == "2x1" else "one `mailer worker -c 2`"
    print(
        f"{label}: {run.recipients:,} recipients, {workers}; sink got {run.sink['messages']:,} "
        f"messages, {run.sink['bytes'] / 2**20:,.1f} MiB over {run.sink['connections']} "
        f"connections; deliveries {json.dumps({k: v for k, v in run.counts.items() if v})}"
    )
    print(
        f"    `mailer send` returned after {run.send_cli:.2f} s; first message at "
        f"{run.first_message:.2f} s; last at {run.seconds:.2f} s; sending phase "
        f"{run.sending_rate:,.0f} msgs/s (subscribers generated in {run.populate_seconds:.1f} s)"
    )
    n = run.recipients
    print(
        f"    worker CPU per message: pool children {run.cpu['pool'] / n * 1e3:.2f} ms"
        f" (user {run.cpu['pool user'] / n * 1e3:.2f}, "
        f"system {run.cpu['pool system'] / n * 1e3:.2f}; rendering and snapshot included), "
        "worker main processes "
        f"{run.cpu['main'] / n * 1e3:.2f} ms"
    )


LIMIT = "100000/second"  # the limiter does all its work per message but never makes one wait
REDIS_PID: int | None = None  # the private redis-server's pid (None with --broker)
PG_ADMIN_DSN = PG_SERVER.replace("postgresql+psycopg://", "postgresql://") + "/postgres"


def main() -> None:
    global REDIS_PID
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--naive-sample", type=int, default=200)
    parser.add_argument("--layout", choices=["2x1", "1x2"], default="2x1")
    parser.add_argument(
        "--broker",
        help="a Redis URL whose db this bench may flush (default: a private redis-server)",
    )
    parser.add_argument("--memory", action="store_true", help="peak worker memory by size")
    parser.add_argument("--memory-sizes", type=int, nargs="+", default=[5_000, 50_000])
    parser.add_argument("--profile", type=Path, help="py-spy raw profile of a worker to FILE")
    parser.add_argument(
        "--cprofile",
        type=Path,
        help="cProfile each send_batch in the workers' pool processes of the first run; "
        "stats to DIR/pool-PID.prof, a per-message summary printed",
    )
    parser.add_argument(
        "--cputime",
        type=Path,
        help="CPU time of each step of send_batch in the workers' pool processes of the first "
        "and the DKIM-signed run (bench/_cprofile/sitecustomize.py), to DIR/unsigned and "
        "DIR/signed; printed in µs/message with the difference",
    )
    parser.add_argument("--no-dkim", action="store_true", help="skip the DKIM-signed runs")
    parser.add_argument(
        "--dkim-pairs",
        type=int,
        default=3,
        help="interleaved pairs of unsigned and signed runs for the DKIM comparison",
    )
    parser.add_argument(
        "--no-limiter", action="store_true", help="skip the run with the rate limiter on"
    )
    parser.add_argument("--ceiling-child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--naive-child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ceiling_child:
        port, count, path = args.ceiling_child
        ceiling_child(int(port), int(count), path)
        return
    if args.naive_child:
        naive_child(*args.naive_child)
        return

    sink = Sink()
    redis_proc: subprocess.Popen[bytes] | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="mailer-bench-send-") as tmp:
            workdir = Path(tmp)
            if not args.broker:
                redis_proc, args.broker = start_redis(workdir)
                REDIS_PID = redis_proc.pid
            if args.memory:
                memory_mode(args, sink, workdir)
            else:
                throughput_mode(args, sink, workdir)
    finally:
        sink.close()
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(10)


def dkim_env(workdir: Path) -> dict[str, str]:
    """An RSA-2048 signing key made for this run (PKCS#8 PEM in the work directory) and the
    MAILER_DKIM_* settings that make the workers sign with it."""
    return {
        "MAILER_DKIM_KEY_FILE": str(write_key(workdir / "dkim.pem")),
        "MAILER_DKIM_SELECTOR": "bench",
        "MAILER_DKIM_DOMAIN": MAIL_DOMAIN,
    }


def print_cprofile(folder: Path, n: int, top: int = 40) -> None:
    """The pool processes' profiles (bench/_cprofile) merged: the functions with the most own
    time, and the cumulative time of each, in µs per message (cProfile's own overhead included:
    read the shares, not the absolute figures)."""
    import pstats

    files = sorted(folder.glob("pool-*.prof"))
    if not files:
        print(f"cProfile: no profile written in {folder}")
        return
    stats = pstats.Stats(*(str(f) for f in files))
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"\ncProfile of send_batch in {len(files)} pool processes: {total / n * 1e6:.0f} µs/msg")
    rows = []
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for (path, line, name), (_, nc, tt, ct, _) in sorted(entries, key=lambda e: -e[1][2])[:top]:
        where = f"{Path(path).name}:{line}({name})" if line else name
        rows.append([where[:70], f"{nc:,}", f"{tt / n * 1e6:.1f}", f"{ct / n * 1e6:.1f}"])
    print(table(["function", "calls", "own µs/msg", "cumulative µs/msg"], rows))


def read_cputime(folder: Path) -> dict[str, list[float]]:
    """The steps' [calls, CPU seconds] (bench/_cprofile: exclusive of the other timed steps they
    call) summed over the pool processes' files in `folder`."""
    totals: dict[str, list[float]] = {}
    for f in sorted(folder.glob("steps-*.json")):
        for name, (calls, seconds) in json.loads(f.read_text()).items():
            entry = totals.setdefault(name, [0, 0.0])
            entry[0] += calls
            entry[1] += seconds
    return totals


def print_cputime(runs: Sequence[tuple[str, Path, float]], n: int) -> None:
    """Per step, µs per message in each run (label, folder, the run's pool CPU in seconds), and
    the last run's difference to the first; the pool's CPU outside the tasks (Celery's own
    receiving and acknowledging, its idle loop) as a last row."""
    tables = [(label, read_cputime(folder), pool) for label, folder, pool in runs]
    for label, totals, _ in tables:
        if not totals:
            print(f"CPU by step, {label}: nothing written")
            return
    names = sorted(
        {name for _, totals, _ in tables for name in totals},
        key=lambda k: (k.startswith("(task "), -tables[0][1].get(k, [0, 0.0])[1]),
    )

    def us(totals: dict[str, list[float]], name: str) -> float:
        return totals.get(name, [0, 0.0])[1] / n * 1e6

    rows = []
    for name in names:
        shown = f"{name[1:-1]}, in all" if name.startswith("(task ") else name
        cells = [f"{tables[-1][1].get(name, [0, 0])[0]:,.0f}"]
        cells += [f"{us(totals, name):.1f}" for _, totals, _ in tables]
        if len(tables) > 1:
            cells.append(f"{us(tables[-1][1], name) - us(tables[0][1], name):+.1f}")
        rows.append([shown, *cells])
    outside = [
        (pool - sum(v[1] for k, v in totals.items() if k.startswith("(task "))) / n * 1e6
        for _, totals, pool in tables
    ]
    tail = [f"{o:.1f}" for o in outside]
    if len(tables) > 1:
        tail.append(f"{outside[-1] - outside[0]:+.1f}")
    rows.append(["pool processes outside any task (Celery)", "", *tail])
    head = ["step", "calls"] + [f"µs/msg, {label}" for label, _, _ in tables]
    if len(tables) > 1:
        head.append("difference")
    print("\nCPU by step in the pool processes (process_time, exclusive of the steps it calls)")
    print(table(head, rows))


def per_message_ms(seconds: float, n: int) -> str:
    return f"{seconds / n * 1e3:.2f}"


def throughput_mode(args: argparse.Namespace, sink: Sink, workdir: Path) -> None:
    n = args.recipients
    run = campaign_run(
        n,
        sink,
        broker=args.broker,
        layout=args.layout,
        workdir=workdir,
        profile=args.profile,
        cprofile=args.cprofile,
        cputime=args.cputime and args.cputime / "first",
    )
    print_run(run, "end-to-end")
    if args.cprofile is not None:
        print_cprofile(args.cprofile, n)
    limited: CampaignRun | None = None
    if not args.no_limiter:
        limited = campaign_run(
            n, sink, broker=args.broker, layout=args.layout, workdir=workdir, rate_limit=LIMIT
        )
        print_run(limited, f"end-to-end with MAILER_RATE_LIMIT={LIMIT} (limiter on, never binding)")
    signed: CampaignRun | None = None
    dkim: dict[str, float] = {}
    if not args.no_dkim:
        env = dkim_env(workdir)

        def pair_run(sign: bool, folder: Path) -> CampaignRun:
            full = args.cputime is not None and folder.name.startswith("dkim-pair-0-")
            r = campaign_run(
                n,
                sink,
                broker=args.broker,
                layout=args.layout,
                workdir=workdir,
                extra_env=env if sign else None,
                # --cputime: every step in the first pair; else the signature alone
                cputime=folder,
                cputime_steps="" if full else "SigningKey.sign",
            )
            print_run(r, f"DKIM comparison, {'signed' if sign else 'unsigned'}")
            return r

        signed, dkim = compare(
            pair_run, args.dkim_pairs, workdir, Path(env["MAILER_DKIM_KEY_FILE"]), n
        )
    if args.cputime is not None:
        print_cputime([("first run", args.cputime / "first", run.cpu["pool"])], n)
        if signed is not None:
            pair = [(kind, workdir / f"dkim-pair-0-{kind}") for kind in ("unsigned", "signed")]
            print_cputime([(k, f, dkim[f"pair0_{k}"] * n) for k, f in pair], n)

    # (a) the ceiling: the same message, pre-built, over two persistent connections
    message = workdir / "message.eml"
    message.write_bytes(run.message_bytes)
    sink.reset()
    halves = [n // 2, n - n // 2]
    started, ceiling_results = run_children(
        "--ceiling-child", [[str(sink.port), str(h), str(message)] for h in halves]
    )
    ceiling_stats = sink.stats()
    assert ceiling_stats["messages"] == n, ceiling_stats
    ceiling_seconds = ceiling_stats["last"] - started
    ceiling_span = ceiling_stats["last"] - ceiling_stats["first"]
    ceiling_phase = (n - 1) / ceiling_span
    ceiling = n / ceiling_seconds
    ceiling_cpu = sum(r["cpu"] for r in ceiling_results) / n

    # (b) the naive sender, on a sample, in two processes, extrapolated
    sink.reset()
    sample = [args.naive_sample // 2, args.naive_sample - args.naive_sample // 2]
    _, naive_results = run_children(
        "--naive-child",
        [[str(sink.port), str(sample[0]), "1"], [str(sink.port), str(sample[1]), "100001"]],
    )
    naive = sum(r["count"] / r["seconds"] for r in naive_results)

    # (c) Postfix's smtp-source: the same message from C, the machine's physical reference
    source = smtp_source(sink, n, run.message_bytes, workdir) if smtp_source_available() else None
    if source is not None:
        assert source["messages"] == n, source

    size = len(run.message_bytes)
    runs = [("end-to-end", run)]
    if limited is not None:
        runs.append((f"end-to-end, MAILER_RATE_LIMIT={LIMIT}", limited))
    if signed is not None:
        runs.append(("end-to-end, DKIM-signed (RSA-2048)", signed))
    rows = []
    for label, r in runs:
        rows.append(
            [
                f"{label}: `mailer send` → last message",
                f"{n:,}",
                f"{r.seconds:.2f} s",
                f"{r.rate:,.0f}",
                f"{r.rate / ceiling:.2f}",
                per_message_ms(r.cpu["pool"], n),
            ]
        )
        rows.append(
            [
                "  sending phase: first → last (ratio: to the ceiling's phase)",
                f"{n:,}",
                f"{r.sink['last'] - r.sink['first']:.2f} s",
                f"{r.sending_rate:,.0f}",
                f"{r.sending_rate / ceiling_phase:.2f}",
                "",
            ]
        )
    rows += [
        [
            "(a) ceiling: pre-built, 2 persistent smtplib conns",
            f"{n:,}",
            f"{ceiling_seconds:.2f} s",
            f"{ceiling:,.0f}",
            "1.00",
            f"{ceiling_cpu * 1e3:.2f}",
        ],
        [
            "  (a) ceiling's sending phase: first → last",
            f"{n:,}",
            f"{ceiling_span:.2f} s",
            f"{ceiling_phase:,.0f}",
            "1.00",
            "",
        ],
    ]
    if source is not None:
        rows.append(
            [
                "(c) Postfix smtp-source: same message, 2 persistent conns",
                f"{n:,}",
                f"{source['seconds']:.2f} s",
                f"{n / source['seconds']:,.0f}",
                f"{n / source['seconds'] / ceiling:.2f}",
                per_message_ms(source["cpu"], n),
            ]
        )
    rows.append(
        [
            "(b) naive: Jinja→MJML→premailer→EmailMessage→new conn",
            f"{sum(sample):,}",
            f"{max(r['seconds'] for r in naive_results):.2f} s",
            f"{naive:,.1f}",
            f"{naive / ceiling:.3f}",
            per_message_ms(sum(r["cpu"] for r in naive_results), sum(sample)),
        ]
    )
    print(f"\nmessage size {size / 1024:.1f} KiB; sink on 127.0.0.1:{sink.port} (own process)")
    if source is None:
        print("(c) skipped: no /usr/sbin/smtp-source (Debian: apt-get install postfix)")
    print(
        table(
            ["path", "messages", "time", "msgs/s", "of ceiling", "client CPU ms/msg"],
            rows,
        )
    )
    print(
        "client CPU ms/msg: the workers' pool children (where messages are composed and sent; "
        "rendering and snapshot included), the ceiling's and naive sender's own processes, "
        "smtp-source's rusage (it is given the message with LF line ends and sends CRLF, plus "
        "one empty line)"
    )
    naive_cpu = sum(r["cpu"] for r in naive_results) / sum(sample)
    worker_cpu_ms = run.cpu["pool"] / n
    print(
        f"\nCPU per message (ms): mailer workers {worker_cpu_ms * 1e3:.2f}, ceiling client "
        f"{ceiling_cpu * 1e3:.2f}, naive sender {naive_cpu * 1e3:.2f} → by CPU the workers are "
        f"{naive_cpu / worker_cpu_ms:.1f}× cheaper than naive and cost "
        f"{worker_cpu_ms / ceiling_cpu:.1f}× the bare smtplib client"
    )
    every = sum(run.cpu_all.values()) / n
    alone = (run.cpu_all["worker main"] + run.cpu_all["worker pool"]) / n
    print(
        "CPU per message (ms), every process of the product against the ceiling's client "
        f"processes (the sink counted on neither side): product {every * 1e3:.2f} "
        f"({every / ceiling_cpu:.1f}× the client); worker alone (pool + main) {alone * 1e3:.2f} "
        f"({alone / ceiling_cpu:.1f}×); by process: "
        + ", ".join(f"{k} {v / n * 1e3:.2f}" for k, v in run.cpu_all.items())
        + " (a PostgreSQL backend that ends between two 0.1 s samples loses at most 0.1 s)"
    )
    if limited is not None:
        every_limited = sum(limited.cpu_all.values()) / n
        print(
            f"the rate limiter's own cost: every process {every_limited * 1e3:.2f} ms per "
            f"message with MAILER_RATE_LIMIT={LIMIT} against {every * 1e3:.2f} without "
            f"({(every_limited - every) * 1e3:+.2f} ms; redis "
            f"{limited.cpu_all['redis'] / n * 1e3:.2f} against "
            f"{run.cpu_all['redis'] / n * 1e3:.2f})"
        )
    if signed is not None:
        print(
            f"DKIM signing (RSA-2048): {signed.rate:,.0f} msgs/s end to end in the first signed "
            f"run against {run.rate:,.0f} in the first run (sending phase "
            f"{signed.sending_rate:,.0f} against {run.sending_rate:,.0f}); worker CPU per "
            f"message, medians of {args.dkim_pairs} pairs: {dkim['signed'] * 1e3:.2f} ms "
            f"against {dkim['unsigned'] * 1e3:.2f} ({dkim['extra'] * 1e3:+.2f} ms per message; "
            f"one signature in the workers {dkim['in_workers'] * 1e3:.2f} ms, alone "
            f"{dkim['alone'] * 1e3:.2f} ms)"
        )
    print(
        "worker peak RSS (VmHWM): "
        + "; ".join(
            f"worker {i}: main {mib(m['main'])}, pool child {mib(m['pool'])}"
            for i, m in enumerate(run.memory)
        )
    )
    ok_ceiling = run.rate >= 0.6 * ceiling
    ok_phase = run.sending_rate >= 0.8 * ceiling_phase
    ok_cpu = worker_cpu_ms <= 1.0e-3
    ok_naive = run.rate >= 20 * naive
    print(
        f"\ntargets: end-to-end / ceiling = {run.rate / ceiling:.2f} "
        f"({'meets' if ok_ceiling else 'MISSES'} ≥ 0.6); sending phase / ceiling's = "
        f"{run.sending_rate / ceiling_phase:.2f} ({'meets' if ok_phase else 'MISSES'} ≥ 0.8); "
        f"worker CPU {worker_cpu_ms * 1e3:.2f} ms per message "
        f"({'meets' if ok_cpu else 'MISSES'} ≤ 1.0); end-to-end / naive = "
        f"{run.rate / naive:.1f}× ({'meets' if ok_naive else 'MISSES'} ≥ 20×; the ceiling "
        f"itself is {ceiling / naive:.1f}× naive here: a {size / 1024:.0f} KiB message's "
        "wire time caps it)"
    )


def memory_mode(args: argparse.Namespace, sink: Sink, workdir: Path) -> None:
    runs = []
    for size in args.memory_sizes:
        run = campaign_run(size, sink, broker=args.broker, layout=args.layout, workdir=workdir)
        print_run(run, f"memory run {size:,}")
        runs.append(run)
    rows = [
        [f"{r.recipients:,}", f"{r.seconds:.1f} s", f"{r.rate:,.0f}", *memory_cells(r)]
        for r in runs
    ]
    print()
    print(
        table(
            ["recipients", "end-to-end", "msgs/s", "peak RSS pool child", "peak RSS worker main"],
            rows,
        )
    )
    small, large = runs[0], runs[-1]
    a = max(m["pool"] for m in small.memory)
    b = max(m["pool"] for m in large.memory)
    print(
        f"\npool child peak at {large.recipients:,} vs {small.recipients:,}: {b / a:.3f}× "
        f"({'within' if b <= a * 1.10 else 'OVER'} the 1.10× target)"
    )
    # The ratio of whole-process peaks hides the growth under the ~75 MiB every process holds
    # before its first message: the growth itself is (peak during the run − RSS at its start).
    for r in runs:
        growth = [
            {k: m[k] - base[k] for k in ("main", "pool")}
            for m, base in zip(r.memory, r.memory_base, strict=True)
        ]
        print(
            f"growth (peak − RSS at start) at {r.recipients:,}: "
            + "; ".join(
                f"worker {i}: main {mib(g['main'])}, pool child {mib(g['pool'])}"
                for i, g in enumerate(growth)
            )
        )


if __name__ == "__main__":
    main()
