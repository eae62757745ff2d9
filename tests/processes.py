"""Real `mailer` processes for end-to-end tests: workers, beat and the CLI on shared settings.

Every process gets its own session (`start_new_session`) so that a test can SIGKILL a worker with
its pool children, as a crashed machine would, and teardown never leaves one behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

SECRET = "worker-test-secret-" + "y" * 32
# The firm's address in every footer: mail through a relay reaches readers (CAN-SPAM).
POSTAL_ADDRESS = "Miranda Delphi Solutions · Paseo de la Reforma 250, 06600 Ciudad de México"


def wait_until(check: Callable[[], bool], timeout: float, what: str, poll: float = 0.1) -> float:
    """Poll until `check()`; returns the seconds waited, or fails naming what never happened."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


TASK_EVENT = re.compile(
    rb"Task mailer\.tasks\.\w+\[([0-9a-f-]+)\] (received|succeeded|raised|retry|failed)"
)


def tasks_settled(log: bytes) -> bool:
    """Every task a worker's log says it received has ended (succeeded, raised, retried)."""
    received: Counter[bytes] = Counter()
    ended: Counter[bytes] = Counter()
    for task_id, event in TASK_EVENT.findall(log):
        (received if event == b"received" else ended)[task_id] += 1
    return all(ended[task_id] >= n for task_id, n in received.items())


class Stack:
    """Environment and processes of one test: workers, beat, the CLI, all on the same settings."""

    def __init__(
        self,
        database_url: str,
        broker_url: str,
        smtp_url: str,
        tmp: Path,
        *,
        secret: str = SECRET,
        **extra: str,
    ):
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MAILER_")}
        self.env.update(
            MAILER_DATABASE_URL=database_url,
            MAILER_BROKER_URL=broker_url,
            MAILER_SMTP_URL=smtp_url,
            MAILER_POSTAL_ADDRESS=POSTAL_ADDRESS,
            MAILER_SECRET_KEY=secret,
            MAILER_MAIL_DOMAIN="news.example.com",
            MAILER_PUBLIC_URL="https://news.example.com",
            MAILER_RETRY_BASE_DELAY="1",
            MAILER_VISIBILITY_TIMEOUT="4",
            MAILER_STALE_AFTER="2",
            MAILER_BEAT_INTERVAL="1",
            MAILER_BATCH_SIZE="50",
        )
        self.env.update(extra)
        self.tmp = tmp
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115  (closed with the process)
        proc = subprocess.Popen(
            [sys.executable, "-m", "mailer", *args],
            env=self.env,
            cwd=self.tmp,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> bytes:
        return (self.tmp / f"{name}.log").read_bytes()

    def worker(self, name: str = "worker", concurrency: int = 2) -> subprocess.Popen[bytes]:
        proc = self.spawn("worker", "--concurrency", str(concurrency), name=name)
        wait_until(lambda: b"ready." in self.log(name), 60, f"{name} to be ready")
        return proc

    def beat(self) -> subprocess.Popen[bytes]:
        return self.spawn("beat", name="beat")

    def run_cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`mailer ARGS` as a user runs it; the caller judges the exit status."""
        return subprocess.run(
            [sys.executable, "-m", "mailer", *args],
            env=self.env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def cli(self, *args: str, timeout: float = 120) -> str:
        done = self.run_cli(*args, timeout=timeout)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    @staticmethod
    def kill(proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL the process and its pool children: no chance to finish or acknowledge."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    @staticmethod
    def stop(proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
        """SIGTERM the main process (Celery's warm shutdown: tasks running finish, nothing new
        starts) and wait until it has exited, so that nothing it could send is still to come."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    self.kill(proc)
