"""What a campaign caused, for its admin page: timing (elapsed, rate, ETA), outcomes (sent,
deferred, failed grouped by the relay's reply), and what came back (hard and soft bounces,
complaints, unsubscribes, inquiries), each with the list of people behind the number; and the
chart of messages sent over time (server-rendered SVG by pygal, no JavaScript, nothing fetched).

Attribution: bounces and inquiries carry the campaign id, and complaints (ARF feedback reports)
the delivery, which inbound mail finds from the VERP address or the report's copy of our message.
Unsubscribes do not, so a recipient counts when their subscription to the campaign's list was
unsubscribed after this campaign's message to them was sent.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pygal
from sqlalchemy import Integer, Select, and_, cast, func, select
from sqlalchemy.orm import Session

from mailer.db import utcnow
from mailer.engagement.reports import unsubscribed_after
from mailer.inbound.complaints import counted_complaint
from mailer.inbound.models import (
    DELAYED,
    BounceEvent,
    BounceKind,
    InboundMessage,
    Inquiry,
)
from mailer.sending import campaigns
from mailer.sending.models import Campaign, Delivery, DeliveryStatus
from mailer.sending.progress import last_sent, rate, sending_seconds
from mailer.web import delivery_counts, keyset
from mailer.web.admin.charts import CHART_STYLE
from mailer.web.queries import Total, capped_count
from subscribers.errors import NotFound
from subscribers.models import (
    Subscriber,
    Subscription,
)

# The lists of people a number links to, by the name in the URL, with their heading.
PEOPLE = {
    "sent": "Sent",
    "deferred": "Deferred (will be retried)",
    "failed": "Failed",
    "bounced-hard": "Hard bounces",
    "bounced-soft": "Soft bounces",
    "complaints": "Complaints",
    "unsubscribed": "Unsubscribed after this campaign",
    "inquiries": "Wrote back (inquiries)",
}


@dataclass
class Timing:
    elapsed: timedelta | None
    rate: float  # messages sent per second since the start
    eta: timedelta | None  # None: finished, not started, or nothing sent yet to judge by

    @property
    def per_minute(self) -> float:
        return self.rate * 60


@dataclass
class CampaignReport:
    timing: Timing
    counts: dict[str, int]
    failures: list[tuple[str, int]]  # (reply, how many), most frequent first
    deferrals: list[tuple[str, int]]
    caused: dict[str, Total] = field(default_factory=dict)  # bounced-hard … inquiries


def timing(
    campaign: Campaign,
    counts: dict[str, int],
    now: datetime | None = None,
    last_sent_at: datetime | None = None,
) -> Timing:
    """Elapsed time, send rate and the time left at that rate (pure; `last_sent_at`: see
    `progress.sending_seconds`)."""
    sending = sending_seconds(
        campaign.started_at,
        campaign.finished_at,
        campaign.paused_seconds or 0.0,  # None on a Campaign not yet flushed
        campaign.paused_at,
        now or utcnow(),
        last_sent_at=last_sent_at,
    )
    if sending is None:
        return Timing(None, 0.0, None)
    elapsed = timedelta(seconds=sending)
    per_second = rate(counts.get("sent", 0), sending)
    left = counts.get("pending", 0) + counts.get("sending", 0) + counts.get("deferred", 0)
    eta = timedelta(seconds=round(left / per_second)) if per_second > 0 and left else None
    if campaign.finished_at is not None:
        eta = None
    return Timing(elapsed, per_second, eta)


def _grouped(session: Session, campaign_id: int, status: DeliveryStatus) -> list[tuple[str, int]]:
    rows = session.execute(
        select(Delivery.last_reply, func.count())
        .where(Delivery.campaign_id == campaign_id, Delivery.status == status)
        .group_by(Delivery.last_reply)
        .order_by(func.count().desc())
        .limit(20)
    )
    return [(reply or "(no reply)", int(n)) for reply, n in rows]


def report(session: Session, campaign_id: int, counts: dict[str, int]) -> CampaignReport:
    """The page's figures; `counts` are the campaign's deliveries by status (the summary's:
    counted once per view). What came back is counted up to 10,000 of each kind."""
    campaign = campaigns.get(session, campaign_id)
    caused = {
        kind: capped_count(session, people_query(campaign_id, kind))
        for kind in PEOPLE
        if kind not in ("sent", "deferred", "failed")
    }
    return CampaignReport(
        timing=timing(campaign, counts, last_sent_at=last_sent(session, campaign_id)),
        counts=counts,
        failures=_grouped(session, campaign_id, DeliveryStatus.FAILED),
        deferrals=_grouped(session, campaign_id, DeliveryStatus.DEFERRED),
        caused=caused,
    )


def _count(session: Session, query: Select[Any, Any, Any, Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def people_query(campaign_id: int, kind: str) -> Select[Any, Any, Any, Any]:
    """(subscriber id, address, when, detail) of the people behind one number; NotFound for an
    unknown kind. Erased people have left no address and are not listed."""
    base = (Subscriber.id, Subscriber.email)
    mine = Delivery.campaign_id == campaign_id
    if kind in ("sent", "deferred", "failed"):
        return (
            select(*base, func.coalesce(Delivery.sent_at, Delivery.updated_at), Delivery.last_reply)
            .join(Delivery, Delivery.subscriber_id == Subscriber.id)
            .where(mine, Delivery.status == DeliveryStatus(kind))
        )
    if kind in ("bounced-hard", "bounced-soft"):
        bounce = BounceKind.HARD if kind == "bounced-hard" else BounceKind.SOFT
        return (
            select(*base, BounceEvent.created_at, BounceEvent.diagnostic)
            .join(BounceEvent, BounceEvent.subscriber_id == Subscriber.id)
            .where(
                BounceEvent.campaign_id == campaign_id,
                BounceEvent.kind == bounce,
                BounceEvent.action != DELAYED,  # a warning, not a bounce (inbound/bounces.py)
            )
        )
    if kind == "inquiries":
        return (
            select(*base, Inquiry.created_at, Inquiry.subject)
            .join(Inquiry, Inquiry.subscriber_id == Subscriber.id)
            .where(Inquiry.campaign_id == campaign_id)
        )
    sent = (
        select(Delivery.subscriber_id, Delivery.sent_at)
        .where(mine, Delivery.status == DeliveryStatus.SENT)
        .subquery()
    )
    if kind == "unsubscribed":
        return (
            select(*base, Subscription.unsubscribed_at, Subscription.unsubscribe_reason)
            .join(sent, sent.c.subscriber_id == Subscriber.id)
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .join(Campaign, Campaign.id == campaign_id)
            .where(
                Subscription.list_id == Campaign.list_id,
                unsubscribed_after(sent.c.subscriber_id, sent.c.sent_at, Campaign.list_id),
            )
        )
    if kind == "complaints":
        return (
            select(*base, InboundMessage.received_at, InboundMessage.outcome)
            .join(InboundMessage, InboundMessage.subscriber_id == Subscriber.id)
            .join(Delivery, Delivery.id == InboundMessage.delivery_id)
            .where(mine, counted_complaint())
        )
    raise NotFound(f"no list of people called {kind!r}: use one of {', '.join(PEOPLE)}")


def people(
    session: Session,
    campaign_id: int,
    kind: str,
    position: keyset.Position,
    *,
    limit: int = 100,
) -> keyset.Page[Any]:
    """One page of the people behind one number, in address order by keyset (the subscriber
    address index is entered where the last page ended; `position` from the page's URL)."""
    return keyset.page(
        session,
        people_query(campaign_id, kind),
        [Subscriber.email, Subscriber.id],
        position,
        limit=limit,
        key_of=lambda row: (row[1], row[0]),
    )


def people_total(session: Session, campaign_id: int, kind: str, counts: dict[str, int]) -> Total:
    """How many people a list has: for sent, deferred and failed the campaign's own counts by
    status (no second count of its deliveries); for the others (a few bounces, complaints…)
    a count capped at 10,000."""
    if kind in ("sent", "deferred", "failed"):
        return Total(counts.get(kind, 0))
    return capped_count(session, people_query(campaign_id, kind))


def _epoch(session: Session, column: Any) -> Any:
    """Seconds since 1970 of a timestamp column, in SQL (PostgreSQL or SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", column)
    return (func.julianday(column) - 2440587.5) * 86400.0


def sent_over_time(
    session: Session, campaign_id: int, points: int = 60
) -> list[tuple[datetime, int]]:
    """Cumulative messages sent, sampled at `points` moments evenly from the first send to the
    last: the number at each moment counts the messages sent before it (the last, all of them).

    Two aggregate queries (the first and last send, then the sends per interval) instead of
    reading every send time into Python: 600,000 timestamps at a million recipients took
    seconds to load and sort."""
    sent = and_(
        Delivery.campaign_id == campaign_id,
        Delivery.status == DeliveryStatus.SENT,
        Delivery.sent_at.is_not(None),
    )
    first, last, n = session.execute(
        select(func.min(Delivery.sent_at), func.max(Delivery.sent_at), func.count()).where(sent)
    ).one()
    if not n or first is None or last is None:
        return []
    intervals = max(points - 1, 1)
    step = max((last - first) / intervals, timedelta(milliseconds=1))
    offset = (_epoch(session, Delivery.sent_at) - first.timestamp()) / step.total_seconds()
    # The interval's number, rounded down (PostgreSQL's CAST would round to nearest).
    postgres = session.get_bind().dialect.name == "postgresql"
    bucket = func.floor(offset) if postgres else cast(offset, Integer)
    per_interval = {
        int(b): int(count)
        for b, count in session.execute(
            select(bucket, func.count()).where(sent).group_by(bucket)
        ).all()
    }
    out: list[tuple[datetime, int]] = []
    done = 0
    for k in range(intervals + 1):
        moment = last if k == intervals else min(first + step * k, last)
        out.append((moment, n if moment >= last else done))
        if moment >= last:
            break
        done += per_interval.get(k, 0)
    return out


# Charts drawn lately, per web process: {campaign id: (monotonic time, finished_at, SVG)}.
_charts: dict[int, tuple[float, datetime | None, str]] = {}
_charts_lock = threading.Lock()
CHART_FRESH_FOR = 30.0  # seconds, for a large campaign still sending
CHARTS_KEPT = 64


def sent_chart_svg(session: Session, campaign_id: int) -> str:
    """The chart as a standalone SVG document (no script reference, no external resource).

    The page redraws it each time its progress poll sees more messages sent, and at a million
    recipients drawing it reads 600,000 rows (about 2 s here). So a finished campaign's chart is
    drawn once per finish and kept (in this process, the last CHARTS_KEPT), and a sending
    campaign of delivery_counts.CACHED_FROM or more is redrawn at most every CHART_FRESH_FOR
    seconds; smaller ones are drawn on every request."""
    campaign = campaigns.get(session, campaign_id)
    final = campaign.status in delivery_counts.FINAL and campaign.finished_at is not None
    now = time.monotonic()
    with _charts_lock:
        kept = _charts.get(campaign_id)
    if kept is not None and (
        (final and kept[1] == campaign.finished_at)
        or (not final and kept[1] is None and now - kept[0] < CHART_FRESH_FOR)
    ):
        return kept[2]
    svg = _draw_sent_chart(session, campaign_id)
    if final or campaign.total >= delivery_counts.CACHED_FROM:
        with _charts_lock:
            _charts[campaign_id] = (now, campaign.finished_at if final else None, svg)
            while len(_charts) > CHARTS_KEPT:
                _charts.pop(next(iter(_charts)))
    return svg


def _draw_sent_chart(session: Session, campaign_id: int) -> str:
    series = sent_over_time(session, campaign_id)
    chart = pygal.DateTimeLine(
        style=CHART_STYLE,  # one look for every admin chart
        js=[],  # pygal's default is a tooltip script from a CDN
        width=900,
        height=320,
        show_legend=False,
        show_dots=len(series) <= 2,
        fill=True,
        title="Messages sent",
        x_value_formatter=lambda d: d.astimezone().strftime("%H:%M:%S"),
        x_label_rotation=0,
        truncate_label=-1,
        no_data_text="Nothing sent yet",
    )
    chart.add("sent", [(t, n) for t, n in series])
    return str(chart.render(is_unicode=True))
