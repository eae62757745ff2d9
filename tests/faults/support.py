"""Real processes for the fault-injection suite: a private Redis, a relay that can go away and come
back on the same port, a throw-away PostgreSQL cluster, and the mailer's own worker/beat/CLI.

Nothing here touches the machine's shared Redis (6379) or PostgreSQL (5432): the faults are
injected into servers each test starts for itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from mailer.sending.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from subscribers.db import make_engine
from tests.processes import Stack, wait_until
from tests.redis_server import RedisServer
from tests.smtpd import Received, SMTPSink, free_port

# Shared with tests/sending/test_tasks.py, used by every fault test.
__all__ = ["RedisServer", "Stack", "wait_until"]

SECRET = "fault-test-secret-" + "z" * 32


class Relay:
    """The SMTP relay on a fixed port: stopped (connection refused) and started again at will.
    Every incarnation records into the same sink, so the test counts all that was delivered."""

    def __init__(self, sink: SMTPSink | None = None):
        self.sink = sink or SMTPSink()
        self.port = free_port()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout=10"

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        with self.sink.lock:
            return list(self.sink.received)


class ShuttingDownSink(SMTPSink):
    """A relay that answers "421 4.3.2 shutting down" to the first `rcpt_421` RCPT commands, then
    to the first `data_421` DATA commands, and closes the connection after each (RFC 5321 4.2.2);
    then accepts everything."""

    def __init__(self, rcpt_421: int, data_421: int):
        super().__init__()
        self.rcpt_left = rcpt_421
        self.data_left = data_421
        self.refused = 0

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            if self.rcpt_left > 0:
                self.rcpt_left -= 1
                return self._shut(server)
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            if self.data_left > 0:
                self.data_left -= 1
                return self._shut(server)
        return await super().handle_DATA(server, session, envelope)

    def _shut(self, server: Any) -> str:
        """Hang up right after the reply is written (a closing transport flushes it first)."""
        self.refused += 1
        asyncio.get_running_loop().call_soon(server.transport.close)
        return "421 4.3.2 shutting down"


class PgCluster:
    """A throw-away PostgreSQL cluster (initdb, trust auth) owned by the postgres user, on a
    free port, so that the test can stop and start it without touching the shared server."""

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        assert bins, "PostgreSQL server binaries not found under /usr/lib/postgresql"
        self.bin = Path(bins[-1]).parent
        self.root = Path(tempfile.mkdtemp(prefix="mailer-faults-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:  # root cannot run postgres: the cluster belongs to postgres
            shutil.chown(self.root, "postgres", "postgres")
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"
        )

    def _as_postgres(self, *args: str) -> None:
        cmd = list(args) if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--", *args]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120, cwd=self.root)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "pg.log"),
            "-o", opts, "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class Probe:
    """The test's view of the database; a poll during a database outage answers None."""

    def __init__(self, url: str):
        self.engine: Engine = make_engine(url)

    def status(self, campaign_id: int = 1) -> CampaignStatus | None:
        try:
            with self.engine.connect() as conn:
                value = conn.scalar(select(Campaign.status).where(Campaign.id == campaign_id))
        except OperationalError:
            return None
        return CampaignStatus(value) if value is not None else None

    def done(self, *campaign_ids: int) -> bool:
        return all(self.status(cid) == CampaignStatus.DONE for cid in campaign_ids or (1,))

    def counts(self, campaign_id: int = 1) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Delivery.status, func.count())
                .where(Delivery.campaign_id == campaign_id)
                .group_by(Delivery.status)
            ).all()
        return {DeliveryStatus(s).value: n for s, n in rows}

    def close(self) -> None:
        self.engine.dispose()


def duplicates_of(received: list[Received], expected: set[str]) -> int:
    """Check everyone expected got the issue and no one else did; return the extra copies."""
    rcpts = Counter(r.rcpt_tos[0].lower() for r in received)
    missing = expected - set(rcpts)
    strangers = set(rcpts) - expected
    assert not missing, f"{len(missing)} recipients never received it, e.g. {sorted(missing)[:3]}"
    assert not strangers, f"sent to addresses not in the audience: {sorted(strangers)[:3]}"
    dupes = sum(n - 1 for n in rcpts.values())
    print(f"\n  delivered {len(rcpts)} recipients, {dupes} duplicate copies")
    return dupes
