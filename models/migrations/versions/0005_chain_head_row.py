"""the chain head row exists before the first entry

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 17:40:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Two first declarations at once would otherwise both create the row; with it in place they queue on its lock.
    op.execute("INSERT INTO chain_head (id, seq, hash) SELECT 1, 0, '" + "0" * 64 + "' "
               "WHERE NOT EXISTS (SELECT 1 FROM chain_head WHERE id = 1)")


def downgrade() -> None:
    pass
