"""API tokens in the admin area: a read-only list (name, first characters, scopes, expiry, last
use, state). Tokens are created and revoked with `mailer admin create-token|revoke-token`, where
the new token is shown once on the terminal of whoever has shell access."""

from __future__ import annotations

from fastapi import Request, Response

from mailer.accounts import SCOPES, list_tokens
from mailer.db import utcnow
from mailer.web.admin.forms import DB, Admin, protected_router, render

router = protected_router()


@router.get("/tokens")
def tokens_page(request: Request, session: DB, admin: Admin) -> Response:
    now = utcnow()
    rows = [(token, token.state(now)) for token in list_tokens(session)]
    return render(
        request,
        "tokens.html.j2",
        {"title": "API tokens", "rows": rows, "scopes": SCOPES},
        admin=admin,
        active="tokens",
    )
