"""/api/v1/lists/{slug}/segments: a list's saved segments and the count of an expression."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from mailer.web import queries
from mailer.web.api.routing import DB, Slug, api_router, check_text
from subscribers import segments
from subscribers.lists import get_list

router = api_router()


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
