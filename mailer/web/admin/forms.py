"""What every admin page shares: the route class (login required, CSRF checked, errors as pages),
the admin's session, post/redirect/get with a flash message, and the page renderer."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from mailer.accounts import AdminUser
from mailer.errors import MailerError
from mailer.settings import get_settings
from mailer.web import auth, queries
from mailer.web.errors import http_status, user_message
from mailer.web.inputs import unfit_path, unstorable_input
from mailer.web.pages import SecureRoute, page
from subscribers import lifecycle
from subscribers.errors import SubscribersError

FLASH_COOKIE = "mailer_flash"


class AdminRoute(SecureRoute):
    """Anonymous → redirect to the login page; a POST without the CSRF token → 403 page; a
    path holding a NUL or control character → 404 page; a field or query parameter holding what
    cannot be stored (a NUL) → 422 page naming it (mailer.web.inputs).
    Admin pages are never cached (they show live data and carry the CSRF token)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                if unfit_path(request):
                    response = not_found_page(request)
                elif refused := await unstorable_input(request):
                    response = _error_page(request, 422, "That did not work", refused)
                else:
                    response = await handler(request)
            except auth.LoginRequired as exc:
                target = "/admin/login"
                if exc.next_url:
                    target += "?next=" + quote(exc.next_url, safe="/")
                response = RedirectResponse(target, status_code=303)
            except auth.CsrfRejected as exc:
                response = _error_page(request, 403, *CSRF_PAGES[exc.reason])
            except (MailerError, SubscribersError) as exc:
                status = http_status(exc) or 422
                heading = "Not found" if status == 404 else "That did not work"
                response = _error_page(request, status, heading, user_message(exc))
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return guarded


# What a refused form post says, by auth.CsrfRejected.reason: (heading, message).
CSRF_PAGES: dict[str, tuple[str, str]] = {
    "cookie": (
        "The request could not be verified",
        "Your browser sent no valid session cookie with the form: it may block cookies for this "
        "site, or the session ran out. Allow cookies for this site, reload the page and try "
        "again. Nothing was changed.",
    ),
    "token": (
        "This form has expired",
        "The form's security token does not match your session: the page was probably opened "
        "before you last signed in or out. Reload the page and try again. Nothing was changed.",
    ),
    "origin": (
        "The request could not be verified",
        "Your browser did not say which page sent the form (no Origin or Referer header), or it "
        "came from another site. Reload the page and send the form from there; a privacy "
        "setting or extension that removes the Referer header also causes this. Nothing was "
        "changed.",
    ),
}


def not_found_page(request: Request) -> Response:
    """The admin's own 404 for a path no admin route has (or a path parameter no page takes)."""
    return _error_page(
        request,
        404,
        "Not found",
        f"There is no admin page at {request.url.path}. The menu above lists them; segments "
        "are per list, under Lists.",
    )


def invalid_input_page(request: Request, errors: Sequence[Any]) -> Response:
    """The 422 page for a form or address the admin's pages refuse before they run (FastAPI's
    validation: a value past its field's length, a page number that is no number): each field
    named with what it takes, where an API client gets JSON."""
    problems = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        where = {"body": "form field", "query": "parameter", "header": "header"}.get(
            loc[0] if loc else "", "value"
        )
        name = loc[-1] if len(loc) > 1 else where
        value = error.get("input")
        limit = (error.get("ctx") or {}).get("max_length")
        if error.get("type") == "string_too_long" and isinstance(value, str) and limit:
            problems.append(
                f"The {where} “{name}” is {len(value):,} characters long; at most {limit:,} "
                "are taken."
            )
        else:
            problems.append(f"The {where} “{name}”: {error.get('msg', 'not valid')}.")
    message = " ".join(problems[:5]) + " Go back, correct it and try again. Nothing was changed."
    return _error_page(request, 422, "That did not work", message)


def unreadable_form_page(request: Request, detail: str) -> Response:
    """The 400 page for a form the server could not read at all (starlette's multipart parser:
    a text field over its 1 MB part limit, a broken body), where a person used to get JSON."""
    hint = ""
    if "maximum size" in detail:
        hint = " A text field holds at most 1 MB: upload a longer issue as a file instead."
    message = f"The form could not be read ({detail.rstrip('.')}).{hint} Nothing was changed."
    return _error_page(request, 400, "That did not work", message)


