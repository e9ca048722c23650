"""files carried by outbox messages; the categories of data of an assessment; the letter of a decision

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_attachment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("outbox_message.id"), nullable=False, index=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
    )
    # Assessments and decisions recorded before keep an empty list and an empty letter: their drafts say what is
    # left « à compléter ».
    with op.batch_alter_table("breach_assessment") as batch_op:
        batch_op.add_column(sa.Column("data_categories", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("breach_decision") as batch_op:
        batch_op.add_column(sa.Column("letter", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("breach_decision") as batch_op:
        batch_op.drop_column("letter")
    with op.batch_alter_table("breach_assessment") as batch_op:
        batch_op.drop_column("data_categories")
    op.drop_table("outbox_attachment")
