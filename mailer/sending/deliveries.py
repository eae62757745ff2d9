"""Delivery rows: claiming them for a batch, and recording each outcome as soon as it is known
(the outcome's own half: mailer/sending/outcomes.py).

The database is the truth. The write protocol, per chunk of rows and per message:

- Claim (one committed transaction per chunk of up to CHUNK due rows, batch.py), only while the
  campaign is `sending` (the claiming statement reads its status, with no separate status read;
  within a chunk each outcome's statement reads it, outcomes.RECORD_SQL): a row of
  `delivery_claim` leases the id range [lo, hi] of the chunk's first and last due rows to one
  execution of a batch task (its `owner`). The delivery rows themselves are not written: a row is
  due when it is pending (or deferred and its time has come) and no claim's range covers it.
  Claims of one campaign are taken one at a time (on PostgreSQL a transaction-scoped advisory
  lock, then the claiming statement, whose snapshot sees every claim committed before; SQLite has
  one writer at a time and the claim's INSERT … SELECT is its first statement). On PostgreSQL the
  same statement returns what deciding and composing needs (`claim_recipients`: subscriber,
  subscription, suppression, an earlier sent row of the issue); on SQLite a second query loads it.
- Outcome (one committed statement per message, `outcomes.Recorder`): right after the relay
  answered, an autocommit UPDATE writes the row's outcome, `attempts` + 1 and `claimed_by` (the
  owner). On PostgreSQL it goes out without waiting (a prepared statement sent through libpq),
  so the commit's WAL flush overlaps composing and transmitting the next message; that message's
  end-of-data line goes to the relay, and the chunk's claim is released, only once the server
  has confirmed the commit (`Recorder.committed`, the transport's `ready`). On SQLite it is an
  UPDATE through SQLAlchemy that returns committed.
- End of the chunk: once its last outcome is committed, its claim row is deleted in the next
  claim's transaction (`claim_recipients(release=…)`, one transaction per chunk), or alone
  (`release`) when a pause, a cancel or the relay's refusals stop the batch mid-chunk: the rows
  not attempted are pending, never touched.

So each delivery row is written once, at its outcome: one row version per message (not HOT:
`status` is indexed and in the partial indexes' predicates), plus one claim row inserted and
deleted per chunk.

The crash bound. A worker SIGKILLed (or PostgreSQL stopped) mid-batch leaves exactly one message per
killed sending process ambiguous: the one handed to the relay whose outcome UPDATE had not
committed. The next message may have been on its way, but not its end-of-data line (sent only after
that commit): a relay aborts a transaction cut off mid-DATA (RFC 5321 section 3.8), so it is not
delivered, and is sent again like any pending row. Every earlier outcome is committed; the rest of
the chunk is still pending under the dead claim. Every recorded outcome is also the owner's
heartbeat: once a claim's owner has shown no activity for `stale_after` seconds (no row of its range
recorded by it, and the claim older than that), the claim is deleted (`recover_abandoned`) and its
pending rows are due again — the ambiguous one is the only duplicate. A slow but live owner keeps
its claim, so a task redelivered while the first execution still runs never sends the same row
twice.

Not chosen: psycopg's pipeline mode for the outcomes. In the extended query protocol the statements
between two Sync messages are one implicit transaction, so outcomes pipelined without waiting commit
together at the next sync, and a crash would lose every outcome since the last one (each a
duplicate) — more than the one message in flight. The Recorder keeps at most one outcome
unconfirmed, and never past the next message's end of data: sent as its own statement (its own
transaction in autocommit), it is confirmed before that line goes out. Its CPU is about 0.08 ms per
message (psycopg's cursor: 0.12); its wall time, mostly the WAL flush, overlaps the next
message's composing and transmission.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, literal, or_, select, true, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from mailer.db import rowcount, utcnow
from mailer.sending import owners
from mailer.sending.models import (
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryClaim,
    DeliveryStatus,
)
from mailer.sending.outcomes import as_sqlalchemy
from subscribers.db import UTCDateTime
from subscribers.models import (
    Subscriber,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
    Suppression,
)

# pg_advisory_xact_lock(CLAIM_LOCK, campaign id): one claim of a campaign at a time.
CLAIM_LOCK = 0x636C61  # "cla"


@dataclass(frozen=True)
class Claimed:
    """A claimed delivery with what composing its message needs."""

    delivery_id: int
    subscriber_id: int
    email: str
    name: str
    attempts: int  # this one included
    track: bool = True  # False: the reader opted out of click and open tracking


@dataclass(frozen=True)
class Chunk:
    """One claim's rows: those to send, and those to skip with the reason."""

    claim_id: int | None  # None: nothing of the range was due
    send: list[Claimed] = field(default_factory=list)
    skip: list[tuple[int, str]] = field(default_factory=list)


