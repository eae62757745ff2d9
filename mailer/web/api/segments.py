"""/api/v1/lists/{slug}/segments: a list's saved segments and the count of an expression;
changing a saved segment's expression (PATCH) and deleting one (DELETE)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response
from pydantic import BaseModel, ConfigDict, Field

from mailer.sending import campaigns
from mailer.web import queries
from mailer.web.api.routing import DB, Slug, api_router, check_text, needs
from subscribers import segments
from subscribers.lists import get_list

router = api_router()


class SegmentOut(BaseModel):
    slug: str
    expression: str
    count: int | None = Field(description="mailable subscribers of the list matching it now")


class SegmentPatch(BaseModel):
    """The new expression; the slug never changes (`mailer send --segment` and scripts name it)."""

    model_config = ConfigDict(extra="forbid")

    expression: str = Field(
        min_length=1, max_length=2000, examples=["tag:client and lang:es and not tag:press"]
    )


class SegmentChanged(SegmentOut):
    campaigns: list[int] = Field(
        description="campaigns created for this segment; each keeps the expression it was "
        "created with"
    )


class CountOut(BaseModel):
    list: str
    expression: str | None
    count: int


@router.get(
    "/lists/{slug}/segments", response_model=list[SegmentOut], summary="A list's saved segments"
)
def get_segments(slug: Slug, session: DB) -> list[SegmentOut]:
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
        expr = check_text(expression, "expression").strip() or None
    return CountOut(list=mlist.slug, expression=expr, count=segments.count(session, mlist.id, expr))


@router.patch(
    "/lists/{slug}/segments/{segment}",
    response_model=SegmentChanged,
    summary="Change a saved segment's expression",
    **needs("subscribers"),
)
def patch_segment(slug: Slug, segment: Slug, body: SegmentPatch, session: DB) -> SegmentChanged:
    """The expression is checked as on create (a mistake is a 422 giving its column); answers the
    segment with its count now. Campaigns already created keep the expression they were created
    with, listed in `campaigns`. An unknown list or segment is a 404."""
    mlist = get_list(session, slug)
    expression = check_text(body.expression, "expression")
    seg = segments.update_segment(session, mlist.id, segment, expression)
    n = segments.count(session, mlist.id, seg.expression)
    used = campaigns.using_segment(session, seg.id)
    session.commit()
    return SegmentChanged(slug=seg.slug, expression=seg.expression, count=n, campaigns=used)


@router.delete(
    "/lists/{slug}/segments/{segment}",
    status_code=204,
    response_class=Response,
    summary="Delete a saved segment",
    **needs("subscribers"),
)
def delete_segment(slug: Slug, segment: Slug, session: DB) -> Response:
    """Nobody is unsubscribed: a segment is only a filter. Campaigns sent to it keep the
    expression they were sent with (their reports show it instead of the slug). An unknown list
    or segment is a 404."""
    mlist = get_list(session, slug)
    segments.delete_segment(session, mlist.id, segment)
    session.commit()
    return Response(status_code=204)
