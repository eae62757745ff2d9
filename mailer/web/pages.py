"""The web pages' shared parts: the autoescaped Jinja environment over templates/web, the base
layout's context, and the security headers every HTML response carries.

Why not Starlette's own environment: it only autoescapes files ending in .html/.htm/.xml, and our
templates end in `.html.j2`; the one factory (`mailer.rendering.environment.template_env`) with
`html=True` escapes every template, so a subscriber's name can never become markup.

Admin pages reuse everything here: `templates`, `page(...)`, `SecureRoute`, and the layout
`templates/web/base.html.j2` (blocks: `title`, `nav`, `masthead`, `content`, `footer`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request, Response
from fastapi.routing import APIRoute
from markupsafe import Markup, escape
from starlette.templating import Jinja2Templates

from mailer.rendering.environment import TEMPLATE_ROOT, template_env
from mailer.rendering.wording import words_for
from mailer.settings import get_settings
from subscribers.text import counted

WEB_TEMPLATES = TEMPLATE_ROOT / "web"
STATIC_DIR = WEB_TEMPLATES / "static"

# Nothing but our own origin: no inline script or style, no framing, forms post only to us.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on our own form
    # posts, which would defeat the same-origin check; links out still carry no referrer (and so
    # never leak a token-bearing URL).
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": CSP,
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


# An SVG chart served to <img> (where nothing in it runs): its inline styles, nothing else; opened
# directly, the sandbox still keeps any script in it from running, and no one may frame it.
SVG_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"
    ),
    "Cache-Control": "no-store",
}


def wrap_address(address: object) -> Markup:
    """An email address escaped, with a line-break opportunity (<wbr>) before each `@` and `.`:
    a long address wraps at those and nowhere else (the CSS keeps words whole)."""
    text = str(address or "")
    parts = re.split(r"(?=[@.])", text)
    return Markup("<wbr>").join(escape(part) for part in parts)


def _site_context(request: Request) -> dict[str, Any]:
    """What the base layout shows on every page (firm, newsletter, postal address)."""
    settings = get_settings()
    return {
        "firm": settings.firm_name,
        "newsletter": settings.newsletter_name,
        "postal_address": settings.postal_address,
        "public_url": settings.public_url,
    }


def _web_env() -> jinja2.Environment:
    """The one template environment, plus the filters only web pages use."""
    env = template_env(WEB_TEMPLATES, html=True)
    env.filters["address"] = wrap_address
    env.filters["counted"] = counted
    return env


templates = Jinja2Templates(env=_web_env(), context_processors=[_site_context])


# One year, this host only: includeSubDomains would also bind sites of the firm under this name
# that it may still serve over http.
HSTS = "max-age=31536000"


def add_security_headers(response: Response, overrides: Mapping[str, str] | None = None) -> None:
    """Set the headers every page carries, without replacing one a route chose on purpose.

    With an https MAILER_PUBLIC_URL, Strict-Transport-Security too (RFC 6797): browsers then
    never send a reader's unsubscribe link or the admin's cookie over plain http."""
    extra = (
        {"Strict-Transport-Security": HSTS}
        if get_settings().public_url.startswith("https://")
        else {}
    )
    for name, value in {**SECURITY_HEADERS, **extra, **(overrides or {})}.items():
        if name not in response.headers:
            response.headers[name] = value


def page(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render `templates/web/<name>` inside the base layout, with the security headers.

    A page in a reader's language passes `lang` (rendering/wording.py); the others (the admin
    area) are in English, the layout's `words` then English too."""
    lang = (context or {}).get("lang", "en")
    ctx: dict[str, Any] = {"title": "", "nav": [], "lang": lang, "words": words_for(lang)}
    ctx.update(context or {})
    response = templates.TemplateResponse(
        request, name, ctx, status_code=status_code, headers=headers
    )
    add_security_headers(response)
    return response


class SecureRoute(APIRoute):
    """A route class whose responses all carry SECURITY_HEADERS (`APIRouter(route_class=...)`).

    Lives on the router rather than as app middleware so that each audience's router brings its
    own guarantees wherever it is mounted.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def secured(request: Request) -> Response:
            response = await handler(request)
            add_security_headers(response)
            return response

        return secured


def static_path(name: str) -> Path | None:
    """A file under templates/web/static/, or None for anything else (no path traversal; a name
    the file system refuses, with a NUL or too long, is just not there)."""
    try:
        candidate = (STATIC_DIR / name).resolve()
        if candidate.parent != STATIC_DIR.resolve() or not candidate.is_file():
            return None
    except (OSError, ValueError):
        return None
    return candidate
