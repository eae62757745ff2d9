"""Named time slots in the database: at most one process holds a slot, whichever machine it runs on.

The periodic tick (`mailer.sending.tasks.tick`) is run by every worker's own timer and by any
`mailer beat`; the slot makes it run once per interval in the whole installation, and a runner
that dies takes nothing with it: the next slot goes to whoever asks first after it expires. There
is no leader to elect and nothing to hand over, so losing any one process (the beat included)
stops no recovery, retry or scheduled send.

The slot lives in the database every worker already shares (no broker feature is assumed: Redis
or RabbitMQ alike). Taking it is one conditional UPDATE (`expires_at <= now`), atomic on
PostgreSQL (a concurrent taker waits for the row lock, then finds the slot taken) and on SQLite
(one writer at a time); the first use inserts the row, and a concurrent insert loses on the
primary key.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from mailer.db import rowcount, utcnow
from mailer.sending.models import Lease


def this_process() -> str:
    """A holder name that tells a person which process took the slot: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def take(
    engine: Engine,
    name: str,
    *,
    seconds: float,
    holder: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Take the slot `name` for `seconds` if nobody holds it now; True when taken.

    A slot is not released: it simply expires, so a holder killed mid-work blocks the next
    taker for at most `seconds`. Clocks of the machines are assumed synchronised (NTP), as for
    the rest of the claims in the database.
    """
    now = now or utcnow()
    values = {
        "holder": (holder or this_process())[:200],
        "expires_at": now + timedelta(seconds=seconds),
    }
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        taken = conn.execute(
            update(Lease).where(Lease.name == name, Lease.expires_at <= now).values(**values)
        )
        if rowcount(taken):
            return True
        if conn.scalar(select(Lease.name).where(Lease.name == name)) is not None:
            return False  # held by someone else until it expires
        try:
            conn.execute(insert(Lease).values(name=name, **values))
        except IntegrityError:
            return False  # another process created it first, and holds it
    return True


def holder_of(engine: Engine, name: str) -> tuple[str, datetime] | None:
    """Who took the slot last and until when (for status output and tests)."""
    with engine.connect() as conn:
        row = conn.execute(select(Lease.holder, Lease.expires_at).where(Lease.name == name)).first()
    return (row[0], row[1]) if row else None
