"""Acting on one stored inbound message: what the inbound task runs.

Judge it (mailer/inbound/judgement.py), then act by kind: record a bounce (bounces.py), unsubscribe
(like the List-Unsubscribe link), forward an inquiry to the partner (inquiries.py), or just record
an auto-reply. The verdict and the outcome are recorded on the row. Safe to run twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailer.db import get_sessionmaker, utcnow
from mailer.inbound import bounces, complaints, inquiries
from mailer.inbound.departures import DEPARTED_TAG, DEPARTURE_OUTCOME
from mailer.inbound.judgement import Classification, UnreadableMessage, judge
from mailer.inbound.message import our_deliveries
from mailer.inbound.models import (
    InboundKind,
    InboundMessage,
    InboundStatus,
    Inquiry,
    InquiryStatus,
)
from mailer.inbound.roles import is_role
from mailer.sending.models import Campaign, Delivery
from mailer.sending.transport import make_transport
from mailer.settings import Settings, get_settings
from subscribers.lifecycle import unsubscribe
from subscribers.models import MailingList, Subscriber, Subscription

# Processing attempts per stored message: runs since its last one that finished (a forward the
# relay deferred starts the count again; its retries are bounded by retry_deadline_hours). When a
# run fails with this many spent, or one starts with more spent (the earlier ones were killed
# before they could record anything), the message is marked failed with the error, kept for an
# admin to read, and never retried: a message that crashes the judgement or the forward must
# not loop, nor keep others from the sweep.
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Processed:
    status: InboundStatus
    kind: InboundKind | None
    outcome: str
    retry: bool = False  # the forward was deferred: run again later


def _finish(
    session: Session, inbound: InboundMessage, status: InboundStatus, outcome: str
) -> Processed:
    inbound.status = status
    inbound.outcome = _after_departure(inbound, outcome)[:4000]
    inbound.processed_at = utcnow()
    if status == InboundStatus.DEFERRED:
        inbound.attempts = 0  # this run finished: only failing runs in a row are counted
    session.commit()
    return Processed(status, inbound.kind, inbound.outcome, status == InboundStatus.DEFERRED)


def process(inbound_id: int) -> Processed:
    """Classify one stored message and act on it. Running it twice changes nothing more."""
    settings = get_settings()
    factory = get_sessionmaker()
    with factory() as session:
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.id == inbound_id)
            .values(attempts=InboundMessage.attempts + 1)
        )
        session.commit()
        inbound = session.get(InboundMessage, inbound_id)
        if inbound is None:
            return Processed(InboundStatus.FAILED, None, "no such message (erased?)")
        if inbound.status in (InboundStatus.DONE, InboundStatus.IGNORED, InboundStatus.FAILED):
            return Processed(inbound.status, inbound.kind, inbound.outcome)
        if inbound.attempts > MAX_ATTEMPTS:
            return _give_up(
                session,
                inbound_id,
                f"processing did not finish in {MAX_ATTEMPTS} attempts (each run stopped "
                "before it could record an outcome or an error)",
            )
        try:
            return _run(session, inbound, settings)
        except UnreadableMessage as exc:
            session.rollback()
            return _give_up(session, inbound_id, f"cannot be read safely: {exc}")
        except Exception as exc:
            session.rollback()
            if inbound.attempts >= MAX_ATTEMPTS:
                return _give_up(
                    session,
                    inbound_id,
                    f"failed {inbound.attempts} times; last error: {inquiries.describe_error(exc)}",
                )
            raise


def _run(session: Session, inbound: InboundMessage, settings: Settings) -> Processed:
    """One run's work: judge the message if that is not done yet, and forward an inquiry."""
    if inbound.kind is None:
        verdict = judge(
            inbound.raw,
            mail_from=inbound.mail_from,
            rcpt_to=inbound.rcpt_to,
            domain=settings.mail_domain,
        )
        return _act(session, inbound, verdict, settings)
    if inbound.kind == InboundKind.INQUIRY and not is_role(inbound.address_kind):
        return _forward(session, inbound, settings)
    return Processed(inbound.status, inbound.kind, inbound.outcome)


def _give_up(session: Session, inbound_id: int, error: str) -> Processed:
    """Mark the message failed with `error`, and its inquiry (if any, and not forwarded) too:
    the admin's inquiry page then says why the partner never got it."""
    inbound = session.get(InboundMessage, inbound_id)
    assert inbound is not None
    if inbound.kind is None:
        inbound.reason = "processing failed"
    inquiry = session.scalar(select(Inquiry).where(Inquiry.inbound_message_id == inbound_id))
    if inquiry is not None and inquiry.status != InquiryStatus.SENT:
        inquiry.status = InquiryStatus.FAILED
        inquiry.last_reply = f"not forwarded: {error}"[:2000]
        inquiry.claimed_at = None
    return _finish(session, inbound, InboundStatus.FAILED, error)


