"""The mailer's tables: partners, issues and their items, campaigns and their deliveries."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subscribers.db import Base, JSONType, UTCDateTime, utcnow


class Partner(Base):
    """A partner of the firm: signs issues and receives the clients' replies."""

    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    firm: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), unique=True)
    pronoun: Mapped[str] = mapped_column(String(8), default="them")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    issues: Mapped[list[Issue]] = relationship(back_populates="partner")


class Issue(Base):
    __tablename__ = "issue"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    newsletter: Mapped[str] = mapped_column(String(200))
    issue_date: Mapped[date] = mapped_column(Date)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    summary: Mapped[str] = mapped_column(Text)
    call_to_action: Mapped[str] = mapped_column(Text, default="")
    more_info_url: Mapped[str | None] = mapped_column(String(2000))
    pdf_name: Mapped[str] = mapped_column(String(200))
    source_format: Mapped[str] = mapped_column(String(16))  # "briefing" or "markdown"
    source_text: Mapped[str] = mapped_column(Text)  # the file as imported, for re-rendering
    extra: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    partner: Mapped[Partner] = relationship(back_populates="issues")
    items: Mapped[list[IssueItem]] = relationship(
        back_populates="issue", order_by="IssueItem.position", cascade="all, delete-orphan"
    )


class IssueItem(Base):
    __tablename__ = "issue_item"
    __table_args__ = (UniqueConstraint("issue_id", "position", name="uq_issue_item_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    headline: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)  # paragraphs separated by one blank line
    source_outlet: Mapped[str] = mapped_column(String(200))
    source_date: Mapped[date | None] = mapped_column(Date)
    source_author: Mapped[str] = mapped_column(String(200))
    source_title: Mapped[str] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(String(2000))

    issue: Mapped[Issue] = relationship(back_populates="items")


class CampaignStatus(enum.StrEnum):
    PLANNED = "planned"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    SKIPPED = "skipped"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda e: [m.value for m in e],
    )


class Campaign(Base):
    """One send of an issue to a list (and maybe a segment). Workers obey its status."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"))
    list_id: Mapped[int] = mapped_column(ForeignKey("mailing_list.id"))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id", ondelete="SET NULL"))
    expression: Mapped[str | None] = mapped_column(Text)  # the segment's or --where expression
    status: Mapped[CampaignStatus] = mapped_column(
        _enum(CampaignStatus, "campaign_status"), default=CampaignStatus.PLANNED
    )
    status_reason: Mapped[str] = mapped_column(Text, default="")
    force_resend: Mapped[bool] = mapped_column(Boolean, default=False)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    total: Mapped[int] = mapped_column(Integer, default=0)  # deliveries snapshotted at start

    issue: Mapped[Issue] = relationship()
    rendered: Mapped[CampaignRender | None] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", uselist=False
    )


class CampaignRender(Base):
    """The issue rendered once for a campaign, shared by every worker through the database."""

    __tablename__ = "campaign_render"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(Text)
    preheader: Mapped[str] = mapped_column(Text)
    html_template: Mapped[str] = mapped_column(Text)
    text_template: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_filename: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    campaign: Mapped[Campaign] = relationship(back_populates="rendered")


class Delivery(Base):
    """One recipient of one campaign: the unit of idempotent work."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("campaign_id", "subscriber_id", name="uq_delivery_campaign_subscriber"),
        Index("ix_delivery_campaign_status", "campaign_id", "status"),
        Index("ix_delivery_claimed_by", "claimed_by"),
        # Never two sent rows for one (issue, subscriber) unless an editor forced a resend.
        Index(
            "uq_delivery_issue_subscriber_sent",
            "issue_id",
            "subscriber_id",
            unique=True,
            sqlite_where=text("status = 'sent' AND resend = 0"),
            postgresql_where=text("status = 'sent' AND NOT resend"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"))
    # NULL once the subscriber is erased (GDPR): the row stays for the campaign's figures.
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriber.id", ondelete="SET NULL")
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    resend: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_reply: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship()


class AdminUser(Base):
    """Someone who may log in to /admin. Only an argon2 hash of the password is kept."""

    __tablename__ = "admin_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Bumped on logout and password change: every session cookie issued before is then refused.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A bearer token for /api/v1. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# --- Inbound mail: messages received by `mailer inbound`, bounces, client inquiries ------------


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


class BounceKind(enum.StrEnum):
    HARD = "hard"
    SOFT = "soft"


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
    address_kind: Mapped[str] = mapped_column(String(16))  # reply, bounces, unsubscribe
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
        _enum(InboundStatus, "inbound_status"), default=InboundStatus.RECEIVED
    )
    kind: Mapped[InboundKind | None] = mapped_column(_enum(InboundKind, "inbound_kind"))
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
    kind: Mapped[BounceKind] = mapped_column(_enum(BounceKind, "bounce_kind"))
    status: Mapped[str] = mapped_column(String(16), default="")  # RFC 3463 code, e.g. 5.1.1
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
        _enum(InquiryStatus, "inquiry_status"), default=InquiryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_reply: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
