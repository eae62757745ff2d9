"""CPU time of every process of the product during a benchmark run, read from /proc/PID/stat.

A run's processes come and go: the workers' pool children, `mailer send`, and the PostgreSQL
backends of the bench's database (one per connection; found by the server's own list,
`pg_stat_activity`, restricted to that database, so another engineer's load on the shared server
is not counted). A sampler thread reads each process's CPU every `interval` seconds and keeps the
last figure seen: a process that ends between two samples loses at most `interval` of its CPU
(stated with the figures). `mailer send` is measured exactly by the caller (os.wait4's rusage).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_split(pid: int) -> tuple[float, float] | None:
    """(user, system) CPU seconds of a live process; None once it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a live process; None once it has gone."""
    split = cpu_split(pid)
    return None if split is None else split[0] + split[1]


def vm_kib(pid: int, field: str = "VmHWM") -> int:
    """A memory figure of a process from /proc/PID/status, KiB: VmHWM (peak RSS), VmRSS (now)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


class CpuLedger:
    """CPU used since `start()` by every process the `sources` name, per group.

    `sources` maps a group name ("worker main", "postgres"…) to a function returning the pids
    of that group now; a pid seen before `start()` counts from its figure then, a later one from
    zero (it was born during the run)."""

    def __init__(
        self, sources: dict[str, Callable[[], Iterable[int]]], interval: float = 0.1
    ) -> None:
        self.sources = sources
        self.interval = interval
        self.base: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.group: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, *, baseline: bool = False) -> None:
        for name, source in self.sources.items():
            with contextlib.suppress(Exception):  # a source may be briefly unavailable
                for pid in source():
                    cpu = cpu_seconds(pid)
                    if cpu is None:
                        continue
                    self.group.setdefault(pid, name)
                    if baseline:
                        self.base[pid] = cpu
                    self.last[pid] = cpu

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> None:
        self._sample(baseline=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        """Stop sampling; CPU seconds per group since `start()`."""
        self._stop.set()
        self._thread.join()
        self._sample()
        totals = dict.fromkeys(self.sources, 0.0)
        for pid, cpu in self.last.items():
            totals[self.group[pid]] += cpu - self.base.get(pid, 0.0)
        return totals


def postgres_backends(dsn: str, database: str) -> Callable[[], list[int]]:
    """A source: the pids of the server's backends connected to `database` (not our own)."""
    import psycopg

    conn = psycopg.connect(dsn, autocommit=True)

    def pids() -> list[int]:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
        return [int(r[0]) for r in rows]

    return pids
