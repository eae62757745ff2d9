"""What a request answers when a service it needs is down, or a bug stops it: a page (or the
API's JSON) that says what failed and what to do, never Starlette's bare "Internal Server Error".

Redis (the sign-in and subscribe limits, the broker), the database and the broker are separate
processes: when one is stopped or unreachable, every page that needs it fails alike. Telling the
editor which one, and which setting names it, is the difference between a restart and a hunt.
Readers are told only to try again later: the site's internals are no business of theirs."""

from __future__ import annotations

import logging

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from mailer.services import described, unreachable_service
from mailer.web.pages import add_security_headers

log = logging.getLogger(__name__)

RETRY_AFTER = "30"  # seconds: a restarted Redis or database is back within that, most often


def _admin_message(found: tuple[str, str, str] | None) -> tuple[str, str]:
    if found is None:
        return "Something went wrong", (
            "The server stopped on an error it did not expect (its log, where `mailer web` runs, "
            "has the details). Nothing was changed; if it happens again, report what you did."
        )
    return f"The server cannot reach {found[0]}", (
        f"The server {described(found)}. Nothing was changed. Check that {found[0]} is "
        "running and that the setting points at it, then try again."
    )


def outage_response(request: Request, exc: Exception) -> Response:
    """503 with Retry-After when a service is unreachable, else 500: the admin page names the
    service and its setting, a reader's page says to try again, the API answers JSON."""
    # Imported here: the admin's and public pages' modules import the app's routers' helpers.
    from mailer.web.admin.forms import error_page
    from mailer.web.public.forms import message_page

    found = unreachable_service(exc)
    status = 503 if found else 500
    headers = {"Retry-After": RETRY_AFTER} if found else {}
    heading, message = _admin_message(found)
    path = request.url.path
    response: Response
    if path.startswith(("/api/", "/openapi.json")):
        response = JSONResponse({"detail": message}, status_code=status, headers=headers)
    elif path.startswith("/admin"):
        response = error_page(request, status, heading, message)
        response.headers.update(headers)
    else:
        response = message_page(
            request,
            "This page is unavailable just now",
            [
                "Something on our side is not answering. Nothing was changed: please try "
                "again in a few minutes."
            ],
            status=status,
            kind="error",
            headers=headers,
        )
    add_security_headers(response)
    return response
