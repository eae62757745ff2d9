"""/api/v1 engagement: a campaign's figures and clicks per item, a subscriber's history
(mailer/engagement/reports.py, the same read models as `mailer report` and the admin pages)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import select

from mailer.engagement import reports
from mailer.sending import campaigns
from mailer.web.api.routing import DB, CampaignId, Email, api_router, check_text
from subscribers.addresses import parse_address
from subscribers.errors import NotFound as SubscribersNotFound
from subscribers.models import Subscriber

router = api_router()


class LinkClicksOut(BaseModel):
    index: int = Field(description="the link's number in the issue's link table")
    kind: str = Field(description="item, archive, pdf, more or other")
    item: int | None = Field(description="the item's number (1-based) for kind item")
    title: str
    url: str
    clickers: int = Field(description="readers who followed it (once each)")
    machine_hits: int = Field(description="link scanners and HEAD requests, not counted")


class EngagementOut(BaseModel):
    campaign_id: int
    sent: int = Field(description="messages the relay accepted")
    delivered: int = Field(description="sent messages no bounce (hard or soft) came back for")
    unique_clickers: int
    click_rate: float = Field(description="unique clickers / delivered, 0–1")
    opens: int | None = Field(
        description="opens (approximate: mail clients prefetch images); null when not tracked"
    )
    inquiries: int = Field(description="replies to the partner")
    unsubscribes: int
    complaints: int
    bounces_hard: int
    bounces_soft: int
    machine_hits: int
    links: list[LinkClicksOut]


class ReceivedOut(BaseModel):
    campaign_id: int
    issue_slug: str
    issue_title: str
    sent_at: datetime | None
    clicked: list[str] = Field(description="the links they followed")
    inquiries: int


@router.get(
    "/campaigns/{campaign_id}/engagement",
    response_model=EngagementOut,
    summary="Clicks, replies, unsubscribes",
)
def engagement(campaign_id: CampaignId, session: DB) -> EngagementOut:
    campaigns.get(session, campaign_id)
    return EngagementOut(**reports.campaign_engagement(session, campaign_id).to_dict())


@router.get(
    "/subscribers/{email}/history",
    response_model=list[ReceivedOut],
    summary="Campaigns received, items clicked, inquiries",
)
def history(email: Email, session: DB) -> list[ReceivedOut]:
    check_text(email, "email")
    canonical = parse_address(email, allow_smtputf8=True).email
    subscriber_id = session.scalar(select(Subscriber.id).where(Subscriber.email == canonical))
    if subscriber_id is None:
        raise SubscribersNotFound(f"no subscriber with address {canonical}")
    return [ReceivedOut(**vars(h)) for h in reports.subscriber_history(session, subscriber_id)]
