"""The Celery application. With no MAILER_BROKER_URL the same tasks run in-process (eagerly).

Tasks are acknowledged late and rejected when their worker process dies, so a message whose worker
was killed goes back to the queue; the database claim (mailer/sending/deliveries.py) makes running
a task twice harmless. Workers on many machines share only the database and the broker.

Every worker also runs the periodic tick itself (`Ticker`), so recovery, retries and scheduled
sends need no `mailer beat`: the tick's slot in the database lets one runner per interval do it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery, bootsteps
from celery.signals import worker_init, worker_process_init
from kombu import pools as kombu_pools

from mailer.db import MODEL_MODULES
from mailer.settings import get_settings

TICK_TASK = "mailer.tasks.tick"

log = logging.getLogger(__name__)


def configure(app: Celery) -> Celery:
    """(Re)apply the settings to the app: at import, and when tests change the environment."""
    settings = get_settings()
    previous_broker = app.conf.broker_url if app.configured else None
    eager = not settings.broker_url
    transport_options: dict[str, Any] = {
        # Longer than any batch takes; a task whose worker vanished is redelivered after this.
        "visibility_timeout": settings.visibility_timeout,
        "unacked_restore_interval": max(1, min(10, settings.visibility_timeout // 4)),
        "unacked_restore_throttle": 1,
    }
    app.conf.update(
        # No broker: tasks run in-process (eager). The in-memory transport is named with a host
        # so that kombu does not log "No hostname was supplied" for a broker nobody uses.
        broker_url=settings.broker_url or "memory://localhost/",
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        task_always_eager=eager,
        task_eager_propagates=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        task_default_queue="mailer",
        imports=MODEL_MODULES,  # every table declared, whichever task runs first
        timezone="UTC",
        beat_schedule={
            "tick": {"task": TICK_TASK, "schedule": settings.beat_interval},
        },
    )
    if previous_broker is not None and previous_broker != app.conf.broker_url:
        # Connections to a broker that changed (tests): drop them and the producers using them,
        # the process-wide registry's too: kombu keeps producer pools keyed by broker URL, and
        # would hand out again a pool whose connections were closed here ("Acquire on closed
        # pool" at the next publish, eager runs included).
        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
        app.amqp._producer_pool = None
        kombu_pools.reset()
    return app


# The task modules, by name: the Celery app sits below the stages that define its tasks.
TASK_MODULES = ["mailer.sending.tasks", "mailer.inbound.tasks", "mailer.engagement.tasks"]


class Ticker(bootsteps.StartStopStep):
    """A thread in the worker's main process that calls the tick every MAILER_BEAT_INTERVAL.

    Called in place (not queued): it does not wait for a free pool process behind long batches,
    and it keeps going with the worker whatever happens to any beat. The tick itself decides
    whether this interval is its to run (mailer/sending/lease.py).
    """

    requires = {"celery.worker.components:Pool"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, parent: Any) -> None:
        self.thread = threading.Thread(target=self.run, name="mailer-tick", daemon=True)
        self.thread.start()

    def run(self) -> None:
        interval = get_settings().beat_interval
        task = app.tasks[TICK_TASK]
        while not self.stopped.wait(interval):
            try:
                task()
            except Exception:  # a database outage: log it and try again next interval
                log.exception("periodic tick failed; trying again in %g s", interval)

    def stop(self, parent: Any) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(timeout=10)


app = configure(Celery("mailer", include=TASK_MODULES))
app.steps["worker"].add(Ticker)


@worker_init.connect
def _configure_mappers(**_: Any) -> None:
    """In a worker's main process, before its pool forks: SQLAlchemy configures the ORM's
    mappers once for every pool process, instead of in each at its first query (about 0.1 s of
    CPU per pool process: 40 µs per message of a 5,000-recipient campaign on two workers)."""
    from sqlalchemy.orm import configure_mappers

    from mailer.db import load_models

    load_models()
    configure_mappers()


@worker_process_init.connect
def _fresh_connections(**_: Any) -> None:
    """A forked pool process must not share the parent's database connections."""
    from mailer import db

    db.reset_engines()
