"""A campaign's time spent paused, so that its duration and rate count sending only

`campaign.paused_at` (when the current pause began; null while not paused) and
`campaign.paused_seconds` (the closed pauses after the start, summed; 0 for every existing
campaign: their pauses were not recorded, so their durations stay as they were shown).

Revision ID: 0022_campaign_paused_time
Revises: 0021_list_private
Create Date: 2026-12-02 16:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import subscribers.db

revision: str = "0022_campaign_paused_time"
down_revision: str | None = "0021_list_private"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(
            sa.Column("paused_at", subscribers.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("paused_seconds", sa.Float(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("paused_seconds")
        batch.drop_column("paused_at")