def error_page(request: Request, status: int, heading: str, message: str) -> Response:
    """The admin's error page, for the app's own handlers (a service down: mailer.web.outages)."""
    return _error_page(request, status, heading, message)


def _error_page(request: Request, status: int, heading: str, message: str) -> Response:
    data = session_data(request)
    return page(
        request,
        "admin/error.html.j2",
        {
            "title": heading,
            "heading": heading,
            "message": message,
            "admin": None,
            "csrf": data.csrf if data else "",
            "active": "",
            "admin_nav": [],
            "flash": None,
            "error": None,
        },
        status_code=status,
    )


DB = Annotated[Session, Depends(queries.db)]


def session_data(request: Request) -> auth.SessionData | None:
    return auth.decode_session(request.cookies.get(auth.SESSION_COOKIE), get_settings())


def current_admin(request: Request, session: DB) -> AdminUser:
    user = auth.session_user(session, session_data(request))
    if user is None:
        next_url = request.url.path if request.method == "GET" else ""
        if next_url and request.url.query:
            next_url += "?" + request.url.query
        raise auth.LoginRequired(next_url)
    return user


async def check_csrf(request: Request) -> None:
    """Every state-changing request carries the session's token (form field or header)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    submitted = request.headers.get(auth.CSRF_HEADER)
    if not submitted:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(auth.CSRF_FIELD)
            submitted = value if isinstance(value, str) else None
    auth.check_request(request, session_data(request), submitted)


Admin = Annotated[AdminUser, Depends(current_admin)]


def protected_router() -> APIRouter:
    """A router for pages under /admin: login required, CSRF checked on every POST."""
    return APIRouter(
        prefix="/admin",
        route_class=AdminRoute,
        include_in_schema=False,
        dependencies=[Depends(current_admin), Depends(check_csrf)],
    )


def _flash_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret(), salt="mailer.admin.flash")


def redirect(url: str, message: str = "", kind: str = "notice") -> RedirectResponse:
    """Post/redirect/get, carrying a one-time message in a short-lived signed cookie."""
    response = RedirectResponse(url, status_code=303)
    if message:
        response.set_cookie(
            FLASH_COOKIE,
            _flash_serializer().dumps([kind, message]),
            max_age=60,
            path="/admin",
            httponly=True,
            samesite="lax",
            secure=get_settings().public_url.startswith("https://"),
        )
    return response


def take_flash(request: Request) -> tuple[str, str] | None:
    value = request.cookies.get(FLASH_COOKIE)
    if not value:
        return None
    try:
        kind, message = _flash_serializer().loads(value, max_age=60)
    except (BadSignature, ValueError, TypeError):
        return None
    return str(kind), str(message)


def nav_items() -> list[tuple[str, str, str]]:
    items = [
        ("dashboard", "Dashboard", "/admin"),
        ("lists", "Lists", "/admin/lists"),
        ("subscribers", "Subscribers", "/admin/subscribers"),
        ("issues", "Issues", "/admin/issues"),
        ("campaigns", "Campaigns", "/admin/campaigns"),
    ]
    items.append(("inquiries", "Inquiries", "/admin/inquiries"))
    items.append(("bounces", "Bounces", "/admin/bounces"))
    items.append(("suppressions", "Suppressions", "/admin/suppressions"))
    items.append(("users", "Users", "/admin/users"))
    items.append(("tokens", "API tokens", "/admin/tokens"))
    items.append(("settings", "Settings", "/admin/settings"))
    return items


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    admin: AdminUser | None,
    active: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    data = session_data(request)
    flash = take_flash(request)
    ctx = {
        "admin": admin,
        "csrf": data.csrf if data else "",
        "active": active,
        "admin_nav": nav_items(),
        "flash": flash,
        "error": None,
        **context,
    }
    response = page(request, f"admin/{name}", ctx, status_code=status_code, headers=headers)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/admin")
    return response


def split_tags(raw: str) -> list[str]:
    return lifecycle.split_tags(raw)  # the importer's rule: `;`, `,` or `|`
