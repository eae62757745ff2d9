"""Bounce policy: what a reported delivery failure does to the subscriber.

- A hard bounce — its reason (mailer/sending/reasons.py) is a failure of the address itself: the
  mailbox or its domain does not exist, or it has moved — marks the subscriber `bounced` and adds
  a `hard_bounce` suppression: the address is never mailed again.
- A soft bounce (every other reason: a full mailbox, a spam or policy block, an authentication
  refusal, even with a 5.x.x code) is only counted. When the subscriber has soft
  bounces for `soft_bounce_threshold` distinct messages within `soft_bounce_window_days`, the
  address is suppressed (`soft_bounce`) and the subscriber marked `bounced`. Distinct messages,
  not reports: a relay sends several "still trying" warnings for one message over two days, and
  that is one problem, not three.
- A delay warning (RFC 3464 Action `delayed`: "Delivery Status Notification (Delay)", "Delayed
  Mail (still being retried)", Exim's "message … delayed 24 hours") is not a failure at all: the
  relay is still trying and the message may well arrive. It is recorded (the subscriber's
  history shows it) but counts neither toward the threshold nor among a campaign's bounces; if
  the relay gives up, its final report (Action `failed`) is the bounce.

- A bounce about someone else: when it names failed addresses and none is the subscriber's (nor
  was expanded from it: an alias or forward of theirs to a dead mailbox is theirs, and stays
  hard), it is about a copy their mail system sent on elsewhere, keeping our return path (a
  forwarding rule without SRS): it is counted as soft, whatever its code, and the outcome says
  so. Repeated, the soft threshold still stops the mail.

- A bounce that does not carry the message we sent: the report must hold that delivery's
  signed Message-ID (tokens.MessageIds; a mail system returns the original's headers, or at
  least names its Message-ID). The VERP token alone is no proof: it is in the Return-Path of
  the mail the reader received, readable by anyone who sees it, and so is the reply+ address,
  and a forged "550 5.1.1 user unknown" to it would suppress a reader who reads every issue.
  Such a bounce is recorded as it came (the raw message, the event, its code) but counted as
  soft, its outcome and diagnostic saying why (`UNCONFIRMED`): a real dead address, bouncing
  every issue, still reaches the soft threshold.

The bounce is attributed through the VERP token in the envelope recipient (which delivery, hence
which subscriber), never through the address text in the report, nor through a token in the
returned message it carries: both can be another message's (a forward, a copy), while the return
path is the one our delivery was sent with. The address text only says whether the failure is
about the subscriber's own address (above).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailer.db import utcnow
from mailer.inbound.models import DELAYED, BounceEvent, BounceKind, InboundMessage
from mailer.sending.models import Delivery
from mailer.settings import Settings
from subscribers.errors import InvalidAddress
from subscribers.models import Subscriber, SubscriberStatus, SuppressionReason

if TYPE_CHECKING:
    from mailer.inbound.detectors.base import Failure

log = logging.getLogger(__name__)

# Why a hard bounce counted as soft: the report names no delivery of ours by its signed
# Message-ID (or another one's), so nothing shows it is about the message we sent.
UNCONFIRMED = "the report does not carry the message we sent: counted soft"


@dataclass(frozen=True)
class BounceOutcome:
    event_id: int
    kind: BounceKind
    suppressed: bool
    text: str  # for InboundMessage.outcome


def pick_failure(failures: Sequence[Failure], subscriber_email: str | None) -> Failure:
    """The failure about our recipient: the one naming their address, else the worst one, soft
    when the bounce names only other addresses (`about_reader`)."""
    if subscriber_email:
        # Imported here: `mailer report` counts bounces without loading the detectors.
        from mailer.inbound.detectors.base import about_reader

        failures = about_reader(tuple(failures), subscriber_email)
        mine = [f for f in failures if f.names(subscriber_email)]
        if mine:
            return sorted(mine, key=lambda f: not f.hard)[0]
    return sorted(failures, key=lambda f: not f.hard)[0]


def unconfirmed(failure: Failure) -> Failure:
    """A failure judged hard, in a report that does not carry our message: soft, its diagnostic
    saying why (the judgement itself, status and reason, is kept as it came). Others as given."""
    if not failure.hard:
        return failure
    note = f"[{UNCONFIRMED}] {failure.diagnostic}".strip()
    return dataclasses.replace(failure, hard=False, diagnostic=note)


def _code(failure: Failure, subscriber: Subscriber | None, *, unconfirmed: bool) -> str:
    """The status and reason of the outcome text, and why a failure counted soft."""
    code = f"{failure.status or 'no status code'}, {failure.reason}"
    if failure.other_than and subscriber is not None:
        code += (
            f"; about {failure.recipient}, not {subscriber.email}: a copy sent on elsewhere "
            "(a forward), counted as soft"
        )
    if unconfirmed:
        code += f"; {UNCONFIRMED}"
    return code


def _named(failure: Failure, subscriber_email: str | None) -> str:
    """The address the failure names: the subscriber's when it is its original recipient."""
    if subscriber_email and failure.names(subscriber_email):
        return failure.original_recipient or failure.recipient
    return failure.recipient


