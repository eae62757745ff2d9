"""The admin area under /admin: server-rendered pages for editors.

Every page but the login form requires a session (see mailer/web/auth.py); anonymous requests are
redirected to the login page. Every POST must carry the session's CSRF token (403 otherwise, before
anything is read or changed). Pages reuse the domain functions the CLI uses, so the web and the
command line give the same answers and the same error messages: lists and subscribers
(subscribers.*), CSV import (`import_csv_file`, the same report as the CLI), segments, issues
(import, preview, test send), campaigns (mailer.campaigns; started after the commit, in a
background thread when there is no broker — see mailer/web/sending.py).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Coroutine
from dataclasses import asdict
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer import campaigns, models
from mailer.cli.send import parse_when
from mailer.db import get_sessionmaker
from mailer.errors import MailerError
from mailer.errors import NotFound as MailerNotFound
from mailer.issues import content_of, get_issue, parse_issue, store_issue
from mailer.models import AdminUser, Campaign, CampaignStatus, Issue
from mailer.render import Personal, compile_personal_template, render_email_parts
from mailer.settings import get_settings
from mailer.web import auth, queries, sending
from mailer.web.pages import SecureRoute, page
from subscribers import segments
from subscribers.errors import NotFound as SubscribersNotFound
from subscribers.errors import SegmentSyntaxError, SubscribersError
from subscribers.importing import import_csv_file
from subscribers.languages import parse_language
from subscribers.lifecycle import (
    COMPANY_MAX,
    NAME_MAX,
    add_subscriber,
    clean_tags,
    clean_text,
    describe_subscriptions,
    unsubscribe,
)
from subscribers.lists import create_list, get_list, list_lists
from subscribers.models import (
    MailingList,
    Segment,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from subscribers.suppression import get_suppression

FLASH_COOKIE = "mailer_flash"
PAGE_SIZE = 50
PREVIEW_NAME = "Sample Reader"
PREVIEW_EMAIL = "reader@example.com"
FINAL = {CampaignStatus.DONE.value, CampaignStatus.CANCELLED.value}

# The email preview is our own rendered HTML with inline styles, shown in a sandboxed frame.
PREVIEW_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; "
        "font-src data:; frame-ancestors 'self'; sandbox"
    ),
    "X-Frame-Options": "SAMEORIGIN",
}


# --- routing: login required, CSRF checked -----------------------------------------------------


class AdminRoute(SecureRoute):
    """Anonymous → redirect to the login page; a POST without the CSRF token → 403 page.
    Admin pages are never cached (they show live data and carry the CSRF token)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                response = await handler(request)
            except auth.LoginRequired as exc:
                target = "/admin/login"
                if exc.next_url:
                    target += "?next=" + quote(exc.next_url, safe="/")
                response = RedirectResponse(target, status_code=303)
            except auth.CsrfRejected:
                response = _error_page(
                    request,
                    403,
                    "This form has expired",
                    "The page was open too long or came from elsewhere. Go back, reload the "
                    "page and try again. Nothing was changed.",
                )
            except (MailerNotFound, SubscribersNotFound) as exc:
                response = _error_page(request, 404, "Not found", str(exc))
            except (MailerError, SubscribersError) as exc:
                response = _error_page(request, 422, "That did not work", str(exc))
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return guarded


def _error_page(request: Request, status: int, heading: str, message: str) -> Response:
    data = _session_data(request)
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


def _session_data(request: Request) -> auth.SessionData | None:
    return auth.decode_session(request.cookies.get(auth.SESSION_COOKIE), get_settings())


def current_admin(request: Request, session: DB) -> AdminUser:
    user = auth.session_user(session, _session_data(request))
    if user is None:
        next_url = request.url.path if request.method == "GET" else ""
        if next_url and request.url.query:
            next_url += "?" + request.url.query
        raise auth.LoginRequired(next_url)
    return user


