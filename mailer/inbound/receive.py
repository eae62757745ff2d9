"""`mailer inbound`: the SMTP server that receives replies, bounces and unsubscribe requests.

Receiving is deliberately dumb and durable; deciding happens later, in a task:

- RCPT is accepted only for `reply+TOKEN`, `bounces+TOKEN` and `unsubscribe+TOKEN` at
  MAIL_DOMAIN, with a token that verifies and names a delivery we made, and for the role
  addresses `postmaster` and `abuse` at MAIL_DOMAIN (mailer/inbound/roles.py: RFC 5321 requires
  postmaster; other operators send abuse and feedback-loop reports there). Everything else is
  refused with 550 during the dialogue, so the server is never an open relay and a forged or
  altered token gets the same answer as an unknown address.
- The same recipient twice in one transaction is accepted once (one stored message, one forward);
  past MAX_RECIPIENTS RCPT commands the answer is 452; every reply line stays within 512 octets.
- A message larger than `inbound_max_bytes` is refused with 552 (announced with the SIZE
  extension, so well-behaved clients do not even send it).
- 250 is answered only after the raw message is committed as an InboundMessage row (one per
  accepted recipient). Any database failure answers 451 4.3.0 and the sender retries later:
  nothing is lost, and nothing is half-accepted.
- After the commit the classify task is enqueued (run in-process when there is no broker). If the
  broker is down at that moment, the row waits as `received` and the periodic sweep of this
  server enqueues it again.
- Messages carrying our loop-guard header (our own forwards coming back) are stored as `ignored`
  and never processed.

What happens next is mailer/inbound/process.py (run by the task in mailer/inbound/tasks.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from mailer import tokens
from mailer.db import get_sessionmaker, utcnow
from mailer.errors import ConfigError, TokenError
from mailer.inbound.door import MAX_REPLY_LINE, Door
from mailer.inbound.message import has_loop_guard, header, read_head, storable
from mailer.inbound.models import InboundKind, InboundMessage, InboundStatus
from mailer.inbound.roles import role_of
from mailer.inbound.tasks import process_inbound
from mailer.sending.models import Delivery
from mailer.settings import Settings

log = logging.getLogger(__name__)

TEMPFAIL = "451 4.3.0 Cannot store the message right now; please try again later"
# RCPT commands per transaction: RFC 5321 (4.5.3.1.8) asks for at least 100; past that, 452.
# Real replies and bounces have one recipient; the cap bounds the lookups one client can cause.
MAX_RECIPIENTS = 100
TOO_MANY = "452 4.5.3 Too many recipients in this transaction"
TEMPFAIL_RCPT = "451 4.3.0 Cannot check this recipient right now; please try again later"


def refuse(address: str) -> str:
    return f"550 5.1.1 <{address[:200]}>: recipient not accepted here"


def refuse_test_copy(address: str) -> str:
    """The refusal for an address of a [TEST] copy: its sender is an editor trying the copy, and
    the bounce their server returns should say why nothing arrived."""
    return (
        f"550 5.1.1 <{address[:200]}>: the address of a [TEST] copy; mail to it goes to no one "
        "(reply to an issue a list received to reach its partner)"
    )


def is_test_copy_address(address: str, settings: Settings) -> bool:
    """Whether `address` is one of ours (reply, bounces, unsubscribe) carrying a test copy's
    token rather than a delivery's."""
    try:
        _, token = tokens.parse_address(address, settings.mail_domain)
    except TokenError:
        return False
    return tokens.is_test_copy_token(token, settings.verification_secrets())


@dataclass(frozen=True)
class Recipient:
    """An accepted envelope recipient: which address kind and which delivery it names."""

    address: str
    kind: str  # reply, bounces, unsubscribe; postmaster or abuse (a role address: no delivery)
    delivery_id: int | None
    subscriber_id: int | None


def resolve_recipient(session: Session, address: str, settings: Settings) -> Recipient | None:
    """The delivery a recipient address names (none for a role address), or None if we do not
    accept it."""
    role = role_of(address, settings.mail_domain)
    if role is not None:
        return Recipient(address, role, None, None)
    try:
        kind, token = tokens.parse_address(address, settings.mail_domain)
        delivery_id = tokens.parse_delivery_token(token, settings.verification_secrets())
    except TokenError:
        return None
    row = session.execute(
        select(Delivery.id, Delivery.subscriber_id).where(Delivery.id == delivery_id)
    ).first()
    if row is None:
        return None
    return Recipient(address, kind, row[0], row[1])


