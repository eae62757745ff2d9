"""Admin users in the admin area: the list, creating one (with a first password), disabling and
enabling (disabling ends their sessions at once), as `mailer admin create-user|disable-user`
do. Nobody can disable themselves: a firm must not lock its last admin out from the browser."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Request, Response
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.accounts import AdminUser, AuthError
from mailer.errors import NotFound
from mailer.web.admin.forms import DB, Admin, protected_router, redirect, render
from mailer.web.errors import user_message

router = protected_router()


def _page(
    request: Request,
    session: Session,
    admin: AdminUser,
    *,
    error: str | None = None,
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
