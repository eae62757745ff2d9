"""Tracked links and the open pixel: /r/{token} answers 302 to the issue's own URL, /o/{token}
a 1×1 GIF; both record what happened (mailer/engagement/clicks.py).

A GET here records a click, never changes a reader's subscription. A token that is not ours, was
altered, or names no link of the message answers 404 and records nothing; the target is looked up
in the campaign's link table, never taken from the request (no open redirect).
"""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from mailer.engagement import clicks
from mailer.settings import get_settings
from mailer.web.pages import SecureRoute
from mailer.web.public.forms import PageError, error_page, open_session

router = APIRouter(route_class=SecureRoute)

# The smallest transparent GIF (43 bytes).
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_NO_STORE = {"Cache-Control": "no-store, private", "Referrer-Policy": "no-referrer"}

_UNKNOWN = PageError(404, "bad_tracked_link")


def _follow(token: str, head: bool) -> str:
    settings = get_settings()
    with open_session() as session:
        followed = clicks.follow(session, token, settings.verification_secrets(), head=head)
        session.commit()
        return followed.url


@router.api_route("/r/{token}", methods=["GET", "HEAD"], include_in_schema=False)
async def follow_link(request: Request, token: str) -> Response:
    """302 to the link's own URL, after recording the click (a HEAD is recorded as a machine's)."""
    try:
        url = await run_in_threadpool(_follow, token, request.method == "HEAD")
    except clicks.LinkNotFound:
        return error_page(request, _UNKNOWN)
    return RedirectResponse(url, status_code=302, headers=_NO_STORE)


def _open(token: str) -> None:
    settings = get_settings()
    with open_session() as session:
        clicks.record_open(session, token, settings.verification_secrets())
        session.commit()


@router.get("/o/{token}", include_in_schema=False)
async def open_pixel(request: Request, token: str) -> Response:
    """The open pixel (MAILER_TRACK_OPENS): a transparent GIF, 404 for a token not ours."""
    try:
        await run_in_threadpool(_open, token)
    except clicks.LinkNotFound:
        return Response(status_code=404, headers=_NO_STORE)
    return Response(PIXEL, media_type="image/gif", headers=_NO_STORE)
