"""A campaign's start: the lease one execution holds while it renders and snapshots, and the
audience snapshot in chunks of subscriber ids.

The snapshot inserts one pending Delivery per recipient (list ∧ segment ∧ active ∧ not suppressed ∧
not already sent this issue, `campaigns.audience_select`) with one INSERT … SELECT per chunk, each
committed with the campaign's watermark (`snapshot_through`), so the first chunk's batches send
while later chunks are inserted; a start whose worker died resumes after the watermark. The
protocol that drives these steps is `tasks.start_campaign`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, exists, func, literal, or_, select, text, update
from sqlalchemy import insert as sa_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from mailer.db import rowcount, utcnow
from mailer.sending.campaigns import CampaignStateError, audience_select, prepare_snapshot
from mailer.sending.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from subscribers.db import analyze
from subscribers.models import Subscriber

if TYPE_CHECKING:
    pass


def snapshot(session: Session, campaign: Campaign) -> int:
    """Insert one pending Delivery per recipient in one statement; idempotent. Returns rows added.

    The whole audience at once, marked complete: for callers that want every row before anything
    else happens (tests, tools). A campaign's start snapshots in chunks instead (`snapshot_range`,
    `record_chunk`). Does not commit.
    """
    prepare_snapshot(session)
    before = campaign.total
    snapshot_range(session, campaign, None, None)
    total = session.scalar(select(func.count()).where(Delivery.campaign_id == campaign.id)) or 0
    if total > before:
        analyze_deliveries(session)
    campaign.total = total
    campaign.snapshot_complete = True
    return total - before


def analyze_deliveries(session: Session) -> None:
    """After a snapshot: the delivery table's statistics count its new rows (PostgreSQL)."""
    analyze(session, "delivery")


def chunk_end(session: Session, after: int | None, size: int) -> int | None:
    """The subscriber id that closes the chunk of `size` subscribers after `after` (None: from
    the first), or None when no more than `size` remain: the last chunk runs to the end, so a
    subscriber who joined during the snapshot is in it, as in a snapshot taken in one statement.

    Counted over all subscribers, not the audience (an index-only walk of the primary key): a
    chunk holds at most `size` recipients, fewer when the list is a part of the subscribers.
    """
    query = select(Subscriber.id).order_by(Subscriber.id).offset(size - 1).limit(1)
    if after is not None:
        query = query.where(Subscriber.id > after)
    return session.scalar(query)


def snapshot_range(
    session: Session, campaign: Campaign, after: int | None, through: int | None
) -> int:
    """Insert a pending Delivery for each recipient whose subscriber id is in (`after`,
    `through`] (None: unbounded), in one INSERT … SELECT; returns the rows added.

    Idempotent: a subscriber who already has a row in this campaign is left out by the anti-join
    on the unique (campaign, subscriber) index, bounded to the chunk's range (unbounded, it
    would read every row of the earlier chunks again at each chunk). Rows above the watermark
    cannot exist (a chunk and its watermark commit together), but a second call must still add
    nothing. The campaign's own row is not touched (see `record_chunk`). Does not commit.

    On PostgreSQL each chunk's statement is planned for its own bounds (`custom_plans_only`).
    """
    custom_plans_only(session)
    audience = audience_select(
        session,
        campaign.issue_id,
        campaign.list_id,
        campaign.expression,
        campaign.force_resend,
        after,
        through,
    ).subquery()
    mine = [Delivery.campaign_id == campaign.id]  # the campaign's rows in the chunk's range
    if after is not None:
        mine.append(Delivery.subscriber_id > after)
    if through is not None:
        mine.append(Delivery.subscriber_id <= through)
    rows = (
        select(
            literal(campaign.id),
            literal(campaign.issue_id),
            audience.c.subscriber_id,
            literal(DeliveryStatus.PENDING.value),
            literal(campaign.force_resend),
            literal(0),
            literal(utcnow(), type_=Delivery.__table__.c.updated_at.type),
        )
        .where(~exists().where(*mine, Delivery.subscriber_id == audience.c.subscriber_id))
        # Delivery ids follow subscriber ids: batches and the chunk's ranges read in one order.
        .order_by(audience.c.subscriber_id)
    )
    insert = sa_insert(Delivery).from_select(
        ["campaign_id", "issue_id", "subscriber_id", "status", "resend", "attempts", "updated_at"],
        rows,
    )
    # SQLAlchemy keeps an INSERT's row count only when asked (the cursor is closed after it).
    return rowcount(session.execute(insert, execution_options={"preserve_rowcount": True}))


def custom_plans_only(session: Session) -> None:
    """For the rest of the transaction, plan each statement for its parameters' values.

    psycopg prepares a statement run five times on one connection, and PostgreSQL plans a
    prepared statement once for any values (a generic plan) from its sixth run on if that plan
    looks no dearer. The chunk's INSERT … SELECT runs once per chunk with new bounds; planned
    for unknown bounds on a delivery table never analysed, the anti-joins became nested loops
    over every materialised row (each chunk subscriber compared with each delivery already
    sent): at a million subscribers, the chunks from the eleventh on took 12 s, then 17, 19, 27,
    32 s… instead of 2.5 s, longer with every message sent meanwhile. Planning costs about a
    millisecond per chunk of 50,000 rows.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


class LeaseLost(CampaignStateError):
    """The start's lease passed to another execution: this one's uncommitted chunk is void."""


def snapshot_reason(status: CampaignStatus, total: int, recipients: int, complete: bool) -> str:
    """What `campaign status` says while a started campaign's snapshot is still running."""
    if complete or status != CampaignStatus.SENDING:
        return ""
    return f"sending; snapshot {total:,} of {recipients:,}"


