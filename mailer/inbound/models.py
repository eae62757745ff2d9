"""Inbound mail's tables: messages received by `mailer inbound` (kept raw), bounces, inquiries."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mailer.db import utcnow
from subscribers.db import Base, UTCDateTime, enum_column


class InboundStatus(enum.StrEnum):
    RECEIVED = "received"  # stored; the classify task has not finished with it yet
    DONE = "done"  # classified and acted on
    IGNORED = "ignored"  # carries our loop guard (one of our own forwards): never processed
    DEFERRED = "deferred"  # acting failed for now (the relay is down); retried
    FAILED = "failed"  # could not be acted on; kept for an admin to read


class InboundKind(enum.StrEnum):
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    UNSUBSCRIBE = "unsubscribe"
    INQUIRY = "inquiry"
    LOOP = "loop"  # our own forward came back
    UNRECOGNIZED = "unrecognized"  # at bounces+ but neither a bounce nor an auto-reply
    COMPLAINT = "complaint"  # a feedback (ARF, RFC 5965) report: the reader marked it spam
    DELIVERED = "delivered"  # a delivery status report of a success: nothing failed


class BounceKind(enum.StrEnum):
    HARD = "hard"
    SOFT = "soft"


# A BounceEvent's RFC 3464 Action when the report is only a warning (the relay is still trying):
# recorded, never counted as a bounce (inbound/bounces.py).
DELAYED = "delayed"


class InquiryStatus(enum.StrEnum):
    PENDING = "pending"  # recorded, not yet forwarded
    SENT = "sent"  # the partner's relay accepted the forward
    DEFERRED = "deferred"  # the relay refused for now; retried
    FAILED = "failed"  # refused permanently (e.g. the partner's address is wrong)


class InboundMessage(Base):
    """One message accepted for one recipient, kept raw: record first, decide later."""

    __tablename__ = "inbound_message"
    __table_args__ = (Index("ix_inbound_message_status_received", "status", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    peer: Mapped[str] = mapped_column(String(200), default="")
    helo: Mapped[str] = mapped_column(String(255), default="")
    mail_from: Mapped[str] = mapped_column(String(998), default="")  # "" for the null sender
    rcpt_to: Mapped[str] = mapped_column(String(320))
    # reply, bounces, unsubscribe; postmaster or abuse (inbound/roles.py: no delivery)
    address_kind: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery.id", ondelete="SET NULL"), index=True
    )
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriber.id", ondelete="SET NULL"), index=True
    )
    size: Mapped[int] = mapped_column(Integer)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    message_id: Mapped[str] = mapped_column(String(998), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[InboundStatus] = mapped_column(
        enum_column(InboundStatus, "inbound_status"), default=InboundStatus.RECEIVED
    )
    kind: Mapped[InboundKind | None] = mapped_column(enum_column(InboundKind, "inbound_kind"))
    reason: Mapped[str] = mapped_column(Text, default="")  # why it was classified so
    outcome: Mapped[str] = mapped_column(Text, default="")  # what was done about it
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # classify task runs
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BounceEvent(Base):
    """A delivery failure reported for one of our messages (one per inbound bounce)."""

    __tablename__ = "bounce_event"
    __table_args__ = (Index("ix_bounce_event_subscriber_created", "subscriber_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_message_id: Mapped[int] = mapped_column(
        ForeignKey("inbound_message.id", ondelete="CASCADE"), unique=True
    )
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriber.id", ondelete="SET NULL")
    )
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery.id", ondelete="SET NULL"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[BounceKind] = mapped_column(enum_column(BounceKind, "bounce_kind"))
    status: Mapped[str] = mapped_column(String(16), default="")  # RFC 3463 code, e.g. 5.1.1
    # sending/reasons.py's vocabulary (user_unknown, mailbox_full…); "" before it existed
    reason: Mapped[str] = mapped_column(String(32), default="")
    action: Mapped[str] = mapped_column(String(32), default="")  # RFC 3464 Action, if given
    recipient: Mapped[str] = mapped_column(String(320), default="")  # as the report names it
    diagnostic: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Inquiry(Base):
    """A client's reply forwarded to the partner who wrote the issue (one per inbound message)."""

    __tablename__ = "inquiry"

    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_message_id: Mapped[int] = mapped_column(
        ForeignKey("inbound_message.id", ondelete="CASCADE"), unique=True
    )
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriber.id", ondelete="SET NULL"), index=True
    )
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("delivery.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign.id", ondelete="SET NULL"), index=True
    )
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issue.id", ondelete="SET NULL"))
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner.id", ondelete="SET NULL"), index=True
    )
    client_email: Mapped[str] = mapped_column(String(320), default="")
    client_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    forward_message_id: Mapped[str] = mapped_column(String(300), unique=True)
    status: Mapped[InquiryStatus] = mapped_column(
        enum_column(InquiryStatus, "inquiry_status"), default=InquiryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_reply: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Closed by an admin once the matter is settled (the admin's inquiries page); None: open.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str] = mapped_column(String(320), default="")
