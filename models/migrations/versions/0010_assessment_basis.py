"""what decided an assessment's recommendation (the EDPB's criteria, the nearest published example)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 12:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Assessments recorded before keep an empty basis: their recommendation was the ENISA score's alone.
    with op.batch_alter_table("breach_assessment") as batch_op:
        batch_op.add_column(sa.Column("basis", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("breach_assessment") as batch_op:
        batch_op.drop_column("basis")
