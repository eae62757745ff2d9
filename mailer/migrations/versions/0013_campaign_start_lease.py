"""A campaign's start is leased to one worker at a time

`start_owner` and `start_expires_at` record which execution of the start task is rendering and
snapshotting the campaign, and until when; the owner renews the lease while it works. Beat and a
redelivered start task leave a campaign alone while its lease is held.

Revision ID: 0013_campaign_start_lease
Revises: 0012_engagement
Create Date: 2026-11-30 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import subscribers.db

revision: str = "0013_campaign_start_lease"
down_revision: str | None = "0012_engagement"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("start_owner", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("start_expires_at", subscribers.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("start_expires_at")
        batch.drop_column("start_owner")
