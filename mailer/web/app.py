"""The FastAPI application: one app, one router module per audience."""

from __future__ import annotations

from fastapi import FastAPI

from mailer.web import admin, api, public


def create_app() -> FastAPI:
    app = FastAPI(
        title="Briefing mailer",
        version="1",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.include_router(public.router)
    app.include_router(admin.router)
    app.include_router(api.router)
    return app
