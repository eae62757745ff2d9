"""Signing in and out of the admin area: /admin/login (throttled per account and address, with
growing delays and Retry-After: see mailer.web.auth) and /admin/logout (which revokes every
session cookie of the admin)."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from mailer.accounts import authenticate, end_sessions
from mailer.settings import get_settings
from mailer.web import auth
from mailer.web.admin.forms import (
    DB,
    FLASH_COOKIE,
    Admin,
    AdminRoute,
    protected_router,
    redirect,
    session_data,
    take_flash,
)
from mailer.web.pages import page
from mailer.web.ratelimit import client_ip

public = APIRouter(route_class=AdminRoute, include_in_schema=False)
router = protected_router()


_CREATING = threading.Lock()


def login_throttle(request: Request) -> auth.LoginThrottle:
    """The app's one throttle (sign-in, and a password change's current password), created on
    first use: under a lock, as a burst of first requests
    each making its own (with its own in-memory counts) would each grant the free tries."""
    state = request.app.state
    with _CREATING:
        limiter: auth.LoginThrottle | None = getattr(state, "admin_login_limiter", None)
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


@public.get("/admin/login")
def login_form(request: Request, session: DB, next: str = "") -> Response:  # noqa: A002
    data = session_data(request)
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
    flash = take_flash(request)
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


@public.post("/admin/login")
def login(
    request: Request,
    session: DB,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/admin",  # noqa: A002
) -> Response:
    data = session_data(request)
    auth.check_request(request, data, csrf_token)
    assert data is not None
    limiter = login_throttle(request)
    ip = client_ip(request)
    verdict = limiter.begin(ip, email)
    if not verdict.allowed:
        response = _login_page(
            request,
            data,
            next_url=_safe_next(next),
            email=email,
            error=(
                "Too many failed sign-in attempts from this address. Try again in "
                f"{_wait(verdict.retry_after)}."
            ),
            status_code=429,
        )
        response.headers["Retry-After"] = str(verdict.retry_after)
        return response
    try:
        user = authenticate(session, email, password)
        if user is None:
            limiter.failed(ip, email)
            return _login_page(
                request,
                data,
                next_url=_safe_next(next),
                email=email,
                error="That address and password do not match an admin account.",
                status_code=401,
            )
        session.commit()
        limiter.succeeded(ip, email)
    finally:
        limiter.release(ip, email)
    response = RedirectResponse(_safe_next(next), status_code=303)
    _set_session(response, auth.new_session(user))
    return response


def _wait(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{round(seconds / 60)} minutes"


@router.post("/logout")
def logout(session: DB, admin: Admin) -> Response:
    end_sessions(admin)
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
