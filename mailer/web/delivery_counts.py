"""A campaign's deliveries by status for the admin pages, without counting a million rows on
every view.

- A finished campaign (done, or cancelled and settled) is counted once and the figures kept in
  `campaign_counts` for that finish: the dashboard, the campaigns list and the campaign's page
  read one row per campaign from then on. Retrying its failed deliveries clears the campaign's
  `finished_at`, so the kept figures stop applying until it finishes again.
- A campaign still sending is counted by one GROUP BY over its deliveries: a few milliseconds
  for a small one, counted on every view. For a large campaign (`CACHED_FROM` deliveries or
  more; half a second at a million) the figures are kept in this process: within `FRESH_FOR`
  seconds they are served as they are; older, they are served while a background thread counts
  afresh (one count per campaign at a time), so only the first view in a process waits for a
  count. The price: figures up to `FRESH_FOR` seconds plus one count old.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from mailer.sending import campaigns
from mailer.sending.models import Campaign, CampaignCounts, CampaignStatus

FINAL = (CampaignStatus.DONE, CampaignStatus.CANCELLED)
UNSETTLED = ("pending", "sending", "deferred")
CACHED_FROM = 50_000  # deliveries
FRESH_FOR = 3.0  # seconds

_recent: dict[int, tuple[float, dict[str, int]]] = {}  # campaign id: (counted at, figures)
_counting: set[int] = set()  # campaigns being counted in the background
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
        stale = cached is not None and now - cached[0] >= FRESH_FOR
        start = stale and campaign.id not in _counting
        if start:
            _counting.add(campaign.id)
    if start:
        threading.Thread(
            target=_recount, args=(sessionmaker(session.get_bind()), campaign.id), daemon=True
        ).start()
    if cached is not None:
        return dict(cached[1])
    fresh = campaigns.counts(session, campaign.id)
    with _lock:
        _recent[campaign.id] = (now, fresh)
    return fresh


def _recount(factory: sessionmaker[Session], campaign_id: int) -> None:
    """Count one campaign's deliveries afresh into the figures kept (in a background thread)."""
    try:
        started = time.monotonic()
        with factory() as own:
            fresh = campaigns.counts(own, campaign_id)
        with _lock:
            _recent[campaign_id] = (started, fresh)
    except SQLAlchemyError:
        pass  # the next view tries again
    finally:
        with _lock:
            _counting.discard(campaign_id)


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
