"""Campaigns: one send of an issue to a list (and segment), from plan to done.

The campaign's status in the database is what every worker obeys. Creating a campaign only records
the intent; starting it renders the issue once, stores the rendering for every worker, and snapshots
the audience set-wise in SQL (list ∧ segment ∧ active ∧ not suppressed ∧ not already sent this
issue) into one Delivery row per recipient: one INSERT … SELECT per chunk of subscriber ids, each
committed with the campaign's watermark (`snapshot_through`), so that the first chunk's batches
send while later chunks are inserted (mailer/sending/start.py; the start protocol that drives it
is in mailer/sending/tasks.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import and_, case, exists, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from mailer.content.models import Issue
from mailer.db import rowcount, utcnow
from mailer.errors import MailerError, NotFound
from mailer.sending import schedule
from mailer.sending.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from mailer.settings import Settings
from subscribers.db import analyze
from subscribers.models import MailingList, Segment, Subscriber, Subscription
from subscribers.text import counted

ACTIVE = (CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.PAUSED)
UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED)


class CampaignStateError(MailerError):
    """The campaign cannot do that in its current state."""


class EmptyAudience(MailerError):
    """Nobody would receive the send (no campaign is created for nobody)."""


@dataclass(frozen=True)
class Audience:
    """What a send would reach, shown before the editor confirms."""

    list_slug: str
    list_id: int
    segment_id: int | None
    expression: str | None
    recipients: int  # after suppression and, unless forced, whoever already received the issue
    already_received: int
    # Campaigns of the same issue to the same list not finished yet (planned, scheduled, sending,
    # paused): a second one is most often a double click or a forgotten schedule, so every
    # door says so before the editor confirms.
    under_way: tuple[int, ...] = ()


def audience_select(
    session: Session,
    issue_id: int,
    list_id: int,
    expression: str | None,
    force_resend: bool,
    after: int | None = None,
    through: int | None = None,
) -> Any:
    """The audience's subscriber ids, those in (`after`, `through`] when given.

    The range bounds the subscription's subscriber id as well as the subscriber's, and the
    already-sent anti-join's (the planner does not carry an inequality across a join), so a chunk
    reads its own stretch of each index instead of the whole list, or every delivery of the
    issue already sent: those grow while the first chunks send, and reading them all again at
    each chunk made a million's snapshot slower with every chunk."""
    from subscribers import segments  # the expression parser (Lark): only the start path needs it

    matching = segments.matching_subscriber_ids(session, list_id, expression)
    if after is not None:
        matching = matching.where(Subscriber.id > after, Subscription.subscriber_id > after)
    if through is not None:
        matching = matching.where(Subscriber.id <= through, Subscription.subscriber_id <= through)
    ids = matching.subquery()
    sel = select(ids.c[0].label("subscriber_id"))
    if not force_resend:
        sent = [
            Delivery.issue_id == issue_id,
            Delivery.subscriber_id == ids.c[0],
            Delivery.status == DeliveryStatus.SENT,
        ]
        if after is not None:
            sent.append(Delivery.subscriber_id > after)
        if through is not None:
            sent.append(Delivery.subscriber_id <= through)
        sel = sel.where(~exists().where(*sent))
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
    # Imported here, like the other doors' modules: listing and steering commands import this
    # module and must not pay for the expression parser and address validation (start-up).
    from subscribers import segments
    from subscribers.lists import get_list

    if segment and where:
        raise MailerError(
            "give either --segment or --where, not both",
            web="give either {segment} or {where}, not both",
        )
    mlist: MailingList = get_list(session, list_slug)
    segment_row: Segment | None = None
    expression = where
    if segment:
        segment_row = session.scalar(
            select(Segment).where(Segment.list_id == mlist.id, Segment.slug == segment)
        )
        if segment_row is None:
            known = session.scalars(
                select(Segment.slug).where(Segment.list_id == mlist.id).order_by(Segment.slug)
            ).all()
            missing = f"no segment {segment!r} on list {list_slug!r}"
            its = f"its segments: {', '.join(known)}" if known else "it has none"
            raise NotFound(
                f"{missing}; see `mailer segment list --list {list_slug}`",
                web=f"{missing} ({its})",
            )
        expression = segment_row.expression
    if expression:
        segments.parse(expression)  # raises with the column of a syntax error
    total, received = _count_audience(session, issue.id, mlist.id, expression)
    recipients = total if force_resend else total - received
    under_way = session.scalars(
        select(Campaign.id)
        .where(
            Campaign.issue_id == issue.id,
            Campaign.list_id == mlist.id,
            Campaign.status.in_((CampaignStatus.PLANNED, *ACTIVE)),
        )
        .order_by(Campaign.id)
    ).all()
    return Audience(
        list_slug=mlist.slug,
        list_id=mlist.id,
        segment_id=segment_row.id if segment_row else None,
        expression=expression,
        recipients=recipients,
        already_received=total - recipients,
        under_way=tuple(under_way),
    )


