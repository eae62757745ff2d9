"""Admin users in the admin area: the list, creating one (with a first password), disabling and
enabling (disabling ends their sessions at once), as `mailer admin create-user|disable-user`
do, and changing one's own password (the current one asked, sign-in's throttle applied; the
other sessions end, this one goes on). Nobody can disable themselves: a firm must not lock its
last admin out from the browser."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Request, Response
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.accounts import AdminUser, AuthError
from mailer.errors import NotFound
from mailer.settings import get_settings
from mailer.web import auth
from mailer.web.admin.forms import DB, Admin, protected_router, redirect, render
from mailer.web.admin.login import login_throttle
from mailer.web.errors import user_message
from mailer.web.ratelimit import client_ip

router = protected_router()


def _page(
    request: Request,
    session: Session,
    admin: AdminUser,
    *,
    error: str | None = None,
    password_error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "users.html.j2",
        {
            "title": "Admin users",
            "users": accounts.list_users(session),
            "error": error,
            "password_error": password_error,
            "form": form or {},
            "min_password": accounts.MIN_PASSWORD,
        },
        admin=admin,
        active="users",
        status_code=status_code,
    )


@router.get("/users")
def users_page(request: Request, session: DB, admin: Admin) -> Response:
    return _page(request, session, admin)


@router.post("/users")
def submit_new_user(
    request: Request,
    session: DB,
    admin: Admin,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    try:
        user = accounts.create_user(session, email, password)
        session.commit()
    except AuthError as exc:
        session.rollback()
        return _page(
            request, session, admin, error=user_message(exc), form={"email": email}, status_code=422
        )
    return redirect("/admin/users", f"Admin user {user.email} created: they can sign in now.")


def _user(session: Session, user_id: int) -> AdminUser:
    user = session.get(AdminUser, user_id)
    if user is None:
        raise NotFound(f"no admin user {user_id}")
    return user


@router.post("/users/{user_id}/disable")
def disable_user(
    user_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: DB, admin: Admin
) -> Response:
    user = _user(session, user_id)
    if user.id == admin.id:
        raise AuthError("you cannot disable your own account; ask another admin")
    accounts.set_active(session, user.email, False)
    session.commit()
    return redirect("/admin/users", f"{user.email} disabled: their sessions have ended.")


@router.post("/users/{user_id}/enable")
def enable_user(
    user_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: DB, admin: Admin
) -> Response:
    user = _user(session, user_id)
    accounts.set_active(session, user.email, True)
    session.commit()
    return redirect("/admin/users", f"{user.email} enabled.")


@router.post("/users/me/password")
def change_password(
    request: Request,
    session: DB,
    admin: Admin,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    repeat_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """The signed-in admin's own password. A wrong current password counts as a failed sign-in
    (the same throttle), so an open session cannot be used to guess it."""
    limiter, ip = login_throttle(request), client_ip(request)
    verdict = limiter.begin(ip, admin.email)
    if not verdict.allowed:
        message = "too many wrong passwords from this address; try again later"
        return _page(request, session, admin, password_error=message, status_code=429)
    try:
        accounts.change_own_password(admin, current_password, new_password, repeat_password)
        session.commit()
        limiter.succeeded(ip, admin.email)
    except AuthError as exc:
        session.rollback()
        if "current password" in str(exc):
            limiter.failed(ip, admin.email)
        return _page(request, session, admin, password_error=user_message(exc), status_code=422)
    finally:
        limiter.release(ip, admin.email)
    response = redirect("/admin/users", "Your password is changed: your other sessions have ended.")
    settings = get_settings()
    # This session goes on: a new cookie at the version the change moved to.
    response.set_cookie(
        value=auth.encode_session(auth.new_session(admin), settings),
        **auth.cookie_options(settings),
    )
    return response