def _same_origin(request: Request) -> bool:
    """A browser's Origin header, when sent, must name this site (defence in depth)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


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
    if not auth.csrf_matches(_session_data(request), submitted) or not _same_origin(request):
        raise auth.CsrfRejected()


Admin = Annotated[AdminUser, Depends(current_admin)]

router = APIRouter(route_class=AdminRoute, include_in_schema=False)
protected = APIRouter(
    prefix="/admin",
    route_class=AdminRoute,
    include_in_schema=False,
    dependencies=[Depends(current_admin), Depends(check_csrf)],
)


# --- rendering helpers -------------------------------------------------------------------------


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


def _take_flash(request: Request) -> tuple[str, str] | None:
    value = request.cookies.get(FLASH_COOKIE)
    if not value:
        return None
    try:
        kind, message = _flash_serializer().loads(value, max_age=60)
    except (BadSignature, ValueError, TypeError):
        return None
    return str(kind), str(message)


def _has(model: str) -> bool:
    return hasattr(models, model)


def nav_items() -> list[tuple[str, str, str]]:
    items = [
        ("dashboard", "Dashboard", "/admin"),
        ("lists", "Lists", "/admin/lists"),
        ("issues", "Issues", "/admin/issues"),
        ("campaigns", "Campaigns", "/admin/campaigns"),
    ]
    if _has("Inquiry"):
        items.append(("inquiries", "Inquiries", "/admin/inquiries"))
    if _has("BounceEvent"):
        items.append(("bounces", "Bounces", "/admin/bounces"))
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
    data = _session_data(request)
    flash = _take_flash(request)
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


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_limiter(request: Request) -> Any:
    state = request.app.state
    limiter = getattr(state, "admin_login_limiter", None)
    if limiter is None:
        limiter = auth.login_limiter(get_settings())
        state.admin_login_limiter = limiter
    return limiter


def _safe_next(value: str | None) -> str:
    """Only a path inside the admin area (never another site: no open redirect)."""
    if value and value.startswith("/admin") and not value.startswith("//") and "\\" not in value:
        return value
    return "/admin"


def _set_session(response: Response, data: auth.SessionData) -> None:
    settings = get_settings()
    response.set_cookie(value=auth.encode_session(data, settings), **auth.cookie_options(settings))


# --- login / logout ----------------------------------------------------------------------------


@router.get("/admin/login")
def login_form(request: Request, session: DB, next: str = "") -> Response:  # noqa: A002
    data = _session_data(request)
    if auth.session_user(session, data) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    if data is None:
        data = auth.new_session()
    response = _login_page(request, data, next_url=_safe_next(next), email="", error=None)
    _set_session(response, data)
    return response


def _login_page(
    request: Request,
    data: auth.SessionData,
    *,
    next_url: str,
    email: str,
    error: str | None,
    status_code: int = 200,
) -> Response:
    flash = _take_flash(request)
    response = page(
        request,
        "admin/login.html.j2",
        {
            "title": "Sign in",
            "admin": None,
            "csrf": data.csrf,
            "active": "",
            "admin_nav": [],
            "flash": flash,
            "next_url": next_url,
            "email": email,
            "error": error,
        },
        status_code=status_code,
    )
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/admin")
    return response


@router.post("/admin/login")
def login(
    request: Request,
    session: DB,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/admin",  # noqa: A002
) -> Response:
    data = _session_data(request)
    if not auth.csrf_matches(data, csrf_token) or not _same_origin(request):
        raise auth.CsrfRejected()
    assert data is not None
    limiter = _login_limiter(request)
    ip = _client_ip(request)
    if not auth.login_allowed(limiter, ip, email):
        return _login_page(
            request,
            data,
            next_url=_safe_next(next),
            email=email,
            error="Too many failed sign-in attempts. Wait a minute, then try again.",
            status_code=429,
        )
    user = auth.authenticate(session, email, password)
    if user is None:
        auth.record_failed_login(limiter, ip, email)
        return _login_page(
            request,
            data,
            next_url=_safe_next(next),
            email=email,
            error="That address and password do not match an admin account.",
            status_code=401,
        )
    session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    _set_session(response, auth.new_session(user))
    return response


@protected.post("/logout")
def logout(session: DB, admin: Admin) -> Response:
    auth.revoke_sessions(admin)
    session.commit()
    response = redirect("/admin/login", "You are signed out.")
    settings = get_settings()
    opts = auth.cookie_options(settings)
    response.delete_cookie(
        auth.SESSION_COOKIE,
        path=opts["path"],
        secure=opts["secure"],
        httponly=True,
        samesite="lax",
    )
    return response


# --- dashboard ---------------------------------------------------------------------------------


@protected.get("")
def dashboard(request: Request, session: DB, admin: Admin) -> Response:
    stats = {
        "lists": session.scalar(select(func.count()).select_from(MailingList)) or 0,
        "active": session.scalar(
            select(func.count(func.distinct(Subscription.subscriber_id))).where(
                Subscription.status == SubscriptionStatus.ACTIVE
            )
        )
        or 0,
        "issues": session.scalar(select(func.count()).select_from(Issue)) or 0,
        "sending": session.scalar(
            select(func.count()).where(Campaign.status == CampaignStatus.SENDING)
        )
        or 0,
    }
    return render(
        request,
        "dashboard.html.j2",
        {
            "title": "Dashboard",
            "stats": stats,
            "campaigns": queries.recent_campaigns(session, 8),
            "inquiries": _inquiries(session, 5, waiting_only=True),
            "has_inquiries": _has("Inquiry"),
        },
        admin=admin,
        active="dashboard",
    )


# --- lists and subscribers ---------------------------------------------------------------------


@protected.get("/lists")
def lists_page(request: Request, session: DB, admin: Admin) -> Response:
    return render(
        request,
        "lists.html.j2",
        {"title": "Lists", "lists": list_lists(session), "form": {}},
        admin=admin,
        active="lists",
    )


@protected.post("/lists")
def create_list_(
    request: Request,
    session: DB,
    admin: Admin,
    slug: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        mlist = create_list(session, slug.strip(), name, description.strip())
        session.commit()
    except SubscribersError as exc:
        session.rollback()
        return render(
            request,
            "lists.html.j2",
            {
                "title": "Lists",
                "lists": list_lists(session),
                "form": {"slug": slug, "name": name, "description": description},
                "error": str(exc),
            },
            admin=admin,
            active="lists",
            status_code=422,
        )
    return redirect(f"/admin/lists/{mlist.slug}", f"List {mlist.slug} created.")


def _list_or_404(session: Session, slug: str) -> MailingList:
    return get_list(session, slug)


def _list_page(
    request: Request,
    session: Session,
    admin: AdminUser,
    mlist: MailingList,
    *,
    q: str = "",
    status: str = "",
    page_no: int = 1,
    form: dict[str, str] | None = None,
    error: str | None = None,
    report: Any = None,
    status_code: int = 200,
) -> Response:
    total, rows = queries.search_subscribers(
        session,
        list_id=mlist.id,
        q=q,
        status=status or None,
        limit=PAGE_SIZE,
        offset=(page_no - 1) * PAGE_SIZE,
    )
    summary = next((s for s in list_lists(session) if s.slug == mlist.slug), None)
    return render(
        request,
        "list.html.j2",
        {
            "title": mlist.name,
            "mlist": mlist,
            "summary": summary,
            "rows": rows,
            "total": total,
            "q": q,
            "status": status,
            "page_no": page_no,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "form": form or {},
            "error": error,
            "report": report,
            "statuses": [s.value for s in SubscriptionStatus],
        },
        admin=admin,
        active="lists",
        status_code=status_code,
    )


@protected.get("/lists/{slug}")
def list_page(
    request: Request,
    slug: str,
    session: DB,
    admin: Admin,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=100000)] = 1,
) -> Response:
    mlist = _list_or_404(session, slug)
    if status not in {s.value for s in SubscriptionStatus}:
        status = ""
    return _list_page(request, session, admin, mlist, q=q, status=status, page_no=page_no)


def _split_tags(raw: str) -> list[str]:
    return [t.strip() for t in raw.replace(";", ",").split(",") if t.strip()]


@protected.post("/lists/{slug}/subscribers")
def add_subscriber_(
    request: Request,
    slug: str,
    session: DB,
    admin: Admin,
    email: Annotated[str, Form(max_length=320)] = "",
    name: Annotated[str, Form(max_length=400)] = "",
    company: Annotated[str, Form(max_length=400)] = "",
    language: Annotated[str, Form(max_length=20)] = "",
    tags: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    mlist = _list_or_404(session, slug)
    try:
        result = add_subscriber(
            session,
            mlist,
            email,
            get_settings().secret(),
            name=name,
            company=company,
            language=language or None,
            tags=_split_tags(tags),
            consent_method="admin",
            consent_source=f"admin: {admin.email}",
        )
        session.commit()
    except SubscribersError as exc:
        session.rollback()
        form = {"email": email, "name": name, "company": company, "language": language}
        form["tags"] = tags
        return _list_page(
            request, session, admin, mlist, form=form, error=str(exc), status_code=422
        )
    what = "added to" if result.created else "already on"
    return redirect(f"/admin/lists/{mlist.slug}", f"{result.subscriber.email} {what} the list.")


@protected.post("/lists/{slug}/import")
async def import_subscribers(
    request: Request,
    slug: str,
    session: DB,
    admin: Admin,
    file: Annotated[UploadFile, File(description="CSV: email,name,company,language,tags")],
) -> Response:
    mlist = _list_or_404(session, slug)
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
        return _list_page(request, session, admin, mlist, error=str(exc), status_code=422)
    return _list_page(request, session, admin, mlist, report=report)


def _subscriber_or_404(session: Session, subscriber_id: int) -> Subscriber:
    sub = session.get(Subscriber, subscriber_id)
    if sub is None or sub.email is None:
        raise SubscribersNotFound(f"no subscriber {subscriber_id} (erased or never existed)")
    return sub


def _subscriber_page(
    request: Request,
    session: Session,
    admin: AdminUser,
    sub: Subscriber,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    suppression = get_suppression(session, sub.email or "", get_settings().secret())
    return render(
        request,
        "subscriber.html.j2",
        {
            "title": sub.email,
            "sub": sub,
            "subscriptions": describe_subscriptions(session, sub),
            "suppression": suppression,
            "form": form
            or {
                "name": sub.name,
                "company": sub.company,
                "language": sub.language or "",
                "tags": ", ".join(sub.tags),
            },
            "error": error,
        },
        admin=admin,
        active="lists",
        status_code=status_code,
    )


@protected.get("/subscribers/{subscriber_id}")
def subscriber_page(
    request: Request,
    subscriber_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: DB,
    admin: Admin,
) -> Response:
    return _subscriber_page(request, session, admin, _subscriber_or_404(session, subscriber_id))


@protected.post("/subscribers/{subscriber_id}")
def edit_subscriber(
    request: Request,
    subscriber_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: DB,
    admin: Admin,
    name: Annotated[str, Form(max_length=400)] = "",
    company: Annotated[str, Form(max_length=400)] = "",
    language: Annotated[str, Form(max_length=20)] = "",
    tags: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    sub = _subscriber_or_404(session, subscriber_id)
    try:
        sub.name = clean_text(name, "name", NAME_MAX)
        sub.company = clean_text(company, "company", COMPANY_MAX)
        sub.language = parse_language(language) if language.strip() else None
        sub.set_tags(clean_tags(_split_tags(tags)))
        session.commit()
    except SubscribersError as exc:
        session.rollback()
        form = {"name": name, "company": company, "language": language, "tags": tags}
        return _subscriber_page(
            request, session, admin, sub, error=str(exc), form=form, status_code=422
        )
    return redirect(f"/admin/subscribers/{sub.id}", "Changes saved.")


@protected.post("/subscribers/{subscriber_id}/unsubscribe")
def unsubscribe_(
    subscriber_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: DB,
    admin: Admin,
    list_slug: Annotated[str, Form(alias="list", max_length=64)] = "",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    sub = _subscriber_or_404(session, subscriber_id)
    mlist = get_list(session, list_slug)
    subscription = session.scalar(
        select(Subscription).where(
            Subscription.subscriber_id == sub.id, Subscription.list_id == mlist.id
        )
    )
    if subscription is None:
        raise SubscribersNotFound(f"{sub.email} is not on list {mlist.slug}")
    unsubscribe(session, subscription, f"removed by an admin ({admin.email})")
    session.commit()
    target = back if back.startswith("/admin/") and not back.startswith("//") else ""
    return redirect(
        target or f"/admin/subscribers/{sub.id}", f"{sub.email} unsubscribed from {mlist.slug}."
    )


# --- segments ----------------------------------------------------------------------------------


def _segments_page(
    request: Request,
    session: Session,
    admin: AdminUser,
    mlist: MailingList,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "segments.html.j2",
        {
            "title": f"Segments of {mlist.slug}",
            "mlist": mlist,
            "segments": queries.segment_rows(session, mlist.id),
            "everyone": segments.count(session, mlist.id, None),
            "form": form or {},
            "error": error,
        },
        admin=admin,
        active="lists",
        status_code=status_code,
    )


@protected.get("/lists/{slug}/segments")
def segments_page(request: Request, slug: str, session: DB, admin: Admin) -> Response:
    return _segments_page(request, session, admin, _list_or_404(session, slug))


@protected.post("/lists/{slug}/segments")
def create_segment_(
    request: Request,
    slug: str,
    session: DB,
    admin: Admin,
    segment_slug: Annotated[str, Form(alias="slug", max_length=64)] = "",
    expression: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    mlist = _list_or_404(session, slug)
    try:
        seg = segments.create_segment(session, mlist.id, segment_slug.strip(), expression)
        n = segments.count(session, mlist.id, seg.expression)
        session.commit()
    except SubscribersError as exc:
        session.rollback()
        return _segments_page(
            request,
            session,
            admin,
            mlist,
            form={"slug": segment_slug, "expression": expression},
            error=str(exc),
            status_code=422,
        )
    return redirect(
        f"/admin/lists/{mlist.slug}/segments", f"Segment {seg.slug} saved: {n} recipients now."
    )


@protected.get("/lists/{slug}/segments/count")
def count_segment(
    slug: str,
    session: DB,
    admin: Admin,
    expression: Annotated[str, Query(max_length=2000)] = "",
) -> JSONResponse:
    """The live count behind the segment editor: {"count": n} or {"error": caret message}."""
    mlist = _list_or_404(session, slug)
    text = expression.strip() or None
    try:
        n = segments.count(session, mlist.id, text)
    except SegmentSyntaxError as exc:
        return JSONResponse({"error": str(exc), "column": exc.column}, status_code=422)
    except SubscribersError as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)
    return JSONResponse({"count": n, "expression": text})


# --- issues ------------------------------------------------------------------------------------


def _issues_page(
    request: Request,
    session: Session,
    admin: AdminUser,
    *,
    error: str | None = None,
    pasted: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "issues.html.j2",
        {
            "title": "Issues",
            "issues": queries.recent_issues(session),
            "error": error,
            "pasted": pasted,
        },
        admin=admin,
        active="issues",
        status_code=status_code,
    )


@protected.get("/issues")
def issues_page(request: Request, session: DB, admin: Admin) -> Response:
    return _issues_page(request, session, admin)


def _decode_issue(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MailerError(
            f"{name}:{line}: the file is not UTF-8 text (save it as UTF-8 and upload it again)"
        ) from None


@protected.post("/issues")
async def import_issue_(
    request: Request,
    session: DB,
    admin: Admin,
    file: Annotated[UploadFile | None, File()] = None,
    text: Annotated[str, Form(max_length=1_000_000)] = "",
) -> Response:
    """Import from an uploaded file or pasted text (re-importing a slug updates that issue)."""
    try:
        if file is not None and file.filename:
            name = file.filename.replace("/", "_")[-200:]
            source = _decode_issue(await file.read(), name)
        elif text.strip():
            name, source = "pasted text", text.replace("\r\n", "\n")
        else:
            raise MailerError("choose a file to upload or paste the issue's text")
        content, fmt = parse_issue(source, path=name)
        result = store_issue(session, content, source_text=source, source_format=fmt)
        slug = result.issue.slug
        session.commit()
    except (MailerError, SubscribersError) as exc:
        session.rollback()
        return _issues_page(request, session, admin, error=str(exc), pasted=text, status_code=422)
    verb = "imported" if result.created else "updated"
    return redirect(f"/admin/issues/{slug}", f"Issue {verb}: {len(content.items)} items.")


def _audiences(session: Session) -> list[tuple[MailingList, list[Segment]]]:
    mlists = session.scalars(select(MailingList).order_by(MailingList.slug)).all()
    return [(m, segments.list_segments(session, m.id)) for m in mlists]


def _issue_page(
    request: Request,
    session: Session,
    admin: AdminUser,
    issue: Issue,
    *,
    error: str | None = None,
    send_error: str | None = None,
    test_error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    sent = session.scalars(
        select(Campaign).where(Campaign.issue_id == issue.id).order_by(Campaign.id.desc())
    ).all()
    return render(
        request,
        "issue.html.j2",
        {
            "title": issue.title,
            "issue": issue,
            "items": sorted(issue.items, key=lambda i: i.position),
            "audiences": _audiences(session),
            "campaigns": [queries.campaign_summary(session, c.id) for c in sent],
            "error": error,
            "send_error": send_error,
            "test_error": test_error,
            "form": form or {},
            "tz": datetime.now().astimezone().strftime("%Z (UTC%z)"),
        },
        admin=admin,
        active="issues",
        status_code=status_code,
    )


@protected.get("/issues/{slug}")
def issue_page(request: Request, slug: str, session: DB, admin: Admin) -> Response:
    return _issue_page(request, session, admin, get_issue(session, slug))


@lru_cache(maxsize=8)
def _preview_html(issue_id: int, version: str, database_url: str, public_url: str) -> str:
    """The email as a sample reader sees it (cached per issue version)."""
    settings = get_settings()
    factory = get_sessionmaker()
    with factory() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        content = content_of(issue)
    html_template, _text, _ctx = render_email_parts(content, settings)
    personal = Personal(
        email=PREVIEW_EMAIL,
        name=PREVIEW_NAME,
        unsubscribe_url=f"{settings.public_url}/u/preview",
        preferences_url=f"{settings.public_url}/u/preview",
    )
    return compile_personal_template("html", html_template).render(asdict(personal))


@lru_cache(maxsize=4)
def _preview_pdf(issue_id: int, version: str, database_url: str) -> tuple[bytes, str]:
    from mailer.pdf import render_pdf

    settings = get_settings()
    factory = get_sessionmaker()
    with factory() as session:
        issue = session.get(Issue, issue_id)
        assert issue is not None
        content = content_of(issue)
        name = issue.pdf_name
    return render_pdf(content, settings), name


@protected.get("/issues/{slug}/preview.html")
def preview_html(slug: str, session: DB, admin: Admin) -> Response:
    issue = get_issue(session, slug)
    settings = get_settings()
    html = _preview_html(
        issue.id, issue.updated_at.isoformat(), settings.database_url, settings.public_url
    )
    return HTMLResponse(html, headers=PREVIEW_HEADERS)


@protected.get("/issues/{slug}/preview.pdf")
def preview_pdf(slug: str, session: DB, admin: Admin) -> Response:
    issue = get_issue(session, slug)
    pdf, name = _preview_pdf(issue.id, issue.updated_at.isoformat(), get_settings().database_url)
    safe = "".join(c for c in name if c.isalnum() or c in "-_.") or "issue"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{safe}.pdf"'},
    )


@protected.post("/issues/{slug}/test")
def test_send(
    request: Request,
    slug: str,
    session: DB,
    admin: Admin,
    addresses: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    from mailer import tasks
    from subscribers.addresses import parse_address

    issue = get_issue(session, slug)
    wanted = [a.strip() for a in addresses.replace(";", ",").replace("\n", ",").split(",")]
    wanted = [a for a in wanted if a]
    try:
        if not wanted:
            raise MailerError("give at least one address for the test copy")
        if len(wanted) > 10:
            raise MailerError("at most 10 test addresses at a time")
        clean = [parse_address(a).email for a in wanted]
        results = tasks.send_test_copies(issue.id, clean)
    except (MailerError, SubscribersError) as exc:
        return _issue_page(
            request,
            session,
            admin,
            issue,
            test_error=str(exc),
            form={"addresses": addresses},
            status_code=422,
        )
    refused = {a: r for a, r in results.items() if not r.accepted}
    if refused:
        detail = "; ".join(f"{a}: {r}" for a, r in refused.items())
        return _issue_page(
            request,
            session,
            admin,
            issue,
            test_error=f"not sent — {detail}",
            form={"addresses": addresses},
            status_code=502,
        )
    return redirect(f"/admin/issues/{slug}", "Test copy sent to " + ", ".join(results) + ".")


def _parse_audience(value: str) -> tuple[str, str | None]:
    """`list-slug` or `list-slug/segment-slug` from the audience menu."""
    list_slug, _, segment = value.partition("/")
    return list_slug, segment or None


@protected.post("/issues/{slug}/send")
def send(
    request: Request,
    slug: str,
    session: DB,
    admin: Admin,
    audience: Annotated[str, Form(max_length=200)] = "",
    where: Annotated[str, Form(max_length=2000)] = "",
    at: Annotated[str, Form(max_length=40)] = "",
    force_resend: Annotated[bool, Form()] = False,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """First post: show what the send would reach. Second post (confirm=yes): create and start."""
    issue = get_issue(session, slug)
    form = {"audience": audience, "where": where, "at": at}
    list_slug, segment = _parse_audience(audience)
    try:
        if not list_slug:
            raise MailerError("choose a list to send to")
        resolved = campaigns.resolve_audience(
            session,
            issue,
            list_slug,
            segment=segment,
            where=where.strip() or None,
            force_resend=force_resend,
        )
        scheduled_at = parse_when(at) if at.strip() else None
    except (MailerError, SubscribersError) as exc:
        return _issue_page(
            request, session, admin, issue, send_error=str(exc), form=form, status_code=422
        )
    if confirm != "yes":
        return render(
            request,
            "send_confirm.html.j2",
            {
                "title": f"Send {issue.title}",
                "issue": issue,
                "audience": resolved,
                "segment": segment,
                "form": form,
                "force_resend": force_resend,
                "scheduled_at": scheduled_at,
            },
            admin=admin,
            active="issues",
        )
    campaign = campaigns.create(
        session,
        issue,
        resolved,
        scheduled_at=scheduled_at,
        force_resend=force_resend,
        created_by=f"admin: {admin.email}",
    )
    campaign_id = campaign.id
    session.commit()  # only now may a worker see it
    if scheduled_at is None:
        sending.start(campaign_id)
        message = f"Campaign {campaign_id} started: {resolved.recipients} recipients."
    else:
        message = (
            f"Campaign {campaign_id} scheduled for {scheduled_at:%Y-%m-%d %H:%M %Z}; "
            "`mailer beat` (or the workers' beat) starts it when due."
        )
    return redirect(f"/admin/campaigns/{campaign_id}", message)


# --- campaigns ---------------------------------------------------------------------------------


@protected.get("/campaigns")
def campaigns_page(request: Request, session: DB, admin: Admin) -> Response:
    return render(
        request,
        "campaigns.html.j2",
        {"title": "Campaigns", "campaigns": queries.recent_campaigns(session, 200)},
        admin=admin,
        active="campaigns",
    )


def _progress(summary: queries.CampaignSummary) -> dict[str, Any]:
    return {
        "id": summary.id,
        "status": summary.status,
        "reason": summary.reason,
        "total": summary.total,
        "finished": summary.finished,
        "percent": summary.percent,
        "counts": summary.counts,
        "final": summary.status in FINAL,
        "running_here": sending.running(summary.id),
    }


@protected.get("/campaigns/{campaign_id}")
def campaign_page(
    request: Request,
    campaign_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: DB,
    admin: Admin,
) -> Response:
    summary = queries.campaign_summary(session, campaign_id)
    return render(
        request,
        "campaign.html.j2",
        {
            "title": f"Campaign {campaign_id}",
            "c": summary,
            "failures": campaigns.failures_by_reply(session, campaign_id),
            "final": summary.status in FINAL,
        },
        admin=admin,
        active="campaigns",
    )


@protected.get("/campaigns/{campaign_id}/progress.json")
def campaign_progress(
    campaign_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: DB, admin: Admin
) -> JSONResponse:
    return JSONResponse(_progress(queries.campaign_summary(session, campaign_id)))


@protected.post("/campaigns/{campaign_id}/{action}")
def campaign_action(
    campaign_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    action: str,
    session: DB,
    admin: Admin,
) -> Response:
    url = f"/admin/campaigns/{campaign_id}"
    try:
        if action == "pause":
            campaigns.pause(session, campaign_id)
            session.commit()
            message = "Paused: batches in flight stop after their current chunk."
        elif action == "resume":
            campaigns.resume(session, campaign_id)
            session.commit()
            sending.continue_sending(campaign_id)
            message = "Resumed."
        elif action == "cancel":
            campaigns.cancel(session, campaign_id)
            session.commit()
            message = "Cancelled: deliveries not yet sent are skipped."
        elif action == "retry-failed":
            n = campaigns.retry_failed(session, campaign_id)
            session.commit()
            if n:
                sending.continue_sending(campaign_id)
            message = f"{n} failed deliveries queued again."
        else:
            raise SubscribersNotFound(f"no campaign action {action!r}")
    except campaigns.CampaignStateError as exc:
        session.rollback()
        return redirect(url, str(exc), "error")
    return redirect(url, message)


# --- inquiries and bounces ---------------------------------------------------------------------


def _inquiries(session: Session, limit: int, *, waiting_only: bool = False) -> list[Any]:
    if not _has("Inquiry"):
        return []
    inquiry = models.Inquiry
    query = select(inquiry).order_by(inquiry.created_at.desc(), inquiry.id.desc()).limit(limit)
    if waiting_only:
        query = query.where(inquiry.status != models.InquiryStatus.SENT)
    return list(session.scalars(query))


@protected.get("/inquiries")
def inquiries_page(request: Request, session: DB, admin: Admin) -> Response:
    rows = _inquiries(session, 200)
    partners = {p.id: p for p in session.scalars(select(models.Partner))}
    issues = {i.id: i for i in session.scalars(select(Issue))}
    return render(
        request,
        "inquiries.html.j2",
        {"title": "Inquiries", "rows": rows, "partners": partners, "issues": issues},
        admin=admin,
        active="inquiries",
    )


@protected.get("/bounces")
def bounces_page(request: Request, session: DB, admin: Admin) -> Response:
    rows: list[Any] = []
    if _has("BounceEvent"):
        event = models.BounceEvent
        rows = list(
            session.scalars(select(event).order_by(event.created_at.desc(), event.id.desc()))
        )[:200]
    return render(
        request,
        "bounces.html.j2",
        {"title": "Bounces", "rows": rows},
        admin=admin,
        active="bounces",
    )


router.include_router(protected)
