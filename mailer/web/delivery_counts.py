"""A campaign's deliveries by status for the admin pages, without counting a million rows on
every view.

- A finished campaign (done, or cancelled and settled) is counted once and the figures kept in
  `campaign_counts` for that finish: the dashboard, the campaigns list and the campaign's page
  read one row per campaign from then on. Retrying its failed deliveries clears the campaign's
  `finished_at`, so the kept figures stop applying until it finishes again.
- A campaign still sending is counted by one GROUP BY over its deliveries (its entries of the
  (campaign_id, status) index). For a large campaign (`CACHED_FROM` deliveries or more) the
  figures are kept in this process for `FRESH_FOR` seconds: the page and its progress poll
  (every few seconds) share one count, at the price of figures up to that old. Small campaigns
  are counted on every view (a few milliseconds).
"""

from __future__ import annotations

import threading
import time

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from mailer.sending import campaigns
from mailer.sending.models import Campaign, CampaignCounts, CampaignStatus

FINAL = (CampaignStatus.DONE, CampaignStatus.CANCELLED)
UNSETTLED = ("pending", "sending", "deferred")
CACHED_FROM = 50_000  # deliveries
FRESH_FOR = 3.0  # seconds

_recent: dict[int, tuple[float, dict[str, int]]] = {}
_lock = threading.Lock()


def counts(session: Session, campaign: Campaign) -> dict[str, int]:
    """Deliveries by status value (every status present, zero when none), as described above."""
    if campaign.status in FINAL and campaign.finished_at is not None:
        kept = session.get(CampaignCounts, campaign.id)
        if kept is not None and kept.finished_at == campaign.finished_at:
            return dict(kept.counts)
        fresh = campaigns.counts(session, campaign.id)
        if not any(fresh.get(s) for s in UNSETTLED):  # a cancelled chunk may still be in flight
            _keep(session, campaign, fresh)
        return fresh
    if campaign.total < CACHED_FROM:
        return campaigns.counts(session, campaign.id)
    now = time.monotonic()
    with _lock:
        cached = _recent.get(campaign.id)
    if cached is not None and now - cached[0] < FRESH_FOR:
        return dict(cached[1])
    fresh = campaigns.counts(session, campaign.id)
    with _lock:
        _recent[campaign.id] = (now, fresh)
    return fresh


def _keep(session: Session, campaign: Campaign, figures: dict[str, int]) -> None:
    """Store the figures in a session of their own (the page's session only reads); a second
    request storing the same figures at the same moment is harmless, so any error is dropped."""
    bind = session.get_bind()
    try:
        with Session(bind) as own:
            own.merge(
                CampaignCounts(
                    campaign_id=campaign.id, finished_at=campaign.finished_at, counts=figures
                )
            )
            own.commit()
    except SQLAlchemyError:
        pass
