"""What each campaign's readers did, and what each reader did across campaigns (read models).

Counts only what a person did: clicks judged human (engagement/clicks.py), one per (delivery,
link). Shared by `mailer report`, `mailer subscribers show`, the API and the admin pages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from mailer.content.models import Issue
from mailer.engagement.models import Click, Open
from mailer.inbound import bounces, inquiries
from mailer.inbound.complaints import complaint_counts
from mailer.inbound.models import DELAYED, BounceEvent, Inquiry
from mailer.rendering.links import Link
from mailer.sending.models import (
    Campaign,
    CampaignRender,
    Delivery,
    DeliveryStatus,
)
from mailer.sending.schedule import not_started
from subscribers.models import Subscription, SubscriptionStatus

OPENS_CAVEAT = "opens (approximate: mail clients prefetch images)"


def unsubscribed_after(subscriber_id: Any, sent_at: Any, list_id: Any) -> ColumnElement[bool]:
    """Over a query joined to the person's Subscription to the list: they unsubscribed after the
    message sent at `sent_at`, and it was the last message of the list they got before that.
    An unsubscribe is counted against one campaign, the one it followed, not against every
    campaign the person ever received (which made the churn of a list add up to many times the
    people who left)."""
    later, other = aliased(Delivery), aliased(Campaign)  # never correlated to the outer query
    of_the_list = select(other.id).where(other.list_id == list_id)
    return and_(
        Subscription.status == SubscriptionStatus.UNSUBSCRIBED,
        Subscription.unsubscribed_at >= sent_at,
        ~exists().where(
            later.subscriber_id == subscriber_id,
            later.status == DeliveryStatus.SENT,
            later.sent_at > sent_at,
            later.sent_at <= Subscription.unsubscribed_at,
            later.campaign_id.in_(of_the_list.scalar_subquery()),
        ),
    )


@dataclass(frozen=True)
class LinkClicks:
    """One link of the issue and the readers who followed it."""

    index: int
    kind: str
    item: int | None
    label: str
    url: str
    clickers: int  # distinct deliveries with a human click
    machine_hits: int  # HEADs and scanner bursts, recorded apart

    @property
    def title(self) -> str:
        if self.kind == "item" and self.item is not None:
            return f"Item {self.item}: {self.label}"
        return self.label or self.kind


@dataclass(frozen=True)
class CampaignEngagement:
    campaign_id: int
    sent: int  # messages the relay accepted
    delivered: int  # of those, the ones no bounce came back for (`delivered_of`)
    unique_clickers: int
    opens: int | None  # None: the open pixel was not in this campaign's messages
    inquiries: int
    unsubscribes: int  # recipients who unsubscribed from the list after this message
    complaints: int  # recipients whose provider reported a complaint (ARF) about this campaign
    bounces_hard: int
    bounces_soft: int
    machine_hits: int
    links: list[LinkClicks] = field(default_factory=list)
    # False: the campaign was never rendered (scheduled, or cancelled before it started), so no
    # links are empty because nothing was sent, not because tracking was off.
    rendered: bool = True

    @property
    def click_rate(self) -> float:
        """Unique clickers per delivered message (0.0–1.0)."""
        return self.unique_clickers / self.delivered if self.delivered else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["click_rate"] = round(self.click_rate, 4)
        for row, link in zip(out["links"], self.links, strict=True):
            row["title"] = link.title
        return out


def no_links_reason(session: Session, e: CampaignEngagement) -> str:
    """Why a campaign's report has no links: it never started (nothing was rendered, so nothing
    could be tracked, whatever MAILER_TRACK_CLICKS says), or its links were not tracked."""
    if e.rendered:
        return "not tracked for this campaign"
    campaign = session.get(Campaign, e.campaign_id)
    if campaign is not None and not_started(campaign.status, campaign.total):
        return "none yet: the campaign has not started (nothing rendered or sent yet)"
    return (
        "none: the campaign never started (no message was rendered or sent, so nothing was tracked)"
    )


def link_table(session: Session, campaign_id: int) -> list[Link]:
    """The issue's links as stored with the campaign's rendering (empty: not tracked)."""
    rows = session.scalar(
        select(CampaignRender.links).where(CampaignRender.campaign_id == campaign_id)
    )
    return [Link.from_dict(d) for d in rows or ()]


def _sent(campaign_id: int) -> Any:
    return and_(Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.SENT)


def delivered_of(session: Session, campaign_id: int, sent: int) -> int:
    """Of a campaign's `sent` messages, those delivered: sent, and no bounce (hard or soft; a
    delay warning is none) came back for them. A relay's 250 is not delivery: a hard bounce an
    hour later means the reader never got it, and the report said "delivered" all the same.
    Counted as Mailchimp and listmonk count it, one message per bounced delivery however many
    reports came back for it. Reads the campaign's bounce events only (index on campaign_id)."""
    bounced = session.scalar(
        select(func.count(func.distinct(BounceEvent.delivery_id))).where(
            BounceEvent.campaign_id == campaign_id,
            BounceEvent.action != DELAYED,
            BounceEvent.delivery_id.is_not(None),
            exists().where(Delivery.id == BounceEvent.delivery_id, _sent(campaign_id)),
        )
    )
    return max(0, sent - (bounced or 0))


