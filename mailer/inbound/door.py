"""The door of `mailer inbound`: how many SMTP connections it lets in and for how long.

aiosmtpd closes a connection that stays silent (or does not finish DATA) for `inbound_timeout`,
but has no cap on open connections and none on a session's length: a client holding thousands
of connections open, or sending NOOP every minute for ever, would use up the process's file
descriptors and keep real mail out. Here every connection is counted; past
`inbound_max_sessions` in all, or `inbound_max_sessions_per_peer` from one address, the client
is answered 421 (try again later) and hung up on, so one greedy address leaves room for every
other sender; and a session open for `inbound_session_seconds` is ended with 421.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, AnyStr

from aiosmtpd.smtp import SMTP

from mailer.settings import Settings

BUSY = b"421 4.7.0 Too many connections; please try again later\r\n"
MAX_REPLY_LINE = 512  # octets, CRLF included (RFC 5321 4.5.3.1.5)
TOO_LONG = "421 4.4.2 Session too long; please reconnect"


def peer_host(transport: asyncio.BaseTransport) -> str:
    """The client's address without its port: the unit the per-peer cap counts."""
    peer = transport.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) else str(peer)


class Door:
    """The count of open SMTP sessions, and the factory the server makes each connection's
    protocol with: an `InboundSMTP` while under the caps, `Busy` past them."""

    def __init__(self, handler: Any, settings: Settings, **smtp_kwargs: Any) -> None:
        self.handler = handler
        self.settings = settings
        self.smtp_kwargs = smtp_kwargs
        self.open: Counter[str] = Counter()

    def protocol(self) -> InboundSMTP:
        return InboundSMTP(self, self.handler, **self.smtp_kwargs)

    def admit(self, host: str) -> bool:
        """Count a new connection from `host` if the caps allow it."""
        if (
            self.open.total() >= self.settings.inbound_max_sessions
            or self.open[host] >= self.settings.inbound_max_sessions_per_peer
        ):
            return False
        self.open[host] += 1
        return True

    def leave(self, host: str) -> None:
        self.open[host] -= 1
        if self.open[host] <= 0:
            del self.open[host]


class InboundSMTP(SMTP):
    """aiosmtpd's server, counted by its door while open and ended after the session limit; a
    connection the door does not admit is answered 421 and closed before any SMTP is read."""

    def __init__(self, door: Door, handler: Any, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.door = door
        self.host: str | None = None  # set while the door counts this connection
        self._ending: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.host is not None:  # again, after STARTTLS: already counted
            super().connection_made(transport)
            return
        host = peer_host(transport)
        if not self.door.admit(host):
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(BUSY)
            transport.close()
            return
        self.host = host
        super().connection_made(transport)
        self._ending = self.loop.call_later(
            self.door.settings.inbound_session_seconds, self._end_session
        )

    async def push(self, status: AnyStr) -> None:
        """Write one reply line, cut to RFC 5321's 512 octets (CRLF included): aiosmtpd echoes
        an unknown command back in its 500 reply, and a 505-character command made it 543."""
        line = status.encode("utf-8", "replace") if isinstance(status, str) else bytes(status)
        await super().push(line[: MAX_REPLY_LINE - 2])

    def _end_session(self) -> None:
        if self.transport is not None:
            assert isinstance(self.transport, asyncio.WriteTransport)
            self.transport.write(TOO_LONG.encode() + b"\r\n")
            self.transport.close()

    def eof_received(self) -> bool | None:
        if self.host is None:  # refused at the door: no session to end
            return False
        return super().eof_received()

    def connection_lost(self, error: Exception | None) -> None:
        if self.host is None:
            return
        if self._ending is not None:
            self._ending.cancel()
        self.door.leave(self.host)
        self.host = None
        super().connection_lost(error)
