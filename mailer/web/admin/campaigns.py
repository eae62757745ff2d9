"""Campaigns in the admin area: the list, one campaign's progress (live), and pause, resume,
cancel and retry-failed (started through mailer/sending/dispatch.py, as the CLI and API do)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request, Response
from fastapi.responses import JSONResponse

from mailer.sending import campaigns, dispatch
from mailer.sending.models import CampaignStatus
from mailer.web import queries
from mailer.web.admin import engagement
from mailer.web.admin.forms import DB, Admin, protected_router, redirect, render
from subscribers.errors import NotFound as SubscribersNotFound

FINAL = {CampaignStatus.DONE.value, CampaignStatus.CANCELLED.value}

router = protected_router()


@router.get("/campaigns")
def campaigns_page(request: Request, session: DB, admin: Admin) -> Response:
    return render(
        request,
        "campaigns.html.j2",
        {"title": "Campaigns", "campaigns": queries.recent_campaigns(session, 200)},
        admin=admin,
        active="campaigns",
    )


def _progress(summary: queries.CampaignSummary) -> dict[str, Any]:
    return {
        "id": summary.id,
        "status": summary.status,
        "reason": summary.reason,
        "total": summary.total,
        "finished": summary.finished,
        "percent": summary.percent,
        "counts": summary.counts,
        "final": summary.status in FINAL,
        "running_here": dispatch.running(summary.id),
    }


@router.get("/campaigns/{campaign_id}")
def campaign_page(
    request: Request,
    campaign_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: DB,
    admin: Admin,
) -> Response:
    summary = queries.campaign_summary(session, campaign_id)
    return render(
        request,
        "campaign.html.j2",
        {
            "title": f"Campaign {campaign_id}",
            "c": summary,
            "failures": campaigns.failures_by_reply(session, campaign_id),
            "final": summary.status in FINAL,
            **engagement.campaign_context(session, campaign_id),
        },
        admin=admin,
        active="campaigns",
    )


@router.get("/campaigns/{campaign_id}/progress.json")
def campaign_progress(
    campaign_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: DB, admin: Admin
) -> JSONResponse:
    return JSONResponse(_progress(queries.campaign_summary(session, campaign_id)))


@router.post("/campaigns/{campaign_id}/{action}")
def campaign_action(
    campaign_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    action: str,
    session: DB,
    admin: Admin,
) -> Response:
    url = f"/admin/campaigns/{campaign_id}"
    try:
        if action == "pause":
            campaigns.pause(session, campaign_id)
            session.commit()
            message = "Paused: batches in flight stop after their current chunk."
        elif action == "resume":
            campaigns.resume(session, campaign_id)
            session.commit()
            dispatch.continue_sending(campaign_id)
            message = "Resumed."
        elif action == "cancel":
            campaigns.cancel(session, campaign_id)
            session.commit()
            message = "Cancelled: deliveries not yet sent are skipped."
        elif action == "retry-failed":
            n = campaigns.retry_failed(session, campaign_id)
            session.commit()
            if n:
                dispatch.continue_sending(campaign_id)
            message = f"{n} failed deliveries queued again."
        else:
            raise SubscribersNotFound(f"no campaign action {action!r}")
    except campaigns.CampaignStateError as exc:
        session.rollback()
        return redirect(url, str(exc), "error")
    return redirect(url, message)
