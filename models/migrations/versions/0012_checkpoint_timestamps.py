"""RFC 3161 timestamps of signed checkpoints (the authority's token, or why there is none)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 15:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: checkpoints signed before, or with no authority configured, have no token.
    op.add_column("signed_checkpoint", sa.Column("timestamp_token", sa.Text(), nullable=True))
    op.add_column("signed_checkpoint", sa.Column("timestamp_problem", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signed_checkpoint") as batch:
        batch.drop_column("timestamp_problem")
        batch.drop_column("timestamp_token")
