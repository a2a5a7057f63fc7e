"""processed webhook events indexed by when they were handled, so the daily forgetting of old ones is a range read

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_processed_events_at"), "processed_events", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_processed_events_at"), table_name="processed_events")
