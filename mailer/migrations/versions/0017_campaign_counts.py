"""A finished campaign's delivery counts, kept for the admin pages

Revision ID: 0017_campaign_counts
Revises: 0016_snapshot_in_chunks
Create Date: 2026-11-30 22:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import subscribers.db

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision: str = "0017_campaign_counts"
down_revision: str | None = "0016_snapshot_in_chunks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_counts",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("finished_at", subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("counts", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_counts_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaign_counts")),
    )


def downgrade() -> None:
    op.drop_table("campaign_counts")
