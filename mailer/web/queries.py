"""Read-side queries shared by the admin pages and the JSON API (one place, same answers)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.exc import CompileError
from sqlalchemy.orm import Session, selectinload

from mailer.content.models import Issue
from mailer.db import get_sessionmaker
from mailer.sending import campaigns
from mailer.sending.models import Campaign, CampaignCounts, Delivery, DeliveryStatus
from mailer.sending.schedule import not_started
from mailer.web import delivery_counts
from mailer.web.errors import stored_reason, user_message
from subscribers.errors import SubscribersError
from subscribers.models import MailingList, Segment, Subscriber, Subscription
from subscribers.search import PERSON_ONLY_STATUSES

MAX_PAGE = 200
# Counted exactly up to this many matches; beyond it a page says "more than 10,000" (or, where
# the planner's statistics are trustworthy, "about N").
COUNT_CAP = 10_000


def db() -> Iterator[Session]:
    """A FastAPI dependency: one session per request; handlers commit what they change."""
    factory = get_sessionmaker()
    with factory() as session:
        yield session


@dataclass(frozen=True)
class Total:
    """How many rows a list page has: exact, a lower bound (more than `n`) or an estimate."""

    n: int
    exact: bool = True
    estimate: bool = False  # PostgreSQL's planner estimate, shown as "about"

    def __str__(self) -> str:
        if self.exact:
            return f"{self.n:,}"
        if self.estimate:
            return f"about {self.n:,}"
        return f"more than {self.n:,}"

    @property
    def kind(self) -> str:
        """exact, about (an estimate) or more (a lower bound): for data-total-kind."""
        return "exact" if self.exact else "about" if self.estimate else "more"

    @property
    def one(self) -> bool:
        return self.exact and self.n == 1


def capped_count(session: Session, query: Select[Any], cap: int | None = None) -> Total:
    """The number of rows of `query`, read no further than `cap` + 1 rows: exact up to `cap`,
    "more than `cap`" beyond (where counting all of a million rows would take a second).
    `cap` defaults to COUNT_CAP."""
    cap = COUNT_CAP if cap is None else cap
    n = int(session.scalar(select(func.count()).select_from(query.limit(cap + 1).subquery())) or 0)
    return Total(n) if n <= cap else Total(cap, exact=False)


def planner_estimate(session: Session, query: Select[Any]) -> int | None:
    """PostgreSQL's estimate of how many rows `query` returns (EXPLAIN, nothing executed), or
    None on another database. Good for conditions its statistics cover (a list, a status); not
    for text searches, whose selectivity it guesses."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return None
    try:
        compiled = query.compile(bind, compile_kwargs={"literal_binds": True})
    except (CompileError, NotImplementedError):  # a value with no SQL literal form
        return None
    plan: Any = session.execute(text(f"EXPLAIN (FORMAT JSON) {compiled}")).scalar()
    return int(plan[0]["Plan"]["Plan Rows"]) if plan else None


def estimated_total(session: Session, query: Select[Any], cap: int | None = None) -> Total:
    """`capped_count`, with the planner's estimate ("about N", two significant digits) instead
    of "more than `cap`" when it is above the cap: for whole lists and status filters, whose
    row counts the table statistics know."""
    total = capped_count(session, query, cap)
    if total.exact:
        return total
    guess = planner_estimate(session, query)
    if guess is None or guess <= total.n:
        return total
    digits = max(len(str(guess)) - 2, 0)
    return Total(round(guess, -digits), exact=False, estimate=True)


@dataclass(frozen=True)
class SubscriberRow:
    id: int
    email: str
    name: str
    company: str
    language: str | None
    tags: list[str]
    status: str  # the person's status
    list_status: str | None  # the subscription's status on the list searched, if any

    @classmethod
    def of(cls, sub: Subscriber, list_status: Any = None) -> SubscriberRow:
        return cls(
            id=sub.id,
            email=sub.email or "",
            name=sub.name,
            company=sub.company,
            language=sub.language,
            tags=sub.tags,
            status=sub.status.value,
            list_status=list_status.value if list_status is not None else None,
        )


S = TypeVar("S", bound=Select)  # type: ignore[type-arg]


def keyset(query: S, column: Any, after: Any, limit: int) -> S:
    """One page of `query` by keyset: the rows whose `column` comes after `after` (None: the
    first page), in `column` order, at most `limit`.

    Unlike OFFSET, which reads and throws away every row before the page, this starts in the
    index of `column` where the last page ended: page 4,000 costs what page 1 does. `column`
    must be unique (or the last of a unique tuple) and indexed for that to hold.
    """
    if after is not None:
        query = query.where(column > after)
    return query.order_by(column).limit(limit)


