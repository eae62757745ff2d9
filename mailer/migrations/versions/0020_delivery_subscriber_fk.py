"""A delivery's subscriber is not checked by a foreign key; erasing a subscriber still empties it

The snapshot inserts a campaign's deliveries by the million, and the key made PostgreSQL look up
and lock FOR KEY SHARE each delivery's subscriber row as it was inserted — a row lock is a write
to the subscriber's tuple and a WAL record, per delivery. Measured with bench/volume.py on a copy
of a never-analysed million-subscriber database (quiet machine, 1 December 2026): the snapshot's
21 chunks took 33.3 s with the key and 11.5 s without it (0.5–0.8 s a chunk of 50,000 instead of
1.3–1.9 s).

What the key did is kept without it:

- a delivery is only ever inserted by the snapshot (`mailer.sending.start.snapshot_range`), from a
  SELECT of the subscribers themselves; a subscriber erased between that SELECT and the chunk's
  commit leaves a delivery whose subscriber no longer exists, which the claim reads as "erased"
  (its outer join finds no subscriber) and skips, as it skips one erased after the snapshot;
- its ON DELETE SET NULL — how erasing a subscriber (`subscribers.gdpr`, which never imports
  `mailer`) keeps the deliveries for the campaign's figures while removing the link to the person —
  is now a trigger on `subscriber` that runs the same UPDATE the key's action ran, on PostgreSQL
  and on SQLite. It costs an erasure what the key's action cost; the snapshot nothing.

Revision ID: 0020_delivery_subscriber_fk
Revises: 0019_delivery_campaign_fk
Create Date: 2026-12-01 03:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020_delivery_subscriber_fk"
down_revision: str | None = "0019_delivery_campaign_fk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_constraint("fk_delivery_subscriber_id_subscriber", type_="foreignkey")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION subscriber_erased_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE delivery SET subscriber_id = NULL WHERE subscriber_id = OLD.id;
                RETURN OLD;
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER trg_subscriber_erased_deliveries AFTER DELETE ON subscriber "
            "FOR EACH ROW EXECUTE FUNCTION subscriber_erased_deliveries()"
        )
    else:
        op.execute(
            "CREATE TRIGGER trg_subscriber_erased_deliveries AFTER DELETE ON subscriber "
            "FOR EACH ROW BEGIN "
            "UPDATE delivery SET subscriber_id = NULL WHERE subscriber_id = OLD.id; END"
        )


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER IF EXISTS trg_subscriber_erased_deliveries"
        + (" ON subscriber" if op.get_bind().dialect.name == "postgresql" else "")
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS subscriber_erased_deliveries()")
    # Rows whose subscriber is gone (an erasure racing a snapshot) would fail the key: empty them.
    op.execute(
        "UPDATE delivery SET subscriber_id = NULL WHERE subscriber_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM subscriber WHERE subscriber.id = delivery.subscriber_id)"
    )
    with op.batch_alter_table("delivery") as batch:
        batch.create_foreign_key(
            "fk_delivery_subscriber_id_subscriber",
            "subscriber",
            ["subscriber_id"],
            ["id"],
            ondelete="SET NULL",
        )
