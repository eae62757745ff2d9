"""The JSON API under /api/v1, for scripts and other systems. Bearer tokens (`mailer admin
create-token NAME`); every response is a documented Pydantic model, so /openapi.json describes it.

Errors are JSON `{"detail": "..."}` with the same wording as the CLI's: 401 without a valid token
(with `WWW-Authenticate: Bearer`), 404 for an unknown list/issue/campaign, 409 when the state
forbids the change (e.g. resuming a campaign that is not paused), 422 for bad input (a segment
syntax error carries its caret message and `column`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.accounts import ApiToken
from mailer.content.issues import get_issue
from mailer.content.models import Issue
from mailer.errors import MailerError
from mailer.errors import NotFound as MailerNotFound
from mailer.sending import campaigns, dispatch
from mailer.settings import get_settings
from mailer.web import queries
from subscribers import segments
from subscribers.errors import (
    AlreadyExists,
    SegmentSyntaxError,
    SubscribersError,
    Suppressed,
)
from subscribers.errors import NotFound as SubscribersNotFound
from subscribers.lifecycle import add_subscriber, require_subscriber, unsubscribe_from_list
from subscribers.lists import create_list, get_list, list_lists
from subscribers.models import SubscriberStatus, SubscriptionStatus


def _error_response(exc: Exception) -> JSONResponse | None:
    """The HTTP answer for a user error raised by the mailer's or the subscribers' functions."""
    status: int
    body: dict[str, Any] = {"detail": str(exc)}
    if isinstance(exc, MailerNotFound | SubscribersNotFound):
        status = 404
    elif isinstance(
        exc, AlreadyExists | Suppressed | campaigns.CampaignStateError | accounts.AuthError
    ):
        status = 409
    elif isinstance(exc, SegmentSyntaxError):
        status = 422
        body["column"] = exc.column
    elif isinstance(exc, SubscribersError | MailerError):
        status = 422
    else:
        return None
    return JSONResponse(body, status_code=status)


class ApiRoute(APIRoute):
    """Turns the domain's user errors into JSON 4xx answers instead of 500s."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                response = await handler(request)
            except (MailerError, SubscribersError) as exc:
                mapped = _error_response(exc)
                if mapped is None:  # pragma: no cover  (every subclass maps)
                    raise
                response = mapped
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return answer


class ErrorOut(BaseModel):
    detail: str
    column: int | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing, unknown or revoked bearer token"},
    404: {"model": ErrorOut, "description": "No such list, subscriber, issue or campaign"},
    409: {"model": ErrorOut, "description": "Not possible in the current state"},
    422: {"description": "Invalid input (the message says what and where)"},
}

bearer = HTTPBearer(auto_error=False, description="A token from `mailer admin create-token NAME`")