def _act(
    session: Session, inbound: InboundMessage, verdict: Classification, settings: Settings
) -> Processed:
    inbound.kind = verdict.kind
    inbound.reason = verdict.reason[:4000]
    kind = verdict.kind
    if kind == InboundKind.LOOP:
        return _finish(session, inbound, InboundStatus.IGNORED, "our own forward; not processed")
    if is_role(inbound.address_kind):
        return _at_role_address(session, inbound, verdict, settings)
    if kind == InboundKind.AUTO_REPLY and verdict.departure is not None:
        return _finish(session, inbound, InboundStatus.DONE, _departed(session, inbound, verdict))
    if kind in (InboundKind.AUTO_REPLY, InboundKind.UNRECOGNIZED, InboundKind.DELIVERED):
        return _finish(session, inbound, InboundStatus.DONE, "recorded; nothing sent")
    if kind == InboundKind.COMPLAINT:
        ours = _ours(inbound, settings)
        text = complaints.record_complaint(session, inbound, verdict, settings, ours)
        return _finish(session, inbound, InboundStatus.DONE, text)
    if kind == InboundKind.BOUNCE:
        # Hard only when the report carries the Message-ID of the VERP token's own delivery.
        confirmed = inbound.delivery_id in _ours(inbound, settings)
        try:
            result = bounces.record_bounce(
                session, inbound, verdict.failures, settings, confirmed=confirmed
            )
            return _finish(session, inbound, InboundStatus.DONE, result.text)
        except IntegrityError:  # another run recorded it a moment ago
            session.rollback()
            session.refresh(inbound)
            return Processed(inbound.status, inbound.kind, inbound.outcome)
    if kind == InboundKind.UNSUBSCRIBE:
        return _finish(session, inbound, InboundStatus.DONE, _unsubscribe(session, inbound))
    if kind != InboundKind.INQUIRY:  # never forward anything but a reader's own reply
        return _finish(session, inbound, InboundStatus.DONE, "recorded; nothing sent")
    if verdict.departure is not None:  # a reader writing that they left: tag, and forward
        inbound.outcome = _departed(session, inbound, verdict)
    session.commit()  # an inquiry: the classification first, then the forward
    return _forward(session, inbound, settings)


def _at_role_address(
    session: Session, inbound: InboundMessage, verdict: Classification, settings: Settings
) -> Processed:
    """Mail to postmaster@ or abuse@ (roles.py). A complaint, a bounce or a delivery notice
    that carries the signed Message-ID of one of our deliveries is applied as if it had reached
    that delivery's address; anything else is kept for an admin: never forwarded to a partner,
    never answered, nobody unsubscribed. A token of ours in it (a Return-Path, a List-Unsubscribe
    link) names nobody here: anyone who saw the reader's mail can copy it, and role addresses
    need no token to reach."""
    kind = verdict.kind
    ours = _ours(inbound, settings)
    if kind == InboundKind.COMPLAINT:  # attributes by the original itself (complaints.py)
        text = complaints.record_complaint(session, inbound, verdict, settings, ours)
        return _finish(session, inbound, InboundStatus.DONE, text)
    where = f"at {inbound.address_kind}@"
    if kind not in (InboundKind.BOUNCE, InboundKind.DELIVERED):
        return _finish(
            session, inbound, InboundStatus.DONE, f"{where}: recorded for an admin; nothing sent"
        )
    row = next((r for r in (session.get(Delivery, d) for d in ours) if r is not None), None)
    if row is None:
        return _finish(
            session,
            inbound,
            InboundStatus.DONE,
            f"{where}: a delivery report that carries none of our signed Message-IDs; recorded "
            "for an admin, nobody marked",
        )
    inbound.delivery_id, inbound.subscriber_id = row.id, row.subscriber_id
    if kind == InboundKind.DELIVERED:
        return _finish(session, inbound, InboundStatus.DONE, f"{where}: recorded; nothing sent")
    try:
        result = bounces.record_bounce(session, inbound, verdict.failures, settings, confirmed=True)
    except IntegrityError:  # another run recorded it a moment ago
        session.rollback()
        session.refresh(inbound)
        return Processed(inbound.status, inbound.kind, inbound.outcome)
    text = f"{where}, about delivery #{row.id} (by its signed Message-ID): {result.text}"
    return _finish(session, inbound, InboundStatus.DONE, text)


