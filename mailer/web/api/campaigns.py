"""/api/v1/campaigns: create and start a campaign, its status, and pause, resume, cancel and
retry-failed (through mailer/sending/dispatch.py, as the CLI and the admin pages do)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field, StrictBool
from sqlalchemy.orm import Session

from mailer.content.issues import get_issue
from mailer.sending import campaigns, dispatch
from mailer.sending.models import DeliveryStatus
from mailer.sending.schedule import in_zone
from mailer.settings import get_settings
from mailer.web import queries
from mailer.web.api.routing import DB, CampaignId, Client, api_router, check_text, needs

router = api_router()


class CampaignIn(BaseModel):
    issue: str = Field(min_length=1, max_length=120, description="the issue's slug")
    list: str = Field(min_length=1, max_length=64, description="the list's slug")
    segment: str | None = Field(default=None, max_length=64, description="a saved segment")
    where: str | None = Field(default=None, max_length=2000, description="or an expression")
    at: datetime | None = Field(
        default=None,
        description="schedule (ISO 8601; no offset = in MAILER_TIMEZONE); must be in the future",
    )
    # JSON true or false only: pydantic would read "yes", "off", 1 as a boolean, and a typo
    # must not resend an issue to everyone.
    force_resend: StrictBool = Field(default=False, description="include who already received it")


class CampaignOut(BaseModel):
    id: int
    issue: str
    list: str
    segment: str | None
    expression: str | None
    status: str
    reason: str
    total: int = Field(
        description="recipients snapshotted so far (all of them once the status no longer says "
        "the snapshot is running)"
    )
    counts: dict[str, int] = Field(description="deliveries by status")
    recipients: int = Field(
        description="the audience counted when the campaign was created (again when a scheduled "
        "one starts): whom a campaign not started yet will reach, while its `total` is 0"
    )
    not_started: bool = Field(
        description="nothing snapshotted yet (planned, scheduled, or paused before its time)"
    )
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime | None


class CampaignCreated(CampaignOut):
    already_received: int
    also_under_way: list[int] = Field(
        default_factory=list,
        description="other campaigns of this issue to this list not finished yet (planned, "
        "scheduled, sending or paused): a second one is often a double submit",
    )


def _campaign_out(summary: queries.CampaignSummary) -> CampaignOut:
    """A campaign's summary as the API shows it."""
    return CampaignOut(
        id=summary.id,
        issue=summary.issue_slug,
        list=summary.list_slug,
        segment=summary.segment,
        expression=summary.expression,
        status=summary.status,
        reason=summary.reason,
        total=summary.total,
        counts=summary.counts,
        recipients=summary.recipients,
        not_started=summary.not_started,
        scheduled_at=summary.scheduled_at,
        started_at=summary.started_at,
        finished_at=summary.finished_at,
        created_at=summary.created_at,
    )


def _current(session: Session, campaign_id: int) -> CampaignOut:
    """The campaign as it stands now: what every endpoint that changes or reads one answers."""
    return _campaign_out(queries.campaign_summary(session, campaign_id))


@router.get("/campaigns", response_model=list[CampaignOut], summary="Recent campaigns")
def campaign_list(
    session: DB,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
    before: Annotated[
        int | None,
        Query(ge=1, le=2**31 - 1, description="the last id of the previous page: older ones"),
    ] = None,
) -> list[CampaignOut]:
    """Newest first, `limit` at a time; pass the last id as `before` for the next page."""
    return [_campaign_out(s) for s in queries.recent_campaigns(session, limit, before)]


@router.post(
    "/campaigns",
    response_model=CampaignCreated,
    status_code=201,
    summary="Send an issue to a list (and segment) now or at a time — like `mailer send --yes`",
    **needs("send"),
)
def create_campaign(body: CampaignIn, session: DB, client: Client) -> CampaignCreated:
    for value, field in ((body.where, "where"), (body.segment, "segment")):
        if value is not None:
            check_text(value, field)
    issue_row = get_issue(session, check_text(body.issue, "issue"))
    audience = campaigns.resolve_audience(
        session,
        issue_row,
        check_text(body.list, "list"),
        segment=body.segment or None,
        where=(body.where or "").strip() or None,
        force_resend=body.force_resend,
    )
    settings = get_settings()
    when = in_zone(body.at, settings.zone()) if body.at is not None else None
    cleared = campaigns.check(audience, when, settings)  # settings, nobody, a past time
    campaign = campaigns.create(
        session,
        issue_row,
        cleared,
        force_resend=body.force_resend,
        created_by=f"api: {client.name}",
    )
    campaign_id = campaign.id
    session.commit()  # only now may a worker see it
    if when is None:
        dispatch.start(campaign_id)
    return CampaignCreated(
        **{**_current(session, campaign_id).model_dump(), "recipients": audience.recipients},
        already_received=audience.already_received,
        also_under_way=list(audience.under_way),
    )


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut, summary="Campaign status")
def campaign_status(campaign_id: CampaignId, session: DB) -> CampaignOut:
    return _current(session, campaign_id)


class DeliveryOut(BaseModel):
    id: int
    email: str | None = Field(description="null once the subscriber was erased")
    status: str
    attempts: int
    last_reply: str | None = Field(description="the relay's last answer")
    sent_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_after: int | None = Field(
        description="pass as `after` for the next page (null on the last page)"
    )


@router.get(
    "/campaigns/{campaign_id}/deliveries",
    response_model=DeliveryPage,
    summary="A campaign's deliveries, a page at a time",
)
def deliveries(
    campaign_id: CampaignId,
    session: DB,
    status: Annotated[
        str | None,
        Query(pattern="^(" + "|".join(sorted(DeliveryStatus)) + ")$", description="only these"),
    ] = None,
    after: Annotated[
        int | None,
        Query(ge=0, le=2**63 - 1, description="the previous page's `next_after`"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 100,
) -> DeliveryPage:
    """In delivery order, by keyset: each page costs the same, however deep."""
    rows = queries.campaign_deliveries(
        session, campaign_id, status=status, after=after, limit=limit
    )
    return DeliveryPage(
        items=[DeliveryOut(**vars(r)) for r in rows],
        next_after=rows[-1].id if len(rows) == limit else None,
    )


@router.post(
    "/campaigns/{campaign_id}/pause", response_model=CampaignOut, summary="Pause", **needs("send")
)
def pause(campaign_id: CampaignId, session: DB) -> CampaignOut:
    campaigns.pause(session, campaign_id)
    session.commit()
    return _current(session, campaign_id)


@router.post(
    "/campaigns/{campaign_id}/resume", response_model=CampaignOut, summary="Resume", **needs("send")
)
def resume(campaign_id: CampaignId, session: DB) -> CampaignOut:
    resumed = campaigns.resume(session, campaign_id)
    session.commit()
    dispatch.after_resume(campaign_id, resumed)
    return _current(session, campaign_id)


@router.post(
    "/campaigns/{campaign_id}/cancel", response_model=CampaignOut, summary="Cancel", **needs("send")
)
def cancel(campaign_id: CampaignId, session: DB) -> CampaignOut:
    campaigns.cancel(session, campaign_id)
    session.commit()
    return _current(session, campaign_id)


@router.post(
    "/campaigns/{campaign_id}/retry-failed",
    response_model=CampaignOut,
    summary="Queue the failed deliveries again",
    **needs("send"),
)
def retry_failed(campaign_id: CampaignId, session: DB) -> CampaignOut:
    n = campaigns.retry_failed(session, campaign_id)
    session.commit()
    if n:
        dispatch.continue_sending(campaign_id)
    return _current(session, campaign_id)
