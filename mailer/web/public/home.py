"""The site's root and its static files (the stylesheet), served from the package."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, RedirectResponse

from mailer.web.pages import SecureRoute, static_path

router = APIRouter(route_class=SecureRoute)


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> Response:
    path = static_path(name)
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})


@router.get("/", include_in_schema=False)
def home() -> Response:
    return RedirectResponse("/archive", status_code=303)
