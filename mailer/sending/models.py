"""Sending's tables: campaigns, their stored rendering, and one delivery row per recipient."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mailer.content.models import Issue
from mailer.db import utcnow
from subscribers.db import Base, JSONType, UTCDateTime, enum_column


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


class Campaign(Base):
    """One send of an issue to a list (and maybe a segment). Workers obey its status."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issue.id"))
    list_id: Mapped[int] = mapped_column(ForeignKey("mailing_list.id"))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id", ondelete="SET NULL"))
    expression: Mapped[str | None] = mapped_column(Text)  # the segment's or --where expression
    status: Mapped[CampaignStatus] = mapped_column(
        enum_column(CampaignStatus, "campaign_status"), default=CampaignStatus.PLANNED
    )
    status_reason: Mapped[str] = mapped_column(Text, default="")
    force_resend: Mapped[bool] = mapped_column(Boolean, default=False)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Time spent paused after the start, so that a campaign's duration and rate count sending
    # only: `paused_at` while it is paused, the closed pauses' seconds summed in `paused_seconds`.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    total: Mapped[int] = mapped_column(Integer, default=0)  # deliveries snapshotted so far
    # Recipients counted when the campaign was created (recounted when a scheduled one starts):
    # what the snapshot's progress is measured against.
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    # The snapshot runs in committed chunks of subscriber ids: every subscriber id up to
    # `snapshot_through` is snapshotted; `snapshot_complete` once the last chunk is in. Until
    # then the campaign cannot finish, and a start that died resumes after the watermark.
    snapshot_through: Mapped[int | None] = mapped_column(Integer)
    snapshot_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    # The start (render + snapshot) is leased to one execution of the start task at a time.
    start_owner: Mapped[str | None] = mapped_column(String(64))
    start_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

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
    # The issue's link table (rendering/links.py): a click token names an index into it, so a
    # tracked link can only lead where the issue does. [] when click tracking was off.
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # Whether the rendering links to a web edition (false: a campaign to a private list); the
    # messages' List-Archive header follows it, so bodies and headers always agree.
    web_edition: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true(), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    campaign: Mapped[Campaign] = relationship(back_populates="rendered")


class Delivery(Base):
    """One recipient of one campaign: the unit of idempotent work."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("campaign_id", "subscriber_id", name="uq_delivery_campaign_subscriber"),
        Index("ix_delivery_campaign_status", "campaign_id", "status"),
        # Never two sent rows for one (issue, subscriber) unless an editor forced a resend.
        Index(
            "uq_delivery_issue_subscriber_sent",
            "issue_id",
            "subscriber_id",
            unique=True,
            sqlite_where=text("status = 'sent' AND resend = 0"),
            postgresql_where=text("status = 'sent' AND NOT resend"),
        ),
        # "Has this subscriber received this issue (forced resends included)?": the snapshot's
        # anti-join and the check before each message. The unique index above cannot answer it
        # (its predicate also says NOT resend), and without it each check read every sent row.
        Index(
            "ix_delivery_issue_subscriber_sent",
            "issue_id",
            "subscriber_id",
            sqlite_where=text("status = 'sent'"),
            postgresql_where=text("status = 'sent'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key (migration 0019): its check looked up and locked the campaign's row once per
    # inserted delivery, a fifth of a snapshot chunk's time. Only the snapshot inserts deliveries,
    # each chunk's transaction locks and updates its campaign's row (start.record_chunk), and no
    # code deletes a campaign (nor the issue or list it refers to, whose keys stay).
    campaign_id: Mapped[int] = mapped_column(Integer)
    # The campaign's issue, repeated for the already-received checks' index; no foreign key of
    # its own (the campaign's says it exists; migration 0018).
    issue_id: Mapped[int] = mapped_column(Integer)
    # NULL once the subscriber is erased (GDPR): the row stays for the campaign's figures. No
    # foreign key (its per-row check and lock were two thirds of a snapshot's time at a million);
    # a trigger on `subscriber` empties it on erasure, as the key's ON DELETE SET NULL did
    # (migration 0020).
    subscriber_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    resend: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who recorded the last outcome (the owner of a DeliveryClaim: its heartbeat, with updated_at).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # no longer written
    last_reply: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship(
        primaryjoin="Campaign.id == Delivery.campaign_id", foreign_keys=[campaign_id]
    )


class DeliveryClaim(Base):
    """A chunk of a campaign's delivery ids [lo, hi] leased to one execution of a batch task
    while it sends them (mailer/sending/deliveries.py): the delivery rows themselves are written
    once, at their outcome. Deleted when the chunk ends, or by recovery once its owner fell
    silent."""

    __tablename__ = "delivery_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    lo: Mapped[int] = mapped_column(Integer)
    hi: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Lease(Base):
    """A named time slot only one process may hold (see mailer/sending/lease.py): the periodic
    tick runs at most once per slot whichever workers and beats try it."""

    __tablename__ = "lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200), default="")  # who took it last: for people
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CampaignCounts(Base):
    """A finished campaign's deliveries by status, counted once after it finished (the admin's
    pages read this row instead of counting a million deliveries on every view).

    Valid for the finish it was counted after: `finished_at` must equal the campaign's. Retrying
    failed deliveries clears the campaign's `finished_at`, and its next finish is another.
    """

    __tablename__ = "campaign_counts"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True
    )
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    counts: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