def subscriber_query(
    list_id: int | None = None, q: str = "", status: str | None = None
) -> Select[Any]:
    """SELECT (Subscriber[, the subscription's status on the list]) of the people with an
    address by address, name or company text; on one list or everywhere.

    `status` filters on the subscription's status when a list is given (bounced and complained,
    which only a person has, on the person's), on the person's otherwise. The search text is
    matched literally (no LIKE wildcards), case-insensitively."""
    query = select(Subscriber).where(Subscriber.email.is_not(None))
    if list_id is not None:
        query = query.join(
            Subscription,
            (Subscription.subscriber_id == Subscriber.id) & (Subscription.list_id == list_id),
        ).add_columns(Subscription.status)
        if status in PERSON_ONLY_STATUSES:  # bounced, complained: the person's
            query = query.where(Subscriber.status == status)
        elif status:
            query = query.where(Subscription.status == status)
    elif status:
        query = query.where(Subscriber.status == status)
    text = q.strip().lower()
    if text:
        query = query.where(
            or_(
                func.lower(Subscriber.email).contains(text, autoescape=True),
                func.lower(Subscriber.name).contains(text, autoescape=True),
                func.lower(Subscriber.company).contains(text, autoescape=True),
            )
        )
    return query


def subscriber_total(query: Select[Any], session: Session, *, text: bool, exact: bool) -> Total:
    """The rows of a `subscriber_query`: exact when asked (a full count: about half a second at
    a million), else exact up to COUNT_CAP and beyond it the planner's "about N" for a list or
    status filter and "more than 10,000" for a text search (whose selectivity it guesses)."""
    ids = query.with_only_columns(Subscriber.id)
    if exact:
        return Total(int(session.scalar(select(func.count()).select_from(ids.subquery())) or 0))
    return capped_count(session, ids) if text else estimated_total(session, ids)


def subscriber_rows(rows: Any) -> list[SubscriberRow]:
    out = []
    for row in rows:
        sub = cast(Subscriber, row[0])
        list_status = cast(Any, row[1]) if len(row) > 1 else None
        out.append(SubscriberRow.of(sub, list_status))
    return out


def search_subscribers(
    session: Session,
    *,
    list_id: int | None = None,
    q: str = "",
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
    after: str | None = None,
    exact: bool = False,
) -> tuple[Total, list[SubscriberRow]]:
    """(how many match, one page) of `subscriber_query`, in address order: `after` (the last
    address of the previous page) starts the page there by keyset, at the same cost on any page;
    `offset` skips rows (and reads them). The total as `subscriber_total` gives it."""
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    query = subscriber_query(list_id, q, status)
    total = subscriber_total(query, session, text=bool(q.strip()), exact=exact)
    paged = keyset(query, Subscriber.email, after, limit)
    page = session.execute(
        paged.options(selectinload(Subscriber.tag_rows)).offset(offset or None)
    ).all()
    return total, subscriber_rows(page)


@dataclass
class CampaignSummary:
    id: int
    issue_slug: str
    issue_title: str
    list_slug: str
    segment: str | None
    expression: str | None
    status: str
    reason: str
    total: int
    counts: dict[str, int] = field(default_factory=dict)
    scheduled_at: datetime | None = None
    # Counted when the campaign was created (recounted when a scheduled one starts): what a
    # campaign that has not started yet will be sent to; `total` is what it snapshotted.
    recipients: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    created_at: datetime | None = None
    created_by: str = ""

    @property
    def not_started(self) -> bool:
        """Nothing snapshotted yet (planned, scheduled, or paused before its time)."""
        return not_started(self.status, self.total)

    @property
    def finished(self) -> int:
        return (
            self.counts.get("sent", 0)
            + self.counts.get("failed", 0)
            + self.counts.get("skipped", 0)
        )

    @property
    def skipped(self) -> int:
        """Deliveries a cancel left unsent: finished, yet neither sent nor failed."""
        return self.counts.get("skipped", 0)

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.status == "done" else 0
        return min(100, round(100 * self.finished / self.total))


def campaign_summary(session: Session, campaign_id: int) -> CampaignSummary:
    """One campaign with its issue, list, segment and delivery counts (fresh from the database)."""
    campaign = campaigns.get(session, campaign_id)
    session.refresh(campaign)
    return _summary(session, campaign)


