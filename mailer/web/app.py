"""The FastAPI application: one app, one router module per audience."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mailer.db import load_models
from mailer.web import admin, api, docs, logs, public
from mailer.web.admin.forms import invalid_input_page, not_found_page, unreadable_form_page
from mailer.web.errors import echoed
from mailer.web.head import HeadAsGet
from mailer.web.outages import outage_response
from mailer.web.pages import add_security_headers
from mailer.web.public.forms import message_page
from mailer.web.uploads import UploadLimit


def create_app() -> FastAPI:
    load_models()
    logs.install()
    app = FastAPI(
        title="Briefing mailer",
        version="1",
        docs_url=None,  # mailer.web.docs serves it from local files
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.include_router(public.router)
    app.include_router(admin.router)
    app.include_router(api.router)
    app.include_router(docs.router)
    app.add_middleware(UploadLimit)  # inside security_headers: a 413 carries them too
    app.add_middleware(HeadAsGet)  # HEAD runs as GET everywhere, the body dropped

    @app.exception_handler(StarletteHTTPException)
    async def not_found(request: Request, exc: StarletteHTTPException) -> Response:
        """People get a page, programs (the API) JSON."""
        path = request.url.path
        if exc.status_code == 400 and path.startswith("/admin"):
            return unreadable_form_page(request, str(exc.detail))
        if exc.status_code != 404 or path.startswith(("/api/", "/openapi.json")):
            return await http_exception_handler(request, exc)
        if path.startswith("/admin"):
            return not_found_page(request)
        return message_page(
            request,
            "Page not found",
            ["There is nothing at this address. It may have been mistyped or moved."],
            status=404,
            kind="error",
            links=[("Read past issues", "/archive")],
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        """An admin URL whose path does not fit its page (/admin/campaigns/abc) is a page that
        does not exist, and any other refused admin form or address is a 422 page naming the
        field; the API keeps FastAPI's 422 JSON with the fields named (and the refused values
        cut short, `errors.echoed`)."""
        in_path = any(error.get("loc", ("",))[0] == "path" for error in exc.errors())
        if request.url.path.startswith("/admin"):
            if in_path:
                return not_found_page(request)
            return invalid_input_page(request, list(exc.errors()))
        return await request_validation_exception_handler(
            request, RequestValidationError(echoed(list(exc.errors())), body=exc.body)
        )

    # Starlette calls this for any exception a route did not handle, then re-raises it, so the
    # server's log keeps the traceback; the person gets a page that says what failed.
    app.add_exception_handler(Exception, outage_response)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Every response carries the security headers, 404s outside any router included;
        a header a route set on purpose is kept."""
        response = await call_next(request)
        add_security_headers(response)
        return response

    return app
