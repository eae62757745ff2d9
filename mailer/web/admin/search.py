"""Searching all subscribers in the admin area: free text or a segment expression (with the
segment page's live count and error column), a list and status filter, sortable columns and
numbered pages. The bulk actions (bulk.py) and the CSV export (exports.py) act on the same
search, described by the same query parameters (`SearchParams`).

Paging is LIMIT/OFFSET with the id as tie-breaker rather than keyset: the page shows numbered
pages and a jump to any page, which a keyset cursor cannot do without walking every page before
it. Only one page of rows is ever read; bench/admin.py measures the first and the last page of a
100,000-subscriber search on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from mailer.web.admin.forms import DB, Admin, protected_router, render
from subscribers import search
from subscribers.bulk import DESCRIPTIONS, BulkAction
from subscribers.errors import SegmentSyntaxError, SubscribersError
from subscribers.lists import get_list, list_lists
from subscribers.models import SubscriberStatus, SubscriptionStatus

PAGE_SIZE = 50

router = protected_router()


@dataclass(frozen=True)
class SearchParams:
    """A search as the page's query string (and the bulk form's hidden fields) carry it."""

    q: str = ""
    expr: str = ""
    list: str = ""
    status: str = ""

    def to_search(self, session: Session) -> search.SubscriberSearch:
        """The domain search; NotFound for an unknown list, InvalidInput for a bad status,
        SegmentSyntaxError for a bad expression."""
        list_id = get_list(session, self.list).id if self.list else None
        return search.SubscriberSearch(
            text=self.q, expression=self.expr, list_id=list_id, status=self.status
        )

    def query(self, **extra: str | int) -> str:
        values: dict[str, str | int] = {k: v for k, v in vars(self).items() if v}
        values.update({k: v for k, v in extra.items() if v})
        return urlencode(values)


def search_params(
    q: Annotated[str, Query(max_length=200)] = "",
    expr: Annotated[str, Query(max_length=2000)] = "",
    list_slug: Annotated[str, Query(alias="list", max_length=64)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
) -> SearchParams:
    return SearchParams(q.strip(), expr.strip(), list_slug.strip(), status.strip())


Params = Annotated[SearchParams, Depends(search_params)]


def page_numbers(current: int, last: int) -> list[int | None]:
    """1 … 4 5 [6] 7 8 … 40: the first, the last and two either side (None for a gap)."""
    shown = {1, last, *range(max(1, current - 2), min(last, current + 2) + 1)}
    out: list[int | None] = []
    previous = 0
    for n in sorted(shown):
        if n - previous > 1:
            out.append(None)
        out.append(n)
        previous = n
    return out


@router.get("/subscribers")
def search_page(
    request: Request,
    session: DB,
    admin: Admin,
    params: Params,
    sort: Annotated[str, Query(max_length=20)] = "email",
    direction: Annotated[str, Query(alias="dir", max_length=4)] = "asc",
    page_no: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
) -> Response:
    if sort not in search.SORTS:
        sort = "email"
    descending = direction == "desc"
    error, column = "", None
    total, rows, expr_count = 0, [], None
    try:
        if params.expr:
            expr_count = search.count(session, search.SubscriberSearch(expression=params.expr))
        wanted = params.to_search(session)
        total = search.count(session, wanted)
        last = max(1, -(-total // PAGE_SIZE))
        page_no = min(page_no, last)
        rows = search.page(
            session,
            wanted,
            sort=sort,
            descending=descending,
            limit=PAGE_SIZE,
            offset=(page_no - 1) * PAGE_SIZE,
        )
    except SegmentSyntaxError as exc:
        error, column = str(exc), exc.column
    except SubscribersError as exc:
        error = str(exc)
    last = max(1, -(-total // PAGE_SIZE))
    statuses = [s.value for s in (SubscriptionStatus if params.list else SubscriberStatus)]
    return render(
        request,
        "search.html.j2",
        {
            "title": "Subscribers",
            "p": params,
            "rows": rows,
            "total": total,
            "sort": sort,
            "descending": descending,
            "page_no": page_no,
            "pages": last,
            "numbers": page_numbers(page_no, last),
            "lists": list_lists(session),
            "statuses": statuses,
            "sorts": list(search.SORTS),
            "actions": [(a.value, DESCRIPTIONS[a]) for a in BulkAction],
            "error": error,
            "error_column": column,
            "expr_count": expr_count,
        },
        admin=admin,
        active="subscribers",
        status_code=422 if error else 200,
    )


@router.get("/subscribers/count")
def count_expression(
    session: DB,
    admin: Admin,
    expression: Annotated[str, Query(max_length=2000)] = "",
) -> JSONResponse:
    """The live count behind the search's expression field, over all subscribers:
    {"count": n} or {"error": caret message, "column": n} (as the segment editor's)."""
    try:
        n = search.count(session, search.SubscriberSearch(expression=expression))
    except SegmentSyntaxError as exc:
        return JSONResponse({"error": str(exc), "column": exc.column}, status_code=422)
    except SubscribersError as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)
    return JSONResponse({"count": n, "expression": expression.strip() or None})
