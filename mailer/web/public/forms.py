"""What every public page shares: the reader's language, friendly error pages in it, and bounded
form reads (the same-origin check is `mailer.web.auth.same_origin`, shared with the admin area)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs

from fastapi import Request, Response
from sqlalchemy.orm import Session
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from mailer.db import get_sessionmaker
from mailer.rendering.wording import LANGUAGES, error_wording, reader_language, words_for
from mailer.web.pages import page
from subscribers.text import has_control_characters

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024  # the largest form we accept; real ones are a few hundred bytes
MAX_DB_ID = 2**63 - 1


def browser_language(request: Request) -> str | None:
    """The language of ours the browser asks for most (Accept-Language, its q-values and
    regions weighed: `es-MX,en;q=0.5` is Spanish), or None when it asks for none of them."""
    header = request.headers.get("accept-language", "")[:1000]
    # Weighed by werkzeug, matched here by the primary tag alone: its own best_match prefers
    # any exact match, and so read `fr-CA, en;q=0.3` as English.
    for tag, quality in parse_accept_header(header, LanguageAccept):  # best first
        primary = tag.lower().replace("_", "-").split("-")[0]
        if quality > 0 and primary in LANGUAGES:
            return primary
    return None


def page_language(request: Request, *known: str | None) -> str:
    """The language a public page speaks: the first of `known` with wording (the reader's own
    `language`, then the issue or newsletter the link came from), else the browser's, else
    English. A page for someone we know never follows the browser of whoever opened it."""
    return reader_language(*known, browser_language(request))


class PageError(Exception):
    """A friendly error page: status and the key of its wording (rendering/wording), with the
    values its `{name}` fields take; `lang` when the page knows its reader's language."""

    def __init__(self, status: int, key: str, *, lang: str | None = None, **values: object):
        super().__init__(key)
        self.status = status
        self.key = key
        self.lang = lang
        self.values = values


def message_page(
    request: Request,
    heading: str,
    paragraphs: list[str],
    *,
    status: int = 200,
    kind: str = "info",
    links: list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    lang: str = "en",
) -> Response:
    return page(
        request,
        "message.html.j2",
        {
            "title": heading,
            "heading": heading,
            "paragraphs": paragraphs,
            "kind": kind,
            "links": links or [],
            "lang": lang,
        },
        status_code=status,
        headers=headers,
    )


def error_page(request: Request, err: PageError) -> Response:
    """The error's page in its reader's language (the browser's when the page knows nothing of
    them: a link cut or altered names no one)."""
    lang = page_language(request, err.lang)
    heading, paragraphs = error_wording(lang, err.key, **err.values)
    return message_page(
        request,
        heading,
        paragraphs,
        status=err.status,
        kind="error",
        links=[(words_for(lang)["read_past_issues"], "/archive")],
        lang=lang,
    )


@contextmanager
def open_session() -> Iterator[Session]:
    with get_sessionmaker()() as session:
        yield session


async def read_form(request: Request) -> dict[str, list[str]]:
    """The posted fields, whatever the encoding; PageError(400/413) for what cannot be a form.

    RFC 8058 senders post `application/x-www-form-urlencoded` or `multipart/form-data`; some
    send no Content-Type at all, so a bare body is read as urlencoded.
    """
    body = await request.body()
    if len(body) > MAX_BODY:
        raise PageError(413, "too_large")
    ctype = request.headers.get("content-type", "").lower()
    try:
        if ctype.startswith("multipart/form-data"):
            form = await request.form()
            return {k: [v if isinstance(v, str) else "" for v in form.getlist(k)] for k in form}
        return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    except Exception as exc:  # malformed multipart: a client error, never a 500
        log.info("unreadable form body: %s", exc)
        raise PageError(400, "unreadable_form") from exc


def first_field(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def plausible_slug(text: str, limit: int) -> bool:
    """Could this be a stored slug? (Bounded, no control characters: PostgreSQL refuses NUL.)"""
    return 0 < len(text) <= limit and not has_control_characters(text)