def _due(now: datetime) -> ColumnElement[bool]:
    """Pending, or deferred and its time has come, and under no claim."""
    covered = exists().where(
        DeliveryClaim.campaign_id == Delivery.campaign_id,
        Delivery.id.between(DeliveryClaim.lo, DeliveryClaim.hi),
    )
    return and_(
        or_(
            Delivery.status == DeliveryStatus.PENDING,
            and_(Delivery.status == DeliveryStatus.DEFERRED, Delivery.next_attempt_at <= now),
        ),
        ~covered,
    )


def lock_claims(session: Session, campaign_id: int) -> None:
    """Claims of one campaign one at a time, until this transaction ends (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(func.pg_advisory_xact_lock(literal(CLAIM_LOCK), literal(campaign_id)))
        )


def claim(
    session: Session,
    *,
    campaign_id: int,
    lo: int,
    hi: int,
    owner: str,
    limit: int,
    now: datetime | None = None,
    release: int | None = None,
) -> tuple[int | None, list[int]]:
    """Lease up to `limit` due rows of the id range to `owner`: (the claim's id, the rows), or
    (None, []) when none is due or the campaign is not sending (paused, cancelled: the claim is
    where a batch obeys its campaign's status). Commits, so other workers see the claim.

    The portable path (SQLite; `claim_recipients` on PostgreSQL): the claim's INSERT … SELECT is
    the transaction's first statement, so on SQLite it holds the only write lock while it reads.
    `release`: a claim of the caller's to end in the same transaction (see `claim_recipients`).
    """
    now = now or utcnow()
    if release is not None:
        session.execute(delete(DeliveryClaim).where(DeliveryClaim.id == release))
    lock_claims(session, campaign_id)
    sending = exists().where(Campaign.id == campaign_id, Campaign.status == CampaignStatus.SENDING)
    picked = (
        select(Delivery.id)
        .where(Delivery.campaign_id == campaign_id, Delivery.id.between(lo, hi), _due(now), sending)
        .order_by(Delivery.id)
        .limit(limit)
        .subquery()
    )
    # The bounds in a subquery of their own and "at least one row" as a WHERE: a HAVING without
    # GROUP BY would need SQLite 3.39 or later.
    span = select(
        func.min(picked.c.id).label("lo"),
        func.max(picked.c.id).label("hi"),
        func.count().label("n"),
    ).subquery()
    taken = session.execute(
        insert(DeliveryClaim)
        .from_select(
            ["campaign_id", "lo", "hi", "owner", "claimed_at"],
            select(
                literal(campaign_id),
                span.c.lo,
                span.c.hi,
                literal(owner),
                literal(now, UTCDateTime()),
            ).where(span.c.n > 0),
        )
        .returning(DeliveryClaim.id, DeliveryClaim.lo, DeliveryClaim.hi)
    ).first()
    if taken is None:
        session.commit()
        return None, []
    claim_id, first, last = taken
    others = exists().where(
        DeliveryClaim.campaign_id == campaign_id,
        DeliveryClaim.id != claim_id,
        Delivery.id.between(DeliveryClaim.lo, DeliveryClaim.hi),
    )
    due = or_(
        Delivery.status == DeliveryStatus.PENDING,
        and_(Delivery.status == DeliveryStatus.DEFERRED, Delivery.next_attempt_at <= now),
    )
    ids = session.scalars(
        select(Delivery.id)
        .where(
            Delivery.campaign_id == campaign_id,
            Delivery.id.between(first, last),
            due,
            ~others,
        )
        .order_by(Delivery.id)
        .limit(limit)
    ).all()
    session.commit()
    return claim_id, list(ids)


LOCK_SQL = "SELECT pg_advisory_xact_lock(%(lock)s, %(campaign_id)s)"

# The claim and the recipients' data in one statement (PostgreSQL), run after the advisory lock:
# the first due rows under no claim, a claim row for their id range, and each row joined with what
# decides whether to send (the subscriber, their subscription to the list, a suppression, an
# earlier sent row of the same issue).
CLAIM_AND_LOAD_SQL = """\
WITH picked AS (
    SELECT delivery.id, delivery.attempts, delivery.subscriber_id FROM delivery
    WHERE delivery.campaign_id = %(campaign_id)s AND delivery.id BETWEEN %(lo)s AND %(hi)s
      AND EXISTS (SELECT 1 FROM campaign
                  WHERE campaign.id = %(campaign_id)s AND campaign.status = 'sending')
      AND (delivery.status = 'pending'
           OR (delivery.status = 'deferred' AND delivery.next_attempt_at <= %(now)s))
      AND NOT EXISTS (
          SELECT 1 FROM delivery_claim
          WHERE delivery_claim.campaign_id = %(campaign_id)s
            AND delivery.id BETWEEN delivery_claim.lo AND delivery_claim.hi
      )
    ORDER BY delivery.id
    LIMIT %(limit)s
), claim AS (
    INSERT INTO delivery_claim (campaign_id, lo, hi, owner, claimed_at)
    SELECT %(campaign_id)s, min(id), max(id), %(owner)s, %(now)s FROM picked
    HAVING count(*) > 0
    RETURNING id
)
SELECT (SELECT id FROM claim), picked.id, picked.attempts + 1, subscriber.id, subscriber.email,
    subscriber.name, subscriber.status, subscription.status, subscriber.tracking_opt_out,
    EXISTS (SELECT 1 FROM suppression WHERE suppression.email = subscriber.email),
    NOT %(resend)s AND EXISTS (
        SELECT 1 FROM delivery AS earlier
        WHERE earlier.issue_id = %(issue_id)s AND earlier.subscriber_id = picked.subscriber_id
          AND earlier.status = 'sent' AND earlier.id <> picked.id
    )
FROM picked
LEFT JOIN subscriber ON subscriber.id = picked.subscriber_id
LEFT JOIN subscription
    ON subscription.subscriber_id = subscriber.id AND subscription.list_id = %(list_id)s
ORDER BY picked.id"""


def claim_recipients(
    session: Session,
    *,
    campaign_id: int,
    lo: int,
    hi: int,
    owner: str,
    limit: int,
    list_id: int,
    issue_id: int,
    resend: bool,
    now: datetime | None = None,
    release: int | None = None,
) -> Chunk:
    """Lease up to `limit` due rows of the id range to `owner` and load their recipients: the
    rows to send, and those to skip with the reason (see `load_recipients`); nothing (claim_id
    None) when none is due or the campaign is not sending. Commits.

    `release`: the caller's previous claim, ended in the same transaction (as `release` would:
    every outcome of its chunk must be committed), so a chunk costs one transaction, not two.

    On PostgreSQL the advisory lock and one statement (CLAIM_AND_LOAD_SQL), run at driver level:
    no SQL compiled per chunk. Elsewhere `claim` then `load_recipients`.
    """
    now = now or utcnow()
    if session.get_bind().dialect.name != "postgresql":
        claim_id, ids = claim(
            session,
            campaign_id=campaign_id,
            lo=lo,
            hi=hi,
            owner=owner,
            limit=limit,
            now=now,
            release=release,
        )
        if claim_id is None:
            return Chunk(None)
        send, skip = load_recipients(
            session, ids, list_id=list_id, issue_id=issue_id, resend=resend
        )
        return Chunk(claim_id, send, skip)
    params = {
        "campaign_id": campaign_id,
        "lo": lo,
        "hi": hi,
        "now": now,
        "limit": limit,
        "owner": owner,
        "resend": resend,
        "issue_id": issue_id,
        "list_id": list_id,
        "lock": CLAIM_LOCK,
    }
    connection = session.connection()
    raw = connection.connection.driver_connection
    assert raw is not None
    try:
        with raw.cursor() as cur:
            if release is not None:
                cur.execute(RELEASE_SQL, {"id": release}, prepare=True)
            cur.execute(LOCK_SQL, params, prepare=True)
            cur.execute(CLAIM_AND_LOAD_SQL, params, prepare=True)
            rows = cur.fetchall()
    except connection.dialect.loaded_dbapi.Error as exc:
        raise as_sqlalchemy(connection, CLAIM_AND_LOAD_SQL, params, exc) from exc
    session.commit()
    if not rows:
        return Chunk(None)
    send, skip = _sorted_out([row[1:] for row in rows])
    return Chunk(rows[0][0], send, skip)


def _sorted_out(rows: Sequence[Sequence[Any]]) -> tuple[list[Claimed], list[tuple[int, str]]]:
    """(to send, to skip with the reason) from rows of (delivery id, attempts, subscriber id,
    email, name, subscriber status, subscription status, tracking opt-out, suppressed, already
    sent) — pure."""
    send: list[Claimed] = []
    skip: list[tuple[int, str]] = []
    for row in rows:
        did, attempts, sid, email, name, sstatus, substatus, opted_out = row[:8]
        is_suppressed, sent_before = row[8:]
        if sid is None or email is None:
            skip.append((did, "subscriber erased"))
        elif is_suppressed:
            skip.append((did, "address suppressed"))
        elif sstatus != SubscriberStatus.ACTIVE:
            skip.append((did, f"subscriber {sstatus}"))
        elif substatus != SubscriptionStatus.ACTIVE:
            skip.append((did, f"subscription {substatus or 'missing'}"))
        elif sent_before:
            skip.append((did, "already received this issue"))
        else:
            send.append(Claimed(did, sid, email, name or "", attempts, track=not opted_out))
    return send, skip


def load_recipients(
    session: Session, ids: Sequence[int], *, list_id: int, issue_id: int, resend: bool
) -> tuple[list[Claimed], list[tuple[int, str]]]:
    """The claimed rows still worth sending (attempts counting this one), and those to skip
    with the reason.

    Between the snapshot and now a subscriber may have unsubscribed, been suppressed, erased, or
    received this issue from another campaign: such rows are skipped, not sent.
    """
    other = aliased(Delivery)
    already_sent = exists().where(
        other.issue_id == issue_id,
        other.subscriber_id == Delivery.subscriber_id,
        other.status == DeliveryStatus.SENT,
        other.id != Delivery.id,
    )
    suppressed = exists().where(Suppression.email == Subscriber.email)
    rows = session.execute(
        select(
            Delivery.id,
            Delivery.attempts + 1,
            Subscriber.id,
            Subscriber.email,
            Subscriber.name,
            Subscriber.status,
            Subscription.status,
            Subscriber.tracking_opt_out,
            suppressed,
            already_sent if not resend else literal(False),
        )
        .select_from(Delivery)
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .outerjoin(
            Subscription,
            and_(Subscription.subscriber_id == Subscriber.id, Subscription.list_id == list_id),
        )
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.id)
    ).all()
    return _sorted_out(rows)


RELEASE_SQL = "DELETE FROM delivery_claim WHERE id = %(id)s"


def release(session: Session, claim_id: int) -> None:
    """End a claim: its chunk is done, or a pause, a cancel or the relay's refusals stopped it
    (its rows with no outcome are pending, never attempted, and due again). Commits."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":  # at driver level, as the claim (no compiling)
        raw = connection.connection.driver_connection
        assert raw is not None
        params = {"id": claim_id}
        try:
            with raw.cursor() as cur:
                cur.execute(RELEASE_SQL, params, prepare=True)
        except connection.dialect.loaded_dbapi.Error as exc:
            raise as_sqlalchemy(connection, RELEASE_SQL, params, exc) from exc
    else:
        session.execute(delete(DeliveryClaim).where(DeliveryClaim.id == claim_id))
    session.commit()


def recover_abandoned(
    session: Session,
    *,
    stale_after: float,
    campaign_id: int | None = None,
    lo: int | None = None,
    hi: int | None = None,
    now: datetime | None = None,
) -> dict[int, int]:
    """End the claims of owners that stopped recording outcomes (their worker died).

    An owner is alive while its claim is younger than `stale_after` seconds or it recorded an
    outcome in the claim's range within that time: it records every outcome as it goes, so only
    a dead (or hung) owner falls silent. The rows of an ended claim with no outcome are pending
    (or deferred) and due again. Commits. Returns the unfinished rows given back per campaign.
    """
    now = now or utcnow()
    cutoff = now - timedelta(seconds=stale_after)
    scope = [DeliveryClaim.claimed_at < cutoff]
    if campaign_id is not None:
        scope.append(DeliveryClaim.campaign_id == campaign_id)
    if lo is not None and hi is not None:
        scope.append(and_(DeliveryClaim.lo <= hi, DeliveryClaim.hi >= lo))
    claims = session.execute(
        select(
            DeliveryClaim.id,
            DeliveryClaim.campaign_id,
            DeliveryClaim.lo,
            DeliveryClaim.hi,
            DeliveryClaim.owner,
        ).where(*scope)
    ).all()
    recovered: dict[int, int] = {}
    for cid, claim_campaign, first, last, owner in claims:
        heard = session.scalar(
            select(func.max(Delivery.updated_at)).where(
                Delivery.campaign_id == claim_campaign,
                Delivery.id.between(first, last),
                Delivery.claimed_by == owner,
            )
        )
        if heard is not None and heard >= cutoff:
            continue
        left = _end_claim(session, cid, claim_campaign, first, last)
        if left is not None:  # None: another recovery ended it first
            recovered[claim_campaign] = recovered.get(claim_campaign, 0) + left
    session.commit()
    return recovered


def end_claims(session: Session, campaign_id: int, owned: Callable[[str], bool]) -> int:
    """End the campaign's claims whose owner `owned` picks (a process known to have stopped,
    mailer/sending/owners.py), without waiting for MAILER_STALE_AFTER: their rows with no outcome
    are due again. Commits. Returns how many unfinished rows were given back.

    Only for owners known to be gone: a live owner's rows would be sent twice."""
    claims = session.execute(
        select(DeliveryClaim.id, DeliveryClaim.lo, DeliveryClaim.hi, DeliveryClaim.owner).where(
            DeliveryClaim.campaign_id == campaign_id
        )
    ).all()
    given_back = 0
    for cid, first, last, owner in claims:
        if owned(owner):
            given_back += _end_claim(session, cid, campaign_id, first, last) or 0
    session.commit()
    return given_back


def skip_unclaimed(session: Session, campaign_id: int) -> int:
    """A cancelled campaign's pending and deferred rows marked skipped, but those under a claim
    of a live batch: it is sending them, and skips the rest itself once it sees the cancel (a
    row marked skipped here and sent by it afterwards would be a lie). Claims of processes of
    this machine that have stopped are ended first (owners.gone). The caller holds
    `lock_claims` and commits. Returns the rows skipped."""
    claims = session.execute(
        select(DeliveryClaim.id, DeliveryClaim.owner).where(
            DeliveryClaim.campaign_id == campaign_id
        )
    ).all()
    for cid, owner in claims:
        if owners.gone(owner):
            session.execute(delete(DeliveryClaim).where(DeliveryClaim.id == cid))
    return _skip_cancelled(session, campaign_id, true())


def _skip_cancelled(session: Session, campaign_id: int, rows: ColumnElement[bool]) -> int:
    """Skip the unfinished `rows` under no claim, if the campaign is cancelled (not committed)."""
    covered = exists().where(
        DeliveryClaim.campaign_id == Delivery.campaign_id,
        Delivery.id.between(DeliveryClaim.lo, DeliveryClaim.hi),
    )
    cancelled = exists().where(
        Campaign.id == campaign_id, Campaign.status == CampaignStatus.CANCELLED
    )
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.campaign_id == campaign_id,
            rows,
            Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.DEFERRED)),
            ~covered,
            cancelled,
        )
        .values(status=DeliveryStatus.SKIPPED, last_reply="campaign cancelled")
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


def _end_claim(
    session: Session, claim_id: int, campaign_id: int, first: int, last: int
) -> int | None:
    """Delete one claim (not committed): the unfinished rows (pending or deferred) of its range
    it gives back, or None when it was already gone (another recovery ended it first). A
    cancelled campaign's rows are skipped instead (its cancel left them to the claim's owner)."""
    if not rowcount(session.execute(delete(DeliveryClaim).where(DeliveryClaim.id == claim_id))):
        return None
    _skip_cancelled(session, campaign_id, Delivery.id.between(first, last))
    left = session.scalar(
        select(func.count()).where(
            Delivery.campaign_id == campaign_id,
            Delivery.id.between(first, last),
            Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.DEFERRED)),
        )
    )
    return int(left or 0)
