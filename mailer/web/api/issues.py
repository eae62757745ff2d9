"""/api/v1/issues: issues, newest first, and one issue with its items."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel

from mailer.content.issues import get_issue
from mailer.content.models import Issue
from mailer.web import queries
from mailer.web.api.routing import DB, IssueSlug, api_router

router = api_router()


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
        # The items in order (the relationship is ordered by position), field for field.
        item_list=[ItemOut.model_validate(i, from_attributes=True) for i in row.items],
    )
