"""HEAD answered wherever GET is (RFC 9110 §9.3.2): the GET route runs and its headers go out
without the body. FastAPI routes answer only the methods they declare, so without this every
HEAD (link checkers, uptime monitors, `curl -I`) got 405.

A pure ASGI middleware, so streamed responses (CSV downloads) are cut off at the first body
chunk rather than collected.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        done = False

        async def headers_only(message: Message) -> None:
            nonlocal done
            if done:
                return
            if message["type"] == "http.response.body":
                done = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