def soft_bounce_count(session: Session, subscriber_id: int, since: datetime) -> int:
    """Distinct messages (deliveries) with a soft bounce since `since`."""
    per_message = func.coalesce(BounceEvent.delivery_id, -BounceEvent.inbound_message_id)
    return int(
        session.scalar(
            select(func.count(func.distinct(per_message))).where(
                BounceEvent.subscriber_id == subscriber_id,
                BounceEvent.kind == BounceKind.SOFT,
                BounceEvent.action != DELAYED,
                BounceEvent.created_at >= since,
            )
        )
        or 0
    )


def _event(
    session: Session,
    inbound: InboundMessage,
    subscriber: Subscriber | None,
    failure: Failure,
    now: datetime,
) -> BounceEvent:
    """The BounceEvent recording `failure` for this inbound message (not yet added)."""
    campaign_id = (
        session.scalar(select(Delivery.campaign_id).where(Delivery.id == inbound.delivery_id))
        if inbound.delivery_id
        else None
    )
    return BounceEvent(
        inbound_message_id=inbound.id,
        subscriber_id=subscriber.id if subscriber else None,
        delivery_id=inbound.delivery_id,
        campaign_id=campaign_id,
        kind=BounceKind.HARD if failure.hard else BounceKind.SOFT,
        status=failure.status,
        reason=failure.reason[:32],
        action=failure.action[:32],
        recipient=_named(failure, subscriber.email if subscriber else None)[:320],
        diagnostic=failure.diagnostic[:2000],
        created_at=now,
    )


