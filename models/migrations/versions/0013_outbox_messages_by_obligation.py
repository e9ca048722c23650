"""outbox messages found by their obligation

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 15:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Recording a delivery looks up the other messages of its obligation (to lock them, to count those not yet
    # delivered, to cancel its notices): without this index each look-up read every queued message.
    op.create_index("ix_outbox_message_obligation_id", "outbox_message", ["obligation_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_message_obligation_id", table_name="outbox_message")
