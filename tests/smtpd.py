"""A real SMTP server for tests (aiosmtpd), recording what it accepts and answering as told.

`SMTPSink.rules` maps a recipient address to a list of replies used in turn for its RCPT command
(e.g. ["451 4.3.0 try later", "250 OK"] defers once then accepts); `refuse_all` answers every RCPT
with one reply (a relay that refuses everything); `refuse_mail` answers MAIL FROM with one reply
(a relay that refuses the sender). Its EHLO offers PIPELINING (RFC 2920) as production relays do
(aiosmtpd reads pipelined commands in order but does not advertise it); `pipelining=False` is a
relay without it. Received messages keep their envelope, and whether they came
over TLS and from which authenticated login.

`SMTPServer(scheme="smtps" | "smtp+starttls", tls=..., users=...)` is a relay with implicit TLS or
STARTTLS and AUTH (a `trustme` certificate made by the test), as a production relay is.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    received_at: float = field(default_factory=time.time)
    tls: bool = False  # the session was encrypted (SMTPS or after STARTTLS)
    login: str | None = None  # the AUTH login the session authenticated as

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class SMTPSink:
    received: list[Received] = field(default_factory=list)
    rules: dict[str, list[str]] = field(default_factory=dict)
    refuse_all: str | None = None
    refuse_mail: str | None = None
    refuse_data: str | None = None  # the reply to the DATA command itself (instead of 354)
    pipelining: bool = True
    # Per MAIL FROM: the bytes the server had already received after that command line. A
    # pipelining client's RCPTs and DATA are there; a client waiting for each reply leaves b"".
    queued_at_mail: list[bytes] = field(default_factory=list)
    # Per message received: the bytes the server had already received after its end-of-data
    # line (a streaming client's next envelope is there; a client waiting for the reply leaves
    # b"").
    queued_at_data: list[bytes] = field(default_factory=list)
    rcpt_seen: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(  # noqa: N802  (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # what aiosmtpd does itself when no hook answers EHLO
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(  # noqa: N802  (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            self.rcpt_seen[address.lower()] += 1
            if self.refuse_all:
                return self.refuse_all
            replies = self.rules.get(address.lower())
            if replies:
                reply = replies.pop(0) if len(replies) > 1 else replies[0]
                if not reply.startswith("250"):
                    return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_MAIL(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        # asyncio.StreamReader keeps what it read but was not consumed yet in `_buffer`.
        self.queued_at_mail.append(bytes(getattr(server._reader, "_buffer", b"")))
        if self.refuse_mail:
            return self.refuse_mail
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        login = session.auth_data
        # session.ssl is set only after STARTTLS; the transport knows about implicit TLS too
        tls = server.transport.get_extra_info("ssl_object") is not None
        with self.lock:
            self.queued_at_data.append(bytes(getattr(server._reader, "_buffer", b"")))
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    bytes(envelope.content),
                    tls=tls,
                    login=login.login.decode() if isinstance(login, LoginPassword) else None,
                )
            )
        return "250 2.0.0 queued"

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address.lower() in (a.lower() for a in r.rcpt_tos)]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        with self.lock:
            return list(self.received)


def _authenticator(users: dict[str, str]) -> Callable[..., AuthResult]:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and users.get(data.login.decode()) == (
            data.password.decode()
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    return check


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _SMTP(SMTP):
    """aiosmtpd's server, with the one answer it has no hook for: refusing the DATA command
    itself (`SMTPSink.refuse_data`), as a relay does when it will not take a message now."""

    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802  (aiosmtpd's method name)
        refuse = getattr(self.event_handler, "refuse_data", None)
        if refuse and self.envelope is not None and self.envelope.rcpt_tos:
            await self.push(refuse)
            return
        await super().smtp_DATA(arg)


class RelayController(Controller):
    """aiosmtpd's Controller serving `_SMTP`."""

    def factory(self) -> SMTP:
        return _SMTP(self.handler, **self.SMTP_kwargs)


class SMTPServer:
    """A running aiosmtpd server on a free loopback port.

    `scheme="smtps"` wraps the connection in TLS from the first byte; `"smtp+starttls"` offers
    STARTTLS and refuses MAIL before it. `tls` is the server's certificate context (required by
    both). `users` maps logins to passwords: AUTH is then required (530 without it, 535 for a
    wrong password); `login` is put into the URL as the credentials the client will use.
    """

    def __init__(
        self,
        sink: SMTPSink | None = None,
        *,
        scheme: str = "smtp",
        tls: ssl.SSLContext | None = None,
        users: dict[str, str] | None = None,
        login: tuple[str, str] | None = None,
    ):
        self.sink = sink or SMTPSink()
        self.port = free_port()
        self.scheme, self.login = scheme, login
        kwargs: dict[str, Any] = {}
        if scheme == "smtps":
            kwargs["ssl_context"] = tls
        elif scheme == "smtp+starttls":
            kwargs.update(tls_context=tls, require_starttls=True)
        if users is not None:
            kwargs.update(
                auth_required=True,
                # aiosmtpd counts only STARTTLS as TLS; implicit TLS (smtps) is TLS from the start
                auth_require_tls=scheme == "smtp+starttls",
                authenticator=_authenticator(users),
            )
        self.controller = RelayController(self.sink, hostname="127.0.0.1", port=self.port, **kwargs)

    @property
    def url(self) -> str:
        auth = ""
        if self.login:
            auth = f"{quote(self.login[0], safe='')}:{quote(self.login[1], safe='')}@"
        return f"{self.scheme}://{auth}127.0.0.1:{self.port}"

    def __enter__(self) -> SMTPServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