def store(
    factory: sessionmaker[Session],
    raw: bytes,
    *,
    mail_from: str,
    recipients: list[Recipient],
    peer: str,
    helo: str,
    settings: Settings,
) -> list[tuple[int, bool]]:
    """Commit one InboundMessage per recipient; [(id, needs processing)]. Raises on DB errors."""
    head = read_head(raw)  # bounded: a header of 50,000 fields is not parsed in the dialogue
    looped = has_loop_guard(head, settings.mail_domain)
    subject = header(head, "Subject")[:2000]
    message_id = header(head, "Message-ID")[:998]
    now = utcnow()
    peer, helo, mail_from = storable(peer), storable(helo), storable(mail_from)
    rows = []
    with factory() as session, session.begin():
        for rcpt in recipients:
            row = InboundMessage(
                received_at=now,
                peer=peer[:200],
                helo=helo[:255],
                mail_from="" if mail_from == "<>" else mail_from[:998],
                rcpt_to=storable(rcpt.address)[:320],
                address_kind=rcpt.kind,
                delivery_id=rcpt.delivery_id,
                subscriber_id=rcpt.subscriber_id,
                size=len(raw),
                raw=raw,
                message_id=message_id,
                subject=subject,
            )
            if looped:
                row.status = InboundStatus.IGNORED
                row.kind = InboundKind.LOOP
                row.reason = f"carries our loop-guard header for {settings.mail_domain}"
                row.outcome = "one of our own forwards came back; not processed"
                row.processed_at = now
            session.add(row)
            rows.append(row)
        session.flush()
        result = [(r.id, not looped) for r in rows]
    return result


def stored_reply(ids: list[int]) -> str:
    """The 250 reply naming what was stored, within RFC 5321's 512-octet reply line."""
    text = "250 2.0.0 OK: stored as " + ", ".join(f"#{i}" for i in ids)
    if len(text) + 2 > MAX_REPLY_LINE:
        text = f"250 2.0.0 OK: stored as #{ids[0]} to #{ids[-1]} ({len(ids)} messages)"
    return text


def enqueue(inbound_id: int) -> None:
    """Hand one stored message to the classify task (runs here and now without a broker)."""
    process_inbound.delay(inbound_id)


class InboundHandler:
    """aiosmtpd handler. Database work runs in threads so one slow commit blocks no dialogue."""

    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker[Session] | None = None,
        enqueue: Callable[[int], None] = enqueue,
    ) -> None:
        self.settings = settings
        self.factory = factory or get_sessionmaker()
        self.enqueue = enqueue
        # Processing started after a 250 (in-process when there is no broker) runs here, off
        # the event loop; tests wait on `_background` to see a message's outcome.
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="inbound-process")
        self._background: set[Future[None]] = set()

    def _resolve(self, address: str) -> Recipient | None:
        with self.factory() as session:
            return resolve_recipient(session, address, self.settings)

    async def handle_RCPT(  # noqa: N802  (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        seen = getattr(envelope, "mailer_rcpt_count", 0) + 1
        envelope.mailer_rcpt_count = seen
        if seen > MAX_RECIPIENTS:
            return TOO_MANY
        accepted = getattr(envelope, "mailer_recipients", None)
        if accepted is None:
            accepted = envelope.mailer_recipients = []
        if any(r.address.lower() == address.lower() for r in accepted):
            # The same recipient twice in one transaction is one delivery (RFC 5321 allows
            # accepting it); storing it twice would forward it twice.
            return "250 2.1.5 OK (duplicate recipient, one copy kept)"
        loop = asyncio.get_running_loop()
        try:
            found = await loop.run_in_executor(None, self._resolve, address)
        except Exception:  # noqa: BLE001 - any database trouble: the sender must retry
            log.exception("cannot check recipient %s", address)
            return TEMPFAIL_RCPT
        if found is None:
            log.info("refused recipient %s from %s", address, session.peer)
            if is_test_copy_address(address, self.settings):
                return refuse_test_copy(address)
            return refuse(address)
        envelope.rcpt_tos.append(address)
        accepted.append(found)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if len(raw) > self.settings.inbound_max_bytes:
            return (
                f"552 5.3.4 Message too big (the limit is {self.settings.inbound_max_bytes} bytes)"
            )
        recipients: list[Recipient] = getattr(envelope, "mailer_recipients", [])
        peer = session.peer
        peer_text = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "")
        loop = asyncio.get_running_loop()
        try:
            stored = await loop.run_in_executor(
                None,
                lambda: store(
                    self.factory,
                    raw,
                    mail_from=envelope.mail_from or "",
                    recipients=recipients,
                    peer=peer_text,
                    helo=session.host_name or "",
                    settings=self.settings,
                ),
            )
        except Exception:  # noqa: BLE001 - not stored: 4xx so that the sender tries again
            log.exception("cannot store a message from %s", envelope.mail_from)
            return TEMPFAIL
        todo = [i for i, process_it in stored if process_it]
        if todo:
            future = self._executor.submit(self._enqueue_all, todo)
            self._background.add(future)
            future.add_done_callback(self._background.discard)
        return stored_reply([i for i, _ in stored])

    def _enqueue_all(self, ids: list[int]) -> None:
        for inbound_id in ids:
            try:
                self.enqueue(inbound_id)
            except Exception:  # noqa: BLE001 - the row is safe; the sweep will enqueue it again
                log.exception(
                    "cannot enqueue inbound message #%s; the sweep will retry", inbound_id
                )

    def sweep(self) -> int:
        """Enqueue stored messages whose processing was lost or is due for another attempt."""
        ids = stale_messages(self.factory, self.settings)
        self._enqueue_all(ids)
        return len(ids)


