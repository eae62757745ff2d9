"""The site's root, its static files (the stylesheet), served from the package, and the firm's logo
(MAILER_BRAND_LOGO), where the emails show it from."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mailer.brand import brand_of
from mailer.settings import get_settings
from mailer.web.pages import SecureRoute, static_path

router = APIRouter(route_class=SecureRoute)


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> Response:
    path = static_path(name)
    if path is None:
        raise StarletteHTTPException(404)  # the app's 404: a page, JSON under /api/
    return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})


@router.get("/brand/{name}", include_in_schema=False)
def brand_file(name: str) -> Response:
    """The firm's logo. Its name carries a hash of the file, so a new logo gets a new URL and
    this one can be cached for ever."""
    logo = brand_of(get_settings()).logo
    if logo is None or name != logo.name:
        raise StarletteHTTPException(404)  # the app's 404: a page, JSON under /api/
    return FileResponse(
        logo.path,
        media_type=logo.media_type,
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """Browsers and feed readers ask for /favicon.ico whatever the page says."""
    path = static_path("favicon.ico")
    assert path is not None  # noqa: S101 - shipped in the package
    return FileResponse(
        path, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"}
    )


@router.get("/", include_in_schema=False)
def home() -> Response:
    return RedirectResponse("/archive", status_code=303)
