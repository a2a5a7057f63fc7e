"""each company's webhook health, so the CDC poll is paced by need

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = ("webhook_seen_at", "echo_due_since", "polled_at")


def upgrade() -> None:
    # All empty: a connection made before this change counts as healthy until its next write waits for an echo
    # (sync/pacing.py), and its next poll is due at once.
    with op.batch_alter_table("qbo_connections", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("qbo_connections", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