def campaign_engagement(
    session: Session, campaign_id: int, sent: int | None = None
) -> CampaignEngagement:
    """Sent, delivered, unique clickers, clicks per link, inquiries, unsubscribes, complaints,
    bounces.

    `sent` (messages the relay accepted) when the caller has counted it already: counting it
    again reads every sent delivery of the campaign (a million at a million subscribers)."""
    if sent is None:
        sent = session.scalar(select(func.count()).where(_sent(campaign_id))) or 0
    delivered = delivered_of(session, campaign_id, sent)
    human = and_(Click.campaign_id == campaign_id, Click.human_at.is_not(None))
    unique = session.scalar(select(func.count(func.distinct(Click.delivery_id))).where(human)) or 0
    per_link = dict(
        session.execute(
            select(Click.link_index, func.count(func.distinct(Click.delivery_id)))
            .where(human)
            .group_by(Click.link_index)
        ).all()
    )
    machine = dict(
        session.execute(
            select(Click.link_index, func.sum(Click.machine_hits))
            .where(Click.campaign_id == campaign_id)
            .group_by(Click.link_index)
        ).all()
    )
    links = [
        LinkClicks(
            index=n,
            kind=link.kind,
            item=link.item,
            label=link.label,
            url=link.url,
            clickers=int(per_link.get(n, 0)),
            machine_hits=int(machine.get(n) or 0),
        )
        for n, link in enumerate(link_table(session, campaign_id))
    ]
    campaign = session.get(Campaign, campaign_id)
    list_id = campaign.list_id if campaign is not None else -1
    unsubscribes = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .join(
            Subscription,
            and_(
                Subscription.subscriber_id == Delivery.subscriber_id,
                Subscription.list_id == list_id,
            ),
        )
        .where(
            _sent(campaign_id),
            unsubscribed_after(Delivery.subscriber_id, Delivery.sent_at, list_id),
        )
    )
    complaints = complaint_counts(session, campaign_id, delivered).complaints
    opens = None
    if session.scalar(select(func.count()).where(Open.campaign_id == campaign_id)):
        opens = session.scalar(select(func.count()).where(Open.campaign_id == campaign_id))
    b = bounces.counts_for_campaign(session, campaign_id)
    return CampaignEngagement(
        campaign_id=campaign_id,
        sent=sent,
        delivered=delivered,
        unique_clickers=unique,
        opens=opens,
        inquiries=inquiries.counts_for_campaign(session, campaign_id)["total"],
        unsubscribes=unsubscribes or 0,
        complaints=complaints or 0,
        bounces_hard=b["hard"],
        bounces_soft=b["soft"],
        machine_hits=sum(link.machine_hits for link in links),
        links=links,
        rendered=bool(
            session.scalar(select(exists().where(CampaignRender.campaign_id == campaign_id)))
        ),
    )


def clicks_over_time(session: Session, campaign_id: int) -> list[datetime]:
    """When each (delivery, link) was first clicked by a person, oldest first."""
    return [
        at
        for at in session.scalars(
            select(Click.human_at)
            .where(Click.campaign_id == campaign_id, Click.human_at.is_not(None))
            .order_by(Click.human_at)
        )
        if at is not None
    ]


@dataclass(frozen=True)
class Received:
    """One campaign a subscriber received, and what they did with it."""

    campaign_id: int
    issue_slug: str
    issue_title: str
    sent_at: datetime | None
    clicked: list[str]  # titles of the links they followed
    inquiries: int

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["sent_at"] = self.sent_at.isoformat() if self.sent_at else None
        return out


def subscriber_history(session: Session, subscriber_id: int) -> list[Received]:
    """Every campaign the subscriber received, newest first, with the items they clicked."""
    rows = session.execute(
        select(Delivery.id, Delivery.campaign_id, Delivery.sent_at, Issue.slug, Issue.title)
        .join(Issue, Issue.id == Delivery.issue_id)
        .where(Delivery.subscriber_id == subscriber_id, Delivery.status == DeliveryStatus.SENT)
        .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
    ).all()
    out = []
    for delivery_id, campaign_id, sent_at, slug, title in rows:
        table = link_table(session, campaign_id)
        indices = session.scalars(
            select(Click.link_index)
            .where(Click.delivery_id == delivery_id, Click.human_at.is_not(None))
            .order_by(Click.human_at)
        ).all()
        clicked = [
            LinkClicks(n, table[n].kind, table[n].item, table[n].label, table[n].url, 1, 0).title
            for n in indices
            if n < len(table)
        ]
        asked = session.scalar(
            select(func.count()).where(
                Inquiry.subscriber_id == subscriber_id, Inquiry.campaign_id == campaign_id
            )
        )
        out.append(Received(campaign_id, slug, title, sent_at, clicked, asked or 0))
    return out


def subscriber_clicks(session: Session, subscriber_id: int) -> list[dict[str, Any]]:
    """Every recorded hit on the subscriber's links, for the GDPR export (human or not)."""
    rows = session.execute(
        select(Click, Delivery.issue_id)
        .join(Delivery, Delivery.id == Click.delivery_id)
        .where(Click.subscriber_id == subscriber_id)
        .order_by(Click.first_at)
    ).all()
    out = []
    for click, _issue in rows:
        table = link_table(session, click.campaign_id)
        url = table[click.link_index].url if click.link_index < len(table) else ""
        out.append(
            {
                "campaign": click.campaign_id,
                "url": url,
                "first_at": click.first_at.isoformat(),
                "clicked_at": click.human_at.isoformat() if click.human_at else None,
                "clicks": click.human_hits,
                "automated_fetches": click.machine_hits,
            }
        )
    for opened in session.scalars(select(Open).where(Open.subscriber_id == subscriber_id)):
        out.append(
            {
                "campaign": opened.campaign_id,
                "opened_at": opened.first_at.isoformat(),
                "image_fetches": opened.hits,
            }
        )
    return out
