"""A delivery's campaign is not checked by a foreign key: campaigns are never deleted

Each inserted delivery made PostgreSQL look up its campaign and lock that row FOR KEY SHARE (the
foreign key's check): 0.73 s of a 3.4 s snapshot chunk of 50,000 rows at a million subscribers
(EXPLAIN ANALYZE, trigger times), every chunk checking the same one row 50,000 times. The key
checked nothing the code does not already guarantee:

- a delivery is only ever inserted by the snapshot (`mailer.sending.start.snapshot_range`), and
  each chunk's transaction locks and updates its campaign's row (`start.record_chunk`) before it
  commits: a chunk whose campaign were missing would fail there and roll back;
- no code path deletes a campaign (neither `mailer` nor `subscribers` issues a DELETE on it);
- nothing it refers to can go from under it either: an issue or mailing list with campaigns
  cannot be deleted (`campaign.issue_id` and `campaign.list_id` keep their foreign keys, without
  ON DELETE; the admin refuses to delete a list with campaigns before trying).

Its ON DELETE CASCADE therefore never fired. The other keys to `campaign` (delivery_claim,
campaign_render, campaign_counts, engagement's) stay: they are not on the snapshot's path.
`delivery.subscriber_id → subscriber` stays as well: its ON DELETE SET NULL is how erasing a
subscriber (`subscribers`, which never imports `mailer`) keeps the deliveries for the figures.

Revision ID: 0019_delivery_campaign_fk
Revises: 0018_delivery_issue_fk
Create Date: 2026-12-01 02:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019_delivery_campaign_fk"
down_revision: str | None = "0018_delivery_issue_fk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_constraint("fk_delivery_campaign_id_campaign", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.create_foreign_key(
            "fk_delivery_campaign_id_campaign",
            "campaign",
            ["campaign_id"],
            ["id"],
            ondelete="CASCADE",
        )
