"""Engagement in the admin area: the block on a campaign's page (figures, per-item table and
two charts) and the charts themselves as SVG images; a subscriber's history on their page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request, Response
from sqlalchemy.orm import Session

from mailer.engagement import reports
from mailer.settings import get_settings
from mailer.web.admin import charts
from mailer.web.admin.forms import DB, Admin, protected_router
from mailer.web.pages import SVG_HEADERS

router = protected_router()


def campaign_context(session: Session, campaign_id: int, sent: int | None = None) -> dict[str, Any]:
    """What the campaign page's engagement block (admin/engagement.html.j2) shows; `sent`:
    the messages sent, when the page has counted them already."""
    settings = get_settings()
    e = reports.campaign_engagement(session, campaign_id, sent)
    return {
        "engagement": e,
        "no_links_reason": reports.no_links_reason(session, e),
        "opens_caveat": reports.OPENS_CAVEAT,
        "tracking_on": settings.track_clicks,
    }


def subscriber_context(session: Session, subscriber_id: int) -> dict[str, Any]:
    return {"history": reports.subscriber_history(session, subscriber_id)}


def _svg(body: bytes) -> Response:
    return Response(body, media_type="image/svg+xml", headers=SVG_HEADERS)


@router.get("/campaigns/{campaign_id}/clicks-per-item.svg")
def clicks_per_item(
    request: Request,
    campaign_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: DB,
    admin: Admin,
) -> Response:
    return _svg(charts.clicks_per_item_svg(reports.campaign_engagement(session, campaign_id)))


@router.get("/campaigns/{campaign_id}/clicks-over-time.svg")
def clicks_over_time(
    request: Request,
    campaign_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: DB,
    admin: Admin,
) -> Response:
    return _svg(charts.clicks_over_time_svg(reports.clicks_over_time(session, campaign_id)))