def under_way_note(audience: Audience) -> str:
    """What a door says before a send when campaigns of the issue to the list are not finished
    ("" for none). Whoever one of them reaches first is left out of the other when it starts
    (unless forced), so nobody gets it twice, but the second may reach almost no one."""
    if not audience.under_way:
        return ""
    ids = ", ".join(str(i) for i in audience.under_way)
    which = f"campaign {ids} is" if len(audience.under_way) == 1 else f"campaigns {ids} are"
    return (
        f"{which} already sending or due to send this issue to list {audience.list_slug}; "
        "this creates another campaign (whoever receives it from one is left out of the other)"
    )


def using_segment(session: Session, segment_id: int) -> list[int]:
    """The ids of the campaigns created for a saved segment, oldest first: what a door names
    when the segment is changed or deleted (each keeps the expression it was created with)."""
    query = select(Campaign.id).where(Campaign.segment_id == segment_id).order_by(Campaign.id)
    return list(session.scalars(query))


def segment_campaigns_note(campaign_ids: list[int], *, deleted: bool) -> str:
    """What a door says about the campaigns of a segment it changed or deleted ("" for none)."""
    if not campaign_ids:
        return ""
    ids = ", ".join(str(i) for i in campaign_ids)
    if len(campaign_ids) == 1:
        said = f"campaign {ids} keeps the expression it was created with"
        return said + ("; its report shows that expression" if deleted else "")
    said = f"campaigns {ids} keep the expression they were created with"
    return said + ("; their reports show that expression" if deleted else "")


def prepare_snapshot(session: Session) -> None:
    """On PostgreSQL, analyse the audience's tables if nothing has since they last changed a lot
    (a list imported a minute ago), so that the snapshot's INSERT … SELECT and every query of the
    send are planned from statistics that know the rows (see subscribers.db.analyze)."""
    analyze(session, "subscriber", "subscription", "subscriber_tag", only_stale=True)


def _count_audience(
    session: Session, issue_id: int, list_id: int, expression: str | None
) -> tuple[int, int]:
    """(everyone the list and expression reach, how many of them already received the issue).

    One pass over the list: the first count is a plain join of the audience's tables, planned
    from statistics (tables changed a lot since their last ANALYZE, a list just imported, are
    analysed first: without statistics PostgreSQL nested-looped a million subscribers in 8 s
    instead of hashing them in 2). The second is driven from the issue's sent deliveries (their
    partial index), each checked against the audience by its keys: nothing for an issue not yet
    sent, instead of one probe per subscriber of the list.
    """
    # Analysed in a transaction of its own, committed at once: the caller's may wait for an
    # editor's confirmation, and ANALYZE's lock would meanwhile hold up every other send's.
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        with Session(bind=bind) as apart, apart.begin():
            prepare_snapshot(apart)
    from subscribers import segments  # the expression parser (Lark): only the start path needs it

    everyone = segments.matching_subscriber_ids(session, list_id, expression)
    total = session.scalar(select(func.count()).select_from(everyone.subquery())) or 0
    sent_to = (
        select(Delivery.subscriber_id)
        .where(Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.SENT)
        .distinct()
        .subquery()
    )
    received = session.scalar(
        select(func.count())
        .select_from(sent_to)
        .where(sent_to.c.subscriber_id.in_(everyone.scalar_subquery()))
    )
    return int(total), int(received or 0)


@dataclass(frozen=True)
class Cleared:
    """A send that passed `check`: what `create` takes, so that every door checks before it
    creates a campaign, and checks once (the DKIM key files, the SMTP URL and the production
    settings are read by `check` only, not again by `create`)."""

    audience: Audience
    scheduled_at: datetime | None
    zone: tzinfo  # MAILER_TIMEZONE, to word a send time that passed before `create`


def check(audience: Audience, scheduled_at: datetime | None, settings: Settings) -> Cleared:
    """What every door checks before creating a campaign; `create` takes the result.

    Raises ConfigError when the settings cannot send (readiness.require: DKIM, SMTP URL,
    production placeholders), MailerError for an empty audience or a send time that has passed.
    """
    from mailer.sending import readiness  # the transport's URL checks: only the doors need them

    readiness.require(settings)
    if audience.recipients == 0:
        who = f"list {audience.list_slug!r}" + (
            f" with {audience.expression!r}" if audience.expression else ""
        )
        n = audience.already_received
        if n:  # the audience is there: it has the issue already
            everyone = (
                f"the only active subscriber of {who}"
                if n == 1
                else (f"all {n} active subscribers of {who}")
            )
            received = f"nobody to send to: {everyone} already received this issue"
            raise EmptyAudience(
                f"{received}; --force-resend sends it again; no campaign created",
                web=f"{received}; {{force_resend}} sends it again; no campaign created",
            )
        raise EmptyAudience(
            f"nobody to send to: {who} has no active, unsuppressed subscriber; no campaign created"
        )
    if scheduled_at is not None:
        schedule.require_future(scheduled_at, utcnow(), settings.zone())
    return Cleared(audience, scheduled_at, settings.zone())


