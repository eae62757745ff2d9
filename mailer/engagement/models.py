"""Engagement's tables: clicks and opens per delivery, one digest per campaign and partner."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mailer.db import utcnow
from subscribers.db import Base, UTCDateTime, enum_column


class Click(Base):
    """One link of one delivered message that was followed: one row per (delivery, link).

    Hits are split: `human_hits` are GETs judged to be a person; `machine_hits` are HEADs and
    link-scanner bursts (engagement/clicks.py). Only a row with `human_at` set counts as a click.
    """

    __tablename__ = "click"
    __table_args__ = (UniqueConstraint("delivery_id", "link_index", name="uq_click_delivery_link"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    # Erasure (GDPR) deletes the person's clicks; the cascade is a second line of defence.
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE"), index=True
    )
    link_index: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)  # any hit
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    human_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # first human click
    human_hits: Mapped[int] = mapped_column(Integer, default=0)
    machine_hits: Mapped[int] = mapped_column(Integer, default=0)


class Open(Base):
    """The open pixel of one delivery was fetched (approximate: mail clients prefetch images)."""

    __tablename__ = "open"

    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("delivery.id", ondelete="CASCADE"), primary_key=True
    )
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE"), index=True
    )
    first_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    hits: Mapped[int] = mapped_column(Integer, default=1)


class DigestStatus(enum.StrEnum):
    CLAIMED = "claimed"  # a worker is composing and sending it
    SENT = "sent"  # the relay accepted it
    FAILED = "failed"  # refused permanently; `mailer digest send` can try again


class PartnerDigest(Base):
    """The follow-up digest of one campaign for one partner: claimed (inserted) before sending,
    so that two workers, or a restarted beat, never send it twice."""

    __tablename__ = "partner_digest"
    __table_args__ = (
        UniqueConstraint("campaign_id", "partner_id", name="uq_partner_digest_campaign_partner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    status: Mapped[DigestStatus] = mapped_column(
        enum_column(DigestStatus, "digest_status"), default=DigestStatus.CLAIMED
    )
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[str] = mapped_column(String(300), default="")
    readers: Mapped[int] = mapped_column(Integer, default=0)  # readers listed
    last_reply: Mapped[str] = mapped_column(Text, default="")
