"""Campaigns: one send of an issue to a list (and segment), from plan to done.

The campaign's status in the database is what every worker obeys. Creating a campaign only records
the intent; starting it renders the issue once, stores the rendering for every worker, and snapshots
the audience set-wise in SQL (list ∧ segment ∧ active ∧ not suppressed ∧ not already sent this
issue) into one Delivery row per recipient, in a single INSERT … SELECT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, literal, select, update
from sqlalchemy import insert as sa_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from mailer.content.models import Issue
from mailer.db import rowcount, utcnow
from mailer.errors import MailerError, NotFound
from mailer.rendering.email_edition import RenderedIssue
from mailer.sending.models import Campaign, CampaignRender, CampaignStatus, Delivery, DeliveryStatus
from subscribers import segments
from subscribers.lists import get_list
from subscribers.models import MailingList, Segment

ACTIVE = (CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.PAUSED)
UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED)


class CampaignStateError(MailerError):
    """The campaign cannot do that in its current state."""


@dataclass(frozen=True)
class Audience:
    """What a send would reach, shown before the editor confirms."""

    list_slug: str
    list_id: int
    segment_id: int | None
    expression: str | None
    recipients: int  # after suppression and, unless forced, whoever already received the issue
    already_received: int


def _audience_select(
    session: Session, issue_id: int, list_id: int, expression: str | None, force_resend: bool
) -> Any:
    ids = segments.matching_subscriber_ids(session, list_id, expression).subquery()
    sel = select(ids.c[0].label("subscriber_id"))
    if not force_resend:
        sel = sel.where(
            ~exists().where(
                Delivery.issue_id == issue_id,
                Delivery.subscriber_id == ids.c[0],
                Delivery.status == DeliveryStatus.SENT,
            )
        )
    return sel


def resolve_audience(
    session: Session,
    issue: Issue,
    list_slug: str,
    *,
    segment: str | None = None,
    where: str | None = None,
    force_resend: bool = False,
) -> Audience:
    """Check the list and segment exist and the expression parses; count the recipients."""
    if segment and where:
        raise MailerError("give either --segment or --where, not both")
    mlist: MailingList = get_list(session, list_slug)
    segment_row: Segment | None = None
    expression = where
    if segment:
        segment_row = session.scalar(
            select(Segment).where(Segment.list_id == mlist.id, Segment.slug == segment)
        )
        if segment_row is None:
            raise NotFound(
                f"no segment {segment!r} on list {list_slug!r}; "
                f"see `mailer segment list --list {list_slug}`"
            )
        expression = segment_row.expression
    if expression:
        segments.parse(expression)  # raises with the column of a syntax error
    everyone = _audience_select(session, issue.id, mlist.id, expression, True).subquery()
    fresh = _audience_select(session, issue.id, mlist.id, expression, force_resend).subquery()
    total = session.scalar(select(func.count()).select_from(everyone)) or 0
    recipients = session.scalar(select(func.count()).select_from(fresh)) or 0
    return Audience(
        list_slug=mlist.slug,
        list_id=mlist.id,
        segment_id=segment_row.id if segment_row else None,
        expression=expression,
        recipients=recipients,
        already_received=total - recipients,
    )


def create(
    session: Session,
    issue: Issue,
    audience: Audience,
    *,
    scheduled_at: datetime | None = None,
    force_resend: bool = False,
    created_by: str = "",
) -> Campaign:
    """Record a campaign (planned, or scheduled when `scheduled_at` is given). Does not commit."""
    campaign = Campaign(
        issue_id=issue.id,
        list_id=audience.list_id,
        segment_id=audience.segment_id,
        expression=audience.expression,
        status=CampaignStatus.SCHEDULED if scheduled_at else CampaignStatus.PLANNED,
        scheduled_at=scheduled_at,
        force_resend=force_resend,
        created_by=created_by,
    )
    session.add(campaign)
    session.flush()
    return campaign


def get(session: Session, campaign_id: int, *, for_update: bool = False) -> Campaign:
    """The campaign; `for_update` also locks its row until the caller's transaction ends
    (PostgreSQL; SQLite has no row locks and ignores it)."""
    campaign = session.get(Campaign, campaign_id, with_for_update=for_update)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}; see `mailer campaign list`")
    return campaign


def store_rendering(session: Session, campaign: Campaign, rendered: RenderedIssue) -> None:
    session.merge(
        CampaignRender(
            campaign_id=campaign.id,
            subject=rendered.subject,
            preheader=rendered.preheader,
            html_template=rendered.html_template,
            text_template=rendered.text_template,
            pdf=rendered.pdf,
            pdf_filename=rendered.pdf_filename,
        )
    )


def load_rendering(session: Session, campaign_id: int) -> RenderedIssue:
    row = session.get(CampaignRender, campaign_id)
    if row is None:
        raise CampaignStateError(f"campaign {campaign_id} has not been rendered yet")
    return RenderedIssue(
        subject=row.subject,
        preheader=row.preheader,
        html_template=row.html_template,
        text_template=row.text_template,
        pdf=bytes(row.pdf),
        pdf_filename=row.pdf_filename,
    )


def snapshot(session: Session, campaign: Campaign) -> int:
    """Insert one pending Delivery per recipient, set-wise; idempotent. Returns rows added."""
    now = utcnow()
    audience = _audience_select(
        session, campaign.issue_id, campaign.list_id, campaign.expression, campaign.force_resend
    ).subquery()
    rows = select(
        literal(campaign.id),
        literal(campaign.issue_id),
        audience.c.subscriber_id,
        literal(DeliveryStatus.PENDING.value),
        literal(campaign.force_resend),
        literal(0),
        literal(now, type_=Delivery.__table__.c.updated_at.type),
    ).where(
        ~exists().where(
            Delivery.campaign_id == campaign.id,
            Delivery.subscriber_id == audience.c.subscriber_id,
        )
    )
    insert = sa_insert(Delivery).from_select(
        ["campaign_id", "issue_id", "subscriber_id", "status", "resend", "attempts", "updated_at"],
        rows,
    )
    before = campaign.total
    session.execute(insert)
    campaign.total = (
        session.scalar(select(func.count()).where(Delivery.campaign_id == campaign.id)) or 0
    )
    return campaign.total - before


def batch_ranges(
    session: Session, campaign_id: int, size: int, *, due_only: bool = False
) -> list[tuple[int, int]]:
    """(lo, hi) delivery-id ranges of about `size` unfinished rows each, computed in SQL."""
    now = utcnow()
    cond: ColumnElement[bool] = Delivery.status.in_(UNFINISHED)
    if due_only:
        cond = and_(
            cond,
            (Delivery.status != DeliveryStatus.DEFERRED) | (Delivery.next_attempt_at <= now),
        )
    numbered = (
        select(
            Delivery.id,
            ((func.row_number().over(order_by=Delivery.id) - 1) // size).label("bucket"),
        )
        .where(Delivery.campaign_id == campaign_id, cond)
        .subquery()
    )
    q = (
        select(func.min(numbered.c.id), func.max(numbered.c.id))
        .group_by(numbered.c.bucket)
        .order_by(numbered.c.bucket)
    )
    return [(lo, hi) for lo, hi in session.execute(q)]


def counts(session: Session, campaign_id: int) -> dict[str, int]:
    """Deliveries by status (every status present, zero when none)."""
    out = {s.value: 0 for s in DeliveryStatus}
    for status, n in session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.campaign_id == campaign_id)
        .group_by(Delivery.status)
    ):
        out[DeliveryStatus(status).value] = n
    return out


def set_status(
    session: Session,
    campaign_id: int,
    new: CampaignStatus,
    *,
    allowed_from: tuple[CampaignStatus, ...],
    reason: str = "",
) -> bool:
    """Move the campaign to `new` only from an allowed state, atomically. True if it moved."""
    values: dict[str, Any] = {"status": new, "status_reason": reason}
    if new in (CampaignStatus.DONE, CampaignStatus.CANCELLED):
        values["finished_at"] = utcnow()
    result = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status.in_(allowed_from))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(rowcount(result))


def pause(session: Session, campaign_id: int, reason: str = "paused by an editor") -> None:
    get(session, campaign_id)
    if not set_status(
        session,
        campaign_id,
        CampaignStatus.PAUSED,
        allowed_from=(CampaignStatus.SENDING, CampaignStatus.SCHEDULED),
        reason=reason,
    ):
        raise CampaignStateError(
            f"campaign {campaign_id} is {get(session, campaign_id).status}; only a sending or "
            "scheduled campaign can be paused"
        )


def resume(session: Session, campaign_id: int) -> None:
    campaign = get(session, campaign_id)
    if not set_status(
        session, campaign_id, CampaignStatus.SENDING, allowed_from=(CampaignStatus.PAUSED,)
    ):
        raise CampaignStateError(
            f"campaign {campaign_id} is {campaign.status}; only a paused campaign can be resumed"
        )


def cancel(session: Session, campaign_id: int) -> None:
    campaign = get(session, campaign_id)
    if not set_status(
        session,
        campaign_id,
        CampaignStatus.CANCELLED,
        allowed_from=(CampaignStatus.PLANNED, *ACTIVE),
        reason="cancelled by an editor",
    ):
        raise CampaignStateError(f"campaign {campaign_id} is already {campaign.status}")
    session.execute(
        update(Delivery)
        .where(
            Delivery.campaign_id == campaign_id,
            Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.DEFERRED)),
        )
        .values(status=DeliveryStatus.SKIPPED, last_reply="campaign cancelled")
        .execution_options(synchronize_session=False)
    )


def retry_failed(session: Session, campaign_id: int) -> int:
    """Put failed deliveries back to pending (suppressed addresses stay skipped when sent)."""
    campaign = get(session, campaign_id)
    if campaign.status == CampaignStatus.CANCELLED:
        raise CampaignStateError(f"campaign {campaign_id} was cancelled")
    n = rowcount(
        session.execute(
            update(Delivery)
            .where(Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.FAILED)
            .values(status=DeliveryStatus.PENDING, next_attempt_at=None, attempts=0)
            .execution_options(synchronize_session=False)
        )
    )
    if n:
        campaign.status = CampaignStatus.SENDING
        campaign.status_reason = ""
        campaign.finished_at = None
    return n or 0


def finish_if_done(session: Session, campaign_id: int) -> bool:
    """Mark a sending campaign done when no delivery is left to try. True if it just finished.

    Only a started campaign (its audience snapshotted) can finish: before that, having no
    deliveries means nothing yet, not that everyone got the message.
    """
    left = exists().where(Delivery.campaign_id == campaign_id, Delivery.status.in_(UNFINISHED))
    result = session.execute(
        update(Campaign)
        .where(
            Campaign.id == campaign_id,
            Campaign.status == CampaignStatus.SENDING,
            Campaign.started_at.is_not(None),
            ~left,
        )
        .values(status=CampaignStatus.DONE, finished_at=utcnow(), status_reason="")
        .execution_options(synchronize_session=False)
    )
    return bool(rowcount(result))


@dataclass
class Progress:
    campaign_id: int
    status: str
    reason: str
    total: int
    counts: dict[str, int] = field(default_factory=dict)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def finished(self) -> int:
        return self.counts["sent"] + self.counts["failed"] + self.counts["skipped"]

    @property
    def rate(self) -> float:
        """Messages sent per second since the start."""
        if not self.started_at:
            return 0.0
        end = self.finished_at or utcnow()
        seconds = max((end - self.started_at).total_seconds(), 1e-3)
        return self.counts["sent"] / seconds


def progress(session: Session, campaign_id: int) -> Progress:
    campaign = get(session, campaign_id)
    session.refresh(campaign)
    return Progress(
        campaign_id=campaign.id,
        status=campaign.status.value,
        reason=campaign.status_reason,
        total=campaign.total,
        counts=counts(session, campaign_id),
        started_at=campaign.started_at,
        finished_at=campaign.finished_at,
    )


def failures_by_reply(session: Session, campaign_id: int, limit: int = 20) -> list[tuple[str, int]]:
    """Failed deliveries grouped by the relay's last reply, most frequent first."""
    rows = session.execute(
        select(Delivery.last_reply, func.count())
        .where(Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.FAILED)
        .group_by(Delivery.last_reply)
        .order_by(func.count().desc())
        .limit(limit)
    )
    return [(reply or "(no reply)", n) for reply, n in rows]