def record_bounce(
    session: Session,
    inbound: InboundMessage,
    failures: Sequence[Failure],
    settings: Settings,
    *,
    confirmed: bool,
    now: datetime | None = None,
) -> BounceOutcome:
    """Store the BounceEvent for this inbound message and apply the policy. The caller commits.

    `confirmed`: the report carries the signed Message-ID of the delivery it is attributed to
    (`message.our_deliveries`). Unconfirmed, a hard failure is recorded and counted as soft.

    A second call for the same message returns the first event (the unique key on the inbound
    message makes a concurrent second insert fail instead of counting the bounce twice).
    """
    now = now or utcnow()
    existing = session.scalar(
        select(BounceEvent).where(BounceEvent.inbound_message_id == inbound.id)
    )
    if existing is not None:
        return BounceOutcome(existing.id, existing.kind, False, "bounce already recorded")

    subscriber = session.get(Subscriber, inbound.subscriber_id) if inbound.subscriber_id else None
    judged = pick_failure(failures, subscriber.email if subscriber else None)
    failure = judged if confirmed else unconfirmed(judged)
    kind = BounceKind.HARD if failure.hard else BounceKind.SOFT
    event = _event(session, inbound, subscriber, failure, now)
    session.add(event)
    session.flush()
    code = _code(failure, subscriber, unconfirmed=failure is not judged)
    if subscriber is None or not subscriber.email:
        return BounceOutcome(
            event.id, kind, False, f"{kind.value} bounce ({code}); the subscriber no longer exists"
        )

    detail = f"{code} {failure.diagnostic}".strip()[:480]
    if failure.action == DELAYED:
        return BounceOutcome(
            event.id,
            kind,
            False,
            f"delay warning ({code}): the relay is still trying; not counted as a bounce",
        )
    if kind == BounceKind.HARD:
        done = _suppress(session, subscriber, settings, SuppressionReason.HARD_BOUNCE, detail)
        return BounceOutcome(
            event.id, kind, True, f"hard bounce ({code}): {subscriber.email} {done}"
        )

    window = timedelta(days=settings.soft_bounce_window_days)
    count = soft_bounce_count(session, subscriber.id, now - window)
    if count >= settings.soft_bounce_threshold:
        done = _suppress(
            session,
            subscriber,
            settings,
            SuppressionReason.SOFT_BOUNCE,
            f"{count} soft bounces in {settings.soft_bounce_window_days:g} days; last: {detail}",
        )
        return BounceOutcome(
            event.id,
            kind,
            True,
            f"soft bounce ({code}), {count} within {settings.soft_bounce_window_days:g} days: "
            f"{subscriber.email} {done}",
        )
    return BounceOutcome(
        event.id,
        kind,
        False,
        f"soft bounce ({code}), {count} of {settings.soft_bounce_threshold} "
        f"within {settings.soft_bounce_window_days:g} days",
    )


def _suppress(
    session: Session,
    subscriber: Subscriber,
    settings: Settings,
    reason: SuppressionReason,
    detail: str,
) -> str:
    # Imported here: `mailer report` counts bounces (`counts_for_campaign`) without the address
    # validation that suppressing needs (email_validator, ~30 ms).
    from subscribers.suppression import add_suppression

    assert subscriber.email is not None
    subscriber.status = SubscriberStatus.BOUNCED
    try:
        add_suppression(session, subscriber.email, settings.secret(), reason, detail)
    except InvalidAddress:
        # An address stored before today's validation: `bounced` already stops mail to it, and a
        # crash here would only make the task retry for ever.
        log.warning("cannot suppress malformed address of subscriber %s", subscriber.id)
        return "marked bounced (malformed address, not suppressed)"
    return "suppressed"


def describe_bounces(session: Session, subscriber_id: int) -> list[str]:
    """One line per bounce, newest first (for `mailer subscribers show` and export-data)."""
    rows = session.scalars(
        select(BounceEvent)
        .where(BounceEvent.subscriber_id == subscriber_id)
        .order_by(BounceEvent.created_at.desc(), BounceEvent.id.desc())
    )
    return [
        f"{e.created_at:%Y-%m-%d %H:%M} {e.kind.value} {e.status or '-'} {e.reason or '-'}"
        + (f" campaign {e.campaign_id}" if e.campaign_id else "")
        + (f": {e.diagnostic[:120]}" if e.diagnostic else "")
        for e in rows
    ]


def counts_for_campaign(session: Session, campaign_id: int) -> dict[str, Any]:
    """Hard and soft bounces reported for one campaign's messages (delay warnings are none)."""
    rows = dict(
        session.execute(
            select(BounceEvent.kind, func.count())
            .where(BounceEvent.campaign_id == campaign_id, BounceEvent.action != DELAYED)
            .group_by(BounceEvent.kind)
        ).all()
    )
    return {"hard": rows.get(BounceKind.HARD, 0), "soft": rows.get(BounceKind.SOFT, 0)}
