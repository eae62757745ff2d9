"""The API's documentation page, /api/docs: Swagger UI from local files under a strict CSP.

FastAPI's default page loads Swagger UI from a CDN at a floating version with no integrity check: a
blank page offline, and a third party's script running on the admin's origin (where the API token
is typed). Here the bundle comes from the `fastapi-offline` package, pinned in pyproject.toml, so
the version is the one installed and reviewed; the page's own start-up code is a file
(templates/web/static/api-docs.js), so the CSP allows scripts from this origin only, no inline
script and no eval, and the page can call nothing but this origin.
"""

from __future__ import annotations

import importlib.resources
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mailer.web.pages import STATIC_DIR, SecureRoute

DOCS = "/api/docs"
ASSETS = f"{DOCS}/assets"
_BUNDLE = importlib.resources.files("fastapi_offline") / "static"
# name → (where it is, media type): nothing else is served from here.
_FILES: dict[str, tuple[Any, str]] = {
    "swagger-ui-bundle.js": (_BUNDLE / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (_BUNDLE / "swagger-ui.css", "text/css"),
    "favicon.png": (_BUNDLE / "favicon.png", "image/png"),
    "api-docs.js": (STATIC_DIR / "api-docs.js", "text/javascript"),
}
# Swagger UI sets styles through the DOM (allowed by style-src 'self') and draws icons as data:
# images; it needs neither inline script nor eval.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'; object-src 'none'"
)

PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Briefing mailer API</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS}/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{ASSETS}/api-docs.js"></script>
</body>
</html>
"""

router = APIRouter(route_class=SecureRoute)


@router.get(DOCS, include_in_schema=False)
def docs_page() -> HTMLResponse:
    """Open to everyone (it holds no data; every call it makes needs a token)."""
    return HTMLResponse(PAGE, headers={"Content-Security-Policy": DOCS_CSP})


@router.get(ASSETS + "/{name}", include_in_schema=False)
def docs_asset(name: str) -> Response:
    found = _FILES.get(name)
    if found is None:
        raise StarletteHTTPException(404)  # the app's 404: a page, JSON under /api/
    path, media_type = found
    return Response(
        path.read_bytes(),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400", "Content-Security-Policy": DOCS_CSP},
    )
