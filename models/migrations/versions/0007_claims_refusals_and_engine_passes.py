"""delivery claims with a token, when each message was queued, and the log of engine passes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 23:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.types import UTCDateTime

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("queued_at", UTCDateTime(timezone=True), nullable=True))
        batch.create_index("ix_outbox_message_claim_token", ["claim_token"])
    op.create_table(
        "engine_pass",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("replay_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
    )
    op.create_index("ix_engine_pass_finished_at", "engine_pass", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_engine_pass_finished_at", table_name="engine_pass")
    op.drop_table("engine_pass")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_index("ix_outbox_message_claim_token")
        batch.drop_column("queued_at")
        batch.drop_column("claim_token")
