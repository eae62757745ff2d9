"""Searching all subscribers in the admin area: free text or a segment expression (with the
segment page's live count and error column), a list and status filter, sortable columns and
pages. The bulk actions (bulk.py) and the CSV export (exports.py) act on the same search,
described by the same query parameters (`SearchParams`).

Paging is by keyset (mailer/web/keyset.py): a page starts after (or before) the sort key of a
row, so the last page of a million subscribers costs what the first does; OFFSET read and threw
away every row before the page (5 s for the last page at a million). The price: no page numbers,
but First, Previous, Next and Last. The number of matches is counted up to 10,000 (see
`search_total`). bench/admin.py measures the first and last page at 100,000 and 1,000,000.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from mailer.web import keyset, queries
from mailer.web.admin.forms import DB, Admin, protected_router, render
from mailer.web.errors import user_message
from subscribers import expressions, search
from subscribers.bulk import DESCRIPTIONS, BulkAction
from subscribers.errors import SegmentSyntaxError, SubscribersError
from subscribers.lists import get_list
from subscribers.models import MailingList, Subscriber, SubscriberStatus

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


_FIELDS = "|".join(expressions.FIELDS)
_FIELD_WORD = re.compile(rf"(?:^|[\s(])(?:{_FIELDS}|attr\.\S+):", re.IGNORECASE)  # `lang:`


def expression_in_text(params: SearchParams) -> str:
    """The query string that searches the text box's words as a segment expression when they
    read like one (`lang:es`, `tag:client and not tag:press`), else "". The text box matches
    addresses, names and companies only, so `lang:es` typed there finds nobody with no word
    of why; the page offers the same words in the expression field instead."""
    if params.expr or not _FIELD_WORD.search(params.q):
        return ""
    return urlencode({k: v for k, v in vars(replace(params, q="", expr=params.q)).items() if v})


def search_params(
    q: Annotated[str, Query(max_length=200)] = "",
    expr: Annotated[str, Query(max_length=2000)] = "",
    list_slug: Annotated[str, Query(alias="list", max_length=64)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
) -> SearchParams:
    return SearchParams(q.strip(), expr.strip(), list_slug.strip(), status.strip())


Params = Annotated[SearchParams, Depends(search_params)]


def page_numbers(current: int, last: int) -> list[int | None]:
    """1 … 4 5 [6] 7 8 … 40: the first, the last and two either side (None for a gap); for the
    short lists that still number their pages (suppressions)."""
    shown = {1, last, *range(max(1, current - 2), min(last, current + 2) + 1)}
    out: list[int | None] = []
    previous = 0
    for n in sorted(shown):
        if n - previous > 1:
            out.append(None)
        out.append(n)
        previous = n
    return out


def sort_keys(sort: str) -> list[ColumnElement[Any]]:
    """The keyset of a sort: its column, then the id (unique, so pages never overlap). A missing
    language sorts as the empty string (NULL has no place in a row comparison)."""
    column = search.SORTS[sort]
    if sort == "language":
        column = func.coalesce(column, "")
    return [column, Subscriber.id]


def row_key(sort: str) -> Any:
    """A subscriber's key values in `sort_keys` order."""
    attribute = "created_at" if sort == "created" else sort

    def key(row: Any) -> tuple[Any, ...]:
        sub = row[0]
        value = getattr(sub, attribute)
        return (value or "" if sort == "language" else value, sub.id)

    return key


def search_total(session: Session, wanted: search.SubscriberSearch) -> queries.Total:
    """The number of matches: exact up to COUNT_CAP; beyond it "about N" (the planner's estimate)
    when only a list and a status narrow the search, whose counts the table statistics know,
    and "more than 10,000" for text and expressions, whose estimates are guesses."""
    query = wanted.ids()
    if wanted.text.strip() or wanted.expression.strip():
        return queries.capped_count(session, query)
    return queries.estimated_total(session, query)


@router.get("/subscribers")
def search_page(
    request: Request,
    session: DB,
    admin: Admin,
    params: Params,
    sort: Annotated[str, Query(max_length=20)] = "email",
    direction: Annotated[str, Query(alias="dir", max_length=4)] = "asc",
    after: Annotated[str, Query(max_length=2000)] = "",
    before: Annotated[str, Query(max_length=2000)] = "",
    page: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """One page of matches by keyset (`after=`/`before=` a row's encoded sort key, `page=last`),
    with First, Previous, Next and Last links and the number of matches (`search_total`)."""
    if sort not in search.SORTS:
        sort = "email"
    descending = direction == "desc"
    error, column = "", None
    total, rows, expr_count = queries.Total(0), [], None
    found: keyset.Page[Any] = keyset.Page([], None, None, True, True)
    try:
        if params.expr:
            expr_count = search.count(session, search.SubscriberSearch(expression=params.expr))
        wanted = params.to_search(session)
        total = search_total(session, wanted)
        found = keyset.page(
            session,
            select(Subscriber)
            .where(*wanted.conditions())
            .options(selectinload(Subscriber.tag_rows)),
            sort_keys(sort),
            keyset.Position.of(after, before, page, 2),
            limit=PAGE_SIZE,
            descending=descending,
            key_of=row_key(sort),
        )
        rows = [row[0] for row in found.rows]
    except SegmentSyntaxError as exc:
        error, column = user_message(exc), exc.column
    except SubscribersError as exc:
        error = user_message(exc)
    statuses = search.list_status_choices() if params.list else [s.value for s in SubscriberStatus]
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
            "found": found,
            "lists": session.scalars(select(MailingList).order_by(MailingList.slug)).all(),
            "statuses": statuses,
            "sorts": list(search.SORTS),
            "actions": [(a.value, DESCRIPTIONS[a]) for a in BulkAction],
            "error": error,
            "error_column": column,
            "expr_count": expr_count,
            "q_as_expression": expression_in_text(params),
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
        return JSONResponse({"error": user_message(exc), "column": exc.column}, status_code=422)
    except SubscribersError as exc:
        return JSONResponse({"error": user_message(exc)}, status_code=422)
    return JSONResponse({"count": n, "expression": expression.strip() or None})