def api_client(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    session: Annotated[Session, Depends(queries.db)],
) -> ApiToken:
    """The token's row; 401 (with the Bearer challenge) for anything else."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    row = accounts.token_row(session, credentials.credentials)
    if row is None:
        raise HTTPException(
            401,
            "invalid or revoked token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    session.commit()  # last_used_at
    return row


router = APIRouter(
    prefix="/api/v1",
    tags=["api"],
    route_class=ApiRoute,
    dependencies=[Depends(api_client)],
    responses=ERRORS,
)

DB = Annotated[Session, Depends(queries.db)]
Client = Annotated[ApiToken, Depends(api_client)]
Slug = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]
IssueSlug = Annotated[
    str, Path(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]
Email = Annotated[str, Path(min_length=3, max_length=320)]
CampaignId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _text(value: str, field: str) -> str:
    """Refuse control characters (NUL cannot be stored in PostgreSQL text) before they reach SQL."""
    if any(ord(c) < 32 and c not in "\t" for c in value):
        raise HTTPException(422, f"{field} contains control characters")
    return value


# --- lists --------------------------------------------------------------------------------------


class ListOut(BaseModel):
    slug: str
    name: str
    active: int = Field(description="active subscriptions")
    pending: int = Field(description="waiting for the person's confirmation")
    unsubscribed: int


class ListIn(BaseModel):
    slug: str = Field(min_length=1, max_length=64, examples=["weekly-briefing"])
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


@router.get("/lists", response_model=list[ListOut], summary="Every list with its counts")
def lists(session: DB) -> list[ListOut]:
    return [ListOut(**vars(s)) for s in list_lists(session)]


@router.post("/lists", response_model=ListOut, status_code=201, summary="Create a list")
def create_list_(body: ListIn, session: DB) -> ListOut:
    _text(body.name, "name")
    _text(body.description, "description")
    mlist = create_list(session, body.slug, body.name, body.description)
    session.commit()
    return ListOut(slug=mlist.slug, name=mlist.name, active=0, pending=0, unsubscribed=0)


# --- subscribers --------------------------------------------------------------------------------


class SubscriberOut(BaseModel):
    id: int
    email: str
    name: str
    company: str
    language: str | None
    tags: list[str]
    status: str = Field(description="the person's status: active, pending, unsubscribed, …")
    list_status: str | None = Field(
        default=None, description="the subscription's status on the list searched"
    )


class SubscriberPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[SubscriberOut]


class SubscriptionOut(BaseModel):
    list: str
    list_name: str
    status: str
    subscribed_at: str | None
    confirmed_at: str | None
    unsubscribed_at: str | None
    unsubscribe_reason: str | None


class SubscriberDetail(SubscriberOut):
    consent: dict[str, str | None]
    subscriptions: list[SubscriptionOut]
    suppressed: bool
    suppression_reason: str | None = None


class SubscriberIn(BaseModel):
    email: str = Field(min_length=3, max_length=320, examples=["ana@example.com"])
    name: str = Field(default="", max_length=200)
    company: str = Field(default="", max_length=200)
    language: str | None = Field(default=None, max_length=20, examples=["es"])
    tags: list[str] = Field(default_factory=list, max_length=50)


StatusFilter = Annotated[
    str | None,
    Query(
        description="subscription status on the list, or the person's status without a list",
        pattern="^(" + "|".join(sorted({*SubscriberStatus, *SubscriptionStatus})) + ")$",
    ),
]


@router.get("/subscribers", response_model=SubscriberPage, summary="Search subscribers")
def subscribers(
    session: DB,
    q: Annotated[str, Query(max_length=200, description="part of address, name or company")] = "",
    list: Annotated[str | None, Query(max_length=64, description="a list's slug")] = None,  # noqa: A002
    status: StatusFilter = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> SubscriberPage:
    _text(q, "q")
    list_id = get_list(session, list).id if list else None
    total, rows = queries.search_subscribers(
        session, list_id=list_id, q=q, status=status, limit=limit, offset=offset
    )
    return SubscriberPage(
        total=total, limit=limit, offset=offset, items=[SubscriberOut(**vars(r)) for r in rows]
    )


@router.get(
    "/subscribers/{email}", response_model=SubscriberDetail, summary="One subscriber, every list"
)
def subscriber(email: Email, session: DB) -> SubscriberDetail:
    from subscribers.lifecycle import describe

    _text(email, "email")
    data = describe(session, email, get_settings().secret())
    person = data["subscriber"]
    if person is None:  # only a suppression entry is held
        raise SubscribersNotFound(f"no subscriber with address {data['email']}")
    return SubscriberDetail(
        id=person["id"],
        email=person["email"],
        name=person["name"],
        company=person["company"],
        language=person["language"],
        tags=person["tags"],
        status=person["status"],
        consent={k: v for k, v in person["consent"].items()},
        subscriptions=[SubscriptionOut(**s) for s in data["subscriptions"]],
        suppressed=data["suppression"] is not None,
        suppression_reason=(data["suppression"] or {}).get("reason"),
    )


@router.post(
    "/lists/{slug}/subscribers",
    response_model=SubscriberOut,
    status_code=201,
    summary="Add a subscriber to a list (active; consent recorded as given through the API)",
)
def add_subscriber_(slug: Slug, body: SubscriberIn, session: DB, client: Client) -> SubscriberOut:
    for field in ("email", "name", "company"):
        _text(getattr(body, field), field)
    for tag in body.tags:
        _text(tag, "tag")
    mlist = get_list(session, slug)
    result = add_subscriber(
        session,
        mlist,
        body.email,
        get_settings().secret(),
        name=body.name,
        company=body.company,
        language=body.language,
        tags=body.tags,
        consent_method="api",
        consent_source=f"api: {client.name}",
    )
    session.commit()
    sub = result.subscriber
    return SubscriberOut(**vars(queries.SubscriberRow.of(sub, result.subscription.status)))


@router.post(
    "/lists/{slug}/subscribers/{email}/unsubscribe",
    response_model=SubscriberOut,
    summary="Unsubscribe an address from one list (the row and its history are kept)",
)
def unsubscribe_(slug: Slug, email: Email, session: DB, client: Client) -> SubscriberOut:
    _text(email, "email")
    mlist = get_list(session, slug)
    subscription = unsubscribe_from_list(
        session, mlist, email, reason=f"removed through the API ({client.name})"
    )
    session.commit()
    sub = require_subscriber(session, email)
    return SubscriberOut(**vars(queries.SubscriberRow.of(sub, subscription.status)))


# --- segments -----------------------------------------------------------------------------------


class SegmentOut(BaseModel):
    slug: str
    expression: str
    count: int | None = Field(description="mailable subscribers of the list matching it now")


class CountOut(BaseModel):
    list: str
    expression: str | None
    count: int


@router.get(
    "/lists/{slug}/segments", response_model=list[SegmentOut], summary="A list's saved segments"
)
def list_segments_(slug: Slug, session: DB) -> list[SegmentOut]:
    mlist = get_list(session, slug)
    return [
        SegmentOut(slug=seg.slug, expression=seg.expression, count=n)
        for seg, n, _err in queries.segment_rows(session, mlist.id)
    ]


@router.get(
    "/lists/{slug}/segments/count",
    response_model=CountOut,
    summary="Count the list's mailable subscribers matching an expression or saved segment",
)
def count_segment(
    slug: Slug,
    session: DB,
    expression: Annotated[
        str | None,
        Query(max_length=2000, examples=["tag:client and not tag:press"]),
    ] = None,
) -> CountOut:
    mlist = get_list(session, slug)
    expr = None
    if expression is not None:
        expr = _text(expression, "expression").strip() or None
    return CountOut(list=mlist.slug, expression=expr, count=segments.count(session, mlist.id, expr))


# --- issues -------------------------------------------------------------------------------------


class ItemOut(BaseModel):
    position: int
    headline: str
    source_outlet: str
    source_date: date | None
    source_author: str
    source_title: str
    source_url: str | None


class IssueOut(BaseModel):
    slug: str
    title: str
    newsletter: str
    date: date
    partner_name: str
    partner_email: str
    items: int
    pdf_name: str


class IssueDetail(IssueOut):
    summary: str
    more_info_url: str | None
    item_list: list[ItemOut]


def _issue_out(issue: Issue) -> dict[str, Any]:
    return {
        "slug": issue.slug,
        "title": issue.title,
        "newsletter": issue.newsletter,
        "date": issue.issue_date,
        "partner_name": issue.partner.name,
        "partner_email": issue.partner.email,
        "items": len(issue.items),
        "pdf_name": issue.pdf_name,
    }


@router.get("/issues", response_model=list[IssueOut], summary="Issues, newest first")
def issues(session: DB) -> list[IssueOut]:
    return [IssueOut(**_issue_out(i)) for i in queries.recent_issues(session, 500)]


@router.get("/issues/{slug}", response_model=IssueDetail, summary="One issue with its items")
def issue(slug: IssueSlug, session: DB) -> IssueDetail:
    row = get_issue(session, slug)
    return IssueDetail(
        **_issue_out(row),
        summary=row.summary,
        more_info_url=row.more_info_url,
        item_list=[
            ItemOut(
                position=i.position,
                headline=i.headline,
                source_outlet=i.source_outlet,
                source_date=i.source_date,
                source_author=i.source_author,
                source_title=i.source_title,
                source_url=i.source_url,
            )
            for i in sorted(row.items, key=lambda i: i.position)
        ],
    )


# --- campaigns ----------------------------------------------------------------------------------


class CampaignIn(BaseModel):
    issue: str = Field(min_length=1, max_length=120, description="the issue's slug")
    list: str = Field(min_length=1, max_length=64, description="the list's slug")
    segment: str | None = Field(default=None, max_length=64, description="a saved segment")
    where: str | None = Field(default=None, max_length=2000, description="or an expression")
    at: datetime | None = Field(
        default=None, description="schedule (ISO 8601; no offset = the server's local time)"
    )
    force_resend: bool = Field(default=False, description="include who already received it")


class CampaignOut(BaseModel):
    id: int
    issue: str
    list: str
    segment: str | None
    expression: str | None
    status: str
    reason: str
    total: int = Field(description="recipients snapshotted when sending started")
    counts: dict[str, int] = Field(description="deliveries by status")
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime | None


class CampaignCreated(CampaignOut):
    recipients: int = Field(description="the audience counted when the campaign was created")
    already_received: int


def _campaign_out(summary: queries.CampaignSummary) -> dict[str, Any]:
    return {
        "id": summary.id,
        "issue": summary.issue_slug,
        "list": summary.list_slug,
        "segment": summary.segment,
        "expression": summary.expression,
        "status": summary.status,
        "reason": summary.reason,
        "total": summary.total,
        "counts": summary.counts,
        "scheduled_at": summary.scheduled_at,
        "started_at": summary.started_at,
        "finished_at": summary.finished_at,
        "created_at": summary.created_at,
    }


@router.get("/campaigns", response_model=list[CampaignOut], summary="Recent campaigns")
def campaign_list(
    session: DB, limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50
) -> list[CampaignOut]:
    return [CampaignOut(**_campaign_out(s)) for s in queries.recent_campaigns(session, limit)]


@router.post(
    "/campaigns",
    response_model=CampaignCreated,
    status_code=201,
    summary="Send an issue to a list (and segment) now or at a time — like `mailer send --yes`",
)
def create_campaign(body: CampaignIn, session: DB, client: Client) -> CampaignCreated:
    for value, field in ((body.where, "where"), (body.segment, "segment")):
        if value is not None:
            _text(value, field)
    issue_row = get_issue(session, _text(body.issue, "issue"))
    audience = campaigns.resolve_audience(
        session,
        issue_row,
        _text(body.list, "list"),
        segment=body.segment or None,
        where=(body.where or "").strip() or None,
        force_resend=body.force_resend,
    )
    when = body.at
    if when is not None and when.tzinfo is None:
        when = when.astimezone()
    campaign = campaigns.create(
        session,
        issue_row,
        audience,
        scheduled_at=when,
        force_resend=body.force_resend,
        created_by=f"api: {client.name}",
    )
    campaign_id = campaign.id
    session.commit()  # only now may a worker see it
    if when is None:
        dispatch.start(campaign_id)
    summary = queries.campaign_summary(session, campaign_id)
    return CampaignCreated(
        **_campaign_out(summary),
        recipients=audience.recipients,
        already_received=audience.already_received,
    )


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut, summary="Campaign status")
def campaign_status(campaign_id: CampaignId, session: DB) -> CampaignOut:
    return CampaignOut(**_campaign_out(queries.campaign_summary(session, campaign_id)))


@router.post("/campaigns/{campaign_id}/pause", response_model=CampaignOut, summary="Pause")
def pause(campaign_id: CampaignId, session: DB) -> CampaignOut:
    campaigns.pause(session, campaign_id)
    session.commit()
    return CampaignOut(**_campaign_out(queries.campaign_summary(session, campaign_id)))


@router.post("/campaigns/{campaign_id}/resume", response_model=CampaignOut, summary="Resume")
def resume(campaign_id: CampaignId, session: DB) -> CampaignOut:
    campaigns.resume(session, campaign_id)
    session.commit()
    dispatch.continue_sending(campaign_id)
    return CampaignOut(**_campaign_out(queries.campaign_summary(session, campaign_id)))


@router.post("/campaigns/{campaign_id}/cancel", response_model=CampaignOut, summary="Cancel")
def cancel(campaign_id: CampaignId, session: DB) -> CampaignOut:
    campaigns.cancel(session, campaign_id)
    session.commit()
    return CampaignOut(**_campaign_out(queries.campaign_summary(session, campaign_id)))


@router.post(
    "/campaigns/{campaign_id}/retry-failed",
    response_model=CampaignOut,
    summary="Queue the failed deliveries again",
)
def retry_failed(campaign_id: CampaignId, session: DB) -> CampaignOut:
    n = campaigns.retry_failed(session, campaign_id)
    session.commit()
    if n:
        dispatch.continue_sending(campaign_id)
    return CampaignOut(**_campaign_out(queries.campaign_summary(session, campaign_id)))
