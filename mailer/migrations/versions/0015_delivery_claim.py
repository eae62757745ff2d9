"""Claims of delivery rows are leases on id ranges, not a write to every row

A batch used to mark each row `sending` (claimed_by, claimed_at, attempts + 1) before its message
went out and write it again with the outcome: two row versions per message. Now a claim is one row
of `delivery_claim` (a campaign's id range [lo, hi], its owner, when taken), and a delivery row is
written once, with its outcome. Rows left `sending` by a worker that stopped before the upgrade go
back to pending, to be sent again (as recovery did). `ix_delivery_claimed_by` served the old
recovery's per-owner lookups; the new one reads a claim's id range by primary key.

Revision ID: 0015_delivery_claim
Revises: 0014_inquiry_closed
Create Date: 2026-11-30 22:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import subscribers.db

revision: str = "0015_delivery_claim"
down_revision: str | None = "0014_inquiry_closed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("lo", sa.Integer(), nullable=False),
        sa.Column("hi", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_delivery_claim_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_claim")),
    )
    op.create_index(
        op.f("ix_delivery_claim_campaign_id"), "delivery_claim", ["campaign_id"], unique=False
    )
    op.drop_index("ix_delivery_claimed_by", table_name="delivery")
    op.execute("UPDATE delivery SET status = 'pending', claimed_by = NULL WHERE status = 'sending'")


def downgrade() -> None:
    op.create_index("ix_delivery_claimed_by", "delivery", ["claimed_by"], unique=False)
    op.drop_index(op.f("ix_delivery_claim_campaign_id"), table_name="delivery_claim")
    op.drop_table("delivery_claim")
