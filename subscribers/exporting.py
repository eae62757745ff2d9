"""CSV export of a list: the import's columns + status + one `attr.KEY` column per attribute.

Written so that export → import → export gives the same bytes: the same columns in the same order,
tags sorted and `;`-joined, rows in subscriber-id order (which an import of the export preserves),
and a status column the importer honours (it never upgrades one); a suppressed reader's
status is `suppressed`, which an import turns into a suppression. Streamed with `yield_per`, so
memory does not grow with the list.

Cells are spreadsheet-safe (`subscribers.formulas.neutralise`) unless `raw=True`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any, TextIO

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from subscribers.formulas import neutralise
from subscribers.import_file import ATTR_PREFIX, EXPORT_COLUMNS, SUPPRESSED
from subscribers.models import (
    MailingList,
    Subscriber,
    SubscriberTag,
    Subscription,
    Suppression,
)
from subscribers.suppression import one_of

CHUNK = 1000


def _attribute_keys(session: Session, list_id: int | None, ids: Select[Any] | None) -> list[str]:
    """Every attribute key used on the list: a first streamed pass over the attributes only."""
    stmt = select(Subscriber.attributes).execution_options(yield_per=CHUNK)
    if list_id is not None:
        stmt = stmt.join(Subscription, Subscription.subscriber_id == Subscriber.id).where(
            Subscription.list_id == list_id
        )
    if ids is not None:
        stmt = stmt.where(Subscriber.id.in_(ids))
    keys: set[str] = set()
    for attributes in session.scalars(stmt):
        keys.update((attributes or {}).keys())
    return sorted(keys)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def export_rows(
    session: Session, mlist: MailingList | None, where: Select[Any] | None = None
) -> Iterator[list[str]]:
    """The header, then one row per subscriber on the list (every status).

    `where` is an optional SELECT of subscriber ids (a segment's, a search's) that narrows the
    rows. Without a list (a search over everyone) the status column is the person's own.
    """
    keys = _attribute_keys(session, mlist.id if mlist else None, where)
    yield [*EXPORT_COLUMNS, *(ATTR_PREFIX + k for k in keys)]
    columns = (
        Subscriber.id,
        Subscriber.email,
        Subscriber.name,
        Subscriber.company,
        Subscriber.language,
        Subscriber.attributes,
    )
    # A suppressed reader is exported as `suppressed` whatever the list says: whoever mails the
    # file from another tool must not mail a hard bounce or a complainer.
    suppressed = exists().where(Suppression.email == Subscriber.email)
    if mlist is not None:
        stmt = (
            select(*columns, Subscription.status, suppressed)
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .where(Subscription.list_id == mlist.id)
        )
    else:
        stmt = select(*columns, Subscriber.status, suppressed)
    stmt = (
        stmt.where(Subscriber.email.is_not(None))
        .order_by(Subscriber.id)
        .execution_options(yield_per=CHUNK)
    )
    if where is not None:
        stmt = stmt.where(Subscriber.id.in_(where))
    for chunk in session.execute(stmt).partitions():
        # One tag query per chunk instead of one per subscriber (psycopg runs it beside the open
        # server-side cursor, inside the same transaction).
        tags: dict[int, list[str]] = {}
        for sid, tag in session.execute(
            select(SubscriberTag.subscriber_id, SubscriberTag.tag).where(
                one_of(session, SubscriberTag.subscriber_id, [r.id for r in chunk])
            )
        ):
            tags.setdefault(sid, []).append(tag)
        for r in chunk:
            attributes = r.attributes or {}
            yield [
                r.email,
                r.name,
                r.company,
                r.language or "",
                ";".join(sorted(tags.get(r.id, []))),  # code-point order on both backends
                SUPPRESSED if r[7] else r[6].value,
                *(_text(attributes.get(k)) for k in keys),
            ]


def iter_csv(
    session: Session,
    mlist: MailingList | None,
    where: Select[Any] | None = None,
    *,
    raw: bool = False,
) -> Iterator[str]:
    """The list as CSV text (RFC 4180, CRLF), one row per chunk: the header, then a subscriber
    per row. Cells are spreadsheet-safe (`neutralise`) unless `raw` asks for the data exactly as
    stored (for programs that read the file, never for a person opening it in a spreadsheet)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in export_rows(session, mlist, where):
        writer.writerow(row if raw else [neutralise(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def export_csv(
    session: Session,
    mlist: MailingList | None,
    out: TextIO,
    where: Select[Any] | None = None,
    *,
    raw: bool = False,
) -> int:
    """Write the list as CSV to `out` (see `iter_csv`); returns the number of subscribers."""
    count = -1
    for count, line in enumerate(iter_csv(session, mlist, where, raw=raw)):  # noqa: B007
        out.write(line)
    return max(count, 0)
