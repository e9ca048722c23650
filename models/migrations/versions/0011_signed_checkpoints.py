"""signed checkpoints of the timeline (size, Merkle root, signed note, frontier)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 13:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.types import UTCDateTime

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signed_checkpoint",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("size", sa.Integer(), nullable=False, index=True),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("taken_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("frontier", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("signed_checkpoint")