def _ours(inbound: InboundMessage, settings: Settings) -> tuple[int, ...]:
    """The deliveries whose signed Message-ID the stored message carries (verified with every
    key): what a bounce or complaint may act on (message.our_deliveries)."""
    return our_deliveries(inbound.raw, settings.verification_secrets())


def _departed(session: Session, inbound: InboundMessage, verdict: Classification) -> str:
    """A departure notice: tag the reader `left-company` for an editor to review (a segment
    `tag:left-company`, the admin's Bounces page), never unsubscribe them. The address may still
    be read by a successor, and whether to keep mailing it is the firm's call, not a regex's."""
    assert verdict.departure is not None
    subscriber = session.get(Subscriber, inbound.subscriber_id) if inbound.subscriber_id else None
    named = ", ".join(verdict.departure.contacts)
    contacts = f"; the notice names {named}" if named else ""
    if subscriber is None:
        return f"{DEPARTURE_OUTCOME}: no subscriber to tag{contacts}"
    subscriber.set_tags([*subscriber.tags, DEPARTED_TAG])
    return f"{DEPARTURE_OUTCOME}: {subscriber.email} tagged {DEPARTED_TAG}{contacts}"


def _unsubscribe(session: Session, inbound: InboundMessage) -> str:
    """Unsubscribe from the list the message was sent to (like the List-Unsubscribe link)."""
    row = session.execute(
        select(Campaign.list_id, MailingList.slug)
        .join(Delivery, Delivery.campaign_id == Campaign.id)
        .join(MailingList, MailingList.id == Campaign.list_id)
        .where(Delivery.id == inbound.delivery_id)
    ).first()
    subscriber = session.get(Subscriber, inbound.subscriber_id) if inbound.subscriber_id else None
    if row is None or subscriber is None:
        return "unsubscribe request, but the subscriber or the campaign no longer exists"
    list_id, slug = row
    subscription = session.scalar(
        select(Subscription).where(
            Subscription.subscriber_id == subscriber.id, Subscription.list_id == list_id
        )
    )
    if subscription is None:
        return f"unsubscribe request: {subscriber.email} is not on {slug}"
    how = "unsubscribe address" if inbound.address_kind == "unsubscribe" else "reply"
    unsubscribe(session, subscription, f"by email ({how})")
    return f"unsubscribed {subscriber.email} from {slug}"


def _forward(session: Session, inbound: InboundMessage, settings: Settings) -> Processed:
    inquiry = inquiries.record_inquiry(session, inbound, settings)
    if inquiries.hold_over_limit(session, inquiry) or inquiries.is_held(inquiry):
        return _finish(session, inbound, InboundStatus.DONE, inquiry.last_reply)
    if inquiry.status == InquiryStatus.SENT:
        if inbound.status != InboundStatus.DONE:
            return _finish(session, inbound, InboundStatus.DONE, _sent_text(inquiry))
        return Processed(inbound.status, inbound.kind, inbound.outcome)
    transport = make_transport(settings.smtp_url)
    try:
        reply = inquiries.forward(session, inquiry, inbound, settings, transport)
    finally:
        transport.close()
    if reply is None:  # another run holds or finished it: this one attempted nothing
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.id == inbound.id, InboundMessage.attempts > 0)
            .values(attempts=InboundMessage.attempts - 1)
        )
        session.commit()
        session.refresh(inbound)
        return Processed(inbound.status, inbound.kind, inbound.outcome)
    if reply.accepted:
        return _finish(session, inbound, InboundStatus.DONE, _sent_text(inquiry))
    if reply.permanent:
        return _finish(session, inbound, InboundStatus.FAILED, f"forward refused: {reply}")
    deadline = inbound.received_at + timedelta(hours=settings.retry_deadline_hours)
    if utcnow() > deadline:
        inquiry.status = InquiryStatus.FAILED
        return _finish(
            session,
            inbound,
            InboundStatus.FAILED,
            f"forward gave up after {settings.retry_deadline_hours:g} h: {reply}",
        )
    return _finish(session, inbound, InboundStatus.DEFERRED, f"forward deferred: {reply}")


def _sent_text(inquiry: Inquiry) -> str:
    return f"forwarded as inquiry #{inquiry.id} {inquiry.forward_message_id}: {inquiry.last_reply}"


def _after_departure(inbound: InboundMessage, text: str) -> str:
    """`text` (what became of a forward), after the departure notice recorded before it, if any:
    the admin lists departure notices by that prefix, whatever the forward's fate."""
    before = inbound.outcome or ""
    if not before.startswith(DEPARTURE_OUTCOME):
        return text
    return f"{before.split(_THEN)[0]}{_THEN}{text}"


_THEN = " | then "
