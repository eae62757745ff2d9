"""A delivery's outcome: decided from the relay's reply (`outcome_of`, pure) and written at once
(`Recorder`), the write protocol's second half (mailer/sending/deliveries.py describes it whole,
with the crash bound it keeps).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, true, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, StatementError

from mailer.db import utcnow
from mailer.sending import reasons
from mailer.sending.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from mailer.sending.transport import Reply


@dataclass(frozen=True)
class Outcome:
    """What to record for one delivery after a send attempt."""

    status: DeliveryStatus
    next_attempt_at: datetime | None = None
    suppress: bool = False  # the address does not exist: never mail it again
    reason: str = ""  # sending/reasons.py's reason for a refusal (user_unknown, policy_blocked…)


SENT = Outcome(DeliveryStatus.SENT)  # the usual outcome, one object (Outcome is immutable)


def outcome_of(
    reply: Reply,
    *,
    attempts: int,
    started_at: datetime,
    now: datetime,
    base_delay: float,
    deadline: timedelta,
) -> Outcome:
    """Decide a delivery's fate from the relay's reply (pure).

    2xx: sent. 5xx: failed; the reply's reason (sending/reasons.py, the same judgement a DSN
    gets later) decides whether the address is suppressed: only a hard reason (the mailbox or
    its domain does not exist) does; a 550 5.7.1 spam block or a full mailbox does not. Anything
    else (4xx, timeouts, no connection): deferred with exponential backoff from `base_delay`,
    doubling per attempt, until the campaign's deadline has passed; then failed.
    """
    if reply.accepted:
        return SENT
    if reply.permanent:
        judged = reasons.judge("", str(reply), reply.command or None)
        return Outcome(DeliveryStatus.FAILED, suppress=judged.hard, reason=judged.reason.value)
    delay = timedelta(seconds=base_delay * (2 ** max(attempts - 1, 0)))
    retry_at = now + delay
    if retry_at > started_at + deadline:
        return Outcome(DeliveryStatus.FAILED)
    return Outcome(DeliveryStatus.DEFERRED, next_attempt_at=retry_at)


# One outcome; the same text every time, so that the server prepares it once per connection.
# COALESCE keeps the attempts (a skipped row was not attempted), a message id or a sent time
# already there when this attempt has none. A row another writer has finished meanwhile (skipped
# by a cancel, sent by another owner after a takeover) is not overwritten, except by "sent": a
# message the relay took is recorded whatever the row said. The same statement returns the
# campaign's status, the batch's per-message check that it is still `sending` (no extra round
# trip: a pause or a cancel stops the batch before the next message's end of data, batch.py).
RECORD_SQL = """\
WITH outcome AS (
UPDATE delivery SET status = %(status)s, last_reply = %(last_reply)s, updated_at = %(now)s,
    next_attempt_at = %(next_attempt_at)s, claimed_by = %(owner)s,
    attempts = COALESCE(%(attempts)s::integer, attempts),
    message_id = COALESCE(%(message_id)s::varchar, message_id),
    sent_at = COALESCE(%(sent_at)s::timestamptz, sent_at)
WHERE id = %(id)s
    AND (delivery.status IN ('pending', 'deferred', 'sending') OR %(status)s = 'sent')
RETURNING id
)
SELECT status FROM campaign WHERE id = %(campaign_id)s"""
# RECORD_SQL's parameters in the order of their $n in the prepared form (`RECORD_PREPARED`).
RECORD_PARAMS = (
    "status",
    "last_reply",
    "now",
    "next_attempt_at",
    "owner",
    "attempts",
    "message_id",
    "sent_at",
    "id",
    "campaign_id",
)
RECORD_NAME = "mailer_record_outcome"
RECORD_NAME_BYTES = RECORD_NAME.encode()
RECORD_PREPARED = re.sub(
    r"%\((\w+)\)s", lambda m: f"${RECORD_PARAMS.index(m.group(1)) + 1}", RECORD_SQL
)


class Recorder:
    """Writes each outcome of `owner`'s claims as soon as it is known, so that a crash cannot
    forget more than the one message in flight.

    `outcomes` is an AUTOCOMMIT connection held for the batch: each UPDATE is its own committed
    transaction in a single round trip, the cheapest durable write per message. On PostgreSQL
    the UPDATE (RECORD_SQL) is prepared once per connection and each outcome sent through libpq
    without waiting for the reply; `committed()` waits for it (raising its error), and `record`
    waits for the previous one first, so at most one outcome is ever unconfirmed. The caller
    calls `committed()` before handing the next message to the relay and before releasing a
    claim; leaving the recorder's `with` block waits too. On SQLite `record` returns committed.

    `campaign_status`: the status of `campaign_id` read by the last outcome's own statement
    (None before the first, or without a campaign id): how a batch learns of a pause or a
    cancel between two messages without a query of its own.
    """

    def __init__(self, outcomes: Connection, owner: str, campaign_id: int | None = None):
        self.outcomes = outcomes
        self.owner = owner
        self.campaign_id = campaign_id
        self.campaign_status: str | None = None
        self.last_at: datetime | None = None  # when the last outcome was recorded
        self._raw: Any = None
        self._driver: Any = None
        self._pending = False
        if outcomes.dialect.name == "postgresql":
            raw = outcomes.connection.driver_connection
            assert raw is not None and raw.autocommit, "outcomes need an AUTOCOMMIT connection"
            self._run(lambda: self._prepare(raw))
            self._raw, self._pgconn = raw, raw.pgconn
            self._encoding = raw.info.encoding  # looked up per call otherwise
            self._owner = owner.encode(self._encoding)
            # psycopg's own modules, loaded here: a SQLite install never imports the driver.
            from psycopg import errors, generators, pq

            self._driver = (errors.error_from_result, generators, pq.ExecStatus.FATAL_ERROR)

    @staticmethod
    def _prepare(raw: Any) -> None:
        """Prepare RECORD_SQL on this connection unless it already is. Asked of the server once
        per batch: a pooled connection used by others in between may have lost it (psycopg sends
        DEALLOCATE ALL after a ROLLBACK on a connection with statements of its own prepared)."""
        known = raw.execute(
            "SELECT 1 FROM pg_prepared_statements WHERE name = %s", (RECORD_NAME,), prepare=False
        ).fetchone()
        if known is None:
            raw.execute(f"PREPARE {RECORD_NAME} AS {RECORD_PREPARED}", prepare=False)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.committed()
        elif self._pending:  # already failing: let the first error through, not this one
            with contextlib.suppress(Exception):
                self.committed()

    def record(
        self,
        delivery_id: int,
        outcome: Outcome,
        reply: Reply | str,
        *,
        attempts: int | None = None,
        message_id: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """Write `outcome` for the delivery (with the relay's reply, truncated to 2,000
        characters, and `attempts` counting this one; None: a row skipped, not attempted). On
        PostgreSQL it is committed once `committed()` returns. Raises SQLAlchemy's
        OperationalError when the database is away."""
        now = now or utcnow()
        self.last_at = now
        if self._raw is None:
            self.campaign_status = record(
                self.outcomes,
                delivery_id,
                outcome,
                reply,
                owner=self.owner,
                attempts=attempts,
                message_id=message_id,
                now=now,
                campaign_id=self.campaign_id,
            )
            return
        self.committed()
        encoding = self._encoding
        stamp = now.isoformat().encode()  # an aware datetime: its offset is in the text
        params = [
            outcome.status.value.encode(),
            str(reply)[:2000].replace("\0", "").encode(encoding, "replace"),
            stamp,  # with claimed_by, the owner's heartbeat
            outcome.next_attempt_at.isoformat().encode() if outcome.next_attempt_at else None,
            self._owner,
            None if attempts is None else str(attempts).encode(),
            message_id.encode(encoding, "replace") if message_id else None,
            stamp if outcome.status == DeliveryStatus.SENT else None,
            str(delivery_id).encode(),
            None if self.campaign_id is None else str(self.campaign_id).encode(),
        ]
        pgconn = self._pgconn
        try:
            pgconn.send_query_prepared(RECORD_NAME_BYTES, params)
            if pgconn.flush():  # not all written (a non-blocking connection): wait until it is
                self._raw.wait(self._driver[1].send(pgconn))
        except self.outcomes.dialect.loaded_dbapi.Error as exc:
            raise as_sqlalchemy(self.outcomes, RECORD_SQL, {}, exc) from exc
        self._pending = True

    def committed(self) -> None:
        """Return once the last outcome sent is committed; raise its error if it failed.

        The reply has usually arrived while the message was going out: it is read from the
        socket and parsed at once, psycopg's waiting loop only when it is not complete yet."""
        if not self._pending:
            return
        self._pending = False
        raw, pgconn = self._raw, self._pgconn
        error_from_result, generators, fatal = self._driver
        try:
            results = []
            while True:
                if pgconn.is_busy():
                    pgconn.consume_input()
                    if pgconn.is_busy():
                        results += raw.wait(generators.fetch_many(pgconn))
                        break
                result = pgconn.get_result()
                if result is None:
                    break
                results.append(result)
            for result in results:
                if result.status == fatal:
                    raise error_from_result(result, encoding=self._encoding)
                if result.ntuples:  # the campaign's status, as the outcome's statement saw it
                    value = result.get_value(0, 0)
                    self.campaign_status = None if value is None else bytes(value).decode()
        except self.outcomes.dialect.loaded_dbapi.Error as exc:
            raise as_sqlalchemy(self.outcomes, RECORD_SQL, {}, exc) from exc

    def _run(self, step: Callable[[], object]) -> None:
        """A driver step, its errors raised as SQLAlchemy would (see `_as_sqlalchemy`)."""
        try:
            step()
        except self.outcomes.dialect.loaded_dbapi.Error as exc:
            raise as_sqlalchemy(self.outcomes, RECORD_SQL, {}, exc) from exc


