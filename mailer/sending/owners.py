"""Claim owners: the name a batch execution leases delivery rows under, and, without a broker,
whether the process behind a name still runs.

With a broker an owner is the Celery task id plus a random part, and a dead worker's claims come
back after MAILER_STALE_AFTER seconds of silence (deliveries.recover_abandoned): nothing else can
tell a dead worker on another machine from a slow one. Without a broker (the embedded default)
the sending runs in the `mailer` process itself, so its owners are named after this machine and
process (`local:HOST:PID/…`). A later `mailer campaign resume` on the same machine can then see
at once that the process which held a claim is gone (stopped with Ctrl-C, its terminal closed,
killed) and give the claim's unsent rows back, instead of leaving them for two minutes.
"""

from __future__ import annotations

import os
import socket
import uuid

LOCAL = "local"


def _host() -> str:
    # The claim's owner column holds 64 characters: keep room for the pid and the random part.
    return socket.gethostname().replace(":", "-").replace("/", "-")[:24]


def local_prefix(pid: int | None = None) -> str:
    """The owner prefix of every claim taken by process `pid` (this one by default) here."""
    return f"{LOCAL}:{_host()}:{os.getpid() if pid is None else pid}/"


def new_owner(task_id: str | None, *, embedded: bool) -> str:
    """A fresh owner for one execution of a batch task (a redelivered copy gets another)."""
    random_part = uuid.uuid4().hex[:12]
    if embedded:
        return f"{local_prefix()}{random_part}"
    return f"{task_id or LOCAL}/{random_part}"


def gone(owner: str) -> bool:
    """True when `owner` names a process of this machine that no longer runs.

    False for a broker worker's owner, another machine's, and a live process (a reused pid reads
    as alive: its claims then wait for MAILER_STALE_AFTER as any other's would)."""
    kind, _, rest = owner.partition(":")
    host, _, rest = rest.partition(":")
    pid_text = rest.partition("/")[0]
    if kind != LOCAL or host != _host() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process: alive
        return False
    return False
