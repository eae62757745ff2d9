"""What every API module shares: the route class that answers user errors as JSON, bearer-token
authentication, the documented error responses and the path parameter types.

Errors are JSON `{"detail": "..."}` with the CLI's wording, inputs named by their JSON keys instead
of the CLI's options (mailer/web/errors.py): 401 without a valid token
(with `WWW-Authenticate: Bearer`; an expired or revoked token says so), 403 when the token lacks
the operation's scope (RFC 6750 `insufficient_scope`), 404 for an unknown list/issue/campaign, 409
when the state forbids the change (e.g. resuming a campaign that is not paused), 422 for bad input
(a segment syntax error carries its caret message and `column`; a NUL in any query parameter or
JSON member is refused naming it, and a path holding one is a 404: mailer/web/inputs.py).

Scopes: every GET needs `read`; a write names its scope with `needs("subscribers")` or
`needs("send")` (shown in the OpenAPI document as `x-required-scope`), and a write that names none
cannot be registered. The token and its scope are checked before the request body is read or
validated, so a token without the scope gets 403 whatever it sends.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from mailer import accounts
from mailer.db import get_sessionmaker
from mailer.errors import MailerError
from mailer.web import queries
from mailer.web.errors import API_NAMES, http_status, user_message
from mailer.web.inputs import unfit_path, unstorable_input
from subscribers.errors import SegmentSyntaxError, SubscribersError


def _error_response(exc: Exception) -> JSONResponse | None:
    """The HTTP answer for a user error raised by the mailer's or the subscribers' functions."""
    status = http_status(exc)
    if status is None:
        return None
    body: dict[str, Any] = {"detail": user_message(exc, API_NAMES)}
    if isinstance(exc, SegmentSyntaxError):
        body["column"] = exc.column
    return JSONResponse(body, status_code=status)


SCOPE_KEY = "x-required-scope"
READS = {"GET", "HEAD"}


def needs(scope: str) -> dict[str, Any]:
    """`@router.post(..., **needs("send"))`: the scope a write operation requires."""
    if scope not in accounts.SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    return {"openapi_extra": {SCOPE_KEY: scope}}


@dataclass(frozen=True)
class ApiClient:
    """Who is calling: the token's name (recorded in consent and campaign rows) and scopes."""

    token_id: int
    name: str
    scopes: tuple[str, ...]


def _refusal(status: int, detail: str, challenge: str) -> JSONResponse:
    return JSONResponse(
        {"detail": detail},
        status_code=status,
        headers={"WWW-Authenticate": challenge, "Cache-Control": "no-store"},
    )


def _authorize(authorization: str | None, scope: str) -> ApiClient | JSONResponse:
    """The caller, or the 401/403 answer (RFC 6750) for a missing, bad or too narrow token."""
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return _refusal(401, "a bearer token is required", "Bearer")
    with get_sessionmaker()() as session:
        row = accounts.token_row(session, credentials.strip())
        if row is None:
            return _refusal(401, "invalid token", 'Bearer error="invalid_token"')
        state = row.state()
        if state == "revoked":
            return _refusal(401, "this token was revoked", 'Bearer error="invalid_token"')
        if state == "expired":
            when = f"{row.expires_at:%Y-%m-%d %H:%M} UTC" if row.expires_at else ""
            return _refusal(
                401,
                f"this token expired on {when}; an admin creates a new one on the admin's "
                "Tokens page (/admin/tokens)",
                'Bearer error="invalid_token", error_description="expired"',
            )
        client = ApiClient(row.id, row.name, tuple(row.scope_list))
        session.commit()  # last_used_at
    if scope not in client.scopes:
        return _refusal(
            403,
            f"the token {client.name!r} lacks the {scope!r} scope (it has: "
            f"{', '.join(client.scopes)}); an admin creates a token with the {scope!r} scope on "
            "the admin's Tokens page (/admin/tokens)",
            f'Bearer error="insufficient_scope", scope="{scope}"',
        )
    return client


class ApiRoute(APIRoute):
    """Checks the bearer token and the operation's scope before anything else, and turns the
    domain's user errors into JSON 4xx answers instead of 500s."""

    def required_scope(self) -> str:
        declared = (self.openapi_extra or {}).get(SCOPE_KEY)
        if declared:
            return str(declared)
        methods = set(self.methods or ())
        if methods <= READS:
            return "read"
        raise RuntimeError(f"{sorted(methods)} {self.path}: a write needs needs(SCOPE)")

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        scope = self.required_scope()

        async def answer(request: Request) -> Response:
            found = await run_in_threadpool(_authorize, request.headers.get("authorization"), scope)
            if isinstance(found, JSONResponse):
                return found
            request.state.api_client = found
            response: Response
            try:
                if unfit_path(request):
                    response = JSONResponse({"detail": "Not Found"}, status_code=404)
                elif refused := await unstorable_input(request):
                    response = JSONResponse({"detail": refused}, status_code=422)
                else:
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
    401: {"model": ErrorOut, "description": "Missing, unknown, expired or revoked bearer token"},
    403: {"model": ErrorOut, "description": "The token lacks this operation's scope"},
    404: {"model": ErrorOut, "description": "No such list, subscriber, issue or campaign"},
    409: {"model": ErrorOut, "description": "Not possible in the current state"},
    422: {"description": "Invalid input (the message says what and where)"},
}


bearer = HTTPBearer(
    auto_error=False,
    description="A token from `mailer admin create-token NAME --scope read|subscribers|send`",
)


def api_client(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiClient:
    """The caller ApiRoute authorised (the Bearer dependency documents the scheme in OpenAPI)."""
    client: ApiClient | None = getattr(request.state, "api_client", None)
    if client is None:  # pragma: no cover  (only reachable on a route without ApiRoute)
        raise HTTPException(
            401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    return client


DB = Annotated[Session, Depends(queries.db)]


Client = Annotated[ApiClient, Depends(api_client)]


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
