"""The audience's tables: who they are, which lists they are on, and who must never be mailed."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from subscribers.db import Base, JSONType, UTCDateTime, enum_column, utcnow


class SubscriberStatus(enum.StrEnum):
    ACTIVE = "active"
    PENDING = "pending"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class SubscriptionStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"


class SuppressionReason(enum.StrEnum):
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"  # global unsubscribe
    MANUAL = "manual"
    ERASED = "erased"  # GDPR erasure: only a keyed hash of the address is kept


class Subscriber(Base):
    __tablename__ = "subscriber"
    # The search box's fragment (anywhere in the address, name or company) is found from these
    # trigram indexes on PostgreSQL (migration 0023) instead of reading every subscriber; SQLite
    # has none and reads the table.
    __table_args__ = tuple(
        Index(
            f"ix_subscriber_{column}_trgm",
            text(f"lower({column}) gin_trgm_ops"),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql")
        for column in ("email", "name", "company")
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised (trimmed, domain lower-cased and IDNA-decoded) and unique. Nulled on erasure.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    # The address's domain, stored for `domain:` segments (exact match, indexed).
    domain: Mapped[str | None] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str | None] = mapped_column(String(2))  # ISO 639-1
    # Free attributes (`attr.KEY:` in segments): JSONB on PostgreSQL, JSON on SQLite.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[SubscriberStatus] = mapped_column(
        enum_column(SubscriberStatus, "subscriber_status"), default=SubscriberStatus.ACTIVE
    )
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consent_method: Mapped[str | None] = mapped_column(String(40))  # import, form, admin, api
    consent_source: Mapped[str | None] = mapped_column(String(500))  # "import: FILE", a URL…
    consent_ip: Mapped[str | None] = mapped_column(String(45))
    consent_user_agent: Mapped[str | None] = mapped_column(String(500))
    # The reader asked not to be tracked (preferences page): their links go straight to the
    # issue's URLs, no open pixel, and the partner's digest never names them.
    tracking_opt_out: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan"
    )
    # Tags live in their own table so that `tag:x` compiles to an indexed EXISTS on both backends.
    tag_rows: Mapped[list[SubscriberTag]] = relationship(
        cascade="all, delete-orphan", order_by="SubscriberTag.tag"
    )

    @property
    def tags(self) -> list[str]:
        return [t.tag for t in self.tag_rows]

    def set_tags(self, tags: list[str]) -> None:
        wanted = list(dict.fromkeys(t for t in tags if t))
        keep = [t for t in self.tag_rows if t.tag in wanted]
        have = {t.tag for t in keep}
        self.tag_rows = keep + [SubscriberTag(tag=t) for t in wanted if t not in have]


class SubscriberTag(Base):
    __tablename__ = "subscriber_tag"
    __table_args__ = (Index("ix_subscriber_tag_tag", "tag", "subscriber_id"),)

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class MailingList(Base):
    __tablename__ = "mailing_list"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # A private list (a client-only briefing) has no public subscribe form, and what it was sent
    # is neither in the public archive nor linked to it from its emails.
    private: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="mailing_list")


class Subscription(Base):
    __tablename__ = "subscription"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "list_id", name="uq_subscription_subscriber_list"),
        Index("ix_subscription_list_status", "list_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id", ondelete="CASCADE"))
    list_id: Mapped[int] = mapped_column(ForeignKey("mailing_list.id", ondelete="CASCADE"))
    status: Mapped[SubscriptionStatus] = mapped_column(
        enum_column(SubscriptionStatus, "subscription_status"), default=SubscriptionStatus.ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsubscribe_reason: Mapped[str | None] = mapped_column(String(200))

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")
    mailing_list: Mapped[MailingList] = relationship(back_populates="subscriptions")


class Segment(Base):
    __tablename__ = "segment"
    __table_args__ = (UniqueConstraint("list_id", "slug", name="uq_segment_list_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("mailing_list.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    expression: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    mailing_list: Mapped[MailingList] = relationship()


class Suppression(Base):
    """Address-level do-not-mail. Keyed by a keyed hash so that erasure keeps no plaintext."""

    __tablename__ = "suppression"

    id: Mapped[int] = mapped_column(primary_key=True)
    # HMAC-SHA256 (hex) of the normalised address under the secret key: what lookups use.
    address_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The plaintext address, kept for admins to read except after a GDPR erasure.
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    reason: Mapped[SuppressionReason] = mapped_column(
        enum_column(SuppressionReason, "suppression_reason")
    )
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SuppressionEvent(Base):
    """The suppression list's history: every entry added or lifted, why, and by whom.

    Kept after the entry itself is lifted (deleted), so an admin can tell why an address that
    was once refused is mailed again. Keyed by the same keyed hash; the plaintext address is
    nulled by a GDPR erasure like the entry's.
    """

    __tablename__ = "suppression_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(16))  # "added", "lifted", "erased"
    reason: Mapped[str] = mapped_column(String(32), default="")  # SuppressionReason value
    detail: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(320), default="")  # who: an admin, "bounce", "cli"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
