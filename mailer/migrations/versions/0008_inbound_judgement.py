"""Inbound judgement: complaint and delivered kinds, the bounce reason

Inbound messages may now be judged a complaint (an ARF feedback report) or a delivery notice, and
each bounce event records its reason from mailer/sending/reasons.py (user_unknown, mailbox_full…).
Existing bounce events keep an empty reason.

Revision ID: 0008_inbound_judgement
Revises: 0004, 0007_token_scopes (merges the two heads)
Create Date: 2026-11-30 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_inbound_judgement"
down_revision: str | tuple[str, ...] | None = ("0004", "0007_token_scopes")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = ("bounce", "auto_reply", "unsubscribe", "inquiry", "loop", "unrecognized")
NEW_KINDS = (*OLD_KINDS, "complaint", "delivered")


def _kind(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values, name="inbound_kind", native_enum=False, create_constraint=True, length=16
    )


def upgrade() -> None:
    with op.batch_alter_table("inbound_message") as batch:
        batch.alter_column(
            "kind", existing_type=_kind(OLD_KINDS), type_=_kind(NEW_KINDS), existing_nullable=True
        )
    with op.batch_alter_table("bounce_event") as batch:
        batch.add_column(
            sa.Column("reason", sa.String(length=32), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("bounce_event") as batch:
        batch.drop_column("reason")
    op.execute(
        "UPDATE inbound_message SET kind = 'unrecognized' WHERE kind IN ('complaint', 'delivered')"
    )
    with op.batch_alter_table("inbound_message") as batch:
        batch.alter_column(
            "kind", existing_type=_kind(NEW_KINDS), type_=_kind(OLD_KINDS), existing_nullable=True
        )
