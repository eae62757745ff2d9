"""What every API module shares: the route class that answers user errors as JSON, bearer-token
authentication, the documented error responses and the path parameter types.

Errors are JSON `{"detail": "..."}` with the same wording as the CLI's: 401 without a valid token
(with `WWW-Authenticate: Bearer`), 404 for an unknown list/issue/campaign, 409 when the state
forbids the change (e.g. resuming a campaign that is not paused), 422 for bad input (a segment
syntax error carries its caret message and `column`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.orm import Session

from mailer import accounts
from mailer.accounts import ApiToken
from mailer.errors import MailerError
from mailer.errors import NotFound as MailerNotFound
from mailer.sending import campaigns
from mailer.web import queries
from subscribers.errors import (
    AlreadyExists,
    SegmentSyntaxError,
    SubscribersError,
    Suppressed,
)
from subscribers.errors import NotFound as SubscribersNotFound


def _error_response(exc: Exception) -> JSONResponse | None:
    """The HTTP answer for a user error raised by the mailer's or the subscribers' functions."""
    status: int
    body: dict[str, Any] = {"detail": str(exc)}
    if isinstance(exc, MailerNotFound | SubscribersNotFound):
        status = 404
    elif isinstance(
        exc, AlreadyExists | Suppressed | campaigns.CampaignStateError | accounts.AuthError
    ):
        status = 409
    elif isinstance(exc, SegmentSyntaxError):
        status = 422
        body["column"] = exc.column
    elif isinstance(exc, SubscribersError | MailerError):
        status = 422
    else:
        return None
    return JSONResponse(body, status_code=status)


class ApiRoute(APIRoute):
    """Turns the domain's user errors into JSON 4xx answers instead of 500s."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                response = await handler(request)
            except (MailerError, SubscribersError) as exc:
                mapped = _error_response(exc)
                if mapped is None:  # pragma: no cover  (every subclass maps)
                    raise
                response = mapped
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return answer


class ErrorOut(BaseModel):
    detail: str
    column: int | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing, unknown or revoked bearer token"},
    404: {"model": ErrorOut, "description": "No such list, subscriber, issue or campaign"},
    409: {"model": ErrorOut, "description": "Not possible in the current state"},
    422: {"description": "Invalid input (the message says what and where)"},
}


bearer = HTTPBearer(auto_error=False, description="A token from `mailer admin create-token NAME`")


def api_client(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    session: Annotated[Session, Depends(queries.db)],
) -> ApiToken:
    """The token's row; 401 (with the Bearer challenge) for anything else."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    row = accounts.token_row(session, credentials.credentials)
    if row is None:
        raise HTTPException(
            401,
            "invalid or revoked token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    session.commit()  # last_used_at
    return row


DB = Annotated[Session, Depends(queries.db)]


Client = Annotated[ApiToken, Depends(api_client)]


Slug = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]


IssueSlug = Annotated[
    str, Path(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]


Email = Annotated[str, Path(min_length=3, max_length=320)]


CampaignId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def check_text(value: str, field: str) -> str:
    """Refuse control characters (NUL cannot be stored in PostgreSQL text) before they reach SQL."""
    if any(ord(c) < 32 and c not in "\t" for c in value):
        raise HTTPException(422, f"{field} contains control characters")
    return value


def api_router() -> APIRouter:
    """A router for one family of /api/v1 endpoints: bearer token required, errors as JSON."""
    return APIRouter(
        prefix="/api/v1",
        tags=["api"],
        route_class=ApiRoute,
        dependencies=[Depends(api_client)],
        responses=ERRORS,
    )
