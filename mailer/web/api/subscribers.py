"""/api/v1/subscribers: search, one subscriber on every list, adding to and unsubscribing from a
list."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Query
from pydantic import BaseModel, Field

from mailer.settings import get_settings
from mailer.web import queries
from mailer.web.api.routing import DB, Client, Email, Slug, api_router, check_text, needs
from subscribers.errors import NotFound as SubscribersNotFound
from subscribers.lifecycle import (
    add_subscriber,
    refuse_control_characters,
    require_subscriber,
    unsubscribe_from_list,
)
from subscribers.lists import get_list
from subscribers.models import SubscriberStatus, SubscriptionStatus

router = api_router()


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
    total: int = Field(
        description="how many match: exact up to 10,000 (or with `count=exact`); beyond, a "
        "lower bound (10,000) or PostgreSQL's estimate, and `total_exact` is false"
    )
    total_exact: bool = Field(default=True, description="whether `total` is an exact count")
    limit: int
    offset: int
    items: list[SubscriberOut]
    next_after: str | None = Field(
        default=None,
        description="pass as `after` for the next page (null on the last page): a keyset "
        "cursor, as fast on the last page of a million subscribers as on the first",
    )


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
    offset: Annotated[
        int, Query(ge=0, le=10_000_000, description="rows to skip; prefer `after`")
    ] = 0,
    after: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=320,
            description="the previous page's `next_after`: the page after that address",
        ),
    ] = None,
    count: Annotated[
        str,
        Query(
            pattern="^(exact|capped)$",
            description="`exact`: count every match for `total` (about half a second at a "
            "million subscribers); `capped` (default): exact up to 10,000",
        ),
    ] = "capped",
) -> SubscriberPage:
    """Subscribers in address order, a page at a time: follow `next_after` to page through."""
    check_text(q, "q")
    if after is not None:
        check_text(after, "after")
        if offset:
            raise HTTPException(422, "give either offset or after, not both")
    list_id = get_list(session, list).id if list else None
    total, rows = queries.search_subscribers(
        session,
        list_id=list_id,
        q=q,
        status=status,
        limit=limit,
        offset=offset,
        after=after,
        exact=count == "exact",
    )
    return SubscriberPage(
        total=total.n,
        total_exact=total.exact,
        limit=limit,
        offset=offset,
        items=[SubscriberOut(**vars(r)) for r in rows],
        next_after=rows[-1].email if len(rows) == limit else None,
    )


@router.get(
    "/subscribers/{email}", response_model=SubscriberDetail, summary="One subscriber, every list"
)
def subscriber(email: Email, session: DB) -> SubscriberDetail:
    from subscribers.lifecycle import describe

    check_text(email, "email")
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
    **needs("subscribers"),
)
def post_subscriber(slug: Slug, body: SubscriberIn, session: DB, client: Client) -> SubscriberOut:
    check_text(body.email, "email")
    for field in ("name", "company"):
        refuse_control_characters(getattr(body, field), field, field)
    for tag in body.tags:
        check_text(tag, "tag")
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
    **needs("subscribers"),
)
def post_unsubscribe(slug: Slug, email: Email, session: DB, client: Client) -> SubscriberOut:
    check_text(email, "email")
    mlist = get_list(session, slug)
    subscription = unsubscribe_from_list(
        session, mlist, email, reason=f"removed through the API ({client.name})"
    )
    session.commit()
    sub = require_subscriber(session, email)
    return SubscriberOut(**vars(queries.SubscriberRow.of(sub, subscription.status)))