def _summary(session: Session, campaign: Campaign) -> CampaignSummary:
    mlist = session.get(MailingList, campaign.list_id)
    segment = session.get(Segment, campaign.segment_id) if campaign.segment_id else None
    return CampaignSummary(
        id=campaign.id,
        issue_slug=campaign.issue.slug,
        issue_title=campaign.issue.title,
        list_slug=mlist.slug if mlist else "",
        segment=segment.slug if segment else None,
        expression=campaign.expression,
        status=campaign.status.value,
        reason=stored_reason(campaign.status_reason),
        total=campaign.total,
        counts=delivery_counts.counts(session, campaign),
        scheduled_at=campaign.scheduled_at,
        recipients=campaign.recipients,
        started_at=campaign.started_at,
        finished_at=campaign.finished_at,
        created_at=campaign.created_at,
        created_by=campaign.created_by,
    )


def summaries(session: Session, rows: Sequence[Campaign]) -> list[CampaignSummary]:
    """Summaries of many campaigns in a fixed number of statements, however many there are.

    `_summary` alone looks up each campaign's list, segment and kept counts by key: one query
    each per campaign, because the session forgets an object nobody holds (its identity map is
    weak), so even the same list was fetched again for every row. Loading them all first and
    holding them here lets those lookups find them in the session."""
    ids = [c.id for c in rows]
    if not ids:
        return []
    held: list[object] = [
        *session.scalars(select(MailingList).where(MailingList.id.in_({c.list_id for c in rows}))),
        *session.scalars(
            select(Segment).where(Segment.id.in_({c.segment_id for c in rows if c.segment_id}))
        ),
        *session.scalars(select(CampaignCounts).where(CampaignCounts.campaign_id.in_(ids))),
    ]
    out = [_summary(session, c) for c in rows]
    del held
    return out


def recent_campaigns(
    session: Session, limit: int = 20, before: int | None = None
) -> list[CampaignSummary]:
    """The newest `limit` campaigns, or those older than campaign `before` (a page's last id):
    every campaign ever made is reachable a page at a time."""
    query = select(Campaign).options(selectinload(Campaign.issue))
    if before is not None:
        query = query.where(Campaign.id < before)
    rows = session.scalars(query.order_by(Campaign.id.desc()).limit(limit)).all()
    return summaries(session, rows)


def using_segments(session: Session, segment_ids: Iterable[int]) -> dict[int, list[int]]:
    """`campaigns.using_segment` for every segment a page lists, in one query (the segments
    page asked once per segment): each id maps to its campaigns' ids, oldest first."""
    out: dict[int, list[int]] = {i: [] for i in segment_ids}
    if out:
        rows = session.execute(
            select(Campaign.segment_id, Campaign.id)
            .where(Campaign.segment_id.in_(list(out)))
            .order_by(Campaign.id)
        )
        for segment_id, campaign_id in rows:
            if segment_id is not None:
                out[segment_id].append(campaign_id)
    return out


def recent_issues(session: Session, limit: int = 100) -> list[Issue]:
    return list(
        session.scalars(
            select(Issue)
            .options(selectinload(Issue.partner), selectinload(Issue.items))
            .order_by(Issue.issue_date.desc(), Issue.id.desc())
            .limit(limit)
        )
    )


def segment_rows(session: Session, list_id: int) -> list[tuple[Segment, int | None, str]]:
    """Each saved segment of a list with its current count (or the error that prevents one)."""
    from subscribers import segments

    out: list[tuple[Segment, int | None, str]] = []
    for seg in segments.list_segments(session, list_id):
        try:
            out.append((seg, segments.count(session, list_id, seg.expression), ""))
        except SubscribersError as exc:  # shown beside the segment
            out.append((seg, None, user_message(exc)))
    return out


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    email: str | None  # None once the subscriber was erased
    status: str
    attempts: int
    last_reply: str | None
    sent_at: datetime | None


def campaign_deliveries(
    session: Session,
    campaign_id: int,
    *,
    status: str | None = None,
    after: int | None = None,
    limit: int = 100,
) -> list[DeliveryRow]:
    """One page of a campaign's deliveries in id order, after the delivery id `after` (keyset:
    the primary key's index is entered where the last page ended). Raises NotFound."""
    campaigns.get(session, campaign_id)
    query = (
        select(
            Delivery.id,
            Subscriber.email,
            Delivery.status,
            Delivery.attempts,
            Delivery.last_reply,
            Delivery.sent_at,
        )
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.campaign_id == campaign_id)
    )
    if status:
        query = query.where(Delivery.status == status)
    rows = session.execute(keyset(query, Delivery.id, after, max(1, min(limit, MAX_PAGE))))
    return [
        DeliveryRow(did, email, DeliveryStatus(st).value, attempts, reply, sent_at)
        for did, email, st, attempts, reply, sent_at in rows
    ]
