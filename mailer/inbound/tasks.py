"""The inbound task: judge one stored message and act on it (mailer/inbound/process.py).

Its Celery name stays `mailer.tasks.process_inbound` (queued tasks must survive an upgrade).
"""

from __future__ import annotations

from mailer.inbound.process import process
from mailer.settings import get_settings
from mailer.worker import app


@app.task(name="mailer.tasks.process_inbound", bind=True, acks_late=True, max_retries=None)
def process_inbound(self, inbound_id: int) -> str:  # type: ignore[no-untyped-def]
    """Classify one stored inbound message and act on it. Safe to run twice.

    A forward the relay deferred is retried with exponential backoff (with a broker; in-process
    runs leave it to the sweep of `mailer inbound`) until `retry_deadline_hours`. A run that
    raises leaves the message `received` for the sweep; after `process.MAX_ATTEMPTS` runs it is
    marked failed with its error instead of being tried for ever.
    """
    result = process(inbound_id)
    if result.retry and not self.request.is_eager:
        base = get_settings().retry_base_delay
        raise self.retry(countdown=min(base * 2 ** min(self.request.retries, 10), 3600))
    return result.outcome
