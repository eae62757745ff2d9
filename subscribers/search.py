"""Searching all subscribers: free text (address, name, company) or a segment expression,
optionally narrowed to one list and a status, sorted and paged in the database.

A search is a `SubscriberSearch` value; `ids()` is a SELECT of matching subscriber ids that the
bulk actions (subscribers/bulk.py) and the CSV export use set-wise, so acting on "the whole
result" never loads the rows into Python. `page()` reads one page (LIMIT/OFFSET with the id as
tie-breaker, so pages are stable even when many rows share a sort value).

Unlike a campaign audience (segments.matching_subscriber_ids), a search sees everyone with an
address, whatever their status or suppression: it is for finding people, not for mailing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from subscribers.errors import InvalidInput
from subscribers.models import (
    Subscriber,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
)
from subscribers.segments import compile_expr, parse

# Sortable columns by the name the page uses; every sort ends with the id (stable pages).
SORTS: dict[str, Any] = {
    "email": Subscriber.email,
    "name": Subscriber.name,
    "company": Subscriber.company,
    "language": Subscriber.language,
    "status": Subscriber.status,
    "created": Subscriber.created_at,
}
MAX_PAGE_SIZE = 200


# Statuses only a person has (a bounce or a complaint ends mail to every list), offered with a
# list's subscription statuses so that choosing a list does not lose them from the filter.
PERSON_ONLY_STATUSES = (SubscriberStatus.BOUNCED.value, SubscriberStatus.COMPLAINED.value)


def list_status_choices() -> list[str]:
    """The status filter's values once a list is chosen: its subscription statuses, then
    bounced and complained (the person's)."""
    return [*(s.value for s in SubscriptionStatus), *PERSON_ONLY_STATUSES]


@dataclass(frozen=True)
class SubscriberSearch:
    """What to find. `text` and `expression` may both be given (both must match).

    `status` is the subscription's status when `list_id` is set (or, for bounced and
    complained, which only a person has, the person's among the list's members), the person's
    otherwise.
    InvalidInput for an unknown status; SegmentSyntaxError (with the column) for a bad expression.
    """

    text: str = ""
    expression: str = ""
    list_id: int | None = None
    status: str = ""

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [Subscriber.email.is_not(None)]
        if self.list_id is not None:
            on_list = [Subscription.subscriber_id == Subscriber.id]
            on_list.append(Subscription.list_id == self.list_id)
            if self.status in PERSON_ONLY_STATUSES:
                # Bounced or complained is the person's, whatever their subscription says.
                where.append(Subscriber.status == SubscriberStatus(self.status))
            elif self.status:
                on_list.append(
                    Subscription.status
                    == _status(SubscriptionStatus, self.status, list_status_choices())
                )
            where.append(exists().where(*on_list))
        elif self.status:
            where.append(Subscriber.status == _status(SubscriberStatus, self.status))
        text = self.text.strip().lower()
        if text:
            where.append(
                or_(
                    func.lower(Subscriber.email).contains(text, autoescape=True),
                    func.lower(Subscriber.name).contains(text, autoescape=True),
                    func.lower(Subscriber.company).contains(text, autoescape=True),
                )
            )
        if self.expression.strip():
            where.append(compile_expr(parse(self.expression)))
        return where

    def ids(self) -> Select[Any]:
        """SELECT subscriber.id of every match (use in `IN (…)` or INSERT … SELECT)."""
        return select(Subscriber.id).where(*self.conditions())

    @property
    def empty(self) -> bool:
        return not (self.text.strip() or self.expression.strip() or self.list_id or self.status)


def _status(kind: Any, value: str, choices: list[str] | None = None) -> Any:
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(choices or [s.value for s in kind])
        raise InvalidInput(f"unknown status {value!r}: use one of {known}") from None


def count(session: Session, search: SubscriberSearch) -> int:
    """How many subscribers match (one COUNT query)."""
    return int(session.scalar(select(func.count()).select_from(search.ids().subquery())) or 0)


def page(
    session: Session,
    search: SubscriberSearch,
    *,
    sort: str = "email",
    descending: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[Subscriber]:
    """One page of matches in the given order (tags loaded in one more query).

    InvalidInput for a sort column not in SORTS. The id breaks ties so that no row appears on
    two pages or on none.
    """
    if sort not in SORTS:
        raise InvalidInput(f"cannot sort by {sort!r}: use one of {', '.join(SORTS)}")
    column = SORTS[sort]
    order = [column.desc() if descending else column.asc()]
    order.append(Subscriber.id.desc() if descending else Subscriber.id.asc())
    stmt = (
        select(Subscriber)
        .where(*search.conditions())
        .options(selectinload(Subscriber.tag_rows))
        .order_by(*order)
        .limit(max(1, min(limit, MAX_PAGE_SIZE)))
        .offset(max(0, offset))
    )
    return list(session.scalars(stmt))
