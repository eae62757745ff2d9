"""Campaigns in the admin area: the list, one campaign's progress (live, with rate, ETA and
elapsed time), what it caused (campaign_report.py: failures by reply, bounces, complaints,
unsubscribes, inquiries, each linking to its people), the chart of messages sent, and pause,
resume, cancel and retry-failed (started through mailer/sending/dispatch.py, as the CLI and API
do).

The page is built from sections (templates/web/admin/campaign/*.html.j2), each fed by one key
of the page's context: a new section (clicks, grouped reasons…) is one more include and key."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from fastapi.responses import JSONResponse

from mailer.sending import campaigns, dispatch, progress
from mailer.sending.models import CampaignStatus
from mailer.sending.schedule import describe
from mailer.settings import get_settings
from mailer.web import keyset, queries
from mailer.web.admin import campaign_report, engagement
from mailer.web.admin.forms import DB, Admin, protected_router, redirect, render
from mailer.web.errors import user_message
from mailer.web.pages import SVG_HEADERS
from subscribers.errors import NotFound as SubscribersNotFound
from subscribers.text import sentence

FINAL = {CampaignStatus.DONE.value, CampaignStatus.CANCELLED.value}

router = protected_router()


PAGE = 100


@router.get("/campaigns")
def campaigns_page(
    request: Request,
    session: DB,
    admin: Admin,
    before: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Newest first, a page at a time (`before` = the last id shown): the page showed the
    newest 200 and no way to the older ones."""
    rows = queries.recent_campaigns(session, PAGE + 1, before)
    return render(
        request,
        "campaigns.html.j2",
        {
            "title": "Campaigns",
            "campaigns": rows[:PAGE],
            "older": rows[PAGE - 1].id if len(rows) > PAGE else None,
            "paged": before is not None,
        },
        admin=admin,
        active="campaigns",
    )


def _duration(value: timedelta | None) -> str:
    """1 h 02 min, 3 min 05 s, 12 s; "—" for none."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def _timing(timing: campaign_report.Timing) -> dict[str, str]:
    return {
        "elapsed": _duration(timing.elapsed),
        "rate": f"{timing.per_minute:.0f}/min",
        "eta": _duration(timing.eta),
    }


def _progress(summary: queries.CampaignSummary, timing: campaign_report.Timing) -> dict[str, Any]:
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
        "timing": _timing(timing),
    }


@router.get("/campaigns/{campaign_id}")
def campaign_page(
    request: Request,
    campaign_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: DB,
    admin: Admin,
) -> Response:
    summary = queries.campaign_summary(session, campaign_id)
    report = campaign_report.report(session, campaign_id, summary.counts)
    return render(
        request,
        "campaign.html.j2",
        {
            "title": f"Campaign {campaign_id}",
            "c": summary,
            "failures": report.failures,
            "deferrals": report.deferrals,
            "report": report,
            "timing": _timing(report.timing),
            "people": campaign_report.PEOPLE,
            "scheduled": describe(summary.scheduled_at, get_settings().zone())
            if summary.scheduled_at
            else "",
            "final": summary.status in FINAL,
            **engagement.campaign_context(session, campaign_id, summary.counts["sent"]),
        },
        admin=admin,
        active="campaigns",
    )


@router.get("/campaigns/{campaign_id}/progress.json")
def campaign_progress(
    campaign_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: DB, admin: Admin
) -> JSONResponse:
    summary = queries.campaign_summary(session, campaign_id)
    campaign = campaigns.get(session, campaign_id)
    last_sent_at = progress.last_sent(session, campaign_id)
    timing = campaign_report.timing(campaign, summary.counts, last_sent_at=last_sent_at)
    return JSONResponse(_progress(summary, timing))


@router.get("/campaigns/{campaign_id}/chart.svg")
def campaign_chart(
    campaign_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: DB, admin: Admin
) -> Response:
    """Messages sent over time as SVG, shown through <img> (so nothing in it runs); its own CSP
    allows only the chart's inline styles."""
    campaigns.get(session, campaign_id)
    return Response(
        campaign_report.sent_chart_svg(session, campaign_id),
        media_type="image/svg+xml",
        headers=SVG_HEADERS,
    )


@router.get("/campaigns/{campaign_id}/people/{kind}")
def campaign_people(
    request: Request,
    campaign_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    kind: str,
    session: DB,
    admin: Admin,
    after: Annotated[str, Query(max_length=2000)] = "",
    before: Annotated[str, Query(max_length=2000)] = "",
    page: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """The people behind one of the campaign page's numbers, a page at a time by keyset
    (`after=`/`before=` a row's encoded address and id, `page=last`)."""
    if kind not in campaign_report.PEOPLE:
        campaign_report.people_query(campaign_id, kind)  # raises NotFound, naming the kinds
    summary = queries.campaign_summary(session, campaign_id)
    found = campaign_report.people(
        session, campaign_id, kind, keyset.Position.of(after, before, page, 2)
    )
    return render(
        request,
        "campaign_people.html.j2",
        {
            "title": f"Campaign {campaign_id}: {campaign_report.PEOPLE[kind]}",
            "c": summary,
            "kind": kind,
            "heading": campaign_report.PEOPLE[kind],
            "rows": found.rows,
            "found": found,
            "total": campaign_report.people_total(session, campaign_id, kind, summary.counts),
        },
        admin=admin,
        active="campaigns",
    )


# What the editor is told after Resume, by the status the campaign moved to.
RESUMED = {
    CampaignStatus.SENDING: "Resumed.",
    CampaignStatus.SCHEDULED: "Resumed: scheduled again, it starts at its time.",
    CampaignStatus.PLANNED: "Resumed: its time passed while it was paused, so it starts now.",
}


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
            resumed = campaigns.resume(session, campaign_id)
            session.commit()
            dispatch.after_resume(campaign_id, resumed)
            message = RESUMED[resumed]
        elif action == "cancel":
            campaigns.cancel(session, campaign_id)
            session.commit()
            message = "Cancelled: deliveries not yet sent are skipped."
        elif action == "retry-failed":
            n = campaigns.retry_failed(session, campaign_id)
            session.commit()
            if n:
                dispatch.continue_sending(campaign_id)
            said = campaigns.retried(n)
            message = sentence(said[:1].upper() + said[1:])
        else:
            raise SubscribersNotFound(f"no campaign action {action!r}")
    except campaigns.CampaignStateError as exc:
        session.rollback()
        return redirect(url, user_message(exc), "error")
    return redirect(url, message)
