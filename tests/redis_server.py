"""A private redis-server on a free port, for tests that need a broker or a rate-limit store.

The machine's shared Redis (6379) serves other test runs and benchmarks at the same time: their
workers listen on the same queue names and would take this run's tasks, and a fixed DB number there
is flushed by whichever run starts next. A server of our own on a free port cannot collide.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import redis

from tests.processes import wait_until
from tests.smtpd import free_port


class RedisServer:
    """A private redis-server on a free port, killed and restarted on that same port."""

    def __init__(self, folder: Path, *, appendonly: bool = False):
        self.port = free_port()
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.appendonly = appendonly
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--dir", str(self.folder)]
        if self.appendonly:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115  (closed with the process)
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        wait_until(lambda: _pings(client), 10, f"redis on {self.port}")

    def kill(self) -> None:
        """SIGKILL: no shutdown save, like a crashed or rebooted broker machine."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def flush(self) -> None:
        """Empty every database of this server (between tests that share it)."""
        redis.Redis(port=self.port).flushall()

    def queued(self) -> int:
        return int(redis.Redis(port=self.port).llen("mailer"))


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