def stale_messages(
    factory: sessionmaker[Session], settings: Settings, limit: int = 200
) -> list[int]:
    cutoff = utcnow() - timedelta(seconds=settings.inbound_requeue_after)
    with factory() as session:
        return list(
            session.scalars(
                select(InboundMessage.id)
                .where(
                    or_(
                        (InboundMessage.status == InboundStatus.RECEIVED)
                        & (InboundMessage.received_at < cutoff),
                        (InboundMessage.status == InboundStatus.DEFERRED)
                        & (InboundMessage.processed_at < cutoff),
                    )
                )
                # Fewest failed runs first: messages that keep failing (each is failed after
                # process.MAX_ATTEMPTS) never keep a newer one from its turn.
                .order_by(InboundMessage.attempts, InboundMessage.id)
                .limit(limit)
            )
        )


def smtp_parameters(settings: Settings) -> dict[str, Any]:
    """aiosmtpd SMTP options shared by `serve` and tests that run the handler in-process."""
    return {
        "data_size_limit": settings.inbound_max_bytes,
        "hostname": settings.mail_domain,
        "ident": "mailer inbound",
        "enable_SMTPUTF8": True,
        "decode_data": False,
        "timeout": settings.inbound_timeout,
    }


def parse_listen(value: str, source: str = "MAILER_INBOUND_LISTEN") -> tuple[str, int]:
    """HOST:PORT as (host, port); ConfigError naming `source` (where the value came from: the
    variable, or the command's `--listen`) when it is not that."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{source} must be HOST:PORT (e.g. 127.0.0.1:2525), got {value!r}")
    return host, int(port)


def serve(
    settings: Settings,
    listen: str | None = None,
    *,
    on_ready: Callable[[str, int], None] | None = None,
) -> None:
    """Run the server until SIGINT/SIGTERM, sweeping for unprocessed messages meanwhile."""
    host, port = parse_listen(listen or settings.inbound_listen)
    handler = InboundHandler(settings)
    interval = max(1.0, settings.inbound_requeue_after / 4)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        door = Door(handler, settings, loop=loop, **smtp_parameters(settings))
        server = await loop.create_server(door.protocol, host, port)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if on_ready is not None:
            on_ready(host, port)
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
            if stop.is_set():
                break
            try:
                swept = await loop.run_in_executor(None, handler.sweep)
                if swept:
                    log.info("enqueued %s stored messages again", swept)
            except Exception:  # noqa: BLE001 - database down: try at the next sweep
                log.warning("sweep failed", exc_info=True)
        server.close()
        await server.wait_closed()

    asyncio.run(main())
    handler._executor.shutdown(wait=True)
