"""API tokens in the admin area: the list (name, first characters, scopes, expiry, last use,
state), creating one with scopes and an expiry (the token is shown once, on the page that
answers the form, and stored only as a hash), and revoking one — as
`mailer admin create-token|revoke-token` do."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Request, Response
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.accounts import SCOPES, AdminUser, ApiToken, AuthError, list_tokens
from mailer.db import utcnow
from mailer.errors import NotFound
from mailer.web.admin.forms import DB, Admin, protected_router, redirect, render
from mailer.web.errors import user_message

router = protected_router()


def _page(
    request: Request,
    session: Session,
    admin: AdminUser,
    *,
    created: tuple[str, ApiToken] | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    now = utcnow()
    rows = [(token, token.state(now)) for token in list_tokens(session)]
    return render(
        request,
        "tokens.html.j2",
        {
            "title": "API tokens",
            "rows": rows,
            "scopes": SCOPES,
            "created": created,
            "error": error,
            "form": form or {"expires": f"{accounts.DEFAULT_TOKEN_DAYS}d"},
        },
        admin=admin,
        active="tokens",
        status_code=status_code,
    )


@router.get("/tokens")
def tokens_page(request: Request, session: DB, admin: Admin) -> Response:
    return _page(request, session, admin)


@router.post("/tokens")
def submit_new_token(
    request: Request,
    session: DB,
    admin: Admin,
    name: Annotated[str, Form(max_length=100)] = "",
    scope: Annotated[list[str], Form(max_length=10)] = [],  # noqa: B006 (FastAPI copies it)
    expires: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Create a token and show it once (this response is not cached and not redirected)."""
    try:
        when = accounts.parse_expiry(expires or f"{accounts.DEFAULT_TOKEN_DAYS}d")
        token, row = accounts.create_token(session, name, scopes=scope, expires_at=when)
        session.commit()
    except AuthError as exc:
        session.rollback()
        form = {"name": name, "expires": expires}
        return _page(request, session, admin, error=user_message(exc), form=form, status_code=422)
    return _page(request, session, admin, created=(token, row))


@router.post("/tokens/{token_id}/revoke")
def submit_token_revocation(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: DB, admin: Admin
) -> Response:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token {token_id}")
    accounts.revoke_token(session, row.name)
    session.commit()
    return redirect("/admin/tokens", f"Token {row.name} revoked: it no longer opens the API.")
