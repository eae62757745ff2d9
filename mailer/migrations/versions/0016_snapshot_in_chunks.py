"""A campaign's audience snapshot runs in committed chunks

`recipients` is the audience counted when the campaign was created (the snapshot's progress is
measured against it), `snapshot_through` the highest subscriber id whose chunk is committed, and
`snapshot_complete` says the last chunk is in: until then the campaign cannot finish, and a start
whose worker died resumes after the watermark. Campaigns started before this revision were
snapshotted whole, in one statement.


Revision ID: 0016_snapshot_in_chunks
Revises: 0015_delivery_claim
Create Date: 2026-11-30 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_snapshot_in_chunks"
down_revision: str | None = "0015_delivery_claim"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("recipients", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("snapshot_through", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("snapshot_complete", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    campaign = sa.table(
        "campaign",
        sa.column("started_at", sa.DateTime()),
        sa.column("total", sa.Integer()),
        sa.column("recipients", sa.Integer()),
        sa.column("snapshot_complete", sa.Boolean()),
    )
    op.execute(
        campaign.update()
        .where(campaign.c.started_at.is_not(None))
        .values(snapshot_complete=True, recipients=campaign.c.total)
    )


def downgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("snapshot_complete")
        batch.drop_column("snapshot_through")
        batch.drop_column("recipients")
