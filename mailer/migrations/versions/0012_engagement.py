"""engagement: clicks, opens, partner digests, the link table and the tracking opt-out

Revision ID: 0012_engagement
Revises: 0011_suppression_history
Create Date: 2026-11-30 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import subscribers.db

revision: str = "0012_engagement"
down_revision: str | None = "0011_suppression_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    with op.batch_alter_table("subscriber") as batch:
        batch.add_column(
            sa.Column("tracking_opt_out", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("campaign_render") as batch:
        batch.add_column(sa.Column("links", _JSON, nullable=False, server_default="[]"))
    op.create_table(
        "click",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("link_index", sa.Integer(), nullable=False),
        sa.Column("first_at", subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_at", subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("human_at", subscribers.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("human_hits", sa.Integer(), nullable=False),
        sa.Column("machine_hits", sa.Integer(), nullable=False),
        _fk("click", "delivery_id", "delivery"),
        _fk("click", "campaign_id", "campaign"),
        _fk("click", "subscriber_id", "subscriber"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_click")),
        sa.UniqueConstraint("delivery_id", "link_index", name="uq_click_delivery_link"),
    )
    op.create_index(op.f("ix_click_campaign_id"), "click", ["campaign_id"])
    op.create_index(op.f("ix_click_subscriber_id"), "click", ["subscriber_id"])
    op.create_table(
        "open",
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("first_at", subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        _fk("open", "delivery_id", "delivery"),
        _fk("open", "campaign_id", "campaign"),
        _fk("open", "subscriber_id", "subscriber"),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_open")),
    )
    op.create_index(op.f("ix_open_campaign_id"), "open", ["campaign_id"])
    op.create_index(op.f("ix_open_subscriber_id"), "open", ["subscriber_id"])
    op.create_table(
        "partner_digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "claimed",
                "sent",
                "failed",
                name="digest_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("claimed_by", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", subscribers.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("readers", sa.Integer(), nullable=False),
        sa.Column("last_reply", sa.Text(), nullable=False),
        _fk("partner_digest", "campaign_id", "campaign"),
        _fk("partner_digest", "partner_id", "partner"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_digest")),
        sa.UniqueConstraint("campaign_id", "partner_id", name="uq_partner_digest_campaign_partner"),
    )


def downgrade() -> None:
    op.drop_table("partner_digest")
    op.drop_index(op.f("ix_open_subscriber_id"), table_name="open")
    op.drop_index(op.f("ix_open_campaign_id"), table_name="open")
    op.drop_table("open")
    op.drop_index(op.f("ix_click_subscriber_id"), table_name="click")
    op.drop_index(op.f("ix_click_campaign_id"), table_name="click")
    op.drop_table("click")
    with op.batch_alter_table("campaign_render") as batch:
        batch.drop_column("links")
    with op.batch_alter_table("subscriber") as batch:
        batch.drop_column("tracking_opt_out")
