"""What every public page shares: friendly error pages and bounded form reads (the same-origin
check is `mailer.web.auth.same_origin`, shared with the admin area)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs

from fastapi import Request, Response
from sqlalchemy.orm import Session

from mailer.db import get_sessionmaker
from mailer.web.pages import page
from subscribers.text import has_control_characters

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024  # the largest form we accept; real ones are a few hundred bytes
MAX_DB_ID = 2**63 - 1


class PageError(Exception):
    """A friendly error page: status, heading and what the reader can do about it."""

    def __init__(self, status: int, heading: str, *paragraphs: str) -> None:
        super().__init__(heading)
        self.status = status
        self.heading = heading
        self.paragraphs = list(paragraphs)


def message_page(
    request: Request,
    heading: str,
    paragraphs: list[str],
    *,
    status: int = 200,
    kind: str = "info",
    links: list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
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
        },
        status_code=status,
        headers=headers,
    )


def error_page(request: Request, err: PageError) -> Response:
    return message_page(
        request,
        err.heading,
        err.paragraphs,
        status=err.status,
        kind="error",
        links=[("Read past issues", "/archive")],
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
        raise PageError(413, "That request is too large", "Please use the form on this page.")
    ctype = request.headers.get("content-type", "").lower()
    try:
        if ctype.startswith("multipart/form-data"):
            form = await request.form()
            return {k: [v if isinstance(v, str) else "" for v in form.getlist(k)] for k in form}
        return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    except Exception as exc:  # malformed multipart: a client error, never a 500
        log.info("unreadable form body: %s", exc)
        raise PageError(
            400, "We could not read that form", "Please go back and try again."
        ) from exc


def first_field(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def plausible_slug(text: str, limit: int) -> bool:
    """Could this be a stored slug? (Bounded, no control characters: PostgreSQL refuses NUL.)"""
    return 0 < len(text) <= limit and not has_control_characters(text)
