"""inbound mail: received messages, bounce events, inquiries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import subscribers.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("peer", sa.String(length=200), nullable=False),
        sa.Column("helo", sa.String(length=255), nullable=False),
        sa.Column("mail_from", sa.String(length=998), nullable=False),
        sa.Column("rcpt_to", sa.String(length=320), nullable=False),
        sa.Column("address_kind", sa.String(length=16), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "done",
                "ignored",
                "deferred",
                "failed",
                name="inbound_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "kind",
            sa.Enum(
                "bounce",
                "auto_reply",
                "unsubscribe",
                "inquiry",
                "loop",
                "unrecognized",
                name="inbound_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("processed_at", subscribers.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["delivery.id"],
            name=op.f("fk_inbound_message_delivery_id_delivery"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name=op.f("fk_inbound_message_subscriber_id_subscriber"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_message")),
    )
    op.create_index(
        op.f("ix_inbound_message_delivery_id"), "inbound_message", ["delivery_id"], unique=False
    )
    op.create_index(
        "ix_inbound_message_status_received",
        "inbound_message",
        ["status", "received_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_inbound_message_subscriber_id"), "inbound_message", ["subscriber_id"], unique=False
    )
    op.create_table(
        "bounce_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbound_message_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "hard",
                "soft",
                name="bounce_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("diagnostic", sa.Text(), nullable=False),
        sa.Column("created_at", subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_bounce_event_campaign_id_campaign"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["delivery.id"],
            name=op.f("fk_bounce_event_delivery_id_delivery"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["inbound_message_id"],
            ["inbound_message.id"],
            name=op.f("fk_bounce_event_inbound_message_id_inbound_message"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name=op.f("fk_bounce_event_subscriber_id_subscriber"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounce_event")),
        sa.UniqueConstraint("inbound_message_id", name=op.f("uq_bounce_event_inbound_message_id")),
    )
    op.create_index(
        op.f("ix_bounce_event_campaign_id"), "bounce_event", ["campaign_id"], unique=False
    )
    op.create_index(
        op.f("ix_bounce_event_delivery_id"), "bounce_event", ["delivery_id"], unique=False
    )
    op.create_index(
        "ix_bounce_event_subscriber_created",
        "bounce_event",
        ["subscriber_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "inquiry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbound_message_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("issue_id", sa.Integer(), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("client_email", sa.String(length=320), nullable=False),
        sa.Column("client_name", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("forward_message_id", sa.String(length=300), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "deferred",
                "failed",
                name="inquiry_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", subscribers.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("forwarded_at", subscribers.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_reply", sa.Text(), nullable=False),
        sa.Column("created_at", subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_inquiry_campaign_id_campaign"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["delivery.id"],
            name=op.f("fk_inquiry_delivery_id_delivery"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["inbound_message_id"],
            ["inbound_message.id"],
            name=op.f("fk_inquiry_inbound_message_id_inbound_message"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["issue_id"], ["issue.id"], name=op.f("fk_inquiry_issue_id_issue"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_inquiry_partner_id_partner"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name=op.f("fk_inquiry_subscriber_id_subscriber"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inquiry")),
        sa.UniqueConstraint("forward_message_id", name=op.f("uq_inquiry_forward_message_id")),
        sa.UniqueConstraint("inbound_message_id", name=op.f("uq_inquiry_inbound_message_id")),
    )
    op.create_index(op.f("ix_inquiry_campaign_id"), "inquiry", ["campaign_id"], unique=False)
    op.create_index(op.f("ix_inquiry_partner_id"), "inquiry", ["partner_id"], unique=False)
    op.create_index(op.f("ix_inquiry_subscriber_id"), "inquiry", ["subscriber_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_inquiry_subscriber_id"), table_name="inquiry")
    op.drop_index(op.f("ix_inquiry_partner_id"), table_name="inquiry")
    op.drop_index(op.f("ix_inquiry_campaign_id"), table_name="inquiry")
    op.drop_table("inquiry")
    op.drop_index("ix_bounce_event_subscriber_created", table_name="bounce_event")
    op.drop_index(op.f("ix_bounce_event_delivery_id"), table_name="bounce_event")
    op.drop_index(op.f("ix_bounce_event_campaign_id"), table_name="bounce_event")
    op.drop_table("bounce_event")
    op.drop_index(op.f("ix_inbound_message_subscriber_id"), table_name="inbound_message")
    op.drop_index("ix_inbound_message_status_received", table_name="inbound_message")
    op.drop_index(op.f("ix_inbound_message_delivery_id"), table_name="inbound_message")
    op.drop_table("inbound_message")