def record_chunk(
    session: Session,
    campaign_id: int,
    owner: str,
    *,
    added: int,
    through: int | None,
) -> CampaignStatus:
    """Record a snapshot chunk inserted in this transaction: the watermark, the total, and the
    campaign sending from its first chunk on. Returns the campaign's status; the caller commits,
    except when it is cancelled (the chunk must be rolled back: the cancel skipped the rows it
    could see, and this chunk's rows would be pending in a cancelled campaign).

    `through` None means the chunk ran to the end: the snapshot is complete and the start's lease
    is given back. The campaign's row is locked only here, after the INSERT, so the lease's
    renewals (another connection) never wait for a chunk. Raises LeaseLost when `owner` no
    longer holds the start (its renewals failed long enough for another execution to take over).
    """
    row = session.execute(
        select(
            Campaign.status,
            Campaign.start_owner,
            Campaign.total,
            Campaign.recipients,
            Campaign.started_at,
            Campaign.status_reason,
        )
        .where(Campaign.id == campaign_id)
        # FOR NO KEY UPDATE: other transactions' rows that refer to it by a foreign key (batches'
        # delivery claims) hold KEY SHARE on it and need not wait; an editor's pause or cancel
        # still does. This lock is also what a chunk's deliveries have instead of a foreign key
        # to their campaign (migration 0019): a chunk cannot commit without its campaign's row.
        .with_for_update(key_share=True)
    ).one()
    status, holder, total, recipients, started_at, reason = row
    if holder != owner:
        raise LeaseLost(
            f"campaign {campaign_id}: the start's lease expired and passed to another worker; "
            "this chunk of the snapshot is rolled back and that worker's stands"
        )
    if status == CampaignStatus.CANCELLED:
        return status
    complete = through is None
    total += added
    if status in STARTABLE:
        status = CampaignStatus.SENDING
    values: dict[str, Any] = {
        "status": status,
        "total": total,
        "snapshot_complete": complete,
        "started_at": started_at or utcnow(),
    }
    if not complete:
        values["snapshot_through"] = through
    if status == CampaignStatus.SENDING:  # a paused campaign keeps saying why it is paused
        values["status_reason"] = snapshot_reason(status, total, recipients, complete)
    if complete:
        values |= {"start_owner": None, "start_expires_at": None}
    session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return status


def audience_size(session: Session, campaign: Campaign) -> int:
    """How many deliveries the snapshot will add (before it runs: for `campaign status`)."""
    audience = audience_select(
        session, campaign.issue_id, campaign.list_id, campaign.expression, campaign.force_resend
    ).subquery()
    return int(session.scalar(select(func.count()).select_from(audience)) or 0)


# ---------------------------------------------------------------------------------------------
# The start's lease: one execution of the start task renders and snapshots a campaign at a time.

STARTABLE = (CampaignStatus.PLANNED, CampaignStatus.SCHEDULED)
# A started campaign whose snapshot is not complete still has a start to finish (a paused one
# too: pausing stops the sending, not the snapshot).
SNAPSHOTTING = (CampaignStatus.SENDING, CampaignStatus.PAUSED)


def start_unfinished() -> ColumnElement[bool]:
    """The campaign still has a start to run: never started, or its snapshot is incomplete."""
    return or_(
        and_(Campaign.status.in_(STARTABLE), Campaign.started_at.is_(None)),
        and_(
            Campaign.status.in_(SNAPSHOTTING),
            Campaign.started_at.is_not(None),
            Campaign.snapshot_complete.is_(False),
        ),
    )


def lease_free(now: datetime) -> ColumnElement[bool]:
    """No execution holds the campaign's start (never taken, released, or expired)."""
    return or_(Campaign.start_owner.is_(None), Campaign.start_expires_at < now)


def take_start(session: Session, campaign_id: int, owner: str, seconds: float) -> bool:
    """Lease the start of a campaign to `owner` for `seconds`. True if taken.

    Atomic (one UPDATE): of two executions racing, one wins; a held, unexpired lease, or a
    campaign whose start has nothing left to do (snapshot complete, cancelled, done), refuses.
    A started campaign with an incomplete snapshot can be taken: its start died mid-snapshot,
    and the new owner resumes after the watermark. The caller commits.
    """
    now = utcnow()
    result = session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, start_unfinished(), lease_free(now))
        .values(
            start_owner=owner,
            start_expires_at=now + timedelta(seconds=seconds),
            status_reason=case(
                (Campaign.started_at.is_(None), "starting: rendering the issue"),
                else_=Campaign.status_reason,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(rowcount(result))


def renew_start(conn: Connection, campaign_id: int, owner: str, seconds: float) -> bool:
    """Extend `owner`'s lease by `seconds` from now; False once it is no longer the owner."""
    result = conn.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.start_owner == owner)
        .values(start_expires_at=utcnow() + timedelta(seconds=seconds))
    )
    return bool(rowcount(result))


def end_start(session: Session, campaign_id: int, owner: str, *, keep_reason: bool = False) -> None:
    """Give the lease back (the start failed, or the campaign was cancelled meanwhile): another
    execution may start the campaign now. The status text is cleared unless `keep_reason`, or
    the campaign has started (a paused or cancelled one says why)."""
    values: dict[str, Any] = {"start_owner": None, "start_expires_at": None}
    if not keep_reason:
        values["status_reason"] = case(
            (Campaign.started_at.is_(None), ""), else_=Campaign.status_reason
        )
    session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.start_owner == owner)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
