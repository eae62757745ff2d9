"""A list can be private: no public subscribe form, no public archive of what it was sent

`mailing_list.private` (false for every existing list: they stay as public as they were), and
`campaign_render.web_edition`, whether the campaign's rendering links to a web edition (the
email's "View in browser", the PDF's "Online edition", the List-Archive header): true for every
rendering stored before, which all did. A campaign to a private list renders without them, once,
and its messages take the header's absence from the same stored rendering, so a list made public
or private while a campaign sends cannot make its bodies and headers disagree.

Revision ID: 0021_list_private
Revises: 0020_delivery_subscriber_fk
Create Date: 2026-12-01 11:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_list_private"
down_revision: str | None = "0020_delivery_subscriber_fk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mailing_list") as batch:
        batch.add_column(
            sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("campaign_render") as batch:
        batch.add_column(
            sa.Column("web_edition", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("campaign_render") as batch:
        batch.drop_column("web_edition")
    with op.batch_alter_table("mailing_list") as batch:
        batch.drop_column("private")
