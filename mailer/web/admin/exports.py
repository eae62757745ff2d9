"""Downloads from the admin area: a subscriber search as CSV (the same spreadsheet-safe writer as
`mailer subscribers export`), and one person's data as JSON (GDPR access, as
`mailer subscribers export-data` prints it).

Each download's name goes through the one file-name rule (`mailer.filenames.file_name`) and
`content_disposition`: a list slug stored by another door cannot put a quote, a path or a line
break into the header."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import Path, Response
from fastapi.responses import StreamingResponse

from mailer.db import get_sessionmaker
from mailer.filenames import file_name
from mailer.headers import content_disposition
from mailer.inbound.access import inbound_sections
from mailer.settings import get_settings
from mailer.web.admin.forms import DB, Admin, protected_router
from mailer.web.admin.search import Params
from mailer.web.admin.subscribers import subscriber_or_404
from subscribers.exporting import iter_csv
from subscribers.gdpr import export_data
from subscribers.models import MailingList

router = protected_router()


@router.get("/subscribers/export.csv")
def export_search(session: DB, admin: Admin, params: Params) -> Response:
    """The search's matches as CSV, every row (not one page), in subscriber-id order. With a list
    filter the rows and status column are the list's, as the list export's; without one the
    status is the person's. Streamed from a session of its own that lives as long as the
    download; a bad search is refused before the first byte."""
    wanted = params.to_search(session)
    wanted.conditions()  # a bad expression is a 422 page, not a broken download
    list_id = wanted.list_id
    name = params.list or "subscribers"

    def lines() -> Iterator[str]:
        with get_sessionmaker()() as own:
            mlist = own.get_one(MailingList, list_id) if list_id is not None else None
            yield from iter_csv(own, mlist, wanted.ids())

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": content_disposition(
                file_name(name + "-search.csv", "subscribers-search.csv")
            ),
            "Cache-Control": "no-store",
        },
    )


@router.get("/subscribers/{subscriber_id}/export.json")
def export_person(
    subscriber_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: DB, admin: Admin
) -> Response:
    """GDPR access (art. 15): everything held about the person, bounces and inquiries included."""
    sub = subscriber_or_404(session, subscriber_id)
    data = export_data(session, sub.email or "", get_settings().secret())
    inbound_sections(session, data)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json; charset=utf-8",
        headers={
            "Content-Disposition": content_disposition(file_name(f"subscriber-{sub.id}.json")),
            "Cache-Control": "no-store",
        },
    )
