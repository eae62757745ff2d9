"""Complaints: a reader pressed "this is spam" and their provider told us (an ARF feedback report).

Gmail's and Yahoo's bulk-sender rules make this mandatory: a complainer is never mailed again. The
subscriber is marked `complained` and the address gets a `complaint` suppression — but only when
the report carries the signed Message-ID of one of our deliveries (tokens.MessageIds, read by
`message.our_deliveries`), as a feedback loop's report does: it returns the original's headers.
That delivery's reader is the complainer, whichever of our addresses the report reached (a
feedback loop registered with one reader's bounces+ address sends every report there).

Without it, the report proves nothing: the tokens in our addresses and links (the Return-Path,
the reply+ address, the List-Unsubscribe link) are in the mail the reader received, and anyone
who saw it can write a report to any of them, or to postmaster@ and abuse@, naming the reader.
Such a report is recorded as an `unconfirmed complaint` about the reader the tokens name (found
as before: a token in the original it carries, else the report's own text or headers, else the
VERP address it reached; when it names plainly another recipient, nobody), shown where
complaints are, but it suppresses nobody and counts in no complaint rate.
An `opt-out` report (the reader asked their provider to
take them off the list, not to report spam) unsubscribes them from the list the message came from.
Other feedback types that are not complaints (`auth-failure`, a DMARC forensic report; `not-spam`)
are recorded and change nothing; neither counts in the complaint rate.

The complaint rate per campaign (`complaint_counts`) is what `mailer report` and the admin show
against the 0.3% line the large mailbox providers hold bulk senders to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, func, not_, or_, select
from sqlalchemy.orm import Session

from mailer import tokens
from mailer.errors import TokenError
from mailer.inbound.feedback_types import COMPLAINT_TYPES, OPT_OUT_TYPES
from mailer.inbound.models import InboundKind, InboundMessage
from mailer.sending.models import Campaign, Delivery
from mailer.settings import Settings
from subscribers.errors import InvalidAddress
from subscribers.models import Subscriber, SubscriberStatus, Subscription, SuppressionReason

if TYPE_CHECKING:
    from mailer.inbound.detectors.base import Failure
    from mailer.inbound.judgement import Classification

# The bulk-sender line of Gmail and Yahoo (2024): stay below 0.3% of delivered mail.
COMPLAINT_RATE_LIMIT = 0.003
# The outcome of a complaint that carries no signed Message-ID of ours: shown where complaints
# are (the admin's Bounces page, `subscribers show`), never counted nor acted on.
UNCONFIRMED_COMPLAINT = "unconfirmed complaint"


@dataclass(frozen=True)
class ComplaintCounts:
    complaints: int  # distinct subscribers who complained about this campaign
    delivered: int  # messages the relay accepted
    rate: float  # complaints / delivered (0 when nothing was delivered)

    @property
    def over_limit(self) -> bool:
        return self.rate >= COMPLAINT_RATE_LIMIT


def delivery_from(references: Iterable[str], settings: Settings) -> int | None:
    """The first delivery a verified token or one of our signed Message-IDs names, or None.
    Which reader a report names, not proof that it is about our message: a token is in the
    mail the reader received (see `message.our_deliveries` for that)."""
    secrets = settings.verification_secrets()
    for ref in references:
        delivery_id = tokens.parse_message_id(ref, secrets)
        if delivery_id is not None:
            return delivery_id
        try:
            return tokens.parse_delivery_token(ref, secrets)
        except TokenError:
            continue
    return None


# A recipient a feedback loop hid: "redacted@…", "[redacted]@…", "hashed@…", "xxxx@…".
_REDACTED = re.compile(
    r"^\W*(?:redacted|hashed|removed|hidden|anonymi[sz]ed|anonymous|undisclosed|x+|\*+|#+)\W*$|"
    r"[\[\]*]",
    re.I,
)
_PLAIN_ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")


def someone_else(failures: Iterable[Failure], email: str) -> str | None:
    """The address a report names when it is plainly not `email` (and names nothing that is):
    a readable address, not one the feedback loop redacted. None when it names `email`, nobody,
    or only redacted addresses."""
    # Imported here: `mailer report` counts complaints without loading the detectors.
    from mailer.inbound.detectors.base import same_mailbox

    named = [f.recipient for f in failures if _PLAIN_ADDRESS.fullmatch(f.recipient or "")]
    named = [a for a in named if not _REDACTED.search(a.rpartition("@")[0])]
    if not named or any(same_mailbox(a, email) for a in named):
        return None
    return named[0]


def record_complaint(
    session: Session,
    inbound: InboundMessage,
    verdict: Classification,
    settings: Settings,
    ours: Sequence[int] = (),
) -> str:
    """Attribute the complaint; mark and suppress the complainer when it is confirmed. The
    caller commits. `ours`: the deliveries whose signed Message-ID the report carries
    (`message.our_deliveries`); only they confirm a complaint."""
    feedback = verdict.failures[0].reason.removeprefix("feedback:") if verdict.failures else ""
    # The report is about the original it carries: our signed Message-ID in it names the
    # delivery complained about, whichever of our addresses the report reached.
    row = next((r for r in (session.get(Delivery, d) for d in ours) if r is not None), None)
    confirmed = row is not None
    if row is None:  # no proof: a token (the original's, the report's own, the VERP) only names
        found = delivery_from(verdict.tokens, settings)  # whom it would be about, for the record
        if found is None:
            found = delivery_from(verdict.report_tokens, settings)
        row = session.get(Delivery, found) if found is not None else None
    if row is not None:
        inbound.delivery_id, inbound.subscriber_id = row.id, row.subscriber_id
    subscriber = session.get(Subscriber, inbound.subscriber_id) if inbound.subscriber_id else None
    if subscriber is None or not subscriber.email:
        return f"feedback report ({feedback or 'unknown type'}) for none of our subscribers"
    other = None if confirmed else someone_else(verdict.failures, subscriber.email)
    if other is not None:
        reached = subscriber.email
        inbound.delivery_id = inbound.subscriber_id = None
        return (
            f"feedback report ({feedback or 'unknown type'}) about {other}, not {reached} whose "
            "address it reached, and it carries none of our signed Message-IDs: nobody marked; "
            "kept for an admin"
        )
    if feedback in OPT_OUT_TYPES and row is not None:
        # Not gated on the Message-ID: it does what the List-Unsubscribe link in the same mail
        # does (a token suffices there too), and suppresses nobody.
        return _opt_out(session, subscriber, row)
    if feedback and feedback not in COMPLAINT_TYPES:
        return f"feedback report ({feedback}) about mail to {subscriber.email}; not a complaint"
    if not confirmed:
        return (
            f"{UNCONFIRMED_COMPLAINT} ({feedback or 'abuse'}) naming {subscriber.email}: the "
            "report does not carry the message we sent (its signed Message-ID); recorded for "
            "an admin, nobody suppressed, not counted in the complaint rate"
        )
    return _suppress(session, inbound, subscriber, settings, feedback)


def _suppress(
    session: Session,
    inbound: InboundMessage,
    subscriber: Subscriber,
    settings: Settings,
    feedback: str,
) -> str:
    """Mark the complainer `complained` and suppress the address (a confirmed complaint)."""
    # Imported here: `mailer report` counts complaints (`complaint_counts`) without loading the
    # address validation (~30 ms).
    from subscribers.suppression import add_suppression

    assert subscriber.email is not None
    subscriber.status = SubscriberStatus.COMPLAINED
    try:
        add_suppression(
            session,
            subscriber.email,
            settings.secret(),
            SuppressionReason.COMPLAINT,
            f"spam complaint ({feedback or 'abuse'}) via feedback report #{inbound.id}",
        )
    except InvalidAddress:
        return (
            f"complaint: {subscriber.email} marked complained (malformed address, not suppressed)"
        )
    return f"complaint ({feedback or 'abuse'}): {subscriber.email} marked complained and suppressed"


def _opt_out(session: Session, subscriber: Subscriber, delivery: Delivery) -> str:
    """The reader asked their provider to stop this list's mail: unsubscribe them from it, as the
    List-Unsubscribe link would (not a spam complaint: no suppression, no `complained`)."""
    campaign = session.get(Campaign, delivery.campaign_id)
    subscription = (
        session.scalar(
            select(Subscription).where(
                Subscription.subscriber_id == subscriber.id,
                Subscription.list_id == campaign.list_id,
            )
        )
        if campaign is not None
        else None
    )
    if subscription is None:
        return f"opt-out report for {subscriber.email}, who is not on that list any more"
    from subscribers.lifecycle import unsubscribe  # as add_suppression above: not for counting

    unsubscribe(session, subscription, "by an opt-out report from their mailbox provider")
    return f"opt-out report: {subscriber.email} unsubscribed from the list"


def _is_a_complaint() -> ColumnElement[bool]:
    """A COMPLAINT row counts in the rate unless its report names a feedback type that is not a
    complaint (the detector's reason reads "feedback report (<type>) …")."""
    typed = InboundMessage.reason.like("feedback report (%")
    unconfirmed = InboundMessage.outcome.startswith(UNCONFIRMED_COMPLAINT, autoescape=True)
    return and_(
        InboundMessage.kind == InboundKind.COMPLAINT,
        not_(unconfirmed),
        or_(
            not_(typed),
            *(
                InboundMessage.reason.like(f"feedback report ({t})%")
                for t in sorted(COMPLAINT_TYPES)
            ),
        ),
    )


def counted_complaint() -> ColumnElement[bool]:
    """An InboundMessage that counts as a complaint in a campaign's rate and its list of
    complainers: a complaint, confirmed by our signed Message-ID, of a complaint type."""
    return _is_a_complaint()


def complaint_counts(
    session: Session, campaign_id: int, delivered: int | None = None
) -> ComplaintCounts:
    """Complaints about one campaign's messages and its complaint rate; `delivered` (messages
    sent) when the caller has it, else counted here (every sent delivery of the campaign)."""
    from mailer.sending.models import DeliveryStatus

    complaints = int(
        session.scalar(
            select(func.count(func.distinct(InboundMessage.subscriber_id)))
            .join(Delivery, Delivery.id == InboundMessage.delivery_id)
            .where(
                Delivery.campaign_id == campaign_id,
                InboundMessage.kind == InboundKind.COMPLAINT,
                InboundMessage.subscriber_id.is_not(None),
                _is_a_complaint(),
            )
        )
        or 0
    )
    if delivered is None:
        delivered = int(
            session.scalar(
                select(func.count()).where(
                    Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.SENT
                )
            )
            or 0
        )
    return ComplaintCounts(complaints, delivered, complaints / delivered if delivered else 0.0)


def describe_complaints(session: Session, subscriber_id: int) -> list[str]:
    """One line per complaint about this subscriber, newest first (for `subscribers show`)."""
    rows = session.execute(
        select(InboundMessage.received_at, InboundMessage.outcome, Delivery.campaign_id)
        .outerjoin(Delivery, Delivery.id == InboundMessage.delivery_id)
        .where(
            InboundMessage.subscriber_id == subscriber_id,
            InboundMessage.kind == InboundKind.COMPLAINT,
        )
        .order_by(InboundMessage.received_at.desc())
    ).all()
    return [
        f"{at:%Y-%m-%d %H:%M} complaint"
        + (f" campaign {campaign}" if campaign else "")
        + (f": {outcome[:120]}" if outcome else "")
        for at, outcome, campaign in rows
    ]
