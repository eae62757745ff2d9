"""Suppression history: every entry added or lifted, with the reason and who did it

Existing entries get an "added" event dated as the entry, so the history starts complete.

Revision ID: 0011_suppression_history
Revises: 0010_delivery_sent_index
Create Date: 2026-11-30 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import subscribers.db

revision: str = "0011_suppression_history"
down_revision: str | None = "0010_delivery_sent_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "suppression_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("created_at", subscribers.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppression_event")),
    )
    with op.batch_alter_table("suppression_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_suppression_event_address_hash"), ["address_hash"], unique=False
        )
    op.execute(
        "INSERT INTO suppression_event (address_hash, email, action, reason, detail, actor, "
        "created_at) SELECT address_hash, email, 'added', CAST(reason AS VARCHAR(32)), detail, "
        "'', created_at FROM suppression"
    )


def downgrade() -> None:
    with op.batch_alter_table("suppression_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suppression_event_address_hash"))
    op.drop_table("suppression_event")
