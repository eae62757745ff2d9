"""CSV import of subscribers into a list from the admin area: the same report as
`mailer subscribers import` (good rows imported, bad rows named by row and column)."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import File, Request, Response, UploadFile

from mailer.settings import get_settings
from mailer.web.admin.forms import DB, Admin, protected_router
from mailer.web.admin.lists import list_or_404, render_list_page
from mailer.web.errors import user_message
from subscribers.errors import SubscribersError
from subscribers.importing import import_csv_file

router = protected_router()


@router.post("/lists/{slug}/import")
async def import_subscribers(
    request: Request,
    slug: str,
    session: DB,
    admin: Admin,
    file: Annotated[UploadFile, File(description="CSV: email,name,company,language,tags")],
) -> Response:
    mlist = list_or_404(session, slug)
    filename = (file.filename or "upload.csv").replace("/", "_")[-200:]
    data = await file.read()
    try:
        report = import_csv_file(
            session,
            mlist,
            io.BytesIO(data),
            filename,
            get_settings().secret(),
            total_bytes=len(data),
        )
        session.commit()
    except SubscribersError as exc:
        session.rollback()
        return render_list_page(
            request, session, admin, mlist, error=user_message(exc), status_code=422
        )
    return render_list_page(request, session, admin, mlist, report=report)
