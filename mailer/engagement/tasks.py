"""The digest task: the periodic tick (sending/tasks.py TICK_TASKS) enqueues it by name."""

from __future__ import annotations

import logging

from mailer.db import get_sessionmaker
from mailer.engagement import digest
from mailer.sending.transport import make_transport
from mailer.settings import get_settings
from mailer.worker import app

log = logging.getLogger(__name__)


@app.task(name="mailer.tasks.send_due_digests", acks_late=True)
def send_due_digests() -> int:
    """Send every digest that fell due; each one at most once (claimed in the database)."""
    return send_due()


def send_due() -> int:
    """Send the digests that fell due, each in its own claim: one that fails (an error, a
    refusal) is logged and the others still go; its claim is given back or recorded, never left
    behind (see `digest.send_digest`)."""
    settings = get_settings()
    sessions = get_sessionmaker()
    with sessions() as session:
        due = digest.due_campaigns(session, settings)
    if not due:
        return 0
    transport = make_transport(settings.smtp_url)
    sent = 0
    try:
        for campaign_id in due:
            try:
                result = digest.send_digest(sessions, campaign_id, settings, transport)
            except Exception:
                log.exception(
                    "campaign %s: digest not sent; the next tick tries again", campaign_id
                )
                continue
            if result.sent:
                sent += 1
                log.info(
                    "campaign %s: digest sent to %s (%s readers)",
                    campaign_id,
                    result.partner_slug,
                    result.readers,
                )
            elif result.outcome is not digest.Outcome.IN_PROGRESS:
                log.warning("campaign %s: digest not sent: %s", campaign_id, result.detail)
    finally:
        transport.close()
    return sent
