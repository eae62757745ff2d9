"""Benchmark (not a test): end-to-end throughput with 1, 2 and 4 worker processes.

    python bench/scale.py [--recipients 5000] [--workers 1 2 4]

Each run is a whole campaign (PostgreSQL database, its own Redis, `mailer send --yes --no-wait`,
N `mailer worker --concurrency 1` processes) into the same fast SMTP sink as bench/send.py, timed
from the launch of `mailer send` to the last message at the sink. The ceiling is measured in the
same run: the same message pre-built and sent over two persistent smtplib connections. It shows
where the pipeline stops scaling on this machine: every extra worker shares the same cores with
PostgreSQL, Redis and the sink.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import table  # noqa: E402
from send import Sink, campaign_run, run_children, start_redis  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    sink = Sink()
    redis_proc: subprocess.Popen[bytes] | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="mailer-bench-scale-") as tmp:
            workdir = Path(tmp)
            redis_proc, broker = start_redis(workdir)
            runs = []
            for n in args.workers:
                run = campaign_run(
                    args.recipients, sink, broker=broker, layout=f"{n}x1", workdir=workdir
                )
                cpu_ms = run.cpu["pool"] / run.recipients * 1e3
                print(f"{n} worker(s): {run.rate:,.0f} msgs/s end to end, {cpu_ms:.2f} ms CPU/msg")
                runs.append((n, run))
            message = workdir / "message.eml"
            message.write_bytes(runs[-1][1].message_bytes)
            sink.reset()
            total = args.recipients
            halves = [total // 2, total - total // 2]
            started, _ = run_children(
                "--ceiling-child", [[str(sink.port), str(h), str(message)] for h in halves]
            )
            stats = sink.stats()
            ceiling = total / (stats["last"] - started)
    finally:
        sink.close()
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(10)
    base = runs[0][1].rate
    rows = [
        [
            str(n),
            f"{run.rate:,.0f}",
            f"{run.sending_rate:,.0f}",
            f"{run.rate / ceiling:.2f}",
            f"{run.rate / base:.2f}×",
            f"{run.cpu['pool'] / run.recipients * 1e3:.2f}",
        ]
        for n, run in runs
    ]
    rows.append(["ceiling", f"{ceiling:,.0f}", "", "1.00", "", ""])
    size = len(runs[0][1].message_bytes) / 1024
    print(f"\n{args.recipients:,} recipients per run, message {size:.0f} KiB")
    print(
        table(
            ["workers", "msgs/s", "sending phase", "of ceiling", "vs 1 worker", "CPU ms/msg"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
