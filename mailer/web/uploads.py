"""The largest request body the web server reads: MAILER_UPLOAD_MAX_BYTES, answered with 413.

Starlette spools an uploaded file to disk as it arrives, so without a cap one admin form (or
anyone, before the login check runs) could fill the disk. This ASGI middleware refuses a request
whose Content-Length is over the cap before reading anything, and stops one that streams past it
without a length (chunked) as soon as it does. The answer names the limit and the setting: an
admin uploading a real subscriber file that is too large learns what to change.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailer.settings import get_settings


class BodyTooLarge(Exception):  # noqa: N818  (a signal between receive() and the middleware)
    """The request body went past the cap while it was being read."""


def describe_size(size: int) -> str:
    """`20 MiB`, `512 KiB`, `900 bytes`: how the limit is shown to people."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def too_large_message(limit: int) -> str:
    return (
        f"The upload is larger than the limit of {describe_size(limit)} "
        f"({limit} bytes, set by MAILER_UPLOAD_MAX_BYTES). Split the file, or ask the "
        "administrator to raise the limit."
    )


class UploadLimit:
    """ASGI middleware: 413 for any HTTP request body larger than the configured cap."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = get_settings().upload_max_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, send, limit)
            return
        seen = 0
        exceeded = refused = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # A framework that catches the error while parsing (FastAPI answers 400 "error
            # parsing the body") still gets its answer replaced by the 413.
            nonlocal refused
            if not exceeded:
                await send(message)
            elif not refused and message["type"] == "http.response.start":
                refused = True
                await _refuse(scope, send, limit)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            if not refused:
                await _refuse(scope, send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    message = too_large_message(limit)
    path: str = scope.get("path", "")
    body: bytes
    if path.startswith("/api/"):
        body, media = json.dumps({"detail": message}).encode(), b"application/json"
    else:
        body = _html(message, "/admin" if path.startswith("/admin") else "/").encode()
        media = b"text/html; charset=utf-8"
    headers: list[Any] = [
        (b"content-type", media),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the rest of the body is not read
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _html(message: str, back: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Upload too large</title></head><body><h1>Upload too large</h1>"
        f'<p>{escape(message)}</p><p><a href="{back}">Back</a></p></body></html>'
    )
