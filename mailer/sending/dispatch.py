"""Starting and steering campaigns from a web request, exactly as `mailer send` and
`mailer campaign …` do: the caller commits first, then the work is enqueued.

With a broker the work goes to Celery workers. Without one (the embedded default, Celery eager)
a task would run inside the request and hold it for the whole send, so it runs in a background
thread of the web process instead — `mailer.tasks.InProcessRunner`, the runner the CLI uses,
which also keeps retrying deferred messages until the campaign ends.
"""

from __future__ import annotations

import logging
import threading

from mailer.tasks import InProcessRunner
from mailer.worker import app as celery_app

log = logging.getLogger(__name__)

_runners: dict[int, threading.Thread] = {}
_lock = threading.Lock()


def embedded() -> bool:
    """True when there is no broker: tasks would run eagerly in this process."""
    return bool(celery_app.conf.task_always_eager)


def _run_in_background(runner: InProcessRunner) -> None:
    def watch() -> None:
        runner.start()
        runner.join()
        if runner.error is not None:
            log.error(
                "campaign %s: in-process sending failed: %r", runner.campaign_id, runner.error
            )
        with _lock:
            if _runners.get(runner.campaign_id) is watcher:
                del _runners[runner.campaign_id]

    watcher = threading.Thread(target=watch, daemon=True, name=f"watch-{runner.campaign_id}")
    with _lock:
        _runners[runner.campaign_id] = watcher
    watcher.start()


def start(campaign_id: int) -> None:
    """Start a committed campaign now (render, snapshot, send)."""
    from mailer import tasks

    if embedded():
        _run_in_background(InProcessRunner(campaign_id, keep_retrying=True))
    else:
        tasks.start_campaign.delay(campaign_id)


def continue_sending(campaign_id: int) -> None:
    """After a committed resume or retry-failed: enqueue the unfinished deliveries."""
    from mailer import tasks

    if embedded():
        _run_in_background(InProcessRunner(campaign_id, keep_retrying=True, resume=True))
    else:
        tasks.enqueue_batches(campaign_id)


def running(campaign_id: int) -> bool:
    """True while this process is sending the campaign in the background (embedded mode)."""
    with _lock:
        thread = _runners.get(campaign_id)
    return thread is not None and thread.is_alive()
