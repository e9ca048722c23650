"""acknowledgement of the alert; the store's mode (real or simulation)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 21:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.types import UTCDateTime

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.add_column(sa.Column("acknowledged_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("acknowledged_by", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("acknowledgement_reminder_at", UTCDateTime(timezone=True), nullable=True))
        batch.create_index("ix_incident_acknowledgement_reminder_at", ["acknowledgement_reminder_at"])
    op.create_table(
        "store_setting",
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("value", sa.String(length=200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("store_setting")
    with op.batch_alter_table("incident") as batch:
        batch.drop_index("ix_incident_acknowledgement_reminder_at")
        batch.drop_column("acknowledgement_reminder_at")
        batch.drop_column("acknowledged_by")
        batch.drop_column("acknowledged_at")