def create(
    session: Session,
    issue: Issue,
    cleared: Cleared,
    *,
    force_resend: bool = False,
    created_by: str = "",
) -> Campaign:
    """Record the checked send as a campaign (planned, or scheduled for `cleared.scheduled_at`).
    Does not commit.

    Only a send time is looked at again: an editor may have taken that long to confirm, and a
    campaign scheduled in the past would start at once. Raises MailerError then."""
    audience, scheduled_at = cleared.audience, cleared.scheduled_at
    if scheduled_at is not None:
        schedule.require_future(scheduled_at, utcnow(), cleared.zone)
    campaign = Campaign(
        issue_id=issue.id,
        list_id=audience.list_id,
        recipients=audience.recipients,
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


def get(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(
            f"no campaign {campaign_id}; see `mailer campaign list`",
            web=f"no campaign {campaign_id}",
        )
    return campaign


def batch_ranges(
    session: Session,
    campaign_id: int,
    size: int,
    *,
    due_only: bool = False,
    subscribers: tuple[int | None, int | None] | None = None,
) -> list[tuple[int, int]]:
    """(lo, hi) delivery-id ranges of about `size` unfinished rows each, computed in SQL.

    `subscribers` (after, through) keeps the rows of one snapshot chunk (subscriber ids in
    (after, through], None unbounded), read through the unique (campaign, subscriber) index."""
    now = utcnow()
    cond: ColumnElement[bool] = Delivery.status.in_(UNFINISHED)
    if subscribers is not None:
        after, through = subscribers
        if after is not None:
            cond = and_(cond, Delivery.subscriber_id > after)
        if through is not None:
            cond = and_(cond, Delivery.subscriber_id <= through)
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
    """Move the campaign to `new` only from an allowed state, atomically. True if it moved.

    A pause is timed: moving to PAUSED records when it began, and leaving it adds its seconds
    after the start to `paused_seconds` (see `progress.sending_seconds`)."""
    now = utcnow()
    values: dict[str, Any] = {"status": new, "status_reason": reason}
    if new in (CampaignStatus.DONE, CampaignStatus.CANCELLED):
        values["finished_at"] = now
    if new == CampaignStatus.PAUSED:
        values["paused_at"] = now
    elif CampaignStatus.PAUSED in allowed_from:
        values.update(_closing_pause(session, campaign_id, now))
    result = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status.in_(allowed_from))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(rowcount(result))


def _closing_pause(session: Session, campaign_id: int, now: datetime) -> dict[str, Any]:
    """The values that end the campaign's current pause, if it is paused: `paused_at` cleared
    and the pause's seconds since the start (a pause before it costs no sending time) added.
    The sum is a CASE on the `paused_at` read here, so a pause that another process closed in
    the meantime is not counted twice."""
    row = session.execute(
        select(Campaign.paused_at, Campaign.started_at).where(Campaign.id == campaign_id)
    ).first()
    if row is None or row.paused_at is None:
        return {}
    began = max(row.paused_at, row.started_at) if row.started_at is not None else now
    seconds = max((now - began).total_seconds(), 0.0)
    return {
        "paused_at": None,
        "paused_seconds": case(
            (Campaign.paused_at == row.paused_at, Campaign.paused_seconds + seconds),
            else_=Campaign.paused_seconds,
        ),
    }


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


def resume(session: Session, campaign_id: int) -> CampaignStatus:
    """Take up a paused campaign; returns the status it moved to, which says what the caller
    must do next.

    - SENDING: it had started; the rest is sent (`dispatch.continue_sending`), its deferred mail
      included at once (`deferred_due_now`).
    - SCHEDULED: a scheduled campaign paused before its time, whose time is still ahead: it is
      scheduled again, and the beat starts it when due.
    - PLANNED: a scheduled campaign paused before its time, whose time has passed meanwhile: it
      must be started now (`dispatch.start`). (Both used to become "sending" with nothing
      started, so they stayed at 0 of 0 for good.)

    Raises CampaignStateError when the campaign is not paused."""
    campaign = get(session, campaign_id)
    session.refresh(campaign)
    now = utcnow()
    if campaign.started_at is not None:
        new = CampaignStatus.SENDING
    elif campaign.scheduled_at is not None and campaign.scheduled_at > now:
        new = CampaignStatus.SCHEDULED
    else:
        new = CampaignStatus.PLANNED
    if not set_status(session, campaign_id, new, allowed_from=(CampaignStatus.PAUSED,)):
        raise CampaignStateError(
            f"campaign {campaign_id} is {campaign.status}; only a paused campaign can be resumed"
        )
    if new == CampaignStatus.SENDING:
        deferred_due_now(session, campaign_id)
    return new


def deferred_due_now(session: Session, campaign_id: int) -> None:
    """The campaign's deferred rows due now, not after their backoff: an editor resumes after
    fixing what stopped it (the relay, most often); waiting would look like doing nothing."""
    now = utcnow()
    session.execute(
        update(Delivery)
        .where(
            Delivery.campaign_id == campaign_id,
            Delivery.status == DeliveryStatus.DEFERRED,
            Delivery.next_attempt_at > now,
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )


def check_startable(session: Session, campaign_id: int) -> None:
    """A planned campaign whose start is not running (its `mailer send` was stopped before the
    snapshot began, or its broker was down), so that `campaign resume` may start it now.

    Raises CampaignStateError naming the time when another execution holds the start's lease
    (mailer/sending/start.py): a live start must not be doubled, a dead one's lease runs out."""
    campaign = get(session, campaign_id)
    now = utcnow()
    expires = campaign.start_expires_at
    if campaign.start_owner is not None and expires is not None and expires > now:
        raise CampaignStateError(
            f"campaign {campaign_id} is being started by another process (its hold ends in "
            f"{(expires - now).total_seconds():.0f} s): wait for it, or if that process was "
            "stopped, run `mailer campaign resume` again then"
        )


def release_unstarted(session: Session, campaign_id: int) -> bool:
    """True if the campaign is still planned, its start's lease given back: the process that was
    starting it in-process (`mailer send` without a broker) stops, so `campaign resume` may start
    it at once instead of after the lease runs out."""
    released = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.status == CampaignStatus.PLANNED)
        .values(start_owner=None, start_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return rowcount(released) > 0


def cancel(session: Session, campaign_id: int) -> None:
    """Cancel for good: the rows no live batch holds are skipped now; a batch holding a chunk
    sees the status at its next message and skips the rest of its chunk itself (batch.py), so a
    row shown skipped is never sent afterwards. The caller commits."""
    from mailer.sending import deliveries  # the claims' protocol (it imports this module's models)

    campaign = get(session, campaign_id)
    deliveries.lock_claims(session, campaign_id)  # no claim taken or half-seen meanwhile
    if not set_status(
        session,
        campaign_id,
        CampaignStatus.CANCELLED,
        allowed_from=(CampaignStatus.PLANNED, *ACTIVE),
        reason="cancelled by an editor",
    ):
        raise CampaignStateError(f"campaign {campaign_id} is already {campaign.status}")
    deliveries.skip_unclaimed(session, campaign_id)


def stopped_sending(session: Session, campaign_id: int, last_at: datetime) -> None:
    """A batch stopped by a pause or a cancel recorded its last outcome at `last_at`: the pause
    (or the end) is moved there if it was earlier, so the sending time covers every message
    sent (progress.sending_seconds). Not committed."""
    for status, column in (
        (CampaignStatus.PAUSED, Campaign.paused_at),
        (CampaignStatus.CANCELLED, Campaign.finished_at),
    ):
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.status == status, column < last_at)
            .values({column: last_at})
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


def retried(n: int) -> str:
    """What `retry_failed` did, for the CLI and the admin: `1 failed delivery queued again`,
    or that there was nothing to retry ("0 failed deliveries queued again" read as done)."""
    if not n:
        return "no failed deliveries to retry; nothing was queued again"
    return f"{counted(n, 'failed delivery', 'failed deliveries')} queued again"


def finish_if_done(session: Session, campaign_id: int) -> bool:
    """Mark a sending campaign done when no delivery is left to try. True if it just finished.

    Only a campaign whose snapshot is complete can finish: before that, having no unfinished
    deliveries means the later chunks are not in yet, not that everyone got the message.
    """
    left = exists().where(Delivery.campaign_id == campaign_id, Delivery.status.in_(UNFINISHED))
    result = session.execute(
        update(Campaign)
        .where(
            Campaign.id == campaign_id,
            Campaign.status == CampaignStatus.SENDING,
            Campaign.started_at.is_not(None),
            Campaign.snapshot_complete.is_(True),
            ~left,
        )
        .values(status=CampaignStatus.DONE, finished_at=utcnow(), status_reason="")
        .execution_options(synchronize_session=False)
    )
    return bool(rowcount(result))
