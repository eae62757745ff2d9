"""The FastAPI application: one app, one router module per audience."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from mailer.db import load_models
from mailer.web import admin, api, docs, logs, public
from mailer.web.head import HeadAsGet
from mailer.web.pages import add_security_headers
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