def as_sqlalchemy(
    connection: Connection, statement: str, params: dict[str, Any], exc: Any
) -> StatementError:
    """A driver error raised past SQLAlchemy, as SQLAlchemy would have raised it (callers catch
    sqlalchemy.exc.OperationalError…); a lost connection is invalidated, so that the pool never
    hands it out again."""
    lost = connection.dialect.is_disconnect(exc, connection.connection.dbapi_connection, None)
    if lost:
        connection.invalidate(exc)
    return DBAPIError.instance(
        statement,
        params,
        exc,
        connection.dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=connection.dialect,
    )


def record(
    outcomes: Connection,
    delivery_id: int,
    outcome: Outcome,
    reply: Reply | str,
    *,
    owner: str,
    attempts: int | None = None,
    message_id: str | None = None,
    now: datetime | None = None,
    campaign_id: int | None = None,
) -> str | None:
    """Write one outcome at once through SQLAlchemy (`Recorder.record` on SQLite; see there,
    and RECORD_SQL for the rows it leaves alone); returns the status of `campaign_id`."""
    now = now or utcnow()
    values: dict[str, object] = {
        "status": outcome.status,
        "last_reply": str(reply)[:2000],
        "updated_at": now,  # with claimed_by, the owner's heartbeat
        "next_attempt_at": outcome.next_attempt_at,
        "claimed_by": owner,
    }
    if attempts is not None:
        values["attempts"] = attempts
    if message_id:
        values["message_id"] = message_id
    if outcome.status == DeliveryStatus.SENT:
        values["sent_at"] = now
    unfinished = Delivery.status.in_(UNFINISHED_ROWS)
    outcomes.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            unfinished if outcome.status != DeliveryStatus.SENT else true(),
        )
        .values(**values)
    )
    if campaign_id is None:
        return None
    status = outcomes.scalar(select(Campaign.status).where(Campaign.id == campaign_id))
    return None if status is None else str(CampaignStatus(status).value)


# The rows an attempt's outcome may be written over (see RECORD_SQL).
UNFINISHED_ROWS = (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED, DeliveryStatus.SENDING)
