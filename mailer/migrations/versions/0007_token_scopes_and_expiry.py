"""API token scopes and expiry

Existing tokens keep what they could do before (every scope) and do not expire: an upgrade must
not break a script that works today. `mailer admin list-tokens` shows them so an admin can replace
them with narrower, expiring ones.

Revision ID: 0007_token_scopes
Revises: 0006
Create Date: 2026-12-03 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import subscribers.db

revision: str = "0007_token_scopes"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(
            sa.Column(
                "scopes",
                sa.String(length=100),
                nullable=False,
                server_default="read subscribers send",
            )
        )
        batch.add_column(
            sa.Column("expires_at", subscribers.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("scopes")
