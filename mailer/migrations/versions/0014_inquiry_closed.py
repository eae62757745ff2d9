"""Inquiries can be closed by an admin (when and by whom)

Revision ID: 0014_inquiry_closed
Revises: 0013_campaign_start_lease
Create Date: 2026-11-30 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import subscribers.db

revision: str = "0014_inquiry_closed"
down_revision: str | None = "0013_campaign_start_lease"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inquiry") as batch:
        batch.add_column(
            sa.Column("closed_at", subscribers.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("closed_by", sa.String(length=320), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("inquiry") as batch:
        batch.drop_column("closed_by")
        batch.drop_column("closed_at")
