"""Keyset pagination for the admin's long lists (subscribers, a campaign's people): a page starts
where the previous one ended in the sort's index, so the last page of a million rows costs what
the first does, which OFFSET cannot (it reads and throws away every row before the page).

A position is a cursor: the sort key of a row (its sort value(s), then the id as tie-breaker so
that no row shows on two pages or on none), encoded into the URL as `after=` (the page after
that row) or `before=` (the page before it). `page=last` is the last page, read backwards from
the end of the index. Without any of these it is the first page, so page 1 keeps its URL.

What a keyset page cannot tell cheaply is its number ("page 4,112 of 20,000"): the pages offer
First, Previous, Next and Last instead.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import Session

Row = TypeVar("Row")

# A cursor's values as JSON carries them; datetimes travel as {"t": ISO 8601}.
Key = tuple[Any, ...]


def encode(key: Key) -> str:
    """A cursor for the URL: base64url (no padding) of the key as JSON. Not secret and not
    signed: a forged one only moves the page's starting point."""

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return {"t": value.isoformat()}
        if hasattr(value, "value"):  # an enum: its stored value
            return value.value
        return value

    raw = json.dumps([plain(v) for v in key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(token: str, width: int) -> Key | None:
    """The key of a cursor made by `encode`, or None for anything malformed or of another
    width (an old or edited URL: the page falls back to the first page)."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    if not isinstance(values, list) or len(values) != width:
        return None
    out: list[Any] = []
    for value in values:
        if isinstance(value, dict):
            try:
                value = datetime.fromisoformat(str(value.get("t")))
            except ValueError:
                return None
        elif value is not None and not isinstance(value, str | int | float):
            return None
        out.append(value)
    return tuple(out)


@dataclass(frozen=True)
class Position:
    """Where a page starts: after a key, before a key, the last page, or (all None) the first."""

    after: Key | None = None
    before: Key | None = None
    last: bool = False

    @classmethod
    def of(cls, after: str, before: str, page: str, width: int) -> Position:
        """From the query string's `after`, `before` and `page` (`last`); anything else, or a
        malformed cursor, is the first page."""
        if page == "last":
            return cls(last=True)
        if (key := decode(after, width)) is not None:
            return cls(after=key)
        if (key := decode(before, width)) is not None:
            return cls(before=key)
        return cls()

    @property
    def backwards(self) -> bool:
        return self.before is not None or self.last


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page of rows in display order, with the cursors of the pages around it (None where
    there is no such page)."""

    rows: list[Row]
    next: str | None  # the `after=` of the next page
    previous: str | None  # the `before=` of the previous page
    first: bool  # this is the first page (no First or Previous link)
    last: bool  # this is the last page (no Next or Last link)


def page(
    session: Session,
    query: Select[Any],
    keys: Sequence[Any],
    position: Position,
    *,
    limit: int,
    descending: bool = False,
    key_of: Callable[[Any], Key],
) -> Page[Any]:
    """One page of `query` ordered by `keys` (the last one unique, e.g. the id), from `position`.

    Reads at most `limit + 1` rows (the extra one says whether there is a page beyond) by a range
    condition on the row value `(keys…)`, which an index on those columns answers directly.
    Backwards pages (`before=`, the last page) are read in reverse order and turned around.
    `key_of(row)` gives a row's key values in `keys` order.
    """
    scan_descending = descending != position.backwards
    row_key = tuple_(*keys) if len(keys) > 1 else keys[0]

    def bound(key: Key) -> Any:
        value = tuple_(*key) if len(keys) > 1 else key[0]
        return row_key < value if scan_descending else row_key > value

    if position.after is not None:
        query = query.where(bound(position.after))
    elif position.before is not None:
        query = query.where(bound(position.before))
    order = [k.desc() if scan_descending else k.asc() for k in keys]
    fetched = list(session.execute(query.order_by(*order).limit(limit + 1)).all())
    more = len(fetched) > limit
    rows = fetched[:limit]
    if position.backwards:
        rows.reverse()
        first, last = not more, position.last
    else:
        first, last = position.after is None, not more
    if not rows:  # nothing there (rows deleted since the link was made): offer the first page
        at_start = position.after is None and not position.backwards
        return Page([], None, None, at_start, True)
    return Page(
        rows=rows,
        next=None if last else encode(key_of(rows[-1])),
        previous=None if first else encode(key_of(rows[0])),
        first=first,
        last=last,
    )
