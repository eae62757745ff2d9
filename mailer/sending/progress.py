"""A campaign's progress as people follow it: counts by status, the sending time and rate, and
why mail is not out yet (deferred and failed deliveries grouped by the relay's last reply).

What `mailer send`'s bar, `mailer campaign status`, `mailer report` and the in-process runner
read; reads only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.db import utcnow
from mailer.sending.campaigns import get
from mailer.sending.models import Delivery, DeliveryStatus


@dataclass
class Progress:
    campaign_id: int
    status: str
    reason: str
    total: int
    counts: dict[str, int] = field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    created_at: datetime | None = None
    paused_seconds: float = 0.0
    paused_at: datetime | None = None
    last_sent_at: datetime | None = None  # the newest delivery sent

    @property
    def finished(self) -> int:
        return self.counts["sent"] + self.counts["failed"] + self.counts["skipped"]

    @property
    def sending_seconds(self) -> float | None:
        """Seconds of sending (see `sending_seconds`); None before the start."""
        return sending_seconds(
            self.started_at,
            self.finished_at,
            self.paused_seconds,
            self.paused_at,
            utcnow(),
            last_sent_at=self.last_sent_at,
        )

    @property
    def rate(self) -> float:
        """Messages sent per second of sending (see `rate`)."""
        return rate(self.counts["sent"], self.sending_seconds)


def rate(sent: int, seconds: float | None) -> float:
    """Messages per second over `seconds` of sending, counted over one second at least (pure): a
    campaign that sent 5 messages in its first 5 ms sent 5 in that second, not 1,000 a second,
    and no rate shown is ever a division by almost nothing."""
    return 0.0 if seconds is None else sent / max(seconds, 1.0)


def sending_seconds(
    started_at: datetime | None,
    finished_at: datetime | None,
    paused_seconds: float,
    paused_at: datetime | None,
    now: datetime,
    *,
    last_sent_at: datetime | None = None,
) -> float | None:
    """Seconds of sending: from `started_at` (the first chunk of recipients committed, after the
    issue was rendered) to `finished_at`, or to `now` while it runs, less the time it spent
    paused (the closed pauses' `paused_seconds`, and the current one since `paused_at`); None
    before the start. The one duration `mailer report`, `mailer send`'s bar and the admin page
    show, and what their rates divide by: a campaign paused overnight did not send slowly.

    `last_sent_at`, the newest message sent: the sending went on until then, whatever the pause
    or the end says (a batch finishes the message in flight after a pause or a cancel; a process
    stopped with Ctrl-C may send one after its pause was recorded), so the current pause starts
    and the campaign ends no earlier: its messages are never counted as sent in no time."""
    if started_at is None:
        return None
    end = finished_at or now
    if last_sent_at is not None:
        end = max(end, last_sent_at)
        paused_at = None if paused_at is None else max(paused_at, last_sent_at)
    paused = paused_seconds
    if paused_at is not None:
        paused += max((end - max(paused_at, started_at)).total_seconds(), 0.0)
    return max((end - started_at).total_seconds() - paused, 0.0)


def progress(session: Session, campaign_id: int) -> Progress:
    campaign = get(session, campaign_id)
    session.refresh(campaign)
    by_status, last_sent_at = counts_and_last_sent(session, campaign_id)
    return Progress(
        campaign_id=campaign.id,
        status=campaign.status.value,
        reason=campaign.status_reason,
        total=campaign.total,
        counts=by_status,
        last_sent_at=last_sent_at,
        started_at=campaign.started_at,
        finished_at=campaign.finished_at,
        created_at=campaign.created_at,
        paused_seconds=campaign.paused_seconds,
        paused_at=campaign.paused_at,
    )


def counts_and_last_sent(
    session: Session, campaign_id: int
) -> tuple[dict[str, int], datetime | None]:
    """Deliveries by status (as `campaigns.counts`) and the newest one sent, in one scan."""
    out = {s.value: 0 for s in DeliveryStatus}
    last: datetime | None = None
    for status, n, newest in session.execute(
        select(Delivery.status, func.count(), func.max(Delivery.sent_at))
        .where(Delivery.campaign_id == campaign_id)
        .group_by(Delivery.status)
    ):
        out[DeliveryStatus(status).value] = n
        if DeliveryStatus(status) == DeliveryStatus.SENT:
            last = newest
    return out, last


def last_sent(session: Session, campaign_id: int) -> datetime | None:
    """When the campaign's newest delivery was sent (the admin page's `sending_seconds`)."""
    return session.scalar(
        select(func.max(Delivery.sent_at)).where(
            Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.SENT
        )
    )


@dataclass(frozen=True)
class ReplyGroup:
    """Deliveries of one status sharing one last reply: why they are deferred or failed."""

    status: str
    reply: str
    count: int

    def __str__(self) -> str:
        return f"{self.status} {self.count} — {self.reply}"


def by_last_reply(session: Session, campaign_id: int, limit: int = 20) -> list[ReplyGroup]:
    """Deferred, then failed deliveries grouped by the relay's last reply, most frequent first:
    what `campaign status`, `mailer report` and the web page say about why mail is not out."""
    rows = session.execute(
        select(Delivery.status, Delivery.last_reply, func.count())
        .where(
            Delivery.campaign_id == campaign_id,
            Delivery.status.in_((DeliveryStatus.DEFERRED, DeliveryStatus.FAILED)),
        )
        .group_by(Delivery.status, Delivery.last_reply)
        .order_by(Delivery.status, func.count().desc())
        .limit(limit)
    )
    return [
        ReplyGroup(DeliveryStatus(status).value, reply or "(no reply)", n)
        for status, reply, n in rows
    ]
