"""What a request answers when a service it needs is down, or a bug stops it: a page (or the
API's JSON) that says what failed and what to do, never Starlette's bare "Internal Server Error".

Redis (the sign-in and subscribe limits, the broker), the database and the broker are separate
processes: when one is stopped or unreachable, every page that needs it fails alike. Telling the
editor which one, and which setting names it, is the difference between a restart and a hunt.
Readers are told only to try again later: the site's internals are no business of theirs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from mailer.settings import redact
from mailer.web.pages import add_security_headers

log = logging.getLogger(__name__)

RETRY_AFTER = "30"  # seconds: a restarted Redis or database is back within that, most often

# (top-level module, exception class names) → what it is and the settings that name it.
_SERVICES: tuple[tuple[str, frozenset[str], str, str], ...] = (
    (
        "redis",
        frozenset({"ConnectionError", "TimeoutError", "BusyLoadingError", "AuthenticationError"}),
        "Redis",
        "MAILER_RATELIMIT_STORAGE_URL, else MAILER_BROKER_URL",
    ),
    (
        "sqlalchemy",
        frozenset({"OperationalError", "InterfaceError", "DisconnectionError", "TimeoutError"}),
        "the database",
        "MAILER_DATABASE_URL",
    ),
    ("kombu", frozenset({"OperationalError"}), "the broker", "MAILER_BROKER_URL"),
    ("amqp", frozenset({"ConnectionError", "RecoverableConnectionError"}), "the broker", ""),
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and those it was raised from or during, each once."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def unreachable_service(exc: BaseException) -> tuple[str, str, str] | None:
    """(service, settings naming it, the error's first line, passwords hidden) when `exc` says
    a service could not be reached or answered too late; None for anything else (a bug)."""
    for error in _chain(exc):
        root = type(error).__module__.split(".")[0]
        for module, names, service, settings in _SERVICES:
            if root == module and type(error).__name__ in names:
                detail = redact(str(error).strip().splitlines()[0] if str(error).strip() else "")
                return service, settings or "MAILER_BROKER_URL", detail[:300]
    return None


def _admin_message(found: tuple[str, str, str] | None) -> tuple[str, str]:
    if found is None:
        return "Something went wrong", (
            "The server stopped on an error it did not expect (its log, where `mailer web` runs, "
            "has the details). Nothing was changed; if it happens again, report what you did."
        )
    service, settings, detail = found
    return f"The server cannot reach {service}", (
        f"The server cannot reach {service} ({settings}) just now"
        + (f": {detail.rstrip('.')}" if detail else "")
        + f". Nothing was changed. Check that {service} is running and that the setting "
        "points at it, then try again."
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
