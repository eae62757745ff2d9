"""An index for "has this subscriber already received this issue?"

The partial unique index on (issue_id, subscriber_id) covers only sent rows that were not forced
resends (`NOT resend`), so a query asking about every sent row could not use it and read all of an
issue's sent rows for each recipient. This one matches that question exactly.

Revision ID: 0010_delivery_sent_index
Revises: 0009_tick_lease
Create Date: 2026-11-30 18:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_delivery_sent_index"
down_revision: str | None = "0009_tick_lease"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_delivery_issue_subscriber_sent",
        "delivery",
        ["issue_id", "subscriber_id"],
        sqlite_where=sa.text("status = 'sent'"),
        postgresql_where=sa.text("status = 'sent'"),
    )


def downgrade() -> None:
    op.drop_index("ix_delivery_issue_subscriber_sent", table_name="delivery")
